"""Retrieval metrics on gold quotes: pure functions over retrieved passages.

A quote counts as found when it is a substring of the retrieved text after
``normalize_for_match`` (NFKC, no whitespace), so quotes copied from the raw files still match
the cleaned canonical text. Quotes copied from scraped files can hold a page counter at a line
start (「阶段(202\n9、*年6月」) that cleaning removes; ``quote_forms`` also tries the quote
without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import EvalItem
from ingest.clean import normalize_for_match

BUDGET_CHARS = 1500
_PAGE_COUNTER = re.compile(r"\n\s*\d{1,3}、")


def without_page_counters(quote: str) -> str:
    """The quote without scraped page counters at line starts (「阶段(202\n9、*年」 → 「阶段(202*年」)."""
    return _PAGE_COUNTER.sub("", quote)


def quote_forms(quote: str) -> tuple[str, ...]:
    """The normalized forms a quote may take in cleaned text."""
    forms = [normalize_for_match(quote)]
    without = without_page_counters(quote)
    if without != quote:
        forms.append(normalize_for_match(without))
    return tuple(forms)


def contains_quote(text: str, forms: Sequence[str]) -> bool:
    """``text`` already normalized; true when any form of the quote is in it."""
    return any(form in text for form in forms)


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the metrics see it: its text and the file it came from."""

    text: str
    source: str
    page: int | None = None  # the page the passage starts on (PDFs)


@dataclass(frozen=True)
class RetrievalScore:
    all_in_budget: bool  # every gold quote inside the first BUDGET_CHARS characters
    any_in_budget: bool
    # every gold quote's pieces (its runs between spaces) inside the first BUDGET_CHARS, in any
    # order: a quote copied from a PDF page's raw text holds a table row with a wrapped cell as
    # the page lays it out (「…赴非 2 2016年10月 洲筹办…」), which a passage holding the row whole
    # (「2 2016年10月 立项为…赴非洲筹办…」) never contains as one string
    pieces_in_budget: bool
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
    quotes = [(quote_forms(s.quote), s.doc) for s in item.sources]
    window = normalize_for_match(budget_text(passages, budget))
    in_budget = [contains_quote(window, q) for q, _ in quotes]
    pieces = [all(contains_quote(window, quote_forms(piece)) for piece in s.quote.split()) for s in item.sources]
    normalized = [normalize_for_match(p.text) for p in passages]
    found = [
        any(contains_quote(text, q) and _same_doc(p.source, doc) for text, p in zip(normalized, passages, strict=True))
        for q, doc in quotes
    ]
    rank = next(
        (i for i, (text, p) in enumerate(zip(normalized, passages, strict=True), start=1)
         if any(contains_quote(text, q) and _same_doc(p.source, doc) for q, doc in quotes)),
        None,
    )
    return RetrievalScore(
        all_in_budget=all(in_budget),
        any_in_budget=any(in_budget),
        pieces_in_budget=all(pieces),
        reciprocal_rank=0.0 if rank is None else 1.0 / rank,
        recall=sum(found) / len(found) if found else 0.0,
    )
