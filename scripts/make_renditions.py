"""Render a sample report (plain text) as a PDF and a DOCX, so the loaders have real files to read.

Usage::

    python scripts/make_renditions.py [--src corpus/001_235bd42144b22a26.txt] [--out-dir tests/fixtures/renditions]

The text's structure becomes real structure in both files:

- runs of tab-separated lines are tables (grid lines in the PDF, Word tables in the DOCX);
  ``----\\t--`` rows are ruled lines in the source and are dropped; the caption
  (「表 1：…」) stays the paragraph just above its table;
- table-of-contents lines (「1.1 服务…\\t- 8 -」) also contain a tab but are paragraphs, the tab
  drawn as a dot leader (a right tab stop with dots in the DOCX, dots in the PDF);
- short decimal-numbered lines (「2.学生发展」「2.1 招生情况」「2.1.1 招生概况」) are headings
  (Heading 1-3 in the DOCX, larger bold text in the PDF); every other line is a paragraph.

The PDF carries a running header and a ``- N -`` page footer on every page so that the PDF
loader's header/footer removal has something to remove. Output is byte-for-byte repeatable:
fixed metadata dates, reportlab's invariant mode, and fixed zip timestamps in the DOCX.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = ROOT / "corpus" / "001_235bd42144b22a26.txt"
RUNNING_HEADER = "清远职业技术学院高等职业教育质量年度报告（2021）"
TITLE = "清远职业技术学院高等职业教育质量年度报告（2021）"
AUTHOR = "清远职业技术学院"
FIXED_DATE = dt.datetime(2020, 12, 18, 0, 0, 0, tzinfo=dt.UTC)
CJK_FONT = "STSong-Light"  # a reportlab built-in CID font: nothing to download or embed
EAST_ASIAN_FONT = "宋体"

_SEPARATOR_ROW = re.compile(r"^[\s\-—–=_|+:：]*$")
# A TOC entry ends in a page number: "- 8 -", "8 -", "12". A table row's last cell may be a
# number too, so the entry must also be exactly "title<TAB>page".
_TOC_PAGE = re.compile(r"^\s*[-—–]?\s*\d{1,3}\s*[-—–]?\s*$")
_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,2})(?:\.\s*|\s+)\S")
_SENTENCE_END = "。；，：！？,;:"

ElementKind = Literal["heading", "paragraph", "toc", "table"]


@dataclass(frozen=True)
class Element:
    """One rendered unit: a heading (with its level), a paragraph, a TOC entry, or a table.

    A TOC entry's ``text`` keeps the source's tab between the title and the page number.
    """

    kind: ElementKind
    text: str = ""
    level: int = 0
    rows: tuple[tuple[str, ...], ...] = ()


# --------------------------------------------------------------------------------------
# Parsing the text (pure)
# --------------------------------------------------------------------------------------


def is_toc_line(line: str) -> bool:
    """A table-of-contents entry: a title, one tab, and a page number ("- 8 -", "12")."""
    fields = line.split("\t")
    return len(fields) == 2 and bool(_TOC_PAGE.match(fields[1])) and len(fields[0].strip()) >= 2


def heading_level(line: str) -> int:
    """1-3 for a short decimal-numbered heading line ("2.学生发展", "2.1.1 招生概况"), else 0."""
    text = line.strip()
    match = _HEADING.match(text)
    if not match or "\t" in line or len(text) > 40 or text[-1] in _SENTENCE_END:
        return 0
    return match.group(1).count(".") + 1


def parse(text: str) -> list[Element]:
    """The text's lines as headings, paragraphs and tables, in order."""
    elements: list[Element] = []
    run: list[list[str]] = []

    def flush() -> None:
        if run:
            width = max(len(row) for row in run)
            rows = tuple(tuple(cell.strip() for cell in row) + ("",) * (width - len(row)) for row in run)
            elements.append(Element(kind="table", rows=rows))
            run.clear()

    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        if "\t" in line and not is_toc_line(line):
            if not _SEPARATOR_ROW.match(line):
                run.append(line.split("\t"))
            continue
        if not line.strip():
            continue  # blank lines separate paragraphs and may sit inside a table run
        flush()
        if "\t" in line:
            elements.append(Element(kind="toc", text=line.strip()))
            continue
        level = heading_level(line)
        if level:
            elements.append(Element(kind="heading", text=line.strip(), level=level))
        else:
            elements.append(Element(kind="paragraph", text=line.strip()))
    flush()
    return elements


def column_widths(rows: Sequence[Sequence[str]], total: float, minimum: float) -> list[float]:
    """Widths proportional to each column's longest cell (CJK counted double), summing to total."""
    width = max(len(row) for row in rows)
    weights = []
    for j in range(width):
        longest = max((_display_len(row[j]) for row in rows if j < len(row)), default=1)
        weights.append(min(max(longest, 4), 40))
    raw = [total * w / sum(weights) for w in weights]
    # Lift narrow columns to the minimum and take the difference from the wide ones.
    short = [max(w, minimum) for w in raw]
    excess = sum(short) - total
    wide = [j for j, w in enumerate(raw) if w > minimum]
    wide_total = sum(raw[j] for j in wide)
    return [short[j] - (excess * raw[j] / wide_total if j in wide and wide_total else 0.0) for j in range(width)]


def _display_len(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# --------------------------------------------------------------------------------------
# PDF (reportlab)
# --------------------------------------------------------------------------------------


def write_pdf(elements: Sequence[Element], out: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    body = ParagraphStyle("body", fontName=CJK_FONT, fontSize=10.5, leading=17, wordWrap="CJK", spaceAfter=4)
    cell = ParagraphStyle("cell", parent=body, fontSize=9, leading=12, spaceAfter=0)
    heading_styles = {
        level: ParagraphStyle(f"h{level}", parent=body, fontSize=size, leading=size * 1.5, spaceBefore=8, spaceAfter=6)
        for level, size in ((1, 16), (2, 14), (3, 12))
    }

    class BoldParagraph(Paragraph):
        """STSong-Light has no bold face: fill and stroke the glyphs instead (render mode 2)."""

        def draw(self) -> None:
            canvas: Any = self.canv
            canvas.saveState()
            canvas.setLineWidth(0.35)
            mode = canvas.beginText()
            mode.setTextRenderMode(2)  # text state persists past ET until restoreState
            canvas.drawText(mode)
            super().draw()
            canvas.restoreState()

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(_escape(text), style)

    frame_width = A4[0] - 50 * mm
    story: list[Flowable] = []
    for element in elements:
        if element.kind == "heading":
            story.append(BoldParagraph(_escape(element.text), heading_styles[element.level]))
        elif element.kind == "paragraph":
            story.append(para(element.text, body))
        elif element.kind == "toc":
            # Word shows the tab as a dot leader; so does the PDF, and the leader is what
            # tells a reader (and zhiku's TOC detection) that the line is a contents entry.
            story.append(para(element.text.replace("\t", "......"), body))
        else:
            data = [[para(value, cell) for value in row] for row in element.rows]
            table = Table(data, colWidths=column_widths(element.rows, frame_width, 14 * mm), hAlign="CENTER")
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                        ("TOPPADDING", (0, 0), (-1, -1), 3),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ]
                )
            )
            story.extend([table, Spacer(1, 6)])

    def decorate(canvas: Any, doc: Any) -> None:
        width, height = A4
        canvas.saveState()
        canvas.setFont(CJK_FONT, 9)
        canvas.drawCentredString(width / 2, height - 15 * mm, RUNNING_HEADER)
        canvas.setLineWidth(0.5)
        canvas.line(25 * mm, height - 17 * mm, width - 25 * mm, height - 17 * mm)
        canvas.drawCentredString(width / 2, 12 * mm, f"- {doc.page} -")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=22 * mm,
        title=TITLE,
        author=AUTHOR,
        subject="高等职业教育质量年度报告",
        creator="zhiku scripts/make_renditions.py",
        invariant=1,  # fixed creation date and document id: same input, same bytes
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------------------
# DOCX (python-docx)
# --------------------------------------------------------------------------------------


def write_docx(elements: Sequence[Element], out: Path) -> None:
    import docx
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = docx.Document()
    for style_name in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        style: Any = document.styles[style_name]
        # Word picks the East Asian font from w:eastAsia; without it Chinese falls back oddly.
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    document.styles["Normal"].font.size = Pt(10.5)

    for element in elements:
        if element.kind == "heading":
            document.add_heading(element.text, level=element.level)
        elif element.kind == "paragraph":
            document.add_paragraph(element.text)
        elif element.kind == "toc":
            # As in a Word TOC: the tab stays in the text and a right tab stop draws the dots.
            entry = document.add_paragraph(element.text)
            entry.paragraph_format.tab_stops.add_tab_stop(Cm(16), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
        else:
            n_cols = max(len(row) for row in element.rows)
            table = document.add_table(rows=len(element.rows), cols=n_cols)
            table.style = document.styles["Table Grid"]
            for i, row in enumerate(element.rows):
                for j, value in enumerate(row):
                    table.cell(i, j).text = value

    props = document.core_properties
    props.title = TITLE
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1

    buffer = io.BytesIO()
    document.save(buffer)
    out.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every member's timestamp fixed, so reruns give identical bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return target_buffer.getvalue()


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a sample report text as PDF and DOCX.")
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="the .txt report (default: %(default)s)")
    parser.add_argument("--out-dir", type=Path, default=None, help="output folder (default: tests/fixtures/renditions)")
    args = parser.parse_args(argv)

    src: Path = args.src
    out_dir: Path = args.out_dir or ROOT / "tests" / "fixtures" / "renditions"
    out_dir.mkdir(parents=True, exist_ok=True)
    elements = parse(src.read_text(encoding="utf-8"))
    pdf_path = out_dir / f"{src.stem}.pdf"
    docx_path = out_dir / f"{src.stem}.docx"
    write_pdf(elements, pdf_path)
    write_docx(elements, docx_path)
    counts = {kind: sum(1 for e in elements if e.kind == kind) for kind in ("heading", "paragraph", "toc", "table")}
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    sys.stdout.write(f"{pdf_path}\n{docx_path}\n{summary}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
