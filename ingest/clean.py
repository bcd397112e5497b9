"""Cleaning rules for text extracted from PDFs, Word files and scraped pages.

Every rule is a pure ``str -> str`` function, tested on literal snippets of the sample
documents. ``clean_text`` applies them in a fixed order. None of them rewrites punctuation in
the canonical text (quotes must match the source); width folding for matching lives in
``normalize_for_match``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter

# Zero-width and direction marks that PDFs and web pages leave inside words.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# Spaces other than tab; tabs separate table cells and are kept.
_SPACES = "[ \u00a0\u2000-\u200a\u202f\u205f\u3000]"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Full-width and CJK punctuation: a space next to one of these is never meaningful.
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2014-\u2027\u00b7"
_SPACE_NEAR_CJK = re.compile(
    rf"(?<=[{_CJK}{_CJK_PUNCT}]){_SPACES}+|{_SPACES}+(?=[{_CJK}{_CJK_PUNCT}])"
)
# Keep the space in "2.1 招生情况": the number and title of a heading read better apart.
_LEADING_DECIMAL = re.compile(
    rf"^((?:#+ )?(?:\d{{1,2}}(?:\.\d{{1,2}})+|第[一二三四五六七八九十百零〇\d]+[章节编条])){_SPACES}+(?=[{_CJK}])"
)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

# Boilerplate that document-sharing sites add to scraped copies. Each pattern matches a
# whole notice; a line that is nothing but notices is removed.
BOILERPLATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"《[^》\n]{0,200}》由会员分享[^\n]*?(?:上搜索。?|$)"),
    re.compile(r"[^\n。]{0,80}由会员分享，?,?可在线阅读[^\n]*?(?:上搜索。?|$)"),
    re.compile(r"本文档由[^\n]{0,60}?(?:提供|上传)[^\n]{0,40}?[，,。]?(?:仅供[^\n。]{0,30}[。]?)?"),
    re.compile(r"(?:文档|资料)?(?:下载后可编辑|可编辑可修改)[^\n。]{0,20}[。]?"),
    re.compile(r"更多(?:精品)?(?:文档|资料)[^\n。]{0,40}(?:下载|搜索)[^\n。]{0,40}[。]?"),
)

_TERMINAL = "。！？!?；;"
_CLOSERS = "”’」』）)】》\"'"
_HEADING_START = re.compile(
    r"^(?:#{1,6}\s|第[一二三四五六七八九十百零〇两\d]+[章节条篇部]|[一二三四五六七八九十]+[、.．]"
    r"|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}(?:\.\d{1,2})*[.、．\s]|[表图]\s*\d|案例\s*\d"
    r"|附件|附表|[•·●○■□◆▪\-*]\s)"
)


def strip_invisible(text: str) -> str:
    """Remove zero-width characters and unify line endings.

    >>> strip_invisible("产教\u200b融合\\r\\n")
    '产教融合\\n'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return _INVISIBLE.sub("", text)


def remove_html_comments(text: str) -> str:
    """Drop ``<!-- ... -->`` markers (the law files carry ``<!-- INFO END -->``)."""
    return _HTML_COMMENT.sub("", text)


def normalize_spaces(text: str) -> str:
    """Remove spaces PDFs put around CJK text; trim lines; keep tabs and Latin word spaces.

    ``学院 2020 年计划招生 5897 人`` becomes ``学院2020年计划招生5897人``; ``St. Clair College``
    keeps its spaces; ``2.1 招生情况`` keeps the space after a heading number.
    """
    lines = []
    for line in text.split("\n"):
        line = line.strip(" \u00a0\u3000")
        match = _LEADING_DECIMAL.match(line)
        head = ""
        if match:
            head, line = match.group(1) + " ", line[match.end() :]
        line = _SPACE_NEAR_CJK.sub("", line)
        line = re.sub(f"{_SPACES}{{2,}}", " ", line)
        lines.append((head + line).rstrip(" "))
    return "\n".join(lines)


def remove_boilerplate(text: str) -> str:
    """Remove the notices document-sharing sites add ("由会员分享,可在线阅读…")."""
    for pattern in BOILERPLATE_PATTERNS:
        text = pattern.sub("", text)
    return "\n".join(line for line in text.split("\n") if line.strip() or line == "")


_PAGE_MARKER = re.compile(r"^(\d{1,3})、")


def remove_page_markers(text: str) -> str:
    """Remove the page counters scraped pages insert at each page start, mid-word.

    A scraped copy puts every page on one line that starts ``N、`` with N = 1, 2, 3 ...
    (``以市场和社会需\\n2、求为`` must read ``以市场和社会需求为``). The rule fires only when
    the numbers run 1..n in order over n >= 3 long lines, so a real list ``1、…2、…`` of short
    items is left alone.
    """
    lines = text.split("\n")
    marked = [(i, int(m.group(1))) for i, line in enumerate(lines) if (m := _PAGE_MARKER.match(line))]
    numbers = [n for _, n in marked]
    if len(marked) < 3 or numbers != list(range(1, len(marked) + 1)):
        return text
    if sum(len(lines[i]) for i, _ in marked) / len(marked) < 200:
        return text
    first = marked[0][0]
    out = lines[:first]
    body = ""
    for i in range(first, len(lines)):
        line = lines[i]
        m = _PAGE_MARKER.match(line)
        if m:
            line = line[m.end() :]
        body += line if m else ("\n" + line if line else "")
    out.append(body)
    return "\n".join(out)


def _display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _wrap_width(widths: list[int]) -> int | None:
    """The width at which a document's lines were wrapped, or None if they were not.

    A wrapped document has many lines of (nearly) the same, largest width.
    """
    if len(widths) < 6:
        return None
    counts = Counter(widths)
    best, best_count = 0, 0
    for width in sorted(counts):
        if width < 30:
            continue
        count = sum(counts[w] for w in range(width - 4, width + 2))
        if count >= best_count:
            best, best_count = width, count
    if best and best_count >= max(5, 0.3 * len(widths)) and best <= 160:
        return best
    return None


def _ends_mid_sentence(line: str) -> bool:
    last = line[-1]
    return not (last in _TERMINAL or last in "：:" or (last in _CLOSERS and len(line) > 1 and line[-2] in _TERMINAL))


def is_heading_like(line: str) -> bool:
    """Whether a line starts like a heading or list item (一、 （一） 1. 第X条 表1 …)."""
    return bool(_HEADING_START.match(line))


def repair_line_wraps(text: str) -> str:
    """Join lines that a PDF broke mid-sentence; keep paragraph breaks, headings, list items.

    Two cases: a document wrapped at a fixed width (``002``: every line ~30 characters with
    blank lines between) joins every full-width line that does not end a sentence; any document
    joins a long sentence-like line that stops mid-word (``全面禁止线下集中教`` + ``学活动``).
    Table lines (with tabs) are never joined.
    """
    lines = text.split("\n")
    content = [i for i, line in enumerate(lines) if line.strip()]
    width = _wrap_width([_display_width(lines[i]) for i in content if "\t" not in lines[i]])
    join_after: set[int] = set()
    for a, b in itertools.pairwise(content):
        prev, nxt = lines[a], lines[b]
        if "\t" in prev or "\t" in nxt or is_heading_like(nxt) or not _ends_mid_sentence(prev):
            continue
        if len(nxt) <= 24 and nxt[-1] in "：:":
            continue  # a salutation such as 各二级学院、部门： starts the body after a title
        full = width is not None and _display_width(prev) >= width - 8
        if full:
            join_after.add(a)
            continue
        if is_heading_like(prev):
            continue
        # prose: long, or holding the punctuation of sentences (a heading holds none)
        sentence_like = len(prev) >= 40 or (len(prev) >= 25 and re.search("[，、；：,。！？]", prev))
        if sentence_like and prev[-1] not in _CLOSERS:
            join_after.add(a)
    if not join_after:
        return text
    out: list[str] = []
    skip_blank = False
    for i, line in enumerate(lines):
        if skip_blank and not line.strip():
            continue
        if skip_blank:
            out[-1] += line
        else:
            out.append(line)
        skip_blank = i in join_after or (skip_blank and i in join_after)
    return "\n".join(out)


_RUN_IN_BREAKS = re.compile(
    r"(?<=[。；;!！?？])(?=[一二三四五六七八九十]+、|\d{1,2}[.．、](?![\d]))"
    r"|(?<![第\n])(?=[（(][一二三四五六七八九十]+[）)])"
    rf"|(?<=[{_CJK}])(?=\d{{1,2}}[.．](?=[{_CJK}]))"
)


def split_run_in_headings(text: str, min_line: int = 400) -> str:
    """Put headings that a scraped copy ran into one long line back on lines of their own.

    Only lines longer than ``min_line`` are touched: ``…制定本方案。一、总体要求(一)指导思想…``
    becomes three lines. Normal paragraphs are far shorter than a whole scraped page.
    """
    lines = text.split("\n")
    return "\n".join(_RUN_IN_BREAKS.sub("\n", line) if len(line) > min_line else line for line in lines)


def collapse_blank_lines(text: str) -> str:
    """At most one blank line between paragraphs; no blank lines at either end."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def clean_text(text: str) -> str:
    """Apply every cleaning rule in order."""
    text = strip_invisible(text)
    text = remove_html_comments(text)
    text = remove_boilerplate(text)
    text = remove_page_markers(text)
    text = split_run_in_headings(text)
    text = normalize_spaces(text)
    text = repair_line_wraps(text)
    return collapse_blank_lines(text)


def normalize_for_match(text: str) -> str:
    """Fold widths (NFKC) and drop all whitespace, for comparing quotes with cleaned text."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
