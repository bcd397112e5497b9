"""Hybrid retrieval: dense (Chroma) + lexical (jieba BM25), fused, expanded, optionally reranked.

``HybridRetriever.retrieve(query, top_k, filters) -> list[ScoredChunk]`` is what the answer
layer calls. Each result is a passage of one document: a chunk, widened to its neighbours when
the chunk alone is a fragment, and merged with other hits that touch it in the same document,
so a quote spanning two chunks (or two table rows) comes back as one contiguous passage.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

from index.contracts import DocumentStore
from index.indexer import Index
from index.lexical import LexicalHit
from index.store import VectorHit
from ingest.chunk import trim_span
from ingest.errors import SettingsError
from ingest.records import Chunk

RRF_K = 60
QUERY_VECTORS_KEPT = 64
_SENTENCE_END = re.compile(r"[。！？!?；;：:”’」』）)】\]]\s*$")
_SENTENCE_START = re.compile(r"^\s*[（(【\[]?[一二三四五六七八九十\d]+[、.．)）]|^\s*第[一二三四五六七八九十百零\d]+[章节条款]")


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents and/or chunk kinds (``text``, ``table_row``)."""

    doc_ids: frozenset[str] | None = None
    kinds: frozenset[str] | None = None

    @classmethod
    def of(cls, doc_ids: Collection[str] | None = None, kinds: Collection[str] | None = None) -> Filters:
        return cls(None if doc_ids is None else frozenset(doc_ids), None if kinds is None else frozenset(kinds))


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved passage. ``chunk.text == document.text[chunk.start:chunk.end]`` still holds.

    ``chunk`` is the best-ranked hit, widened when expanded or merged; ``covers`` lists the
    ids of the indexed chunks the passage spans. Ranks are 1-based, None when a retriever did
    not return the chunk.
    """

    chunk: Chunk
    score: float
    title: str
    source: str
    dense_rank: int | None = None
    lexical_rank: int | None = None
    rerank_score: float | None = None
    covers: tuple[str, ...] = field(default=())
    similarity: float | None = None  # the dense retriever's cosine similarity of the best hit (None: lexical only)

    def to_dict(self) -> dict[str, Any]:
        """The passage with its scores and where it is in its document (JSON-ready)."""
        chunk = self.chunk
        return {
            "doc_id": chunk.doc_id, "title": self.title, "source": self.source, "chunk_id": chunk.chunk_id,
            "covers": list(self.covers), "text": chunk.text, "section_path": list(chunk.section_path),
            "page": chunk.page, "start": chunk.start, "end": chunk.end, "kind": chunk.kind, "score": self.score,
            "dense_rank": self.dense_rank, "lexical_rank": self.lexical_rank, "similarity": self.similarity,
            "rerank_score": self.rerank_score,
        }


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: ``score(id) = Σ weight_i / (k + rank_i(id))`` with 1-based ranks.

    An id missing from a list gets nothing from it; an id repeated within one list counts at
    its best rank only. Ties keep the order of first appearance (earlier lists first), so the
    result is deterministic. Returns (id, score), best first, each id once.

    >>> reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=1)
    [('b', 0.8333333333333333), ('a', 0.5), ('c', 0.3333333333333333)]
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[str] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def standardized_score_fusion(
    scored: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse scored lists by their standardized scores: ``Σ weight_i * z_i(id)``.

    Each list's scores are turned into z-scores over that list (``(s - mean) / std``), so a
    cosine similarity and an unbounded BM25 score become comparable, and a hit far ahead of the
    rest of its list (a BM25 score twice the next one) keeps its lead, which ranks alone lose.
    An id missing from a list gets that list's lowest z-score. A list of one item, or of equal
    scores, contributes 0. Ties keep the order of first appearance. Returns (id, score), best first.
    """
    if weights is None:
        weights = [1.0] * len(scored)
    if len(weights) != len(scored):
        raise ValueError("one weight per list")
    standardized: list[dict[str, float]] = []
    for items in scored:
        best: dict[str, float] = {}
        for item, score in items:
            best[item] = max(score, best.get(item, score))
        values = list(best.values())
        mean = sum(values) / len(values) if values else 0.0
        spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 if values else 0.0
        standardized.append({item: (v - mean) / spread if spread > 0 else 0.0 for item, v in best.items()})
    order: dict[str, int] = {}
    for z in standardized:
        for item in z:
            order.setdefault(item, len(order))
    floors = [min(z.values(), default=0.0) for z in standardized]
    fused = {
        item: sum(w * z.get(item, floor) for z, w, floor in zip(standardized, weights, floors, strict=True))
        for item in order
    }
    return sorted(fused.items(), key=lambda pair: (-pair[1], order[pair[0]]))


class Fusion(Enum):
    """How dense and lexical hits are combined."""

    RRF = "rrf"
    ZSCORE = "zscore"

    @classmethod
    def parse(cls, value: str) -> Fusion:
        try:
            return cls(value)
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise SettingsError(f"未知的融合方式 (unknown fusion) {value!r}; 可用 (valid): {valid}") from None


class Reranker(Protocol):
    def scores(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder, loaded on first use (configured by model name or path)."""

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 16) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        if self._model is None:
            from index.embed import offline_model_load

            self._model = offline_model_load(self.model_name, "cross-encoder", self.device)
        raw = self._model.predict([(query, p) for p in passages], batch_size=self.batch_size, show_progress_bar=False)
        return [float(s) for s in raw]


class HybridRetriever:
    """Dense + lexical retrieval over an ``Index``.

    ``candidates`` hits are taken from each retriever before fusion; ``rerank_depth`` fused hits
    go to the reranker when there is one. ``expand`` widens fragments to their neighbours and
    merges passages that touch; without it every result is one indexed chunk.
    """

    def __init__(
        self,
        index: Index,
        *,
        candidates: int = 40,
        fusion: Fusion = Fusion.ZSCORE,
        weights: tuple[float, float] = (1.0, 1.0),
        rrf_k: int = RRF_K,
        reranker: Reranker | None = None,
        rerank_depth: int = 30,
        expand: bool = True,
        section_chars: int = 600,
    ) -> None:
        if candidates < 1:
            raise ValueError("candidates must be at least 1")
        self.index = index
        self.candidates = candidates
        self.fusion = fusion
        self.weights = weights
        self.rrf_k = rrf_k
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.expand = expand
        self.section_chars = section_chars
        self._vectors: OrderedDict[str, Any] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def retrieve(self, query: str, top_k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]:
        query = query.strip()
        if not query or top_k < 1:
            return []
        dense, lexical = self.candidates_for(query, max(self.candidates, top_k), filters or Filters())
        return self.rank(query, dense, lexical, top_k)

    def candidates_for(self, query: str, depth: int, filters: Filters) -> tuple[list[VectorHit], list[LexicalHit]]:
        """Each retriever's own ranked hits, before fusion."""
        vector = self._query_vector(query)
        self.index.refresh()  # what another process wrote since the last search
        dense = self.index.vectors.query(vector, depth, doc_ids=filters.doc_ids, kinds=filters.kinds)
        lexical = self.index.lexical.search(query, depth, doc_ids=filters.doc_ids, kinds=filters.kinds)
        return dense, lexical

    def forget_queries(self) -> None:
        """Drop the remembered query embeddings (benchmarks time a cold retrieval)."""
        with self._vectors_lock:
            self._vectors.clear()

    def _query_vector(self, query: str) -> Any:
        """The query's embedding, remembered for the last few queries: one question may retrieve
        several times (its table rows, its parts), and the embedding is most of a retrieval's time."""
        with self._vectors_lock:
            if query in self._vectors:
                self._vectors.move_to_end(query)
                return self._vectors[query]
        vector = self.index.embedder.encode_query(query)
        with self._vectors_lock:
            self._vectors[query] = vector
            while len(self._vectors) > QUERY_VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return vector

    def rank(self, query: str, dense: list[VectorHit], lexical: list[LexicalHit], top_k: int) -> list[ScoredChunk]:
        """Fuse, rerank (when configured) and turn the best hits into ``top_k`` passages."""
        dense_rank = {h.chunk_id: i for i, h in enumerate(dense, start=1)}
        similarity = {h.chunk_id: h.similarity for h in dense}
        lexical_rank = {h.chunk_id: i for i, h in enumerate(lexical, start=1)}
        if self.fusion is Fusion.RRF:
            fused = reciprocal_rank_fusion(
                [[h.chunk_id for h in dense], [h.chunk_id for h in lexical]], k=self.rrf_k, weights=self.weights
            )
        else:
            fused = standardized_score_fusion(
                [[(h.chunk_id, h.similarity) for h in dense], [(h.chunk_id, h.score) for h in lexical]],
                weights=self.weights,
            )
        store = self.index.docstore
        # all candidates, not just top_k: merged passages make room for the next ones
        chunks = store.chunks([cid for cid, _ in fused])
        pool = [(cid, score) for cid, score in fused if cid in chunks]  # a concurrent removal
        rerank: dict[str, float] = {}
        if self.reranker is not None and pool:
            head = pool[: self.rerank_depth]
            passages = [chunks[cid].context for cid, _ in head]
            rerank = dict(zip([cid for cid, _ in head], self.reranker.scores(query, passages), strict=True))
            pool = sorted(head, key=lambda pair: -rerank[pair[0]]) + pool[self.rerank_depth :]
        hits = [
            ScoredChunk(
                chunk=chunks[cid],
                score=score,
                title="",
                source="",
                dense_rank=dense_rank.get(cid),
                lexical_rank=lexical_rank.get(cid),
                rerank_score=rerank.get(cid),
                covers=(cid,),
                similarity=similarity.get(cid),
            )
            for cid, score in pool
        ]
        return _Passages(store, self.section_chars).finish(hits, top_k, expand=self.expand)


class _Passages:
    """Turns ranked chunk hits into passages, reading documents from the docstore once each."""

    def __init__(self, store: DocumentStore, section_chars: int) -> None:
        self.store = store
        self.section_chars = section_chars
        self.texts: dict[str, str] = {}
        self.sections: dict[str, list[tuple[tuple[str, ...], int, int]]] = {}

    def text(self, doc_id: str) -> str:
        if doc_id not in self.texts:
            self.texts[doc_id] = self.store.text(doc_id) or ""
        return self.texts[doc_id]

    def finish(self, hits: list[ScoredChunk], top_k: int, *, expand: bool) -> list[ScoredChunk]:
        """The first ``top_k`` passages: titles attached, hits widened, touching passages merged."""
        docs = {d: self.store.document(d) for d in {h.chunk.doc_id for h in hits}}
        out: list[ScoredChunk] = []
        for hit in hits:
            if len(out) == top_k:
                break
            doc = docs.get(hit.chunk.doc_id)
            if doc is None:
                continue
            hit = replace(hit, title=doc.title, source=doc.source)
            if not expand:
                out.append(hit)
                continue
            hit = self.widen(hit)
            text = self.text(hit.chunk.doc_id)
            for i, kept in enumerate(out):
                if kept.chunk.doc_id == hit.chunk.doc_id and _touch(kept.chunk, hit.chunk, text):
                    out[i] = _merge(kept, hit, text)
                    break
            else:
                out.append(hit)
        return out

    def widen(self, hit: ScoredChunk) -> ScoredChunk:
        """The whole section when it is short (an article, a list item with its sub-items); else the
        next chunk of the section when the hit is a fragment."""
        chunk = hit.chunk
        if chunk.kind != "text":
            return hit
        if chunk.doc_id not in self.sections:
            self.sections[chunk.doc_id] = self.store.sections(chunk.doc_id)
        text = self.text(chunk.doc_id)
        for path, start, end in self.sections[chunk.doc_id]:
            if path == chunk.section_path and start <= chunk.start and chunk.end <= end:
                start, end = trim_span(text, start, end)
                if chunk.end - chunk.start < end - start <= self.section_chars:
                    covers = tuple(self.store.chunk_ids_within(chunk.doc_id, start, end)) or hit.covers
                    return replace(hit, chunk=replace(chunk, start=start, end=end, text=text[start:end]), covers=covers)
                break
        return self.widen_to_next(hit) if is_fragment(chunk) else hit

    def widen_to_next(self, hit: ScoredChunk) -> ScoredChunk:
        """A fragment with the next chunk of its section (and the previous one when very short)."""
        chunk = hit.chunk
        before, after = self.store.neighbours(chunk.chunk_id)
        covers = list(hit.covers)
        start, end = chunk.start, chunk.end
        if after is not None and after.kind == "text" and after.section_path == chunk.section_path:
            end = after.end
            covers.append(after.chunk_id)
        if len(chunk.text) < 40 and before is not None and before.kind == "text" and before.section_path == chunk.section_path:
            start = before.start
            covers.insert(0, before.chunk_id)
        if (start, end) == (chunk.start, chunk.end):
            return hit
        text = self.text(chunk.doc_id)
        return replace(hit, chunk=replace(chunk, start=start, end=end, text=text[start:end]), covers=tuple(covers))


def is_fragment(chunk: Chunk) -> bool:
    """A text chunk that starts or ends mid-sentence (a long sentence cut by the chunker)."""
    if chunk.kind != "text":
        return False
    return not _SENTENCE_END.search(chunk.text) or (
        len(chunk.text) < 40 and not _SENTENCE_START.match(chunk.text) and not chunk.text.endswith("。")
    )


def _touch(a: Chunk, b: Chunk, text: str) -> bool:
    """Overlapping or separated by whitespace only (adjacent chunks, consecutive table rows)."""
    first, second = (a, b) if a.start <= b.start else (b, a)
    return second.start <= first.end or not text[first.end : second.start].strip()


def _merge(kept: ScoredChunk, hit: ScoredChunk, text: str) -> ScoredChunk:
    start, end = min(kept.chunk.start, hit.chunk.start), max(kept.chunk.end, hit.chunk.end)
    covers = tuple(dict.fromkeys((*kept.covers, *hit.covers)))
    chunk = replace(kept.chunk, start=start, end=end, text=text[start:end])
    similarity = max((s for s in (kept.similarity, hit.similarity) if s is not None), default=None)
    return replace(kept, chunk=chunk, covers=covers, similarity=similarity)

