"""Question-set validation and the retrieval metrics, on hand-built items where the figures are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.dataset import EvalItem, GoldSource, load_items
from eval.retrieval import Passage, budget_text, quote_forms, score_item

ROOT = Path(__file__).resolve().parents[2]


def _item(*quotes: str, doc: str = "003.txt") -> EvalItem:
    return EvalItem("q1", "fact", "问题？", "答案", ("答案",), tuple(GoldSource(doc, q) for q in quotes), 1)


def test_the_shipped_dev_set_loads_cleanly() -> None:
    items, problems = load_items(ROOT / "eval" / "dev.jsonl")
    assert problems == []
    assert len(items) == 30
    assert sum(not i.answerable for i in items) == 4


def test_bad_lines_are_reported_with_line_numbers_and_skipped(tmp_path: Path) -> None:
    good = {"id": "a", "type": "fact", "question": "问？", "answer": "答", "must_include": ["答"],
            "sources": [{"doc": "x.txt", "quote": "答"}]}
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps({**good, "id": "b", "type": "opinion"}, ensure_ascii=False),
        json.dumps({**good, "id": "c", "sources": []}, ensure_ascii=False),
        "",
        json.dumps({**good, "id": "a"}, ensure_ascii=False),
        json.dumps({**good, "id": "d", "type": "unanswerable", "answer": "", "sources": []}, ensure_ascii=False),
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, problems = load_items(path)
    assert [i.id for i in items] == ["a", "d"]
    assert [p.line for p in problems] == [2, 3, 4, 6]
    assert "JSON" in problems[0].message and "type" in problems[1].message
    assert "sources" in problems[2].message and "duplicate" in problems[3].message


def test_quotes_match_whitespace_and_width_insensitively() -> None:
    item = _item("2020 年，学院共引进教师 14 人（其中")
    score = score_item(item, [Passage("2020年，学院共引进教师14人(其中具有3年以上", "/x/003.txt")])
    assert score.all_in_budget and score.reciprocal_rank == 1.0 and score.recall == 1.0


def test_page_counters_in_raw_quotes_are_tolerated() -> None:
    assert len(quote_forms("宣传发动阶段(202\n9、*年6月-8月)")) == 2
    item = _item("宣传发动阶段(202\n9、*年6月-8月)")
    assert score_item(item, [Passage("(一)宣传发动阶段(202*年6月-8月)各县区", "003.txt")]).all_in_budget


def test_budget_rank_and_recall() -> None:
    item = _item("甲乙丙", "丁戊己")
    filler = Passage("无关" * 400, "003.txt")  # 800 characters
    passages = [filler, Passage("甲乙丙", "003.txt"), filler, Passage("丁戊己", "003.txt")]
    score = score_item(item, passages)
    assert score.any_in_budget and not score.all_in_budget  # 丁戊己 starts after 1600 characters
    assert score.reciprocal_rank == pytest.approx(1 / 2)
    assert score.recall == 1.0
    assert len(budget_text(passages)) <= 1500 + len(passages)


def test_a_quote_from_another_document_does_not_count_for_rank() -> None:
    item = _item("甲乙丙", doc="001.txt")
    score = score_item(item, [Passage("甲乙丙", "003.txt")])
    assert score.any_in_budget  # the text is there ...
    assert score.reciprocal_rank == 0.0 and score.recall == 0.0  # ... but not from the gold document


def test_a_quote_in_a_page_s_raw_layout_counts_by_its_pieces() -> None:
    # the quote as pdfplumber lays out a table row whose last cell wraps around the row's others
    item = _item("首批试点学校。赴非 2 2016年10月 洲筹办中赞职业技术学院")
    row = Passage("2\t2016年10月\t立项为首批试点学校。赴非洲筹办中赞职业技术学院", "a.pdf")
    score = score_item(item, [row])
    assert not score.all_in_budget and score.pieces_in_budget
    assert not score_item(item, [Passage("2\t2016年10月\t立项为首批试点学校。", "a.pdf")]).pieces_in_budget
