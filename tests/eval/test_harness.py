"""The harness on hand-built answers: the aggregate figures are known in advance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from answer.records import Answer, Citation
from eval.dataset import EvalItem, GoldSource
from eval.harness import evaluate, record_from_dict, summarize, summarize_by_type
from eval.report import compare, gate, read_run, write_run
from eval.retrieval import Passage

ROOT = Path(__file__).resolve().parents[2]
TEXT = "合作企业原则上投入折合金额不低于300万元，学校投入比例不少于1:1。产业学院设院长1名。"
DOC = "000_1945969dfabc08b4.txt"
GOOD = EvalItem("a1", "fact", "合作企业投入不低于多少？", "", ("300万元",), (GoldSource(DOC, "不低于300万元"),), 1)
MISSED = EvalItem("a2", "fact", "院长几名？", "", ("院长1名",), (GoldSource(DOC, "产业学院设院长1名"),), 2)
NONE = EvalItem("u1", "unanswerable", "2021年招了多少学生？", "", (), (), 3)


def _cite(quote: str) -> Citation:
    start = TEXT.index(quote)
    return Citation(1, "c1", "doc1", "报告", f"corpus/{DOC}", (), None, quote, start, start + len(quote))


ANSWERS = {
    "a1": Answer(
        GOOD.question, "合作企业投入不低于300万元[1]。", (_cite("合作企业原则上投入折合金额不低于300万元"),), seconds=0.2
    ),
    "a2": Answer(MISSED.question, "知识库中没有找到相关内容。", refused=True, seconds=0.1),
    "u1": Answer(NONE.question, "知识库中没有找到2021年的数据。", refused=True, seconds=0.3),
}


def test_summary_figures() -> None:
    records = evaluate(
        [GOOD, MISSED, NONE],
        answerer=lambda item: ANSWERS[item.id],
        texts=lambda ids: {"doc1": TEXT} if "doc1" in set(ids) else {},
        retriever=lambda question: [Passage(TEXT, f"corpus/{DOC}")],
    )
    summary = summarize(records)
    assert summary["items"] == 3
    assert summary["accuracy"] == pytest.approx(0.5) and summary["correct"] == pytest.approx(0.5)
    assert summary["refusal_rate"] == 1.0 and summary["false_refusal_rate"] == pytest.approx(0.5)
    assert summary["cited_sentences"] == 1.0 and summary["valid_citations"] == 1.0
    assert summary["unverified_numbers"] == 0 and summary["gold_agreement"] == 1.0
    assert summary["retrieval_all_quotes"] == 1.0 and summary["retrieval_mrr"] == 1.0
    assert summary["latency_p50"] == pytest.approx(0.2) and summary["draft_length_ok"] is None
    by_type = summarize_by_type(records)
    assert set(by_type) == {"fact", "unanswerable"} and by_type["unanswerable"]["refusal_rate"] == 1.0

    again = [record_from_dict(json.loads(json.dumps(r.__dict__, ensure_ascii=False))) for r in records]
    assert summarize(again) == summary


def _broken(item: EvalItem) -> Answer:
    """A deliberately broken generator: the right passage, the wrong figure."""
    answer = ANSWERS[item.id]
    return Answer(answer.question, answer.text.replace("300", "500"), answer.citations, answer.refused, seconds=0.1)


def test_the_committed_gate_fails_a_broken_generator() -> None:
    thresholds = json.loads((ROOT / "eval" / "thresholds.json").read_text(encoding="utf-8"))
    args = {"texts": lambda ids: {"doc1": TEXT}, "retriever": lambda q: [Passage(TEXT, f"corpus/{DOC}")]}
    items = [GOOD, NONE]
    good = summarize(evaluate(items, lambda item: ANSWERS[item.id], **args))  # type: ignore[arg-type]
    broken = summarize(evaluate(items, _broken, **args))  # type: ignore[arg-type]
    # the hand-built set has no draft item, so draft_length_ok has no value here
    assert [f for f in gate(good, thresholds) if not f.startswith("draft_length_ok")] == []
    failures = gate(broken, thresholds)
    assert any(f.startswith("unverified_numbers") for f in failures)
    assert any(f.startswith("accuracy") for f in failures)
    assert gate(good, {"no_such_metric": {"min": 1}}) == ["未知指标 unknown metric in thresholds: no_such_metric"]


def test_run_files_and_chart(tmp_path: Path) -> None:
    records = evaluate([GOOD, MISSED, NONE], lambda item: ANSWERS[item.id], lambda ids: {"doc1": TEXT})
    write_run(tmp_path, records, {"generator": "hand-built"})
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "generator: hand-built" in report and "**a2**" in report and "**a1**" not in report
    assert summarize(read_run(tmp_path)) == summarize(records)
    assert "no item changed" in compare(records, read_run(tmp_path))
