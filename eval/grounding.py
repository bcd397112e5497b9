"""Answer checks: accuracy, refusal, grounding and draft length, as pure functions.

Every check reads an ``Answer`` (``answer/records.py``), the item it answers and the canonical
texts of the cited documents; nothing here calls a model or the index, so each figure is
deterministic and can be recomputed from ``results.jsonl``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path

from answer.records import Answer, Citation
from answer.verify import (
    MARKER,
    answer_length,
    answer_sentences,
    length_limit,
    markers,
    number_forms,
    ungrounded_numbers,
)
from eval.dataset import EvalItem
from eval.retrieval import without_page_counters
from ingest.clean import normalize_for_match


def includes(answer_text: str, fact: str) -> bool:
    """Whether a must_include fact is in the answer: whitespace/width-insensitive; a figure also
    matches another way of writing the same value (「57.14%」 and 「57.14 %」, 「300万」 and 「3000000」)."""
    if normalize_for_match(fact) in normalize_for_match(MARKER.sub("", answer_text)):
        return True
    fact_numbers = number_forms(fact)
    if not fact_numbers or normalize_for_match(re.sub(r"[\d.,%％万亿]", "", fact)):
        return False  # a fact with words as well as figures must match as text
    have: set[Decimal] = set()
    for forms in number_forms(answer_text):
        have |= forms
    return all(max(forms) in have for forms in fact_numbers)  # 「300万」 means 3000000, not 300


def quotes_overlap(a: str, b: str, min_chars: int = 10) -> bool:
    """Whether two quotes share a run of ``min_chars`` characters (or one holds the other)."""
    x, y = normalize_for_match(a), normalize_for_match(b)
    if not x or not y:
        return False
    if x in y or y in x:
        return True
    match = SequenceMatcher(None, x, y, autojunk=False).find_longest_match(0, len(x), 0, len(y))
    return match.size >= min(min_chars, len(x), len(y))


def same_page(cited: int | None, gold: int | None) -> bool:
    """A PDF citation agrees with a gold quote's page when it starts on that page or the one before
    (a passage may begin at the foot of the previous page); pages unknown on either side agree."""
    return cited is None or gold is None or gold - 1 <= cited <= gold


@dataclass(frozen=True)
class AnswerCheck:
    """Every per-answer figure the harness aggregates. Ratios are None when they do not apply."""

    refused: bool
    must_include: float | None  # share of must_include facts present (answerable items)
    correct: bool | None  # all present
    sentences: int
    cited_sentences: int
    citations: int
    valid_citations: int  # quote == document text at its offsets
    bad_markers: int  # [n] pointing at no citation
    numbers: int
    unverified_numbers: int  # figures in no quote cited by their sentence
    gold_agreement: bool | None  # some cited quote overlaps a gold quote of the same document
    length: int
    length_ok: bool | None  # drafts: within the limit the question states
    problems: tuple[str, ...]


def check_answer(item: EvalItem, answer: Answer, texts: Mapping[str, str]) -> AnswerCheck:
    """Check ``answer`` to ``item``; ``texts`` maps doc_id to the canonical text of cited documents."""
    problems: list[str] = []
    by_number: dict[int, Citation] = {c.n: c for c in answer.citations}
    valid = 0
    for citation in answer.citations:
        text = texts.get(citation.doc_id)
        if text is not None and text[citation.start : citation.end] == citation.quote and citation.quote:
            valid += 1
        else:
            problems.append(f"[{citation.n}] 引文与原文不符 quote is not the document's text at {citation.start}:{citation.end}")

    sentences = [] if answer.refused else answer_sentences(answer.text)
    cited = bad_markers = numbers = unverified = 0
    for sentence in sentences:
        numbers_here = markers(sentence)
        known = [by_number[n] for n in numbers_here if n in by_number]
        bad_markers += len(numbers_here) - len(known)
        if known:
            cited += 1
        else:
            problems.append(f"无引用 uncited: {sentence[:40]}")
        figures = number_forms(sentence)
        numbers += len(figures)
        missing = ungrounded_numbers(sentence, [c.quote for c in known])
        unverified += len(missing)
        if missing:
            problems.append(f"数字无出处 unverified {', '.join(missing)}: {sentence[:40]}")

    must = None
    correct = None
    if item.answerable and item.must_include:
        hits = [includes(answer.text, fact) for fact in item.must_include] if not answer.refused else []
        must = sum(hits) / len(item.must_include)
        correct = not answer.refused and all(hits)

    agreement = None
    if item.answerable and not answer.refused:
        agreement = any(
            Path(c.source).name == Path(g.doc).name
            and same_page(c.page, g.page)
            and any(quotes_overlap(c.quote, form) for form in (g.quote, without_page_counters(g.quote)))
            for c in answer.citations
            for g in item.sources
        )

    length = answer_length(answer.text)
    limit = length_limit(item.question) if item.type == "draft" else None
    length_ok = None
    if limit is not None and not answer.refused:
        allowed = int(limit[0] * 1.3) if limit[1] else limit[0]
        length_ok = length <= allowed
        if not length_ok:
            problems.append(f"超长 too long: {length} > {allowed}")

    return AnswerCheck(
        refused=answer.refused,
        must_include=must,
        correct=correct,
        sentences=len(sentences),
        cited_sentences=cited,
        citations=len(answer.citations),
        valid_citations=valid,
        bad_markers=bad_markers,
        numbers=numbers,
        unverified_numbers=unverified,
        gold_agreement=agreement,
        length=length,
        length_ok=length_ok,
        problems=tuple(problems),
    )
