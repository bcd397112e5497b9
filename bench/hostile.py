"""Hostile files, generated: what an attacker or a careless user uploads.

Each generator writes a small file whose parse would cost far more than its size (or that holds
no readable text), as real tools would see it: the PDFs are valid PDF syntax with a correct
cross-reference table, the .docx files valid zip packages.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_DOCUMENT_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><w:document '
    b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)


def nested_html(path: Path, depth: int = 100_000) -> Path:
    """A page of ``depth`` nested <div>: about 1 MB for 100 000."""
    path.write_text("<html><body>" + "<div>" * depth + "正文" + "</div>" * depth + "</body></html>", encoding="utf-8")
    return path


def _docx(path: Path, body: Sequence[bytes] | None = None, repeat: int = 1) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(_DOCUMENT_HEAD)
            for _ in range(repeat):
                for piece in body or ():
                    part.write(piece)
            part.write(b"</w:body></w:document>")
    return path


def docx_paragraph_bomb(path: Path, paragraphs: int = 4_000_000) -> Path:
    """Millions of tiny paragraphs: well under the unpacked-size cap, but a parse tree of
    gigabytes (the bound that stops it is the parse's memory limit)."""
    step = 10_000
    return _docx(path, [b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * step], repeat=paragraphs // step)


def docx_text_bomb(path: Path, megabytes: int = 1024) -> Path:
    """One text node of ``megabytes`` MB that compresses to about a thousandth of that."""
    chunk = b"a" * 2**20
    return _docx(path, [b"<w:p><w:r><w:t>"] + [chunk] * megabytes + [b"</w:t></w:r></w:p>"])


def _pdf(path: Path, objects: Sequence[bytes]) -> Path:
    """Objects 1..n (object 1 the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def blank_pdf(path: Path, pages: int = 2000) -> Path:
    """``pages`` empty A4 pages sharing one page object's contents."""
    first_page = 3
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>"] * pages
    return _pdf(path, objects)


def glyph_code_pdf(path: Path, lines: int = 30) -> Path:
    """A page of text in a composite font with no Unicode map (no /ToUnicode, Identity
    ordering): every character comes out of a text extractor as ``(cid:N)``, the way PDFs
    exported with subset fonts by some office tools do."""
    codes = "".join(f"{0x0C00 + (i * 37) % 900:04X}" for i in range(24))
    text = "".join(f"BT /F1 12 Tf 72 {780 - 22 * i} Td <{codes}> Tj ET\n" for i in range(lines)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+SimSun /Encoding /Identity-H /DescendantFonts [5 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+SimSun /FontDescriptor 7 0 R "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        f"<< /Length {len(text)} >>\nstream\n".encode() + text + b"endstream",
        b"<< /Type /FontDescriptor /FontName /ABCDEF+SimSun /Flags 4 /FontBBox [0 -141 1000 859] /ItalicAngle 0 "
        b"/Ascent 859 /Descent -141 /CapHeight 859 /StemV 80 >>",
    ]
    return _pdf(path, objects)
