"""Retrieval metrics on gold quotes: pure functions over retrieved passages.

A quote counts as found when it is a substring of the retrieved text after
``normalize_for_match`` (NFKC, no whitespace), so quotes copied from the raw files still match
the cleaned canonical text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import EvalItem
from ingest.clean import normalize_for_match

BUDGET_CHARS = 1500


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the metrics see it: its text and the file it came from."""

    text: str
    source: str


@dataclass(frozen=True)
class RetrievalScore:
    all_in_budget: bool  # every gold quote inside the first BUDGET_CHARS characters
    any_in_budget: bool
    reciprocal_rank: float  # 1 / rank of the first passage holding a gold quote, 0 if none
    recall: float  # share of gold quotes found anywhere in the passages


def budget_text(passages: Sequence[Passage], budget: int = BUDGET_CHARS) -> str:
    """The first ``budget`` characters of the passages, in rank order."""
    out: list[str] = []
    used = 0
    for passage in passages:
        if used >= budget:
            break
        out.append(passage.text[: budget - used])
        used += len(out[-1])
    return "\n".join(out)


def _same_doc(source: str, doc: str) -> bool:
    return Path(source).name == Path(doc).name


def score_item(item: EvalItem, passages: Sequence[Passage], budget: int = BUDGET_CHARS) -> RetrievalScore:
    """Score one answerable item against ranked ``passages``."""
    quotes = [(normalize_for_match(s.quote), s.doc) for s in item.sources]
    window = normalize_for_match(budget_text(passages, budget))
    in_budget = [q in window for q, _ in quotes]
    normalized = [normalize_for_match(p.text) for p in passages]
    found = [any(q in text and _same_doc(p.source, doc) for text, p in zip(normalized, passages, strict=True))
             for q, doc in quotes]
    rank = next(
        (i for i, (text, p) in enumerate(zip(normalized, passages, strict=True), start=1)
         if any(q in text and _same_doc(p.source, doc) for q, doc in quotes)),
        None,
    )
    return RetrievalScore(
        all_in_budget=all(in_budget),
        any_in_budget=any(in_budget),
        reciprocal_rank=0.0 if rank is None else 1.0 / rank,
        recall=sum(found) / len(found) if found else 0.0,
    )
