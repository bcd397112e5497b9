"""Generators turn a question and retrieved evidence into an ``Answer``; one interface for all.

``QuoteGenerator`` ("quote") is the floor every other generator is measured against: it answers
with the best retrieved passages verbatim, each cited, and refuses when nothing was retrieved.
It needs no model and cannot misquote, so the eval harness can run end to end on any machine.
"""

from __future__ import annotations

import time
from typing import Protocol

from app.records import Answer, Citation
from index.hybrid import HybridRetriever, ScoredChunk
from ingest.chunk import split_sentences

REFUSAL = "知识库中没有找到与该问题相关的内容。"


class Generator(Protocol):
    name: str

    def answer(self, question: str) -> Answer: ...


def citation_for(n: int, hit: ScoredChunk) -> Citation:
    chunk = hit.chunk
    return Citation(
        n=n,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=hit.title,
        source=hit.source,
        section_path=chunk.section_path,
        page=chunk.page,
        quote=chunk.text,
        start=chunk.start,
        end=chunk.end,
    )


class QuoteGenerator:
    """Answers with the top ``passages`` retrieved passages, quoted and cited."""

    name = "quote"

    def __init__(self, retriever: HybridRetriever, *, passages: int = 2, top_k: int = 8) -> None:
        self.retriever = retriever
        self.passages = passages
        self.top_k = top_k

    def answer(self, question: str) -> Answer:
        started = time.perf_counter()
        hits = self.retriever.retrieve(question, top_k=self.top_k)
        if not hits:
            return Answer(question, REFUSAL, refused=True, generator=self.name, seconds=time.perf_counter() - started)
        chosen = hits[: self.passages]
        citations = tuple(citation_for(n, hit) for n, hit in enumerate(chosen, start=1))
        # every sentence of a passage carries the passage's marker
        text = "\n".join(
            "".join(f"{c.quote[start:end]}[{c.n}]" for start, end in split_sentences(c.quote)) for c in citations
        )
        return Answer(
            question,
            text,
            citations=citations,
            generator=self.name,
            seconds=time.perf_counter() - started,
            closest=tuple(citation_for(n, hit) for n, hit in enumerate(hits[len(chosen) :], start=len(chosen) + 1)),
        )
