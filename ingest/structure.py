"""Chinese document structure: headings, the section tree, tables of contents.

Chinese official documents number their headings by pattern rather than by style:
第X章 › 第X条, 一、 › （一） › 1. › （1）, or 1 › 1.1 › 1.1.1 in reports. Which pattern sits
above which differs between documents, so nesting follows order of first appearance: a
heading whose pattern is already open closes everything below that open heading; a new
pattern nests under the current heading. Decimal numbers (1.1.1) and explicit levels
(Markdown ``#``, Word heading styles) nest by their depth.

All functions are pure: they take the canonical text and return offsets into it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ingest.records import Heading, Section

_CN_NUM = "一二三四五六七八九十百零〇两"
Span = tuple[int, int]

# (kind, pattern) in priority order; group "title" (when present) is the part after the marker.
_LINE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("md", re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+)$")),
    ("chapter", re.compile(rf"^第[{_CN_NUM}\d]+[章编]")),
    ("part", re.compile(rf"^第[{_CN_NUM}\d]+节")),
    ("cn_num", re.compile(rf"^[{_CN_NUM}]+[、．.]")),
    ("cn_paren", re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    ("decimal", re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){1,3})(?![\d.%．])\s*(?=\S)")),
    ("arabic", re.compile(r"^(?P<num>\d{1,2})[.、．](?![\d%])\s*(?=\S)")),
    ("arabic_paren", re.compile(r"^[（(]\d{1,2}[）)]")),
    ("case", re.compile(r"^案例\s*\d+\s*[：:]")),
    ("annex", re.compile(r"^附\s*件\s*\d*\s*[：:]?")),
    ("caption", re.compile(r"^[表图]\s*\d+(?:\s*[-－.．]\s*\d+)?\s*[：:]")),
    # 「表3- 6毕业生国内升学院校类型」: a caption with no colon is a short line of its own
    ("bare_caption", re.compile(r"^[表图]\s*\d+(?:\s*[-－.．]\s*\d+)?(?:\s*(?=[\u4e00-\u9fff（(])|\s+(?=\S))")),
)
_ARTICLE = re.compile(rf"^第[{_CN_NUM}\d]+条(?=[\s\u3000]|[^\s款项]|$)")
_TOC_TITLE = re.compile(r"^(?:目\s*录|[表图]\s*目\s*录|案例目录|插图目录|附表目录|contents)$", re.IGNORECASE)
_TOC_ENTRY = re.compile(
    r"^(?P<title>.{1,80}?)(?:\.{2,}|…+|·{3,}|-{3,}|\s*\t)\s*[-－—]?\s*\d{1,4}\s*[-－—]?\s*$"
)
_SENTENCE_END = "。；;！!？?，,"
_TITLE_WORDS = re.compile(r"报告|办法|方案|通知|条例|规定|意见|纲要|规划|决定|细则|标准|制度|计划|体系|总结|表$")
MAX_TITLE_CHARS = 40
MAX_RUN_IN_TITLE = 20


@dataclass(frozen=True)
class Line:
    """A line of the canonical text and its offsets (``text == canonical[start:end]``)."""

    text: str
    start: int
    end: int


def iter_lines(text: str) -> Iterator[Line]:
    """Lines with their offsets, without the newline."""
    start = 0
    for raw in text.split("\n"):
        yield Line(raw, start, start + len(raw))
        start += len(raw) + 1


def _inside(offset: int, spans: Sequence[Span]) -> bool:
    return any(s <= offset < e for s, e in spans)


def _is_toc_entry(line: str, titled: bool) -> bool:
    """``标题……页码`` with a dot leader, or ``标题\t页码`` right under a 目录 title."""
    match = _TOC_ENTRY.match(line)
    if not match:
        return False
    if re.search(r"\.{2,}|…+|·{3,}|-{3,}", line):
        return True
    fields = line.split("\t")
    return titled and len(fields) == 2 and bool(re.search(r"[\u4e00-\u9fff]", fields[0]))


def find_toc_spans(text: str, min_entries: int = 3) -> list[Span]:
    """Spans of tables of contents: runs of ``标题……页码`` lines, with their 目录 titles.

    ``1.1 服务现代职教体系建设取得新突破.....\t- 8 -`` is a TOC entry, not a heading; a table
    row that happens to end in a number is not.
    """
    spans: list[Span] = []
    run: list[Line] = []
    entries = 0
    titled = False

    def close() -> None:
        nonlocal run, entries, titled
        if entries >= min_entries:
            spans.append((run[0].start, run[-1].end))
        run, entries, titled = [], 0, False

    for line in iter_lines(text):
        stripped = line.text.strip()
        if not stripped:
            continue
        if _TOC_TITLE.match(stripped.replace(" ", "")):
            if entries < min_entries:
                close()
            run.append(line)
            titled = True
            continue
        if _is_toc_entry(stripped, titled):
            run.append(line)
            entries += 1
            continue
        close()
    close()
    return spans


def _classify(line: str) -> tuple[str, str, int] | None:
    """Return (kind, title, title_end) for a line that starts with a heading marker.

    ``title_end`` is the end of the heading's own text within the line: the whole line for a
    standalone heading, the marker alone for an article (第十二条), or a short first sentence
    for a run-in heading (``（一）育人为本原则。以培育…``).
    """
    stripped = line.rstrip()
    article = _ARTICLE.match(stripped)
    if article:
        return "article", article.group(0), article.end()
    for kind, pattern in _LINE_PATTERNS:
        match = pattern.match(stripped)
        if not match:
            continue
        if kind == "md":
            hashes = match.group("hashes")
            return f"md{len(hashes)}", match.group("title").strip(), len(stripped)
        if kind == "decimal":
            kind = f"dec{match.group('num').count('.') + 1}"
        if kind == "bare_caption":
            if len(stripped) > MAX_TITLE_CHARS or re.search("[，,。；;：:！!？?]", stripped):
                continue  # a sentence that begins by naming a table (表1显示，……) is no caption
            return "caption", stripped, len(stripped)
        body = stripped[match.end() :]
        if kind == "annex":
            return (kind, stripped, len(stripped)) if len(stripped) <= 60 else None
        if not body.strip():
            return None
        if len(stripped) <= MAX_TITLE_CHARS + match.end() and stripped[-1] not in _SENTENCE_END:
            return kind, stripped, len(stripped)
        if kind in ("cn_num", "cn_paren") and len(stripped) <= 64 and not re.search("[。；;！!？?]", stripped[:-1]):
            return kind, stripped, len(stripped)  # 「（一）…三方合作共建…产业学院。」 is one-sentence title
        run_in = re.match(rf"[^。；;！!？?]{{1,{MAX_RUN_IN_TITLE}}}[。；;]", body)
        if run_in and kind not in ("caption", "case"):
            end = match.end() + run_in.end() - 1
            return kind, stripped[:end], end
        if kind in ("caption", "case") and len(stripped) <= 80:
            return kind, stripped, len(stripped)
        return None
    return None


def detect_headings(
    text: str,
    hints: Sequence[tuple[int, int, int]] = (),
    exclude: Sequence[Span] = (),
) -> list[Heading]:
    """Find headings and table/figure captions in ``text``.

    ``hints`` are ``(start, end, level)`` spans the loader marked as headings (Word heading
    styles, HTML ``<h2>``); a hint whose text also matches a numbering pattern takes that
    pattern's kind, so the same document gets the same tree from .txt, .docx and .pdf.
    Lines inside ``exclude`` (tables of contents, tables) are skipped.
    """
    hinted = {start: level for start, _, level in hints}
    found: list[Heading] = []
    for line in iter_lines(text):
        stripped = line.text.strip()
        if not stripped or "\t" in line.text or _inside(line.start, exclude):
            continue
        lead = len(line.text) - len(line.text.lstrip())
        start = line.start + lead
        classified = _classify(stripped)
        if classified is None and start in hinted:
            classified = (f"styled{hinted[start]}", stripped, len(stripped))
        if classified is None:
            continue
        kind, title, title_end = classified
        if kind.startswith("dec") and not _decimal_is_heading(stripped):
            continue
        heading = Heading(kind=kind, title=title.strip().rstrip("。；;"), start=start, end=start + title_end)
        if kind == "annex":
            heading = _annex_title(text, heading)
        found.append(heading)
    return _resolve_arabic(found)


def _annex_title(text: str, heading: Heading) -> Heading:
    """``附件：`` alone on its line takes the attachment's title from the next short line."""
    if len(re.sub(r"^附\s*件\s*\d*\s*[：:]?", "", heading.title)) > 0:
        return heading
    end = heading.end
    title = heading.title
    for line in itertools.islice(iter_lines(text[end:]), 1, 4):
        stripped = line.text.strip()
        if not stripped:
            continue
        if len(stripped) > 40 or "\t" in line.text or stripped[-1] in "。；;，,":
            break
        title, end = title + stripped, heading.end + line.end
        if _TITLE_WORDS.search(stripped):
            break
    return Heading(heading.kind, title, heading.start, end)


def _decimal_is_heading(line: str) -> bool:
    # "3.09" or "1.5倍" at a line start are numbers, not heading numbers.
    return not re.match(r"^\d+\.\d+\s*[%‰倍万亿元个人]", line)


def _resolve_arabic(headings: list[Heading]) -> list[Heading]:
    """Decide whether ``1.`` headings are the top of a 1 › 1.1 › 1.1.1 scheme or list items.

    ``1.基本情况`` is a top-level heading when a ``1.1 …`` heading follows; otherwise ``1.`` is
    the list level under （一）, as in the policies.
    """
    tops = {h.title.split(".")[0].split("．")[0] for h in headings if h.kind == "dec2"}
    out = []
    for heading in headings:
        if heading.kind == "arabic":
            number = re.match(r"\d+", heading.title)
            if number and number.group(0) in tops and re.match(r"^\d+[.．]", heading.title):
                heading = Heading("dec1", heading.title, heading.start, heading.end)
        out.append(heading)
    return out


def _family_level(kind: str) -> tuple[str, int]:
    match = re.match(r"^(md|dec|styled)(\d)$", kind)
    if match:
        return match.group(1), int(match.group(2))
    return kind, 0


def _closing_depth(open_kinds: Sequence[str], kind: str) -> int | None:
    """How many open headings stay open when ``kind`` starts (None: it nests under all).

    A leveled heading (1.1, ``##``, Heading 2) closes everything after its parent of the same
    family, so 6.1 closes a 案例 that opened under 6; a pattern heading closes from its earlier
    occurrence on.
    """
    if kind == "annex":
        return 0  # an attachment starts a new document: everything closes
    family, level = _family_level(kind)
    if level:
        parents = [d for d, k in enumerate(open_kinds) if _family_level(k)[0] == family and _family_level(k)[1] < level]
        if parents:
            return parents[-1] + 1
    for depth, open_kind in enumerate(open_kinds):
        open_family, open_level = _family_level(open_kind)
        if open_family == family and open_level >= level:
            return depth
        if family == "chapter" and open_kind == "article":
            return depth
    return None


def build_sections(headings: Sequence[Heading], text_length: int) -> list[Section]:
    """Nest headings into sections; captions label tables and figures, they open no section."""
    sections: list[Section] = []
    stack: list[tuple[Heading, int]] = []  # (heading, index into sections)
    for heading in headings:
        if heading.kind == "caption":
            continue
        cut = _closing_depth([h.kind for h, _ in stack], heading.kind)
        if cut is not None:
            for closed, index in stack[cut:]:
                sections[index] = Section(sections[index].path, closed, sections[index].start, heading.start)
            del stack[cut:]
        path = (*(h.title for h, _ in stack), heading.title)
        sections.append(Section(path=path, heading=heading, start=heading.start, end=text_length))
        stack.append((heading, len(sections) - 1))
    return sections


def section_path_at(sections: Sequence[Section], offset: int) -> tuple[str, ...]:
    """The path of the innermost section that contains ``offset`` (``()`` before any heading)."""
    best: Section | None = None
    for section in sections:
        if section.start <= offset < section.end and (best is None or len(section.path) >= len(best.path)):
            best = section
    return best.path if best else ()


# A document number (发文字号) such as 郴职院产教融合〔2023〕4号 or 国发〔2019〕4号, with the
# brackets official documents use (〔〕, sometimes [] or ()).
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,16}[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*第?\s*\d{1,4}\s*号")
_DATE_LINE = re.compile(r"^\s*(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*$", re.MULTILINE)
HEAD_CHARS = 1500


def document_facts(text: str) -> list[tuple[str, int, int]]:
    """Labelled facts of an official document's head: (label, start, end) spans in ``text``.

    The document number (发文字号) in the first ``HEAD_CHARS`` characters, and the date the
    document was signed (成文日期, a line holding only a date): the first after the number, or
    without a number one at the very end of the text. Labels are
    added to the context of the chunk that holds them, so 「发文字号是什么」 finds it.
    """
    facts: list[tuple[str, int, int]] = []
    number = _DOC_NUMBER.search(text, 0, HEAD_CHARS)
    if number:
        facts.append(("发文字号（文号）", number.start(), number.end()))
    date = _DATE_LINE.search(text, number.end(), HEAD_CHARS) if number else _DATE_LINE.search(text, max(0, len(text) - 300))
    if date:
        facts.append(("成文日期（落款日期）", date.start(1), date.end(1)))
    return facts
