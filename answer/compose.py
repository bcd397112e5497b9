"""From claims to a verified ``Answer``: numbering citations, checking every sentence, strict mode.

Every generator ends here. A ``Claim`` is one sentence of the answer with the exact document
spans that support it; ``assemble`` numbers the spans as citations in order of first use, writes
the ``[n]`` markers, and verifies each sentence by the grounding rules (a citation, and every
figure and 《title》 in a cited quote). In strict mode a failing sentence is dropped, and an answer
with nothing left becomes a refusal; otherwise it stays, flagged in ``verification``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from answer.evidence import Evidence, Unit
from answer.records import Answer, Citation, SentenceCheck
from answer.verify import ungrounded_numbers, ungrounded_titles
from index.hybrid import ScoredChunk
from ingest.records import Chunk, Page

REFUSAL = "知识库中没有找到能回答这个问题的内容"


@dataclass(frozen=True)
class Span:
    """An exact span of a retrieved document, with what a citation shows of it."""

    doc_id: str
    title: str
    source: str
    section_path: tuple[str, ...]
    page: int | None
    chunk_id: str
    start: int
    end: int

    @classmethod
    def of(cls, chunk: Chunk, title: str, source: str, start: int | None = None, end: int | None = None) -> Span:
        """``[start, end)`` (default: the whole chunk) of the document holding ``chunk``."""
        return cls(
            chunk.doc_id,
            title,
            source,
            chunk.section_path,
            chunk.page,
            chunk.chunk_id,
            chunk.start if start is None else start,
            chunk.end if end is None else end,
        )

    def cite(self, n: int, quote: str) -> Citation:
        """This span as citation ``n``; ``quote`` is its text (``document.text[start:end]``)."""
        return Citation(n, self.chunk_id, self.doc_id, self.title, self.source, self.section_path, self.page,
                        quote, self.start, self.end)


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer (no markers) and the spans it rests on."""

    text: str
    spans: tuple[Span, ...]
    joiner: str = ""  # what goes before the sentence: "" or "\n" for a list item or a paragraph


@dataclass(frozen=True)
class Composition:
    """What a composer made of the evidence: claims, or why it declined (``refusal``)."""

    claims: tuple[Claim, ...] = ()
    refusal: str = ""


class Composer(Protocol):
    """Writes an answer from evidence it is given; it never reads a store."""

    name: str
    judged: bool  # whether the pipeline's answerability decision runs before it

    def compose(self, evidence: Evidence, chosen: Sequence[Unit]) -> Composition: ...


def citation_for(n: int, hit: ScoredChunk) -> Citation:
    """A retrieved passage, whole, as citation ``n`` (the quote generator, a refusal's closest passages)."""
    return Span.of(hit.chunk, hit.title, hit.source).cite(n, hit.chunk.text)


def placed(answer: Answer, pages_of: Callable[[str], Sequence[Page]]) -> Answer:
    """Each citation on the page its quote starts on (a chunk may begin a page earlier), marked
    「OCR」 when that page was read by OCR; ``pages_of(doc_id)`` gives a document's pages."""

    def place(citation: Citation) -> Citation:
        page = next((p for p in pages_of(citation.doc_id) if p.start <= citation.start < p.end), None)
        return citation if page is None else replace(citation, page=page.number, ocr=page.ocr)

    return replace(answer, citations=tuple(map(place, answer.citations)), closest=tuple(map(place, answer.closest)))


def citation(n: int, span: Span, texts: dict[str, str]) -> Citation:
    return span.cite(n, texts[span.doc_id][span.start : span.end])


def check_sentence(text: str, numbers: tuple[int, ...], quotes: Sequence[str]) -> SentenceCheck:
    """One sentence against the quotes its markers cite."""
    problems = []
    if not numbers:
        problems.append("没有引用 (no citation)")
    missing = ungrounded_numbers(text, list(quotes))
    if missing:
        problems.append(f"数字在引文中找不到 (figure not in the cited quote): {'、'.join(missing)}")
    titles = ungrounded_titles(text, list(quotes))
    if titles:
        problems.append(f"文件名在引文中找不到 (title not in the cited quote): {'、'.join(titles)}")
    return SentenceCheck(text, numbers, not problems, tuple(problems))


def assemble(
    question: str,
    claims: Sequence[Claim],
    texts: dict[str, str],
    *,
    generator: str,
    started: float,
    strict: bool = True,
    closest: Sequence[ScoredChunk] = (),
    lead: str = "",
) -> Answer:
    """The answer made of ``claims``, cited and verified; ``lead`` is uncited framing (a heading).

    Citation numbers follow first use; the same span cited twice keeps its number.
    """
    numbers: dict[tuple[str, int, int], int] = {}
    spans: list[Span] = []
    checks: list[SentenceCheck] = []
    parts: list[str] = []
    for claim in claims:
        sentence = _end_sentence(claim.text)
        known = [s for s in claim.spans if s.doc_id in texts and 0 <= s.start < s.end <= len(texts[s.doc_id])]
        quotes = [texts[s.doc_id][s.start : s.end] for s in known]
        if strict and not check_sentence(sentence, (0,) if known else (), quotes).ok:
            continue
        for span in known:
            key = (span.doc_id, span.start, span.end)
            if key not in numbers:
                numbers[key] = len(spans) + 1
                spans.append(span)
        cited = tuple(dict.fromkeys(numbers[(s.doc_id, s.start, s.end)] for s in known))
        check = check_sentence(sentence, cited, quotes)
        checks.append(check)
        parts.append(f"{claim.joiner if parts else ''}{sentence}{''.join(f'[{n}]' for n in cited)}")
    if not parts:
        return refusal(question, closest, generator=generator, started=started)
    text = (lead + "\n" if lead else "") + "".join(parts)
    return Answer(
        question,
        text,
        citations=tuple(citation(n, span, texts) for n, span in enumerate(spans, start=1)),
        verification=tuple(checks),
        generator=generator,
        seconds=time.perf_counter() - started,
    )


def refusal(
    question: str,
    closest: Sequence[ScoredChunk],
    *,
    generator: str,
    started: float,
    reason: str = "",
) -> Answer:
    """「知识库中没有找到……」 with the closest passages as citations to look at instead."""
    text = f"{REFUSAL}（{reason}）。以下是最接近的段落，供参考。" if reason else f"{REFUSAL}。以下是最接近的段落，供参考。"
    if not closest:
        text = f"{REFUSAL}。"
    return Answer(
        question,
        text,
        refused=True,
        generator=generator,
        seconds=time.perf_counter() - started,
        closest=tuple(
            citation_for(n, hit)
            for n, hit in enumerate(closest[:3], start=1)
        ),
    )


_END = re.compile(r"[。！？!?…]+[”’」』）)]*$")


def _end_sentence(text: str) -> str:
    """One sentence as the answer shows it: trimmed, ending in 。 (a trailing ；，： becomes 。)."""
    text = text.strip()
    if _END.search(text):
        return text
    return text.rstrip("；;，,：:、 ") + "。"
