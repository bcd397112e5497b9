"""Run a question set through the assistant and aggregate every check, overall and by type.

``evaluate`` is the harness: it asks each item, retrieves for it, checks the answer
(``eval.grounding``) and the retrieval (``eval.retrieval``), and times the answer. ``summarize``
turns the per-item records into the headline figures; both are plain data, so a run written to
``results.jsonl`` can be summarized again or compared with another.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from answer.records import Answer
from eval.dataset import EvalItem
from eval.grounding import check_answer
from eval.retrieval import Passage, RetrievalScore, score_item

Answerer = Callable[[EvalItem], Answer]
Retriever = Callable[[EvalItem], list[Passage]]  # retrieval as the answer saw it (history included)
TextLookup = Callable[[Iterable[str]], Mapping[str, str]]


@dataclass(frozen=True)
class ItemRecord:
    """One line of ``results.jsonl``."""

    id: str
    type: str
    question: str
    answerable: bool
    answer: dict[str, Any]
    check: dict[str, Any]
    retrieval: dict[str, Any] | None
    seconds: float


def evaluate(
    items: Sequence[EvalItem],
    answerer: Answerer,
    texts: TextLookup,
    retriever: Retriever | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ItemRecord]:
    records = []
    for item in items:
        answer = answerer(item)
        cited = {c.doc_id for c in answer.citations}
        check = check_answer(item, answer, texts(cited))
        retrieval: RetrievalScore | None = None
        if retriever is not None and item.answerable:
            retrieval = score_item(item, retriever(item))
        records.append(
            ItemRecord(
                id=item.id,
                type=item.type,
                question=item.question,
                answerable=item.answerable,
                answer=answer.to_dict(),
                check=asdict(check),
                retrieval=None if retrieval is None else asdict(retrieval),
                seconds=answer.seconds,
            )
        )
        if progress:
            progress(1)
    return records


def _share(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _mean(values: Iterable[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


HEADLINES = (
    "accuracy",
    "correct",
    "refusal_rate",
    "false_refusal_rate",
    "cited_sentences",
    "valid_citations",
    "unverified_numbers",
    "gold_agreement",
    "draft_length_ok",
    "retrieval_all_quotes",
    "retrieval_any_quote",
    "retrieval_all_pieces",
    "retrieval_mrr",
    "retrieval_recall",
    "latency_p50",
    "latency_p95",
)


def summarize(records: Sequence[ItemRecord]) -> dict[str, float | int | None]:
    """The headline figures of a run (see ``HEADLINES``); None where nothing applies."""
    checks = [r.check for r in records]
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    retrieval = [r.retrieval for r in answerable if r.retrieval is not None]
    drafts = [r.check["length_ok"] for r in records if r.check["length_ok"] is not None]
    seconds = [r.seconds for r in records]
    return {
        "items": len(records),
        "accuracy": _mean(r.check["must_include"] for r in answerable),
        "correct": _share(sum(bool(r.check["correct"]) for r in answerable), len(answerable)),
        "refusal_rate": _share(sum(r.check["refused"] for r in unanswerable), len(unanswerable)),
        "false_refusal_rate": _share(sum(r.check["refused"] for r in answerable), len(answerable)),
        "cited_sentences": _share(sum(c["cited_sentences"] for c in checks), sum(c["sentences"] for c in checks)),
        "valid_citations": _share(sum(c["valid_citations"] for c in checks), sum(c["citations"] for c in checks)),
        "unverified_numbers": sum(c["unverified_numbers"] for c in checks),
        "gold_agreement": _mean(
            None if r.check["gold_agreement"] is None else float(r.check["gold_agreement"]) for r in answerable
        ),
        "draft_length_ok": _share(sum(drafts), len(drafts)),
        "retrieval_all_quotes": _mean(float(r["all_in_budget"]) for r in retrieval),
        "retrieval_any_quote": _mean(float(r["any_in_budget"]) for r in retrieval),
        "retrieval_all_pieces": _mean(float(r["pieces_in_budget"]) for r in retrieval),
        "retrieval_mrr": _mean(r["reciprocal_rank"] for r in retrieval),
        "retrieval_recall": _mean(r["recall"] for r in retrieval),
        "latency_p50": _percentile(seconds, 0.5),
        "latency_p95": _percentile(seconds, 0.95),
    }


def summarize_by_type(records: Sequence[ItemRecord]) -> dict[str, dict[str, float | int | None]]:
    types = sorted({r.type for r in records})
    return {t: summarize([r for r in records if r.type == t]) for t in types}


def record_from_dict(data: Mapping[str, Any]) -> ItemRecord:
    return ItemRecord(**{k: data[k] for k in ItemRecord.__dataclass_fields__})

