"""Loader for plain text and Markdown files, with encoding detection.

Chinese offices save text as UTF-8, UTF-8 with BOM, or GB18030/GBK (ANSI on Chinese Windows);
some tools write UTF-16 with a BOM. We try the strict decodings in that order and fall back to
charset-normalizer's guess only when none of them fits.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ingest.errors import UnreadableDocumentError
from ingest.records import Block, LoadedFile


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data``; return the text and the encoding used."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name), name
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableDocumentError("无法识别文件编码，请另存为 UTF-8 后再导入 (cannot detect the text encoding)")
    return str(best), best.encoding


def load_text(path: Path) -> LoadedFile:
    """Read a ``.txt``/``.md`` file as one text block (Markdown headings become heading blocks)."""
    text, _ = decode_bytes(path.read_bytes())
    if "\x00" in text:
        raise UnreadableDocumentError(f"{path.name} 看起来是二进制文件，不是文本 (binary file, not text)")
    is_markdown = path.suffix.lower() in {".md", ".markdown"}
    title = None
    if is_markdown:
        for line in text.splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                break
    return LoadedFile(
        source=str(path),
        format="md" if is_markdown else "txt",
        blocks=markdown_blocks(text) if is_markdown else (Block(kind="text", text=text),),
        title=title,
    )


_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _pipe_cells(line: str) -> tuple[str, ...]:
    inner = line.strip()[1:-1]
    return tuple(cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner))


def markdown_blocks(text: str) -> tuple[Block, ...]:
    """Markdown text with its pipe tables (a header row, a ``|---|`` rule, body rows) as table blocks."""
    lines = text.splitlines(keepends=True)
    blocks: list[Block] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        if _PIPE_ROW.match(lines[i]) and i + 1 < len(lines) and _PIPE_RULE.match(lines[i + 1]):
            rows = [_pipe_cells(lines[i])]
            i += 2
            while i < len(lines) and _PIPE_ROW.match(lines[i]):
                rows.append(_pipe_cells(lines[i]))
                i += 1
            width = max(len(row) for row in rows)
            if prose:
                blocks.append(Block(kind="text", text="".join(prose)))
                prose = []
            blocks.append(Block(kind="table", rows=tuple(row + ("",) * (width - len(row)) for row in rows)))
            continue
        prose.append(lines[i])
        i += 1
    if prose or not blocks:
        blocks.append(Block(kind="text", text="".join(prose)))
    return tuple(blocks)
