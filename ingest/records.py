"""The records that flow through zhiku: loader output, Document, Chunk.

All records are frozen; a stage that changes something builds a new record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["text", "heading", "table"]
ChunkKind = Literal["text", "table_row"]


@dataclass(frozen=True)
class Block:
    """One piece of a loaded file, in reading order.

    Loaders emit blocks; the pipeline cleans text blocks and assembles the canonical text.

    - ``text``: running text (may contain line breaks; cleaning repairs wraps).
    - ``heading``: a heading the format marks explicitly (Word heading style, HTML ``<h2>``,
      Markdown ``#``); ``level`` is 1 for the top level. Automatic numbering is already
      rendered into ``text``.
    - ``table``: ``rows`` is a rectangular grid of cell strings; a cell covered by a merged
      cell holds ``""`` (the merged value sits in its top-left cell). ``caption`` is set when
      the format gives one.
    """

    kind: BlockKind
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    page: int | None = None
    level: int | None = None
    caption: str | None = None


@dataclass(frozen=True)
class LoadedFile:
    """What a loader returns: blocks in reading order plus what went wrong on the way."""

    source: str
    format: str
    blocks: tuple[Block, ...]
    title: str | None = None
    page_count: int | None = None
    warnings: tuple[str, ...] = ()
    ocr_pages: tuple[tuple[int, tuple[TextBox, ...]], ...] = ()  # pages read by OCR: number, lines


# Told after each page of a PDF: the page's number, the pages in all, whether OCR read it.
PageProgress = Callable[[int, int, bool], None]


@dataclass(frozen=True)
class TextBox:
    """A line of text and where it is printed: PDF points from the page's top left."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class Page:
    """Character range ``[start, end)`` of canonical text that came from page ``number`` (1-based).

    ``ocr``: the page had no text layer and was read by OCR; ``boxes`` then holds its lines and
    where they are, since there are no characters in the file to find a quote by."""

    number: int
    start: int
    end: int
    ocr: bool = False
    boxes: tuple[TextBox, ...] = ()


@dataclass(frozen=True)
class TableRow:
    """One row of a table: its cells and its span in the canonical text."""

    cells: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Table:
    """A table in the canonical text. ``header_rows`` leading rows are headers."""

    rows: tuple[TableRow, ...]
    header_rows: int
    start: int
    end: int
    caption: str | None = None
    page: int | None = None


@dataclass(frozen=True)
class Heading:
    """A detected heading or caption.

    ``kind`` names the numbering pattern (``chapter``, ``article``, ``cn_num``, ``cn_paren``,
    ``dec1``..``dec4``, ``arabic``, ``arabic_paren``, ``case``, ``md1``..``md6``, ``styled1``..,
    ``caption``). ``title`` is what a section path shows; ``[start, end)`` is the heading's own
    span in the canonical text (for an article, just ``第十二条``).
    """

    kind: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Section:
    """A node of the section tree: from its heading to the next heading at its level or above."""

    path: tuple[str, ...]
    heading: Heading
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A parsed file: canonical text and everything known about it, with offsets into the text."""

    doc_id: str
    source: str
    title: str
    format: str
    text: str
    pages: tuple[Page, ...] = ()
    tables: tuple[Table, ...] = ()
    headings: tuple[Heading, ...] = ()
    sections: tuple[Section, ...] = ()
    skipped: tuple[tuple[int, int], ...] = ()
    warnings: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page number holding ``offset``, or None for formats without pages."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        return self.pages[-1].number if self.pages and offset >= self.pages[-1].end else None


@dataclass(frozen=True)
class RowCells:
    """A table row as data, carried from ingest to the answer stage (never parsed back from text).

    ``headers`` holds one label per column (stacked and merged header cells joined), ``cells``
    the row's own values (vertically merged labels filled down). ``header`` is the span of the
    table's header rows and ``caption_span`` that of its caption when it stands just above the
    table: what a row's figures mean, and what an answer cites with them. For the chunk of the
    header rows themselves ``is_header`` is set and ``cells`` are the header labels.
    """

    caption: str
    headers: tuple[str, ...]
    cells: tuple[str, ...]
    header: tuple[int, int] | None = None
    caption_span: tuple[int, int] | None = None
    is_header: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowCells:
        return cls(
            caption=str(data.get("caption", "")),
            headers=tuple(data.get("headers", ())),
            cells=tuple(data.get("cells", ())),
            header=tuple(data["header"]) if data.get("header") else None,
            caption_span=tuple(data["caption_span"]) if data.get("caption_span") else None,
            is_header=bool(data.get("is_header", False)),
        )


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit. ``text == document.text[start:end]`` always; ``context`` is indexed."""

    chunk_id: str
    doc_id: str
    text: str
    context: str
    section_path: tuple[str, ...]
    page: int | None
    start: int
    end: int
    kind: ChunkKind = "text"
    metadata: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    row: RowCells | None = field(default=None, compare=False, hash=False)  # table rows: the cells as data


def content_hash(*parts: str, length: int = 16) -> str:
    """A short, stable hex digest of ``parts`` (used for document and chunk ids)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:length]


@dataclass(frozen=True)
class ParseLimits:
    """What one file may cost to parse (settings ``parse_timeout_s``, ``parse_memory_mb``,
    ``max_pdf_pages``, ``max_text_chars``, ``max_ocr_pages``).

    ``timeout_s`` bounds the time between two signs of progress: a PDF reports each page, so a
    long scan read by OCR page by page runs as long as its pages take, while a parser stuck on
    one page (or on a file with no pages) is stopped."""

    timeout_s: float = 600.0  # an 80-page report with tables parses in well under a minute here
    memory_mb: int = 1536  # the same report peaks near 300 MB; OCR of a scanned page near 800 MB
    max_pages: int = 1000  # a yearbook or a law collection runs to a few hundred pages
    max_text_chars: int = 5_000_000  # a 300-page report is about 400 000 characters
    max_ocr_pages: int = 300  # pages read by OCR per file (about 10 s each on two cores); 0: no OCR
