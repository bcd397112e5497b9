"""Load a PDF into blocks with pdfplumber: page text and tables in reading order.

A PDF has no paragraphs, only positioned characters, so each page becomes text lines and
table grids sorted by their vertical position. Three things make real-world Chinese PDFs
harder than that:

- pdfplumber's ``find_tables`` reports a "table" wherever filled rectangles form a grid.
  Word/LibreOffice exports paint a white box behind every paragraph, so whole pages of
  running text (a letterhead notice, for example) come back as 40x30 grids of fragments.
  :func:`is_real_table` rejects those from the grid alone.
- Running headers, footers and page numbers repeat on every page and would split sentences
  and pollute retrieval; :func:`running_line_mask` finds them across pages.
- Scanned documents carry no text, or only a scanner app's watermark; such pages get a
  ``第N页没有文字层，需要OCR`` warning and a file with no text at all is an error.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pdfplumber
from pdfplumber.page import Page as PdfPage

from ingest.errors import UnreadableDocumentError
from ingest.records import Block, LoadedFile, PageProgress, ParseLimits, TextBox

# A gap wider than a quarter of the font size starts a new word (a space). Scaling with the
# font keeps large headings in one piece while small table text still splits at real gaps;
# it also drops the visual gap Word leaves between Chinese and digits ("2024-2026年"), which
# a fixed 3pt tolerance turns into a space. Spaces that remain are real space characters.
TEXT_SETTINGS: dict[str, Any] = {"x_tolerance_ratio": 0.25, "y_tolerance": 3}

# How many lines at the top and at the bottom of a page may be running headers/footers.
EDGE_LINES = 2

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Runs of up to three digits: page numbers vary, but a year such as 2023 is text.
_DIGITS = re.compile(r"(?<!\d)\d{1,3}(?!\d)")
_SPACES = re.compile(r"\s+")

# Lines that are nothing but a page number: "3", "- 3 -", "— 3 —", "第3页", "第 3 页 共 11 页",
# "3 / 11", "Page 3 of 11". OCR reads the dashes of 「— 3 —」 as often as not as 「一」 (the
# character for one, a dash in shape): between dashes and digits only it is one.
_PAGE_NUMBER = re.compile(
    r"""^\s*(?:
        [-—–－~·•.\s一]*\d(?:\s?\d){0,2}[-—–－~·•.\s一]*
      | 第\s*\d{1,4}\s*页(?:\s*[,，/、]?\s*共\s*\d{1,4}\s*页)?
      | 共\s*\d{1,4}\s*页\s*[,，/、]?\s*第\s*\d{1,4}\s*页
      | \d{1,4}\s*/\s*\d{1,4}
      | (?i:page)\s*\d{1,4}(?:\s*(?i:of)\s*\d{1,4})?
    )\s*$""",
    re.VERBOSE,
)

# Scanner apps stamp their name on every page of an image-only PDF; that text is not content.
_WATERMARK = re.compile(r"扫描全能王|全能扫描王|CamScanner|Scanned with|Created by .*Scan", re.IGNORECASE)

# Metadata titles that name a tool, a template or a file rather than the document.
_JUNK_TITLE = re.compile(
    r"扫描全能王|CamScanner|^Microsoft (?:Word|PowerPoint|Excel)\b|^untitled|^无标题|^文档\d*$|^document\d*$"
    r"|\.(?:docx?|wps|pdf|xlsx?|pptx?|txt)$|^[\d\s\-_.:/]+$",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------
# Pure functions (tested on literal values)
# --------------------------------------------------------------------------------------


def clean_cell(value: str | None) -> str:
    """A table cell as one line: None is "", line breaks vanish between CJK, else one space."""
    if not value:
        return ""
    parts = [part.strip() for part in value.splitlines()]
    out = ""
    for part in parts:
        if not part:
            continue
        if out and not (_CJK_CHAR.match(out[-1]) or _CJK_CHAR.match(part[0])):
            out += " "  # a wrapped Latin phrase ("Web\nDesign") keeps its word break
        out += part
    return _SPACES.sub(" ", out).strip()


def clean_grid(rows: Sequence[Sequence[str | None]]) -> tuple[tuple[str, ...], ...]:
    """Rectangular grid of cleaned cells without rows or columns that are entirely empty.

    Empty columns come from ruling lines that only bound a merged cell or an indentation;
    they carry no data and would make every row look sparse.
    """
    width = max((len(row) for row in rows), default=0)
    grid = [[clean_cell(row[j]) if j < len(row) else "" for j in range(width)] for row in rows]
    grid = [row for row in grid if any(row)]
    keep = [j for j in range(width) if any(row[j] for row in grid)]
    return merge_disjoint_columns(tuple(tuple(row[j] for j in keep) for row in grid))


def merge_disjoint_columns(grid: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """Merge neighbouring columns that are never filled in the same row.

    Cell borders drawn a few points apart from row to row (common in Word exports) make
    pdfplumber see two staggered columns where there is one: ``("化工学院", "", "494")`` over
    ``("", "机电学院", "", "429")``. Indented outlines do the same. Two columns that never
    both hold a value in one row can be one column without losing or mixing any cell; a
    header row naming both columns keeps genuine neighbours apart.
    """
    if not grid:
        return ()
    groups: list[list[str]] = [[row[0] for row in grid]]
    for j in range(1, len(grid[0])):
        column = [row[j] for row in grid]
        current = groups[-1]
        if any(a and b for a, b in zip(current, column, strict=True)):
            groups.append(column)
        else:
            groups[-1] = [a or b for a, b in zip(current, column, strict=True)]
    return tuple(zip(*groups, strict=True))


def is_real_table(rows: Sequence[Sequence[str | None]]) -> bool:
    """Whether a grid found by pdfplumber is a table rather than text boxed by its layout.

    Calibrated on a LibreOffice notice whose paragraphs sit on white boxes: pdfplumber reads
    each text page as a ~40x25 grid (12x44 once cleaned) in which 57-79% of the rows hold a
    single filled cell (a line of prose) and most columns hold a sentence fragment or two.
    Real tables in the sample reports have at most 43% such rows (cells wrapping onto
    continuation rows) and every column carries data in a fair share of the rows.
    """
    grid = clean_grid(rows)
    if len(grid) < 2 or len(grid[0]) < 2:
        return False
    n_rows, n_cols = len(grid), len(grid[0])
    filled_per_row = [sum(1 for cell in row if cell) for row in grid]
    if sum(1 for n in filled_per_row if n <= 1) / n_rows > 0.5:
        return False
    # A column filled in under a tenth of the rows (and in fewer than two) is a stray
    # fragment; when most columns are like that, the "columns" are pieces of sentences.
    need = max(2.0, 0.1 * n_rows)
    sparse = sum(1 for j in range(n_cols) if sum(1 for row in grid if row[j]) < need)
    if sparse / n_cols > 0.5:
        return False
    # Cells holding whole lines of prose (long, with sentence punctuation) in most of the
    # grid mean running text was cut into boxes.
    prose = sum(1 for row in grid for cell in row if len(cell) >= 30 and re.search(r"[，。；]", cell))
    return prose / sum(filled_per_row) <= 0.5


def line_key(line: str) -> str:
    """What makes two running lines "the same": no spaces, each run of 1-3 digits read as ``#``."""
    return _DIGITS.sub("#", _SPACES.sub("", line))


def is_page_number(line: str) -> bool:
    """A line that is only a page number ("3", "- 3 -", "第3页", "3 / 11", "Page 3")."""
    return bool(_PAGE_NUMBER.match(line))


def running_line_mask(pages: Sequence[Sequence[str]], *, edge: int = EDGE_LINES, min_share: float = 0.3) -> list[list[bool]]:
    """For each line of each page, True when it is a running header/footer or page number.

    Only the first and last ``edge`` non-blank lines of a page are candidates: a line there
    is running when, digits normalised (``第3页`` and ``第4页`` match), it sits at the same
    edge of at least ``min_share`` of the pages (and of two pages at least), or when it is a
    page number alone. Lines inside the page are never touched: a number alone there is data.
    """

    def edges(lines: Sequence[str]) -> tuple[list[int], list[int]]:
        idx = [i for i, line in enumerate(lines) if line.strip()]
        return idx[:edge], idx[-edge:] if edge else []

    counts: dict[str, Counter[str]] = {"top": Counter(), "bottom": Counter()}
    for lines in pages:
        top, bottom = edges(lines)
        counts["top"].update({line_key(lines[i]) for i in top})
        counts["bottom"].update({line_key(lines[i]) for i in bottom})
    threshold = max(2, math.ceil(min_share * len(pages)))

    masks: list[list[bool]] = []
    for lines in pages:
        mask = [False] * len(lines)
        top, bottom = edges(lines)
        for where, idx in (("top", top), ("bottom", bottom)):
            for i in idx:
                if is_page_number(lines[i]) or counts[where][line_key(lines[i])] >= threshold:
                    mask[i] = True
        masks.append(mask)
    return masks


def remove_running_lines(pages: Sequence[Sequence[str]], **kwargs: Any) -> list[list[str]]:
    """The pages' lines without running headers, footers and page numbers."""
    masks = running_line_mask(pages, **kwargs)
    return [[line for line, drop in zip(lines, mask, strict=True) if not drop] for lines, mask in zip(pages, masks, strict=True)]


def is_watermark(line: str) -> bool:
    """A scanner app's stamp such as 「扫描全能王 创建」 (the only text on a scanned page)."""
    return bool(_WATERMARK.search(line)) and len(line.strip()) <= 40


def meaningful_title(value: object) -> str | None:
    """The metadata Title when it names the document, not the tool, template or file name."""
    if not isinstance(value, str):
        return None
    title = _SPACES.sub(" ", value).strip()
    if len(title) < 2 or _JUNK_TITLE.search(title):
        return None
    return title


@dataclass(frozen=True)
class CoverLine:
    """A line of text on a cover page: its text, its (dominant) font size and position."""

    text: str
    size: float
    top: float
    x0: float = 0.0


_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\d])\s+(?=[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef])"
                      r"|(?<=[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef])\s+(?=[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\d])")
_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")


def visual_lines(lines: Sequence[CoverLine]) -> list[CoverLine]:
    """Pieces set on one visual line (tops within half their size: a year set apart from the
    words after it, 「2023」 beside 「届毕业生就业质量年度报告」) joined left to right."""
    merged: list[list[CoverLine]] = []
    for line in sorted(lines, key=lambda item: item.top):
        if merged and abs(line.top - merged[-1][0].top) < 0.5 * min(line.size, merged[-1][0].size):
            merged[-1].append(line)
        else:
            merged.append([line])
    out = []
    for group in merged:
        group.sort(key=lambda item: item.x0)
        text = " ".join(item.text.strip() for item in group)
        out.append(CoverLine(text, max(item.size for item in group), group[0].top, group[0].x0))
    return out


def cover_title(lines: Sequence[CoverLine]) -> str | None:
    """The title a cover page shows: its largest text, joined across lines.

    The first line set in the page's largest size, with the lines right under it in that size
    (a title broken over lines). A genre word alone (「总结报告」, under six characters) names no
    document: the lines right above it, set no smaller than the page's body text, are read with
    it. None when the largest text is no title (a sentence, a number, too long).
    """
    rows = [line for line in visual_lines(lines) if len(_WORD.findall(line.text)) >= 2]
    if not rows:
        return None
    largest = max(line.size for line in rows)
    weights: dict[float, int] = {}
    for line in rows:
        weights[line.size] = weights.get(line.size, 0) + len(line.text)
    body = max(weights, key=weights.__getitem__)
    first = next(i for i, line in enumerate(rows) if line.size >= 0.9 * largest)
    last = first
    while last + 1 < len(rows) and rows[last + 1].size >= 0.9 * largest and rows[last + 1].top - rows[last].top <= 2.2 * largest:
        last += 1
    while (
        len(_WORD.findall("".join(line.text for line in rows[first : last + 1]))) < 6
        and first > 0
        and rows[first - 1].size >= body
        and rows[first].top - rows[first - 1].top <= 2.2 * largest
    ):
        first -= 1
    title = _CJK_GAP.sub("", "".join(_join_piece(line.text) for line in rows[first : last + 1])).strip()
    if len(_WORD.findall(title)) < 4 or len(title) > 100 or title.endswith(("。", "：", ":")):
        return None
    return title


def _join_piece(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def complete_title(title: str, stem: str) -> str:
    """A cover title the file name holds together with more (the school a cover shows only as a
    logo: 「2023届毕业生就业质量年度报告」 in 「西安职业技术学院2023届毕业生就业质量年度报告.pdf」) is
    the file name's; otherwise the cover's."""
    name = _CJK_GAP.sub("", _SPACES.sub(" ", stem)).strip()
    return name if title in name and len(name) > len(title) and not _JUNK_TITLE.search(name) else title


# --------------------------------------------------------------------------------------
# Page reading (I/O edge)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """A text line or a table on a page, with its vertical position for reading order."""

    top: float
    line: str | None = None
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class _PageContent:
    items: tuple[_Item, ...]
    has_images: bool
    failed: bool = False
    ocr: tuple[TextBox, ...] | None = None  # the lines OCR read, for a page without a text layer


def _inside(obj: dict[str, Any], boxes: Sequence[tuple[float, float, float, float]]) -> bool:
    cx = (obj["x0"] + obj["x1"]) / 2
    cy = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def stray_blanks(chars: Sequence[dict[str, Any]]) -> set[int]:
    """Indices of blank chars drawn on top of a visible char of the same line.

    Some exports paint a layer of spaces over the text (seen in a Word-made report: a space
    at the position of 「基」 turned 「基本情况」 into 「基 本情况」); pdfplumber then breaks the
    word there. A real space lies between characters, never over one.
    """
    buckets: dict[int, list[dict[str, Any]]] = {}
    for char in chars:
        if not char["text"].isspace():
            buckets.setdefault(int(char["top"] // 10), []).append(char)
    stray: set[int] = set()
    for i, char in enumerate(chars):
        if not char["text"].isspace():
            continue
        width = max(char["x1"] - char["x0"], 0.1)
        row = int(char["top"] // 10)
        for other in (c for key in (row - 1, row, row + 1) for c in buckets.get(key, ())):
            overlap_x = min(char["x1"], other["x1"]) - max(char["x0"], other["x0"])
            overlap_y = min(char["bottom"], other["bottom"]) - max(char["top"], other["top"])
            if overlap_x > 0.5 * width and overlap_y > 0:
                stray.add(i)
                break
    return stray


def _cover_title(pages: Sequence[PdfPage], path: Path) -> str | None:
    """The title on the first page with words (a cover of images only is skipped), if any."""
    for page in pages[:2]:
        lines = [
            CoverLine(line["text"], _dominant_size(line["chars"]), line["top"], line["x0"])
            for line in page.extract_text_lines(return_chars=True, **TEXT_SETTINGS)
            if line["text"].strip() and not is_page_number(line["text"]) and not is_watermark(line["text"])
        ]
        if any(len(_WORD.findall(line.text)) >= 2 for line in lines):
            title = cover_title(lines)
            return complete_title(title, path.stem) if title else None
    return None


def _dominant_size(chars: Sequence[dict[str, Any]]) -> float:
    sizes: dict[float, int] = {}
    for char in chars:
        if not char["text"].isspace():
            size = round(float(char["size"]), 1)
            sizes[size] = sizes.get(size, 0) + 1
    return max(sizes, key=sizes.__getitem__) if sizes else 0.0


_MARK = re.compile(r"[0-9*†‡]")
_BEFORE_MARK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef”’）)》%]")


def footnote_marks(chars: Sequence[dict[str, Any]]) -> set[int]:
    """Indices of footnote marks: digits (or * † ‡) set at most 0.8 of the size of the text
    before them and raised above its baseline, after a Chinese character or a closing mark
    (「落实率¹为 90.69%」 would read 「落实率1为90.69%」, a figure that is not there). A mark of two
    digits is one mark. A raised digit after a Latin letter or a digit is an exponent (m², 10³)
    and stays."""
    rows: dict[int, list[int]] = {}
    for i, char in enumerate(chars):
        if not char["text"].isspace():
            rows.setdefault(int(char["bottom"] // 20), []).append(i)
    marks: set[int] = set()
    for key in sorted(rows):
        near = sorted(rows.get(key - 1, []) + rows[key] + rows.get(key + 1, []), key=lambda i: chars[i]["x0"])
        for position, i in enumerate(near):
            char = chars[i]
            if int(char["bottom"] // 20) != key or not _MARK.fullmatch(char["text"]):
                continue
            before = [j for j in near[:position] if chars[j]["x1"] <= char["x0"] + 0.5
                      and char["x0"] - chars[j]["x1"] < float(chars[j]["size"])
                      and min(chars[j]["bottom"], char["bottom"]) - max(chars[j]["top"], char["top"]) > 0]
            if not before:
                continue
            j = max(before, key=lambda k: chars[k]["x1"])
            prev = chars[j]
            if j in marks and abs(float(prev["size"]) - float(char["size"])) < 0.5:
                marks.add(i)  # the second digit of 「17」
                continue
            size = float(prev["size"])
            if (
                float(char["size"]) <= 0.8 * size
                and char["bottom"] < prev["bottom"] - 0.15 * size
                and _BEFORE_MARK.fullmatch(prev["text"])
            ):
                marks.add(i)
    return marks


def _read_page(page: PdfPage) -> _PageContent:
    items: list[_Item] = []
    boxes: list[tuple[float, float, float, float]] = []
    for table in page.find_tables():
        grid = clean_grid(table.extract())
        if is_real_table(grid):
            boxes.append(table.bbox)
            items.append(_Item(top=table.bbox[1], rows=grid))
    chars = page.chars
    stray = {id(chars[i]) for i in stray_blanks(chars) | footnote_marks(chars)}

    def keep(obj: dict[str, Any]) -> bool:
        # Table text is cropped out of the running text so that it is not read twice.
        return obj.get("object_type") != "char" or (id(obj) not in stray and not _inside(obj, boxes))

    text_page = page.filter(keep) if boxes or stray else page
    for line in text_page.extract_text_lines(return_chars=False, **TEXT_SETTINGS):
        text = line["text"].strip()
        if text and not is_watermark(text):
            items.append(_Item(top=line["top"], line=text))
    items.sort(key=lambda item: item.top)
    return _PageContent(items=tuple(items), has_images=bool(page.images))


def _blocks_of_page(items: Sequence[_Item], drop: Sequence[bool], number: int) -> list[Block]:
    """Consecutive kept lines become one text block; each table is a block of its own."""
    blocks: list[Block] = []
    lines: list[str] = []
    line_no = 0
    for item in items:
        if item.line is None:
            if lines:
                blocks.append(Block(kind="text", text="\n".join(lines), page=number))
                lines = []
            blocks.append(Block(kind="table", rows=item.rows, page=number))
            continue
        if not drop[line_no]:
            lines.append(item.line)
        line_no += 1
    if lines:
        blocks.append(Block(kind="text", text="\n".join(lines), page=number))
    return blocks


def _unreadable(path: Path, exc: BaseException) -> UnreadableDocumentError:
    detail = repr(exc.args[0]) if exc.args else type(exc).__name__
    text = f"{detail} {exc!r}".lower()
    if "password" in text or "encrypt" in text:
        return UnreadableDocumentError(
            f"PDF 文件已加密，需要密码才能打开：{path.name}。请先解除密码保护再导入 (encrypted PDF, password required)"
        )
    return UnreadableDocumentError(
        f"PDF 文件已损坏或不是有效的 PDF：{path.name}（{type(exc).__name__}）。请重新导出或下载后再导入 (corrupt or invalid PDF)"
    )


_GLYPH_CODE = re.compile(r"\(cid:\d+\)")
GLYPH_CODE_SHARE = 0.3  # a text this much (cid:N) is unreadable: a real text has none or a stray one


def glyph_code_share(blocks: Sequence[Block]) -> float:
    """The share of the text's characters that are ``(cid:N)`` glyph codes: what pdfminer writes
    for a character whose font has no Unicode map. Such text reads as nothing and matches nothing."""
    text = "".join(block.text or "" for block in blocks) + "".join(
        cell or "" for block in blocks for row in (block.rows or ()) for cell in row
    )
    if not text:
        return 0.0
    return sum(len(m.group(0)) for m in _GLYPH_CODE.finditer(text)) / len(text)


class _TooManyPages(Exception):
    def __init__(self, pages: int) -> None:
        super().__init__(pages)
        self.pages = pages


class _Scanner:
    """OCR for the pages of one PDF that have no text layer, at most ``budget`` of them."""

    def __init__(self, path: Path, budget: int) -> None:
        self.path = path
        self.budget = budget
        self.pages_read = 0
        self.failed: dict[int, str] = {}  # page number: what went wrong
        self._document: Any = None

    def read(self, number: int) -> tuple[TextBox, ...] | None:
        """The page's lines, or None past the budget (or with no OCR engine installed)."""
        from ingest.ocr import OcrUnavailableError, read_page

        if self.pages_read >= self.budget:
            return None
        if self._document is None:
            import pypdfium2

            self._document = pypdfium2.PdfDocument(str(self.path))
        page = self._document[number - 1]
        try:
            lines = read_page(page)
        except OcrUnavailableError:
            self.budget = 0
            return None
        except MemoryError:
            raise
        except Exception as error:  # the engine failing on one page (out of memory inside it) costs that page
            self.failed[number] = f"第{number}页OCR识别失败（{type(error).__name__}）"
            return None
        finally:
            page.close()
        self.pages_read += 1
        return tuple(TextBox(line.text, line.x0, line.top, line.x1, line.bottom) for line in lines)

    def close(self) -> None:
        if self._document is not None:
            self._document.close()


def runs_on(lines: Sequence[TextBox]) -> list[bool]:
    """For each line read by OCR: whether the next line continues its sentence, seen on the page.

    A printed line that reaches the right margin, stops without ending a sentence, and is
    followed by a line starting at the left margin (no paragraph indent) was wrapped there: 「2.建立
    “优机”承诺和调查制度。对于纳入“优机优补”范围⏎的“优机”，产销企业…」 is one paragraph, though its
    first line starts like a numbered heading. The margins are the page's outermost line edges;
    "at" a margin is within a character (the line's height) of it.
    """
    if len(lines) < 2:
        return [False] * len(lines)
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    out = []
    for line, nxt in itertools.pairwise(lines):
        size = line.bottom - line.top
        out.append(
            line.x1 >= right - size
            and nxt.x0 <= left + 0.5 * size
            and not line.text.rstrip().endswith(_SENTENCE_END)
            and 0 < nxt.top - line.bottom < 2 * size
        )
    return [*out, False]


_SENTENCE_END = ("。", "！", "？", "!", "?", "；", ";", "：", ":")


def _ocr_content(content: _PageContent, lines: tuple[TextBox, ...]) -> _PageContent:
    kept = [line for line in lines if not is_watermark(line.text)]
    items: list[_Item] = []
    joined = False
    for line, runs in zip(kept, runs_on(kept), strict=True):
        if joined:
            items[-1] = _Item(top=items[-1].top, line=(items[-1].line or "") + line.text)
        else:
            items.append(_Item(top=line.top, line=line.text))
        joined = runs
    return replace(content, items=tuple(items), ocr=lines)


def _masks(contents: Sequence[_PageContent]) -> list[list[bool]]:
    """Each page's running lines (headers, footers, page numbers), found across all pages."""
    return running_line_mask([[item.line for item in content.items if item.line is not None] for content in contents])


def load_pdf(
    path: Path,
    max_pages: int = ParseLimits.max_pages,
    *,
    ocr_pages: int = ParseLimits.max_ocr_pages,
    on_page: PageProgress | None = None,
) -> LoadedFile:
    """Read ``path`` into text and table blocks in reading order, one page at a time.

    A page with no text but an image (a scan, a page that is one picture) is read by OCR, up to
    ``ocr_pages`` pages per file. Such a page is known once every page is read: a page that
    shows only a running header or a page number as text is a picture too. So ``on_page(number,
    total, ocr)`` is called after each page is read, then again (``ocr`` true) after each page OCR
    read.
    Raises :class:`UnreadableDocumentError` for encrypted, corrupt or text-less files that OCR
    could not read; a page left unread only adds a warning.
    """
    warnings: list[str] = []
    scanner = _Scanner(path, ocr_pages)
    try:
        with pdfplumber.open(path) as pdf:
            title = meaningful_title((pdf.metadata or {}).get("Title")) or _cover_title(pdf.pages, path)
            total = len(pdf.pages)
            if total > max_pages:
                raise _TooManyPages(total)
            contents: list[_PageContent] = []
            for number, page in enumerate(pdf.pages, start=1):
                try:
                    content = _read_page(page)
                except Exception as exc:  # one damaged page should not cost the whole file
                    warnings.append(f"第{number}页无法读取，已跳过（{type(exc).__name__}）")
                    content = _PageContent(items=(), has_images=False, failed=True)
                # Long reports: drop the page's parsed layout before reading the next one.
                page.close()
                contents.append(content)
                if on_page is not None:
                    on_page(number, total, False)
        masks = _masks(contents)
        for number, (content, mask) in enumerate(zip(contents, masks, strict=True), start=1):
            pictured = content.has_images and not _blocks_of_page(content.items, mask, number)
            if pictured and (lines := scanner.read(number)) is not None:
                contents[number - 1] = _ocr_content(content, lines)
                if on_page is not None:
                    on_page(number, total, True)
    except _TooManyPages as exc:
        raise UnreadableDocumentError(
            f"PDF 页数过多：{path.name} 共 {exc.pages} 页，上限 {max_pages} 页，请拆分后再导入（设置 max_pdf_pages） "
            f"({exc.pages} pages, at most {max_pages}; split the file)"
        ) from None
    except Exception as exc:  # pdfminer raises anything from PSEOF to KeyError on bad files
        raise _unreadable(path, exc) from exc
    finally:
        scanner.close()
    page_count = len(contents)

    masks = _masks(contents) if scanner.pages_read else masks

    blocks: list[Block] = []
    for number, (content, mask) in enumerate(zip(contents, masks, strict=True), start=1):
        page_blocks = _blocks_of_page(content.items, mask, number)
        # A page left empty with an image on it is a scan (or a full-page figure); a page
        # without either is a deliberately blank page and needs no OCR.
        if not page_blocks and content.has_images and content.ocr is None and number not in scanner.failed:
            warnings.append(f"第{number}页没有文字层，需要OCR（已超出 max_ocr_pages 或未安装OCR）")
        blocks.extend(page_blocks)
    warnings.extend(scanner.failed.values())
    if scanner.pages_read:
        warnings.append(f"{scanner.pages_read}页没有文字层，已用OCR识别，请核对引文 (read by OCR)")

    if not blocks and any(content.failed for content in contents):
        raise _unreadable(path, ValueError("no page could be read"))
    if not blocks:
        raise UnreadableDocumentError(
            f"PDF 没有文字层（扫描件），需要先做OCR：{path.name}（共{page_count}页） (no text layer, OCR needed)"
        )
    if glyph_code_share(blocks) >= GLYPH_CODE_SHARE:
        raise UnreadableDocumentError(
            f"PDF 的文字无法解码（字体缺少 Unicode 映射，提取出的是 (cid:N) 字形编号）：{path.name}。"
            "请用原始文件重新导出 PDF，或先做OCR (text is font glyph codes (cid:N), not characters: "
            "re-export the PDF or OCR it)"
        )
    return LoadedFile(
        source=str(path),
        format="pdf",
        blocks=tuple(blocks),
        title=title,
        page_count=page_count,
        warnings=tuple(warnings),
        ocr_pages=tuple((n, c.ocr) for n, c in enumerate(contents, start=1) if c.ocr is not None),
    )
