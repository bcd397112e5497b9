"""Builds the heavy parts from settings, once, for the CLI, the app and the eval harness."""

from __future__ import annotations

from answer.extractive import ExtractiveGenerator
from answer.generate import Generator, LLMGenerator, QuoteGenerator
from app.settings import Settings
from index.embed import load_embedder
from index.hybrid import CrossEncoderReranker, HybridRetriever
from index.indexer import Index
from ingest.chunk import Chunker
from ingest.errors import SettingsError

GENERATORS = ("extractive", "quote", "llama-cpp", "openai")


def open_index(settings: Settings) -> Index:
    """The index under ``settings.home`` (and the Chroma server, when configured)."""
    return Index(settings.home, load_embedder(settings.embed_model), chroma_url=settings.chroma_url)


def make_retriever(settings: Settings, index: Index) -> HybridRetriever:
    reranker = CrossEncoderReranker(settings.rerank_model) if settings.rerank_model else None
    return HybridRetriever(index, reranker=reranker)


def make_chunker(settings: Settings, max_chars: int | None = None) -> Chunker:
    return Chunker(max_chars=max_chars or settings.chunk_max_chars)


def make_generator(name: str, retriever: HybridRetriever, settings: Settings) -> Generator:
    if name == "extractive":
        return ExtractiveGenerator(retriever, top_k=settings.top_k)
    if name == "quote":
        return QuoteGenerator(retriever, top_k=settings.top_k)
    if name in ("llama-cpp", "openai"):
        from app.llm import make_llm

        return LLMGenerator(name, lambda: make_llm(name, settings), retriever, top_k=settings.top_k)
    raise SettingsError(f"未知的生成器 (unknown generator) {name!r}; 可用 (valid): {', '.join(GENERATORS)}")
