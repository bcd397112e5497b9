"""Loader for plain text and Markdown files, with encoding detection.

Chinese offices save text as UTF-8, UTF-8 with BOM, or GB18030/GBK (ANSI on Chinese Windows);
some tools write UTF-16 with a BOM. We try the strict decodings in that order and fall back to
charset-normalizer's guess only when none of them fits.
"""

from __future__ import annotations

import codecs
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
        blocks=(Block(kind="text", text=text),),
        title=title,
    )
