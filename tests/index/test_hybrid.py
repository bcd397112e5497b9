"""Fusion as a pure function, and hybrid retrieval over the indexed sample documents."""

from __future__ import annotations

import pytest

from index.hybrid import (
    CrossEncoderReranker,
    Filters,
    HybridRetriever,
    ScoredChunk,
    is_fragment,
    reciprocal_rank_fusion,
    standardized_score_fusion,
)
from index.indexer import Index
from ingest.clean import normalize_for_match
from ingest.errors import SettingsError
from ingest.records import Chunk

# --------------------------------------------------------------------------------------
# reciprocal_rank_fusion
# --------------------------------------------------------------------------------------


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)


def test_rrf_orders_best_first_and_dedupes() -> None:
    fused = reciprocal_rank_fusion([["x", "y", "x"], ["y", "z"]], k=1)
    assert [item for item, _ in fused] == ["y", "x", "z"]
    assert len(fused) == 3
    # a repeated id counts at its best rank only
    assert dict(fused)["x"] == pytest.approx(1 / 2)


def test_rrf_weights_and_ties() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]])] == ["a", "b"]  # tie: first list first
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])] == ["b", "a"]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 1.0])
    assert reciprocal_rank_fusion([]) == []


def test_zscore_fusion_keeps_a_clear_lead_that_ranks_alone_lose() -> None:
    dense = [(c, 0.86 - 0.01 * i) for i, c in enumerate("abcdefghij")]  # cosine: close together
    lexical = [("x", 40.0)] + [(c, 12.0 - 0.5 * i) for i, c in enumerate("bcadefghi")]  # BM25: "x" far ahead
    fused = standardized_score_fusion([dense, lexical])
    assert fused[0][0] == "x"
    assert {i for i, _ in fused} == set("abcdefghijx")
    rrf = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical]])
    assert rrf[0][0] == "b" and [i for i, _ in rrf].index("x") > 3  # ranks alone: agreement beats the lead


def test_zscore_fusion_edge_cases() -> None:
    assert standardized_score_fusion([[], []]) == []
    assert standardized_score_fusion([[("a", 1.0)], [("a", 5.0)]]) == [("a", 0.0)]  # one item: no spread
    fused = dict(standardized_score_fusion([[("a", 1.0), ("b", 0.0)]]))
    assert fused == {"a": 1.0, "b": -1.0}
    with pytest.raises(ValueError):
        standardized_score_fusion([[("a", 1.0)]], weights=[1.0, 2.0])


# --------------------------------------------------------------------------------------
# fragments
# --------------------------------------------------------------------------------------


def _chunk(text: str, kind: str = "text") -> Chunk:
    return Chunk("c", "d", text, text, (), None, 0, len(text), kind)  # type: ignore[arg-type]


def test_fragment_detection() -> None:
    assert not is_fragment(_chunk("产业学院实行理事会领导下的院长负责制，设院长1名，副院长若干名。"))
    assert is_fragment(_chunk("学院各专业开设课程总数为946门，其中A类课程134门，B类课程"))  # cut mid-sentence
    assert not is_fragment(_chunk("外省\t215\t74\t1.29", kind="table_row"))


# --------------------------------------------------------------------------------------
# retrieval over the five sample documents (real embedder, real Chroma)
# --------------------------------------------------------------------------------------


def _passages(hits: list[ScoredChunk]) -> str:
    return normalize_for_match("".join(h.chunk.text for h in hits))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "quote", "within"),
    [
        # 管理体制 vs 负责制: the small embedder is weak here, the passage comes within the default top 8
        ("清职院的产业学院采用什么管理体制？", "产业学院实行理事会领导下的院长负责制", 8),
        ("郴职院那份校企合作管理办法的发文字号是什么？", "郴职院产教融合〔2023〕4号", 3),
        ("2020年清职院外省招生计划多少人？", "外省\t215\t74\t1.29", 3),
        ("技术赋能行动方案提出通过哪些活动来打造富有工匠精神的校园文化？", "工匠讲坛", 3),
    ],
)
def test_answering_passage_is_near_the_top(seed_index: Index, question: str, quote: str, within: int) -> None:
    hits = HybridRetriever(seed_index).retrieve(question, top_k=8)
    assert len(hits) == 8
    assert normalize_for_match(quote) in _passages(hits[:within])


@pytest.mark.slow
def test_results_are_exact_slices_with_titles(seed_index: Index) -> None:
    hits = HybridRetriever(seed_index).retrieve("校企合作考核评价由谁当组长", top_k=8)
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)
    for hit in hits:
        text = seed_index.docstore.text(hit.chunk.doc_id)
        assert text is not None and text[hit.chunk.start : hit.chunk.end] == hit.chunk.text
        assert hit.title and hit.source.endswith(".txt")
        assert hit.dense_rank is not None or hit.lexical_rank is not None
        assert hit.chunk.chunk_id in hit.covers
        for covered in seed_index.docstore.chunks(list(hit.covers)).values():  # the passage holds what it covers
            assert hit.chunk.start <= covered.start and covered.end <= hit.chunk.end
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.slow
def test_adjacent_table_rows_come_back_as_one_passage(seed_index: Index) -> None:
    hits = HybridRetriever(seed_index).retrieve("2020年清远市内理科考生的录取分数线是多少？市外理科呢？", top_k=8)
    # the gold quote spans two rows of the score-line table
    assert normalize_for_match("2020\t文科\t160\t253\t160\t157\n\t理科\t160\t324\t160\t319") in _passages(hits)
    assert any(len(h.covers) > 1 for h in hits)


@pytest.mark.slow
def test_filters_restrict_documents_and_kinds(seed_index: Index) -> None:
    [report] = seed_index.resolve("001_235bd42144b22a26.txt")
    retriever = HybridRetriever(seed_index)
    hits = retriever.retrieve("校企合作", top_k=6, filters=Filters.of(doc_ids={report.doc_id}))
    assert hits and all(h.chunk.doc_id == report.doc_id for h in hits)
    rows = retriever.retrieve("招生人数", top_k=6, filters=Filters.of(kinds={"table_row"}))
    assert rows and all(h.chunk.kind == "table_row" for h in rows)
    assert retriever.retrieve("招生人数", top_k=6, filters=Filters.of(doc_ids=set())) == []
    assert retriever.retrieve("   ", top_k=6) == []


class _ReverseReranker:
    """Scores passages by how late they came: reverses the fused order (checks the plumbing)."""

    def scores(self, query: str, passages: list[str]) -> list[float]:
        return [float(i) for i in range(len(passages))]


@pytest.mark.slow
def test_reranker_decides_the_order(seed_index: Index) -> None:
    plain = HybridRetriever(seed_index, expand=False).retrieve("校企合作的形式", top_k=4)
    reranked = HybridRetriever(seed_index, expand=False, reranker=_ReverseReranker(), rerank_depth=4).retrieve(
        "校企合作的形式", top_k=4
    )
    assert [h.chunk.chunk_id for h in reranked] == [h.chunk.chunk_id for h in reversed(plain)]
    assert reranked[0].rerank_score == 3.0


@pytest.mark.slow
def test_cross_encoder_reranker_loads_offline_and_orders_by_its_scores(seed_index: Index, minilm_path: str) -> None:
    """A CrossEncoder built from the offline MiniLM weights (its scoring head is untrained, so only
    the plumbing is checked: offline loading, one score per passage, results in score order)."""
    reranker = CrossEncoderReranker(minilm_path)
    assert reranker.scores("问题", []) == []
    scores = reranker.scores("校企合作", ["校企合作的形式", "招生人数"])
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    hits = HybridRetriever(seed_index, expand=False, reranker=reranker, rerank_depth=6).retrieve("校企合作的形式", top_k=6)
    ranked = [h.rerank_score for h in hits]
    assert None not in ranked and ranked == sorted(ranked, reverse=True)  # type: ignore[type-var]


def test_missing_cross_encoder_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="ZHIKU_RERANK_MODEL"):
        CrossEncoderReranker("/nonexistent/cross-encoder").scores("问题", ["片段"])
