"""The BM25 lexical index: the weighting formula, ranking on domain terms, filters, updates, persistence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from index.lexical import STOP_TOKENS, LexicalHit, LexicalIndex, LexicalIndexError, bm25_weights
from index.tokenize import ChineseTokenizer
from ingest.errors import SettingsError, ZhikuError

# (chunk_id, doc_id, kind, text): sentences in the style of the sample quality reports.
CHUNKS: list[tuple[str, str, str, str]] = [
    ("c1", "report2020", "text", "产业学院实行理事会领导下的院长负责制"),
    ("c2", "report2020", "text", "学院积极推进现代学徒制试点，校企双方共同制定人才培养方案"),
    ("c3", "report2020", "table_row", "2020年学院招生计划5897人，报到率92.12%"),
    ("c4", "report2021", "text", "学院建成省级产教融合实训基地3个，年培训学员2000人次"),
    ("c5", "report2021", "text", "校企合作共建专业群，推动课程思政建设"),
    ("c6", "report2021", "table_row", "2021年学院招生计划6012人，报到率93.5%"),
]


@pytest.fixture(scope="module")
def tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


@pytest.fixture
def index(tokenizer: ChineseTokenizer) -> LexicalIndex:
    built = LexicalIndex(tokenizer)
    built.add_many(CHUNKS)
    return built


def ids(hits: list[LexicalHit]) -> list[str]:
    return [hit.chunk_id for hit in hits]


def test_bm25_weights_match_the_formula_by_hand() -> None:
    # 3 chunks x 2 terms: term 0 in every chunk, term 1 only in chunk 0 (twice).
    tf = sp.csr_matrix(np.array([[1, 2], [3, 0], [1, 0]], dtype=np.int32))
    k1, b = 1.2, 0.75
    weights = bm25_weights(tf, k1, b)
    assert sp.issparse(weights) and weights.format == "csc"
    lengths, avglen = [3, 3, 1], 7 / 3
    idf = [math.log(1 + (3 - 3 + 0.5) / (3 + 0.5)), math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))]
    expected = np.zeros((3, 2))
    for row, counts in enumerate([[1, 2], [3, 0], [1, 0]]):
        for col, count in enumerate(counts):
            if count:
                norm = k1 * (1 - b + b * lengths[row] / avglen)
                expected[row, col] = idf[col] * count * (k1 + 1) / (count + norm)
    np.testing.assert_allclose(weights.toarray(), expected, rtol=1e-12)
    assert weights.nnz == tf.nnz  # zeros stay absent
    assert 0 < idf[0] < idf[1]  # a term in every chunk weighs less than a rare one, but still counts


def test_bm25_weights_leave_the_input_alone_and_handle_empty_rows() -> None:
    tf = sp.csr_matrix(np.array([[0, 0], [2, 1]], dtype=np.int32))
    before = tf.toarray().copy()
    weights = bm25_weights(tf)
    np.testing.assert_array_equal(tf.toarray(), before)
    assert weights[0].nnz == 0 and (weights.toarray()[1] > 0).all()
    assert bm25_weights(sp.csr_matrix((2, 0), dtype=np.int32)).shape == (2, 0)


def test_domain_term_ranks_its_sentence_first(index: LexicalIndex) -> None:
    assert ids(index.search("现代学徒制"))[0] == "c2"


def test_long_compound_query_finds_its_parts(index: LexicalIndex) -> None:
    hits = index.search("产教融合实训基地建设")
    assert hits and hits[0].chunk_id == "c4"
    assert all(hit.score > 0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_figures_are_searchable(index: LexicalIndex) -> None:
    assert ids(index.search("5897"))[:1] == ["c3"]
    assert ids(index.search("2021年招生计划"))[0] == "c6"


def test_query_without_known_terms_is_empty(index: LexicalIndex) -> None:
    assert index.search("量子计算机") == []
    assert index.search("的了和") == []  # stop tokens only
    assert index.search("，。！") == []
    assert index.search("") == []
    assert index.search("学院", top_k=0) == []


def test_stop_tokens_are_not_indexed(index: LexicalIndex) -> None:
    assert {"的", "和", "与", "是", "在"} <= STOP_TOKENS
    assert index.search("的") == [] and index.search("在") == []


def test_top_k_and_deterministic_ties(index: LexicalIndex) -> None:
    everything = index.search("学院", top_k=10)
    assert len(everything) == 5  # c5 does not mention 学院
    assert len(index.search("学院", top_k=2)) == 2
    # Equal-scoring rows come back in the order they were added, whatever top_k cuts.
    tied = LexicalIndex(index.tokenizer)
    tied.add_many((f"t{i}", "d", "text", "现代学徒制试点") for i in range(20))
    assert ids(tied.search("学徒制", top_k=5)) == ["t0", "t1", "t2", "t3", "t4"]


def test_filters_restrict_rows(index: LexicalIndex) -> None:
    by_doc = index.search("学院招生计划", doc_ids={"report2021"})
    assert by_doc and {hit.chunk_id for hit in by_doc} <= {"c4", "c5", "c6"}
    by_kind = index.search("学院", kinds=["table_row"])
    assert set(ids(by_kind)) == {"c3", "c6"}
    assert ids(index.search("学院", doc_ids={"report2020"}, kinds={"table_row"})) == ["c3"]
    assert index.search("学院", doc_ids={"no-such-doc"}) == []
    assert index.search("学院", doc_ids=[]) == []


def test_re_adding_a_chunk_replaces_it(index: LexicalIndex) -> None:
    index.add("c2", "report2020", "text", "学院开展社会培训")
    assert len(index) == 6
    assert "c2" not in ids(index.search("现代学徒制"))
    assert ids(index.search("社会培训"))[0] == "c2"
    assert ids(index.search("学院", top_k=10)).count("c2") == 1


def test_remove_docs_removes_every_row(index: LexicalIndex) -> None:
    assert index.remove_docs(["report2021"]) == 3
    assert len(index) == 3
    assert index.doc_ids() == {"report2020"}
    assert index.chunk_ids() == {"c1", "c2", "c3"}
    for query in ("产教融合实训基地", "课程思政", "学院招生计划"):
        assert not {"c4", "c5", "c6"} & set(ids(index.search(query)))
    assert index.remove_docs(["report2021", "never-indexed"]) == 0


def test_save_and_open_round_trip(index: LexicalIndex, tokenizer: ChineseTokenizer, tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "lexical.npz"  # parent folders are created
    index.path = path
    index.remove_docs(["report2021"])
    index.add("c4", "report2021", "text", "学院建成省级产教融合实训基地3个")
    index.save()
    reopened = LexicalIndex.open(path, tokenizer)
    assert len(reopened) == len(index) and reopened.chunk_ids() == index.chunk_ids() and reopened.doc_ids() == index.doc_ids()
    assert (reopened.k1, reopened.b) == (index.k1, index.b)
    for query in ("现代学徒制", "产教融合实训基地建设", "学院", "2020年报到率"):
        assert reopened.search(query) == index.search(query)
    assert reopened.search("学院", kinds={"table_row"}) == index.search("学院", kinds={"table_row"})
    # The vocabulary grows after reopening.
    reopened.add("c9", "report2022", "text", "学院获批职业本科试点")
    assert ids(reopened.search("职业本科")) == ["c9"]
    reopened.save()
    assert ids(LexicalIndex.open(path, tokenizer).search("职业本科")) == ["c9"]


def test_open_without_a_file_is_empty(tokenizer: ChineseTokenizer, tmp_path: Path) -> None:
    fresh = LexicalIndex.open(tmp_path / "missing.npz", tokenizer, k1=1.5)
    assert len(fresh) == 0 and fresh.search("学院") == [] and fresh.k1 == 1.5
    fresh.save()
    assert len(LexicalIndex.open(tmp_path / "missing.npz", tokenizer)) == 0


def test_save_leaves_no_temp_files(index: LexicalIndex, tmp_path: Path) -> None:
    index.path = tmp_path / "lexical.npz"
    index.save()
    index.add("c7", "report2022", "text", "新增一条")
    index.save()
    assert [p.name for p in tmp_path.iterdir()] == ["lexical.npz"]


def test_corrupt_file_asks_for_reindex(tokenizer: ChineseTokenizer, index: LexicalIndex, tmp_path: Path) -> None:
    path = tmp_path / "lexical.npz"
    path.write_bytes(b"\x00garbage, not an npz file\xff" * 10)
    with pytest.raises(LexicalIndexError, match="reindex") as raised:
        LexicalIndex.open(path, tokenizer)
    assert isinstance(raised.value, ZhikuError)
    # A truncated save is just as unreadable.
    index.path = path
    index.save()
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(LexicalIndexError, match="reindex"):
        LexicalIndex.open(path, tokenizer)


def test_interleaved_adds_and_searches_match_one_build(index: LexicalIndex, tokenizer: ChineseTokenizer) -> None:
    queries = ("现代学徒制", "学院招生计划", "产教融合实训基地建设", "校企合作")
    stepwise = LexicalIndex(tokenizer)
    for item in CHUNKS:
        stepwise.add(*item)
        stepwise.search("学院")  # forces a merge after every add
    for query in queries:
        assert stepwise.search(query) == index.search(query)
    stepwise.add("c2", *CHUNKS[1][1:])  # replace, then search again
    index.add("c2", *CHUNKS[1][1:])
    for query in queries:
        assert stepwise.search(query) == index.search(query)


def test_invalid_settings_name_the_valid_range(tokenizer: ChineseTokenizer) -> None:
    with pytest.raises(SettingsError, match="b must be in"):
        LexicalIndex(tokenizer, b=1.5)
    with pytest.raises(SettingsError, match="k1"):
        LexicalIndex(tokenizer, k1=-1)
