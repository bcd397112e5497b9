"""Dispatch by suffix, and the messages for formats zhiku cannot read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.errors import UnreadableDocumentError, UnsupportedFormatError
from ingest.load import SUPPORTED_SUFFIXES, load_file, unsupported_message

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LEGACY_DOC = FIXTURES / "海南省农机购置与应用补贴实施方案的通知.doc"
REAL_DOCX = FIXTURES / "2026年中央一号文件.docx"
INSURANCE = FIXTURES / "教育部职成司关于印发《中等职业学校学生实习责任保险实施方案》的通知_教职成司函〔2010〕8号_pkulaw.html"


def test_legacy_doc_is_refused_with_advice() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        load_file(LEGACY_DOC)
    message = str(info.value)
    assert ".docx" in message and ".doc" in message
    assert "另存为" in message
    assert LEGACY_DOC.name in message


def test_ole_file_named_docx(tmp_path: Path) -> None:
    path = tmp_path / "方案.docx"
    shutil.copyfile(LEGACY_DOC, path)
    with pytest.raises(UnsupportedFormatError, match=r"另存为 \.docx"):
        load_file(path)


def test_docx_named_doc_is_read(tmp_path: Path) -> None:
    path = tmp_path / "一号文件.doc"
    shutil.copyfile(REAL_DOCX, path)
    loaded = load_file(path)
    assert loaded.format == "docx"
    assert loaded.blocks[0].text == "2026年中央一号文件"


def test_dispatch_is_case_insensitive(tmp_path: Path) -> None:
    docx_path = tmp_path / "FILE.DOCX"
    shutil.copyfile(REAL_DOCX, docx_path)
    assert load_file(docx_path).format == "docx"
    htm_path = tmp_path / "page.HTM"
    shutil.copyfile(INSURANCE, htm_path)
    loaded = load_file(htm_path)
    assert loaded.format == "html"
    assert any(block.kind == "table" for block in loaded.blocks)


def test_text_files_go_to_the_text_loader(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# 标题\n\n正文内容。\n", encoding="utf-8")
    loaded = load_file(path)
    assert loaded.blocks
    assert "正文内容" in "".join(block.text for block in loaded.blocks)


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (".xlsx", "Excel"),
        (".xls", "Excel"),
        (".pptx", "PDF"),
        (".ppt", "PDF"),
        (".wps", ".docx"),
        (".rtf", ".docx"),
        (".png", "OCR"),
        (".JPG", "OCR"),
        (".zip", "解压"),
    ],
)
def test_known_unsupported_formats(tmp_path: Path, suffix: str, expected: str) -> None:
    path = tmp_path / f"file{suffix}"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedFormatError, match=expected):
        load_file(path)


def test_unknown_suffix_lists_supported_formats(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedFormatError) as info:
        load_file(path)
    message = str(info.value)
    assert ".xyz" in message
    for name in ("PDF", "DOCX", "TXT", "MD", "HTML"):
        assert name in message
    assert "无扩展名" in unsupported_message("")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocumentError, match="文件不存在"):
        load_file(tmp_path / "nothing.pdf")
    with pytest.raises(UnreadableDocumentError, match="文件夹"):
        load_file(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    path.write_bytes(b"")
    with pytest.raises(UnreadableDocumentError, match="空文件"):
        load_file(path)


def test_supported_suffixes() -> None:
    assert set(SUPPORTED_SUFFIXES) == {".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm"}


def test_pdf_goes_to_the_pdf_loader(tmp_path: Path) -> None:
    canvas_module = pytest.importorskip("reportlab.pdfgen.canvas")
    path = tmp_path / "report.PDF"
    canvas = canvas_module.Canvas(str(path))
    canvas.drawString(72, 720, "Vocational education report 2024")
    canvas.save()
    loaded = load_file(path)
    assert loaded.format == "pdf"
    assert "Vocational education report" in "".join(block.text for block in loaded.blocks)


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from ingest import load
    from ingest.errors import UnreadableDocumentError
    from ingest.load import load_file

    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate((load.MAX_FILE_MB + 1) * 2**20)  # sparse: no disk used
    with pytest.raises(UnreadableDocumentError, match="文件过大"):
        load_file(big)
