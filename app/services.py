"""Builds the heavy parts from settings, once, for the CLI, the app and the eval harness.

``COMPOSERS`` is the one table of answer composers: the CLI's ``--generator`` choices, the API's
``generator`` field and the app's switch all read it, so a new composer is one entry here.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from answer.compose import Composer
from answer.composers import LLMComposer, QuoteComposer
from answer.extractive import ExtractiveComposer
from answer.pipeline import AnswerPipeline
from app.models import model_present
from app.settings import Settings
from index.embed import load_embedder
from index.hybrid import CrossEncoderReranker, HybridRetriever
from index.indexer import Index
from ingest.chunk import Chunker
from ingest.errors import SettingsError
from ingest.worker import ParseWorker


def _llm(name: str) -> Callable[[Settings], Composer]:
    def make(settings: Settings) -> Composer:
        from app.llm import make_llm  # llama-index loads only when an LLM composer is asked for

        return LLMComposer(name, lambda: make_llm(name, settings))

    return make


@dataclass(frozen=True)
class ComposerSpec:
    name: str
    label: str  # what the app's switch shows
    make: Callable[[Settings], Composer]
    problem: Callable[[Settings], str | None] = lambda settings: None  # why it cannot answer now (None: it can)

    def available(self, settings: Settings) -> bool:
        """Whether the app offers it with these settings."""
        return self.problem(settings) is None


def _local_problem(settings: Settings) -> str | None:
    # offered once installed and fetched (`zhiku model fetch`): a question never downloads it
    if importlib.util.find_spec("llama_cpp") is None:
        return "未安装 llama_cpp 模块 (the llama_cpp module is not installed)"
    if not model_present(settings.local_model, settings.home):
        return f"没有本地模型文件 (no model file for) {settings.local_model!r}: zhiku model fetch"
    return None


def _server_problem(settings: Settings) -> str | None:
    missing = [var for var, value in (("ZHIKU_LLM_BASE_URL", settings.llm_base_url),
                                      ("ZHIKU_LLM_MODEL", settings.llm_model)) if not value]
    return f"未设置 (not set): {', '.join(missing)}" if missing else None


COMPOSERS: dict[str, ComposerSpec] = {
    spec.name: spec
    for spec in (
        ComposerSpec("extractive", "抽取式（离线，默认）extractive", lambda s: ExtractiveComposer()),
        ComposerSpec("quote", "原文摘录 quote", lambda s: QuoteComposer()),
        ComposerSpec("llama-cpp", "本地模型 llama.cpp", _llm("llama-cpp"), _local_problem),
        ComposerSpec("openai", "在线模型 OpenAI 兼容", _llm("openai"), _server_problem),
    )
}
GENERATORS = tuple(COMPOSERS)


def open_index(settings: Settings) -> Index:
    """The index under ``settings.home`` (and the Chroma server, when configured)."""
    return Index(
        settings.home, load_embedder(settings.embed_model), chroma_url=settings.chroma_url,
        parser=ParseWorker.shared(settings.parse_limits),
    )


def make_retriever(settings: Settings, index: Index) -> HybridRetriever:
    reranker = CrossEncoderReranker(settings.rerank_model) if settings.rerank_model else None
    return HybridRetriever(index, reranker=reranker)


def make_pipeline(settings: Settings, index: Index, retriever: HybridRetriever | None = None) -> AnswerPipeline:
    return AnswerPipeline(retriever or make_retriever(settings, index), index.docstore, index.lexical, top_k=settings.top_k)


def make_chunker(settings: Settings, max_chars: int | None = None) -> Chunker:
    return Chunker(max_chars=max_chars or settings.chunk_max_chars)


def make_composer(name: str, settings: Settings) -> Composer:
    if name not in COMPOSERS:
        raise SettingsError(f"未知的生成器 (unknown generator) {name!r}; 可用 (valid): {', '.join(GENERATORS)}")
    return COMPOSERS[name].make(settings)
