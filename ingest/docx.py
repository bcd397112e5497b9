"""Load a Word ``.docx`` file into blocks: paragraphs, headings and tables in body order.

python-docx opens the package; the body is then read from its XML, because python-docx
neither renders automatic numbering (「一、」「（一）」 live in numbering.xml, not in the text)
nor says which cells of a merged table are covered.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import UnreadableDocumentError, UnsupportedFormatError
from ingest.records import Block, LoadedFile

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# The lxml element type; python-docx ships no stubs, so elements are typed loosely.
Element = Any


def _w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def _wval(element: Element | None, attr: str = "val") -> str | None:
    if element is None:
        return None
    value = element.get(_w(attr))
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------
# Number formats (pure functions, tested on literal values)
# --------------------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_PAREN = "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇"
_FULLSTOP = "⒈⒉⒊⒋⒌⒍⒎⒏⒐⒑⒒⒓⒔⒕⒖⒗⒘⒙⒚⒛"


def chinese_counting(n: int, digits: str = _CN_DIGITS, units: str = "十百千") -> str:
    """Chinese counting as Word renders ``chineseCounting``: 10 → 十, 11 → 十一, 105 → 一百零五."""
    if n <= 0:
        return digits[0]
    if n >= 10000:
        high, low = divmod(n, 10000)
        rest = chinese_counting(low, digits, units) if low else ""
        zero = digits[0] if 0 < low < 1000 else ""
        return chinese_counting(high, digits, units) + "万" + zero + rest
    parts: list[str] = []
    place_units = ["", units[0], units[1], units[2]]
    text = str(n)
    pending_zero = False
    for i, ch in enumerate(text):
        d = int(ch)
        place = len(text) - 1 - i
        if d == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append(digits[0])
            pending_zero = False
        parts.append(digits[d] + place_units[place])
    result = "".join(parts)
    # Word (and Chinese usage) writes 十一, not 一十一, for 10..19.
    if 10 <= n < 20 and result.startswith(digits[1] + units[0]):
        result = result[1:]
    return result


def _letters(n: int) -> str:
    # Word repeats the letter: a..z, aa..zz, aaa...
    if n <= 0:
        return str(n)
    letter = chr(ord("a") + (n - 1) % 26)
    return letter * ((n - 1) // 26 + 1)


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    table = [
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ]  # fmt: skip
    out = []
    for value, numeral in table:
        while n >= value:
            out.append(numeral)
            n -= value
    return "".join(out)


def _from_table(n: int, glyphs: str) -> str:
    return glyphs[n - 1] if 1 <= n <= len(glyphs) else str(n)


def format_number(n: int, num_fmt: str) -> str:
    """Render counter ``n`` in Word's ``w:numFmt``; unknown formats fall back to decimal."""
    if num_fmt in ("decimal", "ordinal", "cardinalText", "ordinalText", "decimalHalfWidth"):
        return str(n)
    if num_fmt == "decimalZero":
        return f"{n:02d}"
    if num_fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting",
                   "taiwaneseCounting", "taiwaneseCountingThousand", "koreanCounting"):  # fmt: skip
        return chinese_counting(n)
    if num_fmt in ("chineseLegalSimplified", "japaneseLegal", "koreanLegal"):
        return chinese_counting(n, _CN_LEGAL_DIGITS, "拾佰仟")
    if num_fmt in ("ideographDigital", "taiwaneseDigital", "japaneseDigitalTenThousand"):
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if num_fmt in ("ideographTraditional",):
        return _from_table(n, _TIANGAN)
    if num_fmt in ("ideographZodiac",):
        return _from_table(n, _DIZHI)
    if num_fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese"):
        return _from_table(n, _CIRCLED)
    if num_fmt in ("decimalEnclosedParen", "ideographEnclosedCircle"):
        return _from_table(n, _PAREN)
    if num_fmt == "decimalEnclosedFullstop":
        return _from_table(n, _FULLSTOP)
    if num_fmt == "decimalFullWidth" or num_fmt == "decimalFullWidth2":
        return "".join(chr(ord(d) + 0xFEE0) for d in str(n))
    if num_fmt == "lowerLetter":
        return _letters(n)
    if num_fmt == "upperLetter":
        return _letters(n).upper()
    if num_fmt == "lowerRoman":
        return _roman(n)
    if num_fmt == "upperRoman":
        return _roman(n).upper()
    if num_fmt == "none":
        return ""
    return str(n)


# --------------------------------------------------------------------------------------
# Numbering definitions and counters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    num_fmt: str = "decimal"
    lvl_text: str = ""
    start: int = 1
    # None: restart after any higher level (Word's default); 0: never restart.
    restart: int | None = None
    is_legal: bool = False
    suffix: str = "tab"


@dataclass
class _Numbering:
    """numbering.xml read once: abstract definitions, num instances, and running counters."""

    abstract_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    abstract_style_link: dict[str, str] = field(default_factory=dict)
    num_abstract: dict[str, str] = field(default_factory=dict)
    num_level_overrides: dict[str, dict[int, _Level]] = field(default_factory=dict)
    num_start_overrides: dict[str, dict[int, int]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    # styleId -> numId, for numStyleLink indirection (list styles).
    style_num: dict[str, str] = field(default_factory=dict)

    def levels(self, num_id: str) -> dict[int, _Level]:
        abstract = self.num_abstract.get(num_id)
        if abstract is None:
            return {}
        linked = self.abstract_style_link.get(abstract)
        if linked is not None and linked in self.style_num:
            # A numStyleLink abstractNum is a stub; its levels live behind the list style.
            target = self.num_abstract.get(self.style_num[linked])
            if target is not None and target != abstract:
                abstract = target
        levels = dict(self.abstract_levels.get(abstract, {}))
        levels.update(self.num_level_overrides.get(num_id, {}))
        return levels

    def _counter_key(self, num_id: str) -> str:
        # Word continues one list across numIds that share an abstractNum, unless a num
        # restarts it with an override; such a num keeps its own counters.
        if self.num_start_overrides.get(num_id) or self.num_level_overrides.get(num_id):
            return "num:" + num_id
        return "abs:" + self.num_abstract.get(num_id, num_id)

    def advance(self, num_id: str, ilvl: int) -> str:
        """Count one paragraph at ``ilvl`` of list ``num_id``; return its rendered label.

        Bullets and ``none`` formats render as "" (the glyph is not text worth indexing).
        """
        levels = self.levels(num_id)
        if ilvl not in levels:
            return ""
        key = self._counter_key(num_id)
        counters = self.counters.setdefault(key, {})
        starts = self.num_start_overrides.get(num_id, {})

        def start_of(level: int) -> int:
            if level in starts:
                return starts[level]
            return levels[level].start if level in levels else 1

        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start_of(ilvl)
        for deeper in list(counters):
            if deeper <= ilvl:
                continue
            restart = levels[deeper].restart if deeper in levels else None
            # lvlRestart is 1-based: restart when level (restart-1) or above is used.
            if restart is None or (restart > 0 and ilvl <= restart - 1):
                del counters[deeper]

        level = levels[ilvl]
        if level.num_fmt == "bullet" or level.num_fmt == "none":
            return ""

        def render(match: re.Match[str]) -> str:
            ref = int(match.group(1)) - 1
            if ref not in levels:
                return ""
            value = counters.get(ref, start_of(ref))
            fmt = levels[ref].num_fmt
            if level.is_legal and fmt not in ("bullet", "none"):
                fmt = "decimal"
            return format_number(value, fmt)

        label = re.sub(r"%([1-9])", render, level.lvl_text).strip()
        if not label:
            return ""
        if level.suffix == "nothing":
            return label
        # Chinese numbering such as 「一、」「（一）」 is followed by the text directly; a tab
        # after 「1.」 or 「第一章」 reads as a space.
        if level.suffix == "space" or not (label.endswith(("、", "）", ")", "．", "：")) or _is_enclosed(label[-1])):
            return label + " "
        return label


def _is_enclosed(ch: str) -> bool:
    """①, ⑴, ⒈ and friends: the glyph carries its own separation, no space follows."""
    return 0x2460 <= ord(ch) <= 0x24FF or 0x3251 <= ord(ch) <= 0x32BF


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _read_level(lvl: Element) -> tuple[int, _Level]:
    ilvl = _int(_wval(lvl, "ilvl"), 0)
    restart_el = lvl.find(_w("lvlRestart"))
    return ilvl, _Level(
        num_fmt=_wval(lvl.find(_w("numFmt"))) or "decimal",
        lvl_text=_wval(lvl.find(_w("lvlText"))) or "",
        start=_int(_wval(lvl.find(_w("start"))), 1),
        restart=None if restart_el is None else _int(_wval(restart_el), 0),
        is_legal=lvl.find(_w("isLgl")) is not None,
        suffix=_wval(lvl.find(_w("suff"))) or "tab",
    )


def _read_numbering(root: Element | None, styles: dict[str, _Style]) -> _Numbering:
    numbering = _Numbering()
    for style_id, style in styles.items():
        if style.num_id is not None:
            numbering.style_num[style_id] = style.num_id
    if root is None:
        return numbering
    for abstract in root.iterchildren(_w("abstractNum")):
        abstract_id = _wval(abstract, "abstractNumId") or ""
        levels = dict(_read_level(lvl) for lvl in abstract.iterchildren(_w("lvl")))
        numbering.abstract_levels[abstract_id] = levels
        link = _wval(abstract.find(_w("numStyleLink")))
        if link:
            numbering.abstract_style_link[abstract_id] = link
    for num in root.iterchildren(_w("num")):
        num_id = _wval(num, "numId") or ""
        numbering.num_abstract[num_id] = _wval(num.find(_w("abstractNumId"))) or ""
        for override in num.iterchildren(_w("lvlOverride")):
            ilvl = _int(_wval(override, "ilvl"), 0)
            start = override.find(_w("startOverride"))
            if start is not None:
                numbering.num_start_overrides.setdefault(num_id, {})[ilvl] = _int(_wval(start), 1)
            lvl = override.find(_w("lvl"))
            if lvl is not None:
                numbering.num_level_overrides.setdefault(num_id, {})[ilvl] = _read_level(lvl)[1]
    return numbering


# --------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    name: str
    based_on: str | None
    outline_level: int | None
    num_id: str | None
    ilvl: int | None


_HEADING_NAME = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_NAMES = {"title", "标题"}
_TOC_NAME = re.compile(r"^(?:toc|目录)\s*[1-9]$", re.IGNORECASE)


def _read_styles(root: Element | None) -> tuple[dict[str, _Style], str | None]:
    """Paragraph styles by id, and the id of the default paragraph style."""
    styles: dict[str, _Style] = {}
    default: str | None = None
    if root is None:
        return styles, default
    for style in root.iterchildren(_w("style")):
        if style.get(_w("type")) not in (None, "paragraph", "numbering"):
            continue
        style_id = style.get(_w("styleId")) or ""
        ppr = style.find(_w("pPr"))
        outline = num_id = ilvl = None
        if ppr is not None:
            outline_val = _wval(ppr.find(_w("outlineLvl")))
            outline = _int(outline_val, 9) if outline_val is not None else None
            num_pr = ppr.find(_w("numPr"))
            if num_pr is not None:
                num_id = _wval(num_pr.find(_w("numId")))
                ilvl_val = _wval(num_pr.find(_w("ilvl")))
                ilvl = _int(ilvl_val, 0) if ilvl_val is not None else None
        styles[style_id] = _Style(
            name=(_wval(style.find(_w("name"))) or style_id).strip(),
            based_on=_wval(style.find(_w("basedOn"))),
            outline_level=outline,
            num_id=num_id,
            ilvl=ilvl,
        )
        if style.get(_w("default")) in ("1", "true") and style.get(_w("type")) == "paragraph":
            default = style_id
    return styles, default


def _style_chain(styles: dict[str, _Style], style_id: str | None) -> Iterator[_Style]:
    seen: set[str] = set()
    while style_id is not None and style_id in styles and style_id not in seen:
        seen.add(style_id)
        style = styles[style_id]
        yield style
        style_id = style.based_on


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3000 <= code <= 0x303F  # CJK punctuation 、。「」
        or 0x3400 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms （），：
        or 0x2460 <= code <= 0x24FF  # ①
    )


def join_lines(lines: list[str]) -> str:
    """Join cell lines: nothing between two CJK characters (Chinese has no spaces and a cell
    line break there is only layout), a line break elsewhere."""
    out = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if out and not (_is_cjk(out[-1]) and _is_cjk(line[0])):
            out += "\n"
        out += line
    return out


_SKIP_SUBTREES = {
    f"{{{MC_NS}}}Fallback",  # duplicate of the mc:Choice content
    _w("txbxContent"),  # text boxes are read as their own paragraphs
    _w("del"),
    _w("moveFrom"),
    _w("pPr"),
    _w("rPr"),
    _w("instrText"),
    _w("fldData"),
}


def _run_text(element: Element, out: list[str]) -> None:
    for child in element.iterchildren():
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP_SUBTREES:
            continue
        if tag == _w("t"):
            out.append(child.text or "")
        elif tag == _w("tab") or tag == _w("ptab"):
            out.append("\t")
        elif tag in (_w("br"), _w("cr")):
            if child.get(_w("type")) != "page":
                out.append("\n")
        elif tag == _w("noBreakHyphen"):
            out.append("-")
        elif tag == _w("sym"):
            # Symbol-font characters (often ✓, □ in forms) are private-use code points; skip.
            continue
        else:
            _run_text(child, out)


def _paragraph_text(p: Element) -> str:
    out: list[str] = []
    _run_text(p, out)
    return "".join(out)


def _text_boxes(p: Element) -> list[Element]:
    """Paragraphs inside text boxes anchored in ``p`` (only the mc:Choice copy)."""
    found: list[Element] = []
    for box in p.iter(_w("txbxContent")):
        if any(a.tag == f"{{{MC_NS}}}Fallback" for a in box.iterancestors()):
            continue
        found.extend(box.iterchildren(_w("p")))
    return found


# --------------------------------------------------------------------------------------
# The body walk
# --------------------------------------------------------------------------------------


@dataclass
class _Reader:
    styles: dict[str, _Style]
    default_style: str | None
    numbering: _Numbering
    blocks: list[Block] = field(default_factory=list)
    title_paragraph: str | None = None
    skipped_toc: int = 0

    # A "heading" longer than this is body text someone styled as a heading (common in
    # WPS documents); as a heading it would swallow the section tree.
    MAX_HEADING_CHARS = 150

    def paragraph_style(self, p: Element) -> str | None:
        ppr = p.find(_w("pPr"))
        style_id = _wval(ppr.find(_w("pStyle"))) if ppr is not None else None
        return style_id or self.default_style

    def is_toc_entry(self, style_id: str | None) -> bool:
        return any(_TOC_NAME.match(style.name) for style in _style_chain(self.styles, style_id))

    def heading_level(self, p: Element, style_id: str | None) -> tuple[int | None, bool]:
        """(heading level or None, is the Title style)."""
        ppr = p.find(_w("pPr"))
        direct = _wval(ppr.find(_w("outlineLvl"))) if ppr is not None else None
        if direct is not None:
            level = _int(direct, 9)
            return (level + 1 if level < 9 else None), False
        for style in _style_chain(self.styles, style_id):
            name = style.name.lower()
            match = _HEADING_NAME.match(name)
            if match:
                return int(match.group(1)), False
            if name in _TITLE_NAMES:
                return 1, True
            if style.outline_level is not None:
                return (style.outline_level + 1 if style.outline_level < 9 else None), False
        return None, False

    def number_label(self, p: Element, style_id: str | None) -> str:
        ppr = p.find(_w("pPr"))
        num_pr = ppr.find(_w("numPr")) if ppr is not None else None
        num_id: str | None = None
        ilvl: int | None = None
        if num_pr is not None:
            num_id = _wval(num_pr.find(_w("numId")))
            ilvl_val = _wval(num_pr.find(_w("ilvl")))
            ilvl = _int(ilvl_val, 0) if ilvl_val is not None else None
        if num_id is None or ilvl is None:
            for style in _style_chain(self.styles, style_id):
                if num_id is None and style.num_id is not None:
                    num_id = style.num_id
                if ilvl is None and style.ilvl is not None:
                    ilvl = style.ilvl
                if num_id is not None and ilvl is not None:
                    break
        # numId 0 is Word's way of switching numbering off for one paragraph.
        if num_id is None or num_id == "0":
            return ""
        return self.numbering.advance(num_id, ilvl or 0)

    def paragraph(self, p: Element) -> str:
        """The paragraph's rendered text (number label included); counts the number."""
        style_id = self.paragraph_style(p)
        label = self.number_label(p, style_id)
        text = _paragraph_text(p).strip()
        return (label + text).strip() if text else ""

    def emit_paragraph(self, p: Element) -> None:
        style_id = self.paragraph_style(p)
        text = self.paragraph(p)
        if text and self.is_toc_entry(style_id):
            # A Word table of contents repeats every heading with a page number; as text
            # it would be detected as a second copy of the section tree.
            self.skipped_toc += 1
        elif text:
            level, is_title = self.heading_level(p, style_id)
            if level is not None:
                # A manual line break inside a heading (a long title set on two lines).
                text = join_lines(text.split("\n")).replace("\n", " ")
            if is_title and self.title_paragraph is None:
                self.title_paragraph = text
            if level is not None and len(text) <= self.MAX_HEADING_CHARS:
                self.blocks.append(Block(kind="heading", text=text, level=level))
            else:
                self.blocks.append(Block(kind="text", text=text))
        for box_p in _text_boxes(p):
            self.emit_paragraph(box_p)

    def cell_text(self, tc: Element) -> str:
        pieces: list[str] = []
        lines: list[str] = []
        for child in _content_children(tc):
            if child.tag == _w("p"):
                lines.append(self.paragraph(child))
            elif child.tag == _w("tbl"):
                # A nested table is flattened into the cell, its rows and cells separated by
                # spaces so that they never glue onto the cell's own text.
                pieces.append(join_lines(lines))
                lines = []
                for row in self.table_grid(child):
                    pieces.append(" ".join(cell for cell in row if cell))
        pieces.append(join_lines(lines))
        return " ".join(piece for piece in pieces if piece)

    def table_grid(self, tbl: Element) -> list[list[str]]:
        rows: list[list[str]] = []
        for tr in _content_children(tbl, _w("tr")):
            row: list[str] = []
            tr_pr = tr.find(_w("trPr"))
            before = _int(_wval(tr_pr.find(_w("gridBefore"))), 0) if tr_pr is not None else 0
            row.extend([""] * before)
            for tc in _content_children(tr, _w("tc")):
                tc_pr = tc.find(_w("tcPr"))
                span = 1
                covered = False
                if tc_pr is not None:
                    span = max(1, _int(_wval(tc_pr.find(_w("gridSpan"))), 1))
                    v_merge = tc_pr.find(_w("vMerge"))
                    # <w:vMerge/> without val continues the merge started above.
                    if v_merge is not None and _wval(v_merge) in (None, "continue"):
                        covered = True
                    h_merge = tc_pr.find(_w("hMerge"))
                    if h_merge is not None and _wval(h_merge) in (None, "continue"):
                        covered = True
                # A covered cell repeats nothing: the merged value sits in the top-left cell.
                text = "" if covered else self.cell_text(tc)
                row.append(text)
                row.extend([""] * (span - 1))
            rows.append(row)
        width = max((len(row) for row in rows), default=0)
        return [row + [""] * (width - len(row)) for row in rows]

    def emit_table(self, tbl: Element) -> None:
        grid = self.table_grid(tbl)
        grid = [row for row in grid if any(cell for cell in row)]
        if not grid:
            return
        if len(grid) == 1 and sum(1 for cell in grid[0] if cell) == 1:
            # A one-cell table is a box drawn around text, not tabular data.
            self.blocks.append(Block(kind="text", text=next(c for c in grid[0] if c)))
            return
        self.blocks.append(Block(kind="table", rows=tuple(tuple(row) for row in grid)))

    def walk(self, container: Element) -> None:
        for child in _content_children(container):
            if child.tag == _w("p"):
                self.emit_paragraph(child)
            elif child.tag == _w("tbl"):
                self.emit_table(child)


def _content_children(element: Element, tag: str | None = None) -> Iterator[Element]:
    """Children in order, looking through wrappers that hide content from a plain walk:
    content controls (w:sdt), custom XML and tracked-change insertions."""
    for child in element.iterchildren():
        child_tag = child.tag
        if not isinstance(child_tag, str):
            continue
        if child_tag == _w("sdt"):
            content = child.find(_w("sdtContent"))
            if content is not None:
                yield from _content_children(content, tag)
        elif child_tag in (_w("customXml"), _w("ins"), _w("moveTo"), _w("smartTag")):
            yield from _content_children(child, tag)
        elif tag is None or child_tag == tag:
            yield child


# --------------------------------------------------------------------------------------
# Opening the file
# --------------------------------------------------------------------------------------

_GENERIC_TITLES = {
    "", "文档", "新建文档", "无标题", "标题", "document", "untitled", "title", "new document",
    "microsoft word document", "word document", "doc1", "文档1", "docx",
}  # fmt: skip


def meaningful_title(raw: str | None) -> str | None:
    """A core-properties title worth showing, or None for templates' leftovers."""
    if raw is None:
        return None
    title = re.sub(r"^Microsoft Word\s*-\s*", "", raw.strip(), flags=re.IGNORECASE)
    title = re.sub(r"\.(docx?|wps|rtf)$", "", title, flags=re.IGNORECASE).strip()
    if title.lower() in _GENERIC_TITLES or not re.search(r"[\w\u4e00-\u9fff]", title):
        return None
    if re.fullmatch(r"[\d\s._-]+", title):
        return None
    return title


def _check_container(path: Path) -> None:
    """Raise a clear error for files that are not a zip package before python-docx tries."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise UnreadableDocumentError(f"无法读取文件 {path.name}：{exc}. Cannot read the file.") from exc
    if head.startswith(OLE_MAGIC):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise UnreadableDocumentError(
                f"文件 {path.name} 已加密（设置了打开密码），无法读取：请在 Word 中取消密码后再导入。"
                " The .docx is password-protected; remove the password and import it again."
            )
        raise UnsupportedFormatError(
            f"文件 {path.name} 实际是旧版 Word 格式 (.doc)，只是扩展名为 .docx："
            "请用 Word 或 WPS 另存为 .docx 后再导入。"
            " This is a legacy .doc file with a .docx name; save it as .docx."
        )
    if not head.startswith(b"PK"):
        raise UnreadableDocumentError(
            f"文件 {path.name} 不是有效的 .docx 文件（不是 zip 包，可能已损坏）。"
            " Not a valid .docx file (not a zip package; it may be corrupt)."
        )
    try:
        with zipfile.ZipFile(path) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # opening it says what is wrong
    if unpacked > MAX_UNPACKED_MB * 2**20:
        raise UnreadableDocumentError(
            f"文件 {path.name} 解压后过大（{unpacked / 2**20:.0f} MB，上限 {MAX_UNPACKED_MB} MB），"
            f"可能是压缩炸弹，已跳过 (unpacks to {unpacked / 2**20:.0f} MB, at most {MAX_UNPACKED_MB} MB)"
        )


def _lone_top_heading(blocks: list[Block]) -> str | None:
    # Government documents put their title in the first paragraph styled Heading 1 and
    # leave the core properties empty; only trust that when no other Heading 1 follows.
    if not blocks or blocks[0].kind != "heading" or blocks[0].level != 1:
        return None
    if any(b.kind == "heading" and b.level == 1 for b in blocks[1:]):
        return None
    return blocks[0].text


# A 300-page Word report unpacks to a few MB of XML; a package unpacking far past this is a
# decompression bomb (a 1 MB file of 4 million paragraphs, a 1 GiB text node).
MAX_UNPACKED_MB = 200


def load_docx(path: Path) -> LoadedFile:
    """Read ``path`` into blocks in body order, with automatic numbering rendered."""
    import docx  # python-docx; imported here so that importing ingest stays light
    from docx.opc.exceptions import PackageNotFoundError

    _check_container(path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableDocumentError(
            f"文件 {path.name} 无法作为 .docx 打开（文件损坏或不是 Word 文档）：{exc}。"
            f" Cannot open as .docx (corrupt or not a Word document)."
        ) from exc
    except Exception as exc:  # lxml XMLSyntaxError and friends from a damaged package
        raise UnreadableDocumentError(
            f"文件 {path.name} 内容损坏，无法解析：{exc}。 The .docx is damaged and cannot be parsed."
        ) from exc

    part = document.part
    warnings: list[str] = []
    styles_root = None
    try:
        styles_root = part.styles.element
    except (KeyError, NotImplementedError):
        warnings.append("styles part missing: headings detected only from outline levels")
    styles, default_style = _read_styles(styles_root)
    numbering_root = None
    # Only read an existing numbering part: python-docx would create an empty one.
    for rel in part.rels.values():
        if rel.reltype.endswith("/numbering") and not rel.is_external:
            numbering_root = rel.target_part.element
    numbering = _read_numbering(numbering_root, styles)

    reader = _Reader(styles=styles, default_style=default_style, numbering=numbering)
    reader.walk(document.element.body)
    if reader.skipped_toc:
        warnings.append(f"skipped {reader.skipped_toc} table-of-contents lines")
    if not reader.blocks:
        warnings.append("document has no text")

    title = meaningful_title(document.core_properties.title) or reader.title_paragraph or _lone_top_heading(reader.blocks)
    return LoadedFile(
        source=str(path),
        format="docx",
        blocks=tuple(reader.blocks),
        title=title,
        warnings=tuple(warnings),
    )
