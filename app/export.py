"""Exporting an ``Answer`` (an answer or a drafted report section) to Markdown or Word.

Both formats show the same thing: the answer's paragraphs with their ``[n]`` markers, then
the numbered references, each with its place in the document and the quote it rests on. A
refusal shows the closest passages instead. Files are written atomically: a reader sees the
old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.styles.style import ParagraphStyle

from answer.records import Answer, Citation
from ingest.errors import ZhikuError

REFERENCES = "参考文献 References"
CLOSEST = "最接近的段落 Closest passages"
MAX_QUOTE = 300  # characters of a quote shown, "…" included; the reader can open the source for more

_MARKER = re.compile(r"(\[\d+\])")  # the capturing group keeps the markers in re.split's result
_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".docx": "docx"}

# Word falls back to a Latin font for Chinese unless w:eastAsia names one, and a theme
# font attribute (w:eastAsiaTheme) would override the name, so both are set explicitly.
_BODY_FONT = ("SimSun", "宋体")
_HEADING_FONT = ("SimHei", "黑体")


class ExportError(ZhikuError):
    """An answer cannot be exported: an unsupported file type, or the file cannot be written."""


def to_markdown(answer: Answer, title: str | None = None) -> str:
    """The answer as Markdown: paragraphs with ``[n]`` markers, then references with quotes."""
    blocks = []
    if title:
        blocks.append(f"# {_one_line(title)}")
    blocks.extend(_paragraphs(answer.text))
    heading, citations = _reference_list(answer)
    if citations:
        blocks.append(f"## {heading}")
        for citation in citations:
            label, place = _label(citation)
            blocks.append(f"{label}{place}\n> {_short_quote(citation.quote)}")
    return "\n\n".join(blocks) + "\n"


def to_docx(answer: Answer, path: Path, title: str | None = None) -> Path:
    """Write the answer as a Word document at ``path``, markers as superscript; return ``path``."""
    document = Document()
    _set_font(document.styles["Normal"], *_BODY_FONT)
    for name in ("Title", "Heading 1"):
        _set_font(document.styles[name], *_HEADING_FONT)

    if title:
        document.add_heading(_one_line(title), level=0)
    for text in _paragraphs(answer.text):
        paragraph = document.add_paragraph()
        for piece in _MARKER.split(text):
            if piece:
                paragraph.add_run(piece).font.superscript = bool(_MARKER.fullmatch(piece))

    heading, citations = _reference_list(answer)
    if citations:
        document.add_heading(heading, level=1)
        for citation in citations:
            label, place = _label(citation)
            paragraph = document.add_paragraph()
            paragraph.add_run(label).bold = True
            if place:
                paragraph.add_run(place)
            quote = document.add_paragraph(_short_quote(citation.quote), style="Quote")
            quote.paragraph_format.left_indent = Cm(0.75)

    _atomic_write(path, document.save)
    return path


def export(answer: Answer, path: Path, title: str | None = None) -> Path:
    """Export by the suffix of ``path``: ``.md``/``.markdown`` or ``.docx``; return ``path``."""
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind == "docx":
        return to_docx(answer, path, title)
    if kind == "markdown":
        data = to_markdown(answer, title).encode("utf-8")
        _atomic_write(path, lambda handle: handle.write(data))
        return path
    raise ExportError(f"只支持导出为 .docx 或 .md (only .docx or .md): {path.name}")


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _reference_list(answer: Answer) -> tuple[str, list[Citation]]:
    """The heading and citations listed after the text: the closest passages for a refusal."""
    if answer.refused:
        return CLOSEST, sorted(answer.closest, key=lambda c: c.n)
    return REFERENCES, sorted(answer.citations, key=lambda c: c.n)


def _label(citation: Citation) -> tuple[str, str]:
    """「[n] 《title》」 and the place after it: 「 › section › path，第 P 页」 (may be empty)."""
    place = "".join(f" › {_one_line(part)}" for part in citation.section_path if part.strip())
    if citation.page is not None:
        place += f"，{citation.page_label}"
    return f"[{citation.n}] 《{_one_line(citation.title)}》", place


def _short_quote(quote: str) -> str:
    text = _one_line(quote)
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1].rstrip() + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _set_font(style: ParagraphStyle, latin: str, east_asian: str) -> None:
    style.font.name = latin
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:eastAsia"), east_asian)


def _atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write through a temporary file in the same folder, then rename it over ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise ExportError(f"无法写入 {path} (cannot write): {error.strerror or error}") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ExportError(f"无法写入 {path} (cannot write): {error.strerror or error}") from error
        raise
