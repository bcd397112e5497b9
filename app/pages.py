"""The page beside the answer: a PDF page rendered as an image with the quoted characters marked.

A citation holds an exact span of the document's canonical text. To mark it on the printed
page, the quote is found again among the page's characters: the text layer's characters
(pdfplumber, in reading order: lines top to bottom, characters left to right) or, for a page
read by OCR, the lines OCR read, each character given an equal share of its line's box.
Whitespace is no character on a page, so both sides are compared without it. Cleaning may have
changed the quote against the page (a footnote mark dropped, a line's hyphen joined), so the
quote is found run by run: from each place in it, the longest run the page holds (at least
``MIN_PIECE`` characters) from where its first run was found on and clear of the runs found
before, since a table row whose cell wraps is printed with the row's later cells before the
cell's end; what matches nowhere is skipped.

Boxes are in PDF points from the page's top left; they are drawn on the rendered page as
translucent marks, one per line of the quote.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pypdfium2
from PIL import Image, ImageDraw

from ingest.pdf import TEXT_SETTINGS
from ingest.pipeline import file_hash
from ingest.records import TextBox

MIN_PIECE = 4  # a shorter run of a quote matches too many places on a page to mark it
PAGE_WIDTH_PX = 1000  # the rendered page's width: a table's figures stay legible at 100%
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Box:
    x0: float
    top: float
    x1: float
    bottom: float


class SourceChangedError(Exception):
    """The file a document was read from is gone or no longer the file that was read."""


def stored_file(source: str, doc_id: str) -> Path:
    """The document's file, when it is still the very file that was indexed (its hash is the id)."""
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError:
        raise SourceChangedError(f"原文件已不在原处：{path.name}，请重新导入 (the file is gone)") from None
    if file_hash(data) != doc_id:
        raise SourceChangedError(f"原文件在导入后被修改：{path.name}，请重新导入 (the file changed since it was indexed)")
    return path


def _text_layer(path: Path, number: int) -> list[tuple[str, Box]]:
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[number - 1]
        out = []
        for line in page.extract_text_lines(return_chars=True, **TEXT_SETTINGS):
            for char in line["chars"]:
                if not char["text"].isspace():
                    out.append((char["text"], Box(char["x0"], char["top"], char["x1"], char["bottom"])))
        return out


def _ocr_layer(lines: Sequence[TextBox]) -> list[tuple[str, Box]]:
    out = []
    for line in lines:
        chars = [c for c in line.text if not c.isspace()]
        width = (line.x1 - line.x0) / max(len(chars), 1)
        for i, char in enumerate(chars):
            out.append((char, Box(line.x0 + i * width, line.top, line.x0 + (i + 1) * width, line.bottom)))
    return out


def find_quote(chars: Sequence[tuple[str, Box]], quote: str) -> list[Box]:
    """The boxes of ``quote`` among ``chars`` (a page's characters in reading order), one per
    line it covers; [] when it is not on the page."""
    text = "".join(char for char, _ in chars)
    wanted = _SPACE.sub("", quote)
    spans: list[tuple[int, int]] = []
    i = anchor = 0
    while i < len(wanted):
        # the longest run of the quote from here that the page has from where the quote's first
        # run was found on (a wrapped table cell puts a row's later cells before its end)
        size = MIN_PIECE
        at = _free(text, wanted[i : i + size], anchor, spans)
        if at < 0 or i + size > len(wanted):
            i += 1
            continue
        while i + size < len(wanted) and (longer := _free(text, wanted[i : i + size + 1], anchor, spans)) >= 0:
            size, at = size + 1, longer
        if not spans:
            anchor = at
        spans.append((at, at + size))
        i += size
    return _line_boxes([chars[k][1] for start, end in spans for k in range(start, end)])


def _free(text: str, run: str, start: int, taken: Sequence[tuple[int, int]]) -> int:
    """Where ``run`` is in ``text`` from ``start`` on, clear of the ``taken`` spans; -1 if nowhere."""
    at = text.find(run, start)
    while at >= 0 and any(a < at + len(run) and at < b for a, b in taken):
        at = text.find(run, at + 1)
    return at


def _line_boxes(boxes: Sequence[Box]) -> list[Box]:
    """Consecutive character boxes on one line merged into one box."""
    merged: list[Box] = []
    for box in boxes:
        last = merged[-1] if merged else None
        same_line = last is not None and min(last.bottom, box.bottom) - max(last.top, box.top) > 0.5 * (box.bottom - box.top)
        if last is not None and same_line and box.x0 >= last.x0 - 1:
            merged[-1] = Box(last.x0, min(last.top, box.top), max(last.x1, box.x1), max(last.bottom, box.bottom))
        else:
            merged.append(box)
    return merged


def quote_boxes(path: Path, number: int, quote: str, ocr_lines: Sequence[TextBox] = ()) -> list[Box]:
    """Where ``quote`` is printed on page ``number`` of the PDF at ``path`` (its OCR lines when
    the page was read by OCR)."""
    chars = _ocr_layer(ocr_lines) if ocr_lines else _text_layer(path, number)
    return find_quote(chars, quote)


def render_page(path: Path, number: int, marks: Sequence[Box], width_px: int = PAGE_WIDTH_PX) -> bytes:
    """Page ``number`` as a PNG ``width_px`` wide with ``marks`` drawn over it."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        page = document[number - 1]
        scale = width_px / page.get_width()
        image = page.render(scale=scale).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = 2
    for box in marks:
        rect = (box.x0 * scale - pad, box.top * scale - pad, box.x1 * scale + pad, box.bottom * scale + pad)
        draw.rectangle(rect, fill=(255, 214, 0, 90), outline=(230, 120, 0, 255), width=2)
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
