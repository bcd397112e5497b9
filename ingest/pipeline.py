"""File → Document → Chunks: load, clean, assemble the canonical text, find structure, chunk.

The canonical text is assembled block by block, so every offset (pages, tables, loader
headings) is known at the moment the text is written; nothing is located afterwards.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.chunk import Chunker
from ingest.clean import clean_text, is_heading_like, normalize_spaces, strip_invisible
from ingest.errors import UnreadableDocumentError
from ingest.load import load_file
from ingest.records import (
    Block,
    Chunk,
    Document,
    LoadedFile,
    Page,
    PageProgress,
    ParseLimits,
    Table,
    TableRow,
    TextBox,
)
from ingest.structure import Span, build_sections, detect_headings, find_toc_spans
from ingest.tables import build_table, find_caption, find_text_tables, render_row

_TERMINAL = "。！？!?；;：:”’）)》"
_TITLE_WORDS = re.compile(r"报告|办法|方案|通知|条例|规定|意见|纲要|规划|决定|细则|法$|法（|标准|制度|计划|总结")
_SHARED_TITLE = re.compile(r"《([^》\n]{2,120}?)(?:\.(?:docx?|pdf|txt|wps))?》由会员分享")


@dataclass
class Assembled:
    """The canonical text with what the blocks said about its offsets."""

    text: str = ""
    pages: list[Page] = field(default_factory=list)
    tables: list[tuple[list[TableRow], str | None, int | None]] = field(default_factory=list)
    hints: list[tuple[int, int, int]] = field(default_factory=list)


def _block_text(block: Block) -> str:
    if block.kind == "heading":
        return normalize_spaces(strip_invisible(block.text)).replace("\n", " ").strip()
    return clean_text(block.text)


def _separator(prev: Block | None, prev_text: str, block: Block, text: str) -> str:
    if prev is None:
        return ""
    if block.kind == "table" or prev.kind == "table":
        return "\n\n"
    crosses_page = prev.page is not None and block.page is not None and prev.page != block.page
    first_line = text.split("\n", 1)[0]
    if (
        crosses_page
        and prev.kind == block.kind == "text"
        and prev_text[-1] not in _TERMINAL
        and not is_heading_like(first_line)
    ):
        return ""  # a sentence running over a page break
    return "\n\n"


def assemble(blocks: Sequence[Block]) -> Assembled:
    """Write the canonical text from cleaned blocks, recording pages, tables and headings."""
    out = Assembled()
    parts: list[str] = []
    length = 0
    prev: Block | None = None
    prev_text = ""
    page_starts: dict[int, int] = {}
    for block in blocks:
        if block.kind == "table":
            lines = [render_row([normalize_spaces(strip_invisible(c)) for c in cells]) for cells in block.rows]
            lines = [line for line in lines if line.replace("\t", "").strip()]
            text = "\n".join(lines)
        else:
            text = _block_text(block)
        if not text:
            continue
        sep = _separator(prev, prev_text, block, text)
        start = length + len(sep)
        if block.page is not None and block.page not in page_starts:
            page_starts[block.page] = start if sep else length
        parts.append(sep + text)
        length = start + len(text)
        if block.kind == "heading":
            out.hints.append((start, length, block.level or 1))
        elif block.kind == "table":
            rows, cursor = [], start
            for line in text.split("\n"):
                rows.append(TableRow(tuple(line.split("\t")), cursor, cursor + len(line)))
                cursor += len(line) + 1
            out.tables.append((rows, block.caption, block.page))
        prev, prev_text = block, text
    out.text = "".join(parts)
    numbers = sorted(page_starts)
    for number, nxt in zip(numbers, [*numbers[1:], None], strict=False):
        end = page_starts[nxt] if nxt is not None else len(out.text)
        out.pages.append(Page(number, page_starts[number], end))
    return out


def guess_title(loaded: LoadedFile, text: str, raw: str = "") -> str:
    """The document's title: the loader's, a title line near the top, or the file name.

    A version date in the file name (``职业教育法(2022-04-20).md``) is kept in the title, so two
    versions of one law can be told apart in citations.
    """
    title = _title_without_version(loaded, text, raw)
    version = re.search(r"[（(](\d{4}-\d{2}-\d{2})[)）]", Path(loaded.source).stem)
    if version and version.group(1) not in title:
        title = f"{title}（{version.group(1)}）"
    return title


def _title_without_version(loaded: LoadedFile, text: str, raw: str) -> str:
    if loaded.title and loaded.title.strip():
        return loaded.title.strip()
    shared = _SHARED_TITLE.search(raw)
    if shared:
        return shared.group(1).strip()
    lines = [line.strip() for line in text.split("\n")[:40] if line.strip()][:12]
    for i, line in enumerate(lines):
        if (
            len(line) <= 100
            and "\t" not in line
            and _TITLE_WORDS.search(line)
            and not line.endswith("。")
            and not line.startswith("附")
        ):
            return _title_block(lines, i)
    return Path(loaded.source).stem


def _title_block(lines: Sequence[str], index: int) -> str:
    """A title set over several short lines (issuer, 关于印发…, …的通知) read as one.

    Lines above the one holding the title word join it while they are short, end no sentence,
    and are not the document number (郴职院〔2023〕4号) or a Latin subtitle.
    """
    title = lines[index]
    for line in reversed(lines[max(0, index - 3) : index]):
        if sum(ch.isascii() and ch.isalpha() for ch in line) > len(line) / 2:
            continue  # an English subtitle such as "Qingyuan Polytechnic"
        if len(line) > 30 or line[-1] in _TERMINAL or re.search(r"[〔\[]\d{4}[〕\]]|号$|文件$", line):
            break
        title = line + title
    return title


def build_document(loaded: LoadedFile, doc_id: str, raw_text: str = "") -> Document:
    """Assemble, detect tables of contents, tables, headings and sections."""
    assembled = assemble(loaded.blocks)
    text = assembled.text
    toc = find_toc_spans(text)
    known: list[Span] = [(rows[0].start, rows[-1].end) for rows, _, _ in assembled.tables if rows]
    headings = detect_headings(text, assembled.hints, exclude=toc + known)
    tables: list[Table] = []
    for rows, caption, page in assembled.tables:
        if len(rows) >= 1:
            tables.append(build_table(rows, caption or find_caption(text, rows[0].start, headings), page))
    for rows in find_text_tables(text, exclude=toc + known):
        tables.append(build_table(rows, find_caption(text, rows[0].start, headings)))
    tables.sort(key=lambda t: t.start)
    document = Document(
        doc_id=doc_id,
        source=loaded.source,
        title=guess_title(loaded, text, raw_text),
        format=loaded.format,
        text=text,
        pages=_with_ocr(assembled.pages, dict(loaded.ocr_pages)),
        tables=tuple(tables),
        headings=tuple(headings),
        sections=tuple(build_sections(headings, len(text))),
        skipped=tuple(toc),
        warnings=loaded.warnings,
    )
    return _with_table_pages(document)


def _with_ocr(pages: Sequence[Page], ocr: dict[int, tuple[TextBox, ...]]) -> tuple[Page, ...]:
    """Pages read by OCR say so, and keep their lines' boxes."""
    return tuple(replace(page, ocr=True, boxes=ocr[page.number]) if page.number in ocr else page for page in pages)


def _with_table_pages(document: Document) -> Document:
    if not document.pages:
        return document
    tables = tuple(t if t.page is not None else replace(t, page=document.page_at(t.start)) for t in document.tables)
    return replace(document, tables=tables)


@dataclass(frozen=True)
class IngestResult:
    """One file's Document and its Chunks."""

    document: Document
    chunks: tuple[Chunk, ...]


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def ingest_file(
    path: Path,
    chunker: Chunker | None = None,
    timings: dict[str, float] | None = None,
    limits: ParseLimits | None = None,
    on_page: PageProgress | None = None,
) -> IngestResult:
    """Load, clean, structure and chunk one file. Raises ZhikuError subclasses on bad input,
    and for a PDF over ``limits.max_pages`` or a text over ``limits.max_text_chars``.

    ``timings``, when given, receives the seconds spent loading, cleaning (with structure) and
    chunking, added to what it already holds.
    """
    limits = limits or ParseLimits()
    clock = _StageClock(timings)
    data = path.read_bytes()
    loaded = load_file(path, limits=limits, on_page=on_page)
    clock.lap("load")
    length = sum(len(b.text or "") + sum(len(c or "") for row in (b.rows or ()) for c in row) for b in loaded.blocks)
    if length > limits.max_text_chars:
        raise UnreadableDocumentError(
            f"文件文字过多：{path.name} 约 {length} 字，上限 {limits.max_text_chars} 字，请拆分后再导入（设置 max_text_chars） "
            f"(about {length} characters, at most {limits.max_text_chars}; split the file)"
        )
    raw = loaded.blocks[0].text if loaded.format in ("txt", "md") and loaded.blocks else ""
    document = build_document(loaded, file_hash(data), raw)
    if not document.text.strip():
        raise UnreadableDocumentError(f"{path.name} 中没有可提取的文字 (no text could be extracted)")
    clock.lap("clean")
    chunks = tuple((chunker or Chunker()).chunk(document))
    clock.lap("chunk")
    return IngestResult(document, chunks)


class _StageClock:
    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now
