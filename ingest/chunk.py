"""Split a Document into Chunks: sentence-packed text inside one section, one chunk per table row.

Offsets are carried from the sentence splitter into every chunk, so ``chunk.text`` is always
``document.text[chunk.start:chunk.end]``; nothing is searched for afterwards.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.records import Chunk, ChunkKind, Document, Table, content_hash
from ingest.structure import Span, document_facts, section_path_at
from ingest.tables import is_repeated_header, row_cells, row_context

DEFAULT_MAX_CHARS = 300
PATH_SEPARATOR = " › "
_SENTENCE_END = re.compile(r"[。！？!?]+[”’」』）)】\"']*|\n+")
_SOFT_BREAKS = ("；;", "，,、：:")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of ``text[start:end]`` as absolute offsets, whitespace trimmed.

    Sentences end at 。！？ (with any closing quote or bracket) and at line breaks.

    >>> split_sentences("第一句。第二句！\\n标题")
    [(0, 4), (4, 8), (9, 11)]
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        line_break = match.group(0).startswith("\n")
        if line_break and _wrapped(text[cursor : match.start()], text[match.end() : match.end() + 12]):
            continue
        boundary = match.start() if line_break else match.end()
        _append_trimmed(text, cursor, boundary, spans)
        cursor = match.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


# brackets and quotes that hold a remark inside a sentence (shared with the answer's clause cutting)
OPEN_BRACKETS, CLOSE_BRACKETS = "（(“‘《「【[", "）)”’》」】]"
WRAPPED_SENTENCE = 300  # characters: a sentence this long ends at its next line break whatever it holds


_GOES_ON = re.compile(r"[，。、；：）)”%％]|[（(](?![一二三四五六七八九十\d]{1,3}[）)])|\d+(?:\.\d+)?\s*[%％](?![\t\n])")


def _wrapped(before: str, after: str) -> bool:
    """Whether a line break between ``before`` and ``after`` wraps a sentence rather than ending it
    (PDF text): the line stops on a comma or inside a bracket or quote it opened (「土家族（162人，
    占比⏎2.52%）」), or the next line starts with punctuation, a percentage or a bracketed remark
    that belong to the sentence (「升学率为⏎25.69%。」「还在观望”⏎（占比58.44%）」). A heading or a
    list item (（一）, 1.) starts no line so."""
    line = before.rstrip()
    if not line or len(line) > WRAPPED_SENTENCE:
        return False
    if line[-1] in "，,、" or _GOES_ON.match(after):
        return True
    return sum(line.count(c) for c in OPEN_BRACKETS) > sum(line.count(c) for c in CLOSE_BRACKETS)


def trim_span(text: str, start: int, end: int) -> Span:
    """``(start, end)`` narrowed past whitespace at both ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _append_trimmed(text: str, start: int, end: int, spans: list[Span]) -> None:
    start, end = trim_span(text, start, end)
    if end > start:
        spans.append((start, end))


def _word_boundaries(text: str) -> list[int]:
    """Offsets between jieba tokens, so a hard cut never splits a word such as 产教融合."""
    import jieba

    jieba.setLogLevel(60)
    return [end for _, _, end in jieba.tokenize(text)]


def split_long(
    text: str,
    span: Span,
    max_chars: int,
    boundaries: Callable[[str], list[int]] = _word_boundaries,
) -> list[Span]:
    """Cut a sentence longer than ``max_chars`` at ；, then ，、：, then a word boundary."""
    start, end = span
    if end - start <= max_chars:
        return [span]
    for marks in _SOFT_BREAKS:
        cut = max((i + 1 for i in range(start + max_chars // 3, start + max_chars) if text[i] in marks), default=None)
        if cut is not None:
            return [(start, cut), *split_long(text, (cut, end), max_chars, boundaries)]
    words = [start + b for b in boundaries(text[start : start + max_chars]) if 0 < b <= max_chars]
    cut = max((w for w in words if w < start + max_chars), default=start + max_chars)
    return [(start, cut), *split_long(text, (cut, end), max_chars, boundaries)]


def pack_sentences(spans: Sequence[Span], max_chars: int, min_tail: int = 60) -> list[Span]:
    """Greedily pack consecutive sentence spans into chunks of at most ``max_chars``.

    A short last piece joins the chunk before it when that stays under 1.3 × ``max_chars``.
    """
    chunks: list[Span] = []
    for start, end in spans:
        if chunks and end - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    if len(chunks) >= 2 and chunks[-1][1] - chunks[-1][0] < min_tail and chunks[-1][1] - chunks[-2][0] <= max_chars * 1.3:
        chunks[-2:] = [(chunks[-2][0], chunks[-1][1])]
    return chunks


def _subtract(span: Span, holes: Sequence[Span]) -> list[Span]:
    pieces = [span]
    for h_start, h_end in sorted(holes):
        next_pieces = []
        for start, end in pieces:
            if h_end <= start or h_start >= end:
                next_pieces.append((start, end))
                continue
            if start < h_start:
                next_pieces.append((start, h_start))
            if h_end < end:
                next_pieces.append((h_end, end))
        pieces = next_pieces
    return pieces


def caption_span(document: Document, table: Table, max_gap: int = 200) -> tuple[int, int] | None:
    """Where ``table``'s caption stands: the caption heading just above it (a quote can cite it)."""
    if not table.caption:
        return None
    above = [
        h for h in document.headings
        if h.kind == "caption" and h.title == table.caption and h.end <= table.start and table.start - h.end <= max_gap
    ]
    if not above:
        return None
    start, end = above[-1].start, above[-1].end
    line_end = document.text.find("\n", start)
    return start, max(end, line_end if 0 <= line_end <= table.start else end)


@dataclass(frozen=True)
class Chunker:
    """Turns a Document into Chunks of at most ``max_chars`` characters (table rows excepted)."""

    max_chars: int = DEFAULT_MAX_CHARS

    def __post_init__(self) -> None:
        if self.max_chars < 50:
            raise ValueError(f"max_chars must be at least 50, got {self.max_chars}")

    def chunk(self, document: Document) -> list[Chunk]:
        chunks = self._text_chunks(document) + self._table_chunks(document)
        return sorted(chunks, key=lambda c: (c.start, c.end))

    def _text_chunks(self, document: Document) -> list[Chunk]:
        text = document.text
        starts = sorted({0, *(h.start for h in document.headings if h.kind != "caption"), len(text)})
        holes = [(t.start, t.end) for t in document.tables] + list(document.skipped)
        heading_spans = {(h.start, h.end) for h in document.headings}
        chunks: list[Chunk] = []
        for seg_start, seg_end in itertools.pairwise(starts):
            for piece in _subtract((seg_start, seg_end), holes):
                sentences = [
                    part
                    for sentence in split_sentences(text, *piece)
                    for part in split_long(text, sentence, self.max_chars)
                ]
                for start, end in pack_sentences(sentences, self.max_chars):
                    if (start, end) in heading_spans:
                        continue  # a bare heading says nothing the section path does not
                    chunks.append(self._make(document, start, end, "text"))
        return chunks

    def _table_chunks(self, document: Document) -> list[Chunk]:
        chunks = []
        for table in document.tables:
            caption = caption_span(document, table)
            if table.header_rows:
                # the header rows are content too (and all a quote of them can cite): one chunk
                chunks.append(self._make(document, table.rows[0].start, table.rows[table.header_rows - 1].end,
                                         "table_row", table, -1, caption))
            for index in range(table.header_rows, len(table.rows)):
                row = table.rows[index]
                if is_repeated_header(table, index) or not any(c.strip() for c in row.cells):
                    continue
                chunks.append(self._make(document, row.start, row.end, "table_row", table, index, caption))
        return chunks

    def _make(
        self,
        document: Document,
        start: int,
        end: int,
        kind: ChunkKind,
        table: Table | None = None,
        row: int = 0,
        caption: tuple[int, int] | None = None,
    ) -> Chunk:
        """``row`` is the table row a chunk holds; -1 for the table's header rows."""
        path = section_path_at(document.sections, start)
        prefix = "\n".join(p for p in (document.title, PATH_SEPARATOR.join(path)) if p)
        text = document.text[start:end]
        if table is not None and row < 0:
            headers = "\n".join("；".join(c for c in r.cells if c.strip()) for r in table.rows[: table.header_rows])
            context = "\n".join(p for p in (prefix, table.caption or "", headers) if p)
        elif table is not None:
            context = row_context(table, row, prefix)
        else:
            context = f"{prefix}\n{text}" if prefix else text
            labels = [f"{label}：{document.text[s:e]}" for label, s, e in document_facts(document.text) if start <= s < end]
            if labels:
                context += "\n" + "\n".join(labels)
        return Chunk(
            chunk_id=content_hash(document.doc_id, str(start), str(end), kind),
            doc_id=document.doc_id,
            text=text,
            context=context,
            section_path=path,
            page=document.page_at(start),
            start=start,
            end=end,
            kind=kind,
            row=row_cells(table, row, caption) if table is not None else None,
        )
