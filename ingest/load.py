"""Pick the loader for a file by its suffix, with a clear message for what zhiku cannot read."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ingest.errors import UnreadableDocumentError, UnsupportedFormatError
from ingest.records import LoadedFile, PageProgress, ParseLimits

SUPPORTED_SUFFIXES: tuple[str, ...] = (".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm")

_SUPPORTED_NAMES = "PDF、DOCX、TXT、MD、HTML"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_LEGACY_DOC = (
    "不支持旧版 Word 格式 (.doc)：请用 Word 或 WPS 另存为 .docx 后再导入。 Legacy .doc is not supported; save it as .docx."
)

# Formats people commonly drop into a knowledge base, with what to do instead.
_UNSUPPORTED: dict[str, str] = {
    ".doc": _LEGACY_DOC,
    ".wps": "不支持 WPS 文字格式 (.wps)：请用 WPS 另存为 .docx 后再导入。 WPS .wps files are not supported; save as .docx.",
    ".rtf": "不支持 RTF 格式 (.rtf)：请用 Word 或 WPS 另存为 .docx 后再导入。 RTF is not supported; save it as .docx.",
    ".xls": (
        "不支持 Excel 表格 (.xls)：请将表格复制到 Word 文档另存为 .docx，或导出为 PDF 后再导入。"
        " Spreadsheets are not supported; put the table in a .docx or export a PDF."
    ),
    ".xlsx": (
        "不支持 Excel 表格 (.xlsx)：请将表格复制到 Word 文档另存为 .docx，或导出为 PDF 后再导入。"
        " Spreadsheets are not supported; put the table in a .docx or export a PDF."
    ),
    ".et": (
        "不支持 WPS 表格 (.et)：请导出为 PDF 或把表格放进 .docx 后再导入。"
        " WPS spreadsheets are not supported; export a PDF or use .docx."
    ),
    ".ppt": "不支持 PowerPoint 演示文稿 (.ppt)：请导出为 PDF 后再导入。 Presentations are not supported; export them as PDF.",
    ".pptx": "不支持 PowerPoint 演示文稿 (.pptx)：请导出为 PDF 后再导入。 Presentations are not supported; export them as PDF.",
    ".dps": "不支持 WPS 演示 (.dps)：请导出为 PDF 后再导入。 WPS presentations are not supported; export them as PDF.",
    ".ofd": "不支持 OFD 版式文件 (.ofd)：请用 OFD 阅读器导出为 PDF 后再导入。 OFD is not supported; export it as PDF.",
    ".mht": (
        "不支持 MHT 网页归档 (.mht)：请在浏览器中另存为“网页，仅 HTML”(.html) 后再导入。"
        " MHT archives are not supported; save the page as .html."
    ),
    ".mhtml": (
        "不支持 MHT 网页归档 (.mhtml)：请在浏览器中另存为“网页，仅 HTML”(.html) 后再导入。"
        " MHTML archives are not supported; save the page as .html."
    ),
}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic"}
_ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".gz", ".tar", ".tgz"}


def unsupported_message(suffix: str) -> str:
    """The user-facing message for a file suffix zhiku does not read."""
    suffix = suffix.lower()
    if suffix in _UNSUPPORTED:
        return _UNSUPPORTED[suffix]
    if suffix in _IMAGE_SUFFIXES:
        return (
            f"不支持图片文件 ({suffix})：图片中的文字需要OCR识别，请先用 OCR 工具转换为"
            f" .docx 或带文字层的 PDF 后再导入。Images need OCR; convert to .docx or a"
            f" searchable PDF first."
        )
    if suffix in _ARCHIVE_SUFFIXES:
        return (
            f"不支持压缩包 ({suffix})：请解压后逐个导入其中的文档。"
            f" Archives are not supported; extract them and import the documents."
        )
    shown = suffix or "（无扩展名）"
    return (
        f"不支持的文件格式 {shown}：支持的格式为 {_SUPPORTED_NAMES}。"
        f" Unsupported format {suffix or '(no suffix)'}; supported: PDF, DOCX, TXT, MD, HTML."
    )


def _sniff(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(1024)
    except OSError as exc:
        raise UnreadableDocumentError(f"无法读取文件 {path.name}：{exc}. Cannot read the file.") from exc


# The largest file read at all: a 200-page report PDF is ~20 MB; a text far past this is no
# document a staff member wrote, and reading it would hold the writer for minutes.
MAX_FILE_MB = 100


def load_file(path: Path, *, limits: ParseLimits | None = None, on_page: PageProgress | None = None) -> LoadedFile:
    """Load ``path`` with the loader its suffix names (case-insensitive); a PDF of more than
    ``limits.max_pages`` pages is refused before its pages are read, and its pages without a
    text layer are read by OCR (``limits.max_ocr_pages``), ``on_page`` told of each page.

    Raises UnsupportedFormatError for formats zhiku does not read (with what to do
    instead) and UnreadableDocumentError for missing, empty or damaged files.
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableDocumentError(f"文件不存在：{path}。 File not found: {path}")
    if path.is_dir():
        raise UnreadableDocumentError(f"{path} 是文件夹，不是文件：请选择其中的文档逐个导入。 {path} is a directory, not a file.")
    size_mb = path.stat().st_size / 2**20
    if size_mb > MAX_FILE_MB:
        raise UnreadableDocumentError(
            f"文件过大：{path.name}（{size_mb:.0f} MB，上限 {MAX_FILE_MB} MB），请拆分后再导入 "
            f"(file too large: {size_mb:.0f} MB, at most {MAX_FILE_MB} MB)"
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        if suffix == ".doc":
            head = _sniff(path)
            # Files saved by web systems as .doc are often really .docx or HTML; read
            # those instead of refusing them.
            if head.startswith(b"PK"):
                from ingest.docx import load_docx

                return load_docx(path)
            if b"<html" in head.lower() and not head.startswith(_OLE_MAGIC):
                from ingest.html import load_html

                return load_html(path)
        raise UnsupportedFormatError(f"{path.name}：{unsupported_message(suffix)}")

    head = _sniff(path)
    if not head:
        raise UnreadableDocumentError(f"文件 {path.name} 是空文件。 The file is empty.")

    if suffix == ".pdf":
        from ingest.pdf import load_pdf  # written beside this module; imported on use

        limits = limits or ParseLimits()
        return load_pdf(path, limits.max_pages, ocr_pages=limits.max_ocr_pages, on_page=on_page)
    if suffix == ".docx":
        from ingest.docx import load_docx

        return load_docx(path)
    if suffix in (".html", ".htm"):
        from ingest.html import load_html

        return load_html(path)
    from ingest.text import load_text

    return load_text(path)


# Office and image formats we recognise but cannot read: reported as failures in a folder walk,
# while unrelated files (NOTICE, .json, ...) are ignored.
KNOWN_DOCUMENT_SUFFIXES = {
    ".doc", ".wps", ".rtf", ".xls", ".xlsx", ".et", ".ppt", ".pptx", ".dps", ".odt",
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".ofd", ".caj",
}


def collect_files(
    paths: Iterable[Path], *, follow_links: bool = False
) -> tuple[list[Path], list[tuple[Path, str | None]], int]:
    """Expand folders. Returns (readable files, files that cannot be read with the reason or None
    for "its format's own explanation", ignored count).

    A file named explicitly is always attempted, so its error is reported. In a folder walk, a
    link leading out of the folder is left out unless ``follow_links`` (a link to /etc/passwd in
    an uploaded folder must not be indexed), and a file name that is not valid UTF-8 is reported
    with its bytes escaped while the rest of the folder is read.
    """
    files: list[Path] = []
    bad: list[tuple[Path, str | None]] = []
    ignored = 0
    for path in paths:
        if not path.is_dir():
            bad_name = _undecodable(path)
            if bad_name is not None:
                bad.append(bad_name)
            else:
                files.append(path)
            continue
        root = path.resolve()
        for child in sorted(path.rglob("*")):
            if not child.is_file() or any(part.startswith(".") for part in child.relative_to(path).parts):
                continue
            if not follow_links and not child.resolve().is_relative_to(root):
                reason = f"链接指向文件夹之外，已跳过：{child} → {child.resolve()} (a link out of the folder is not followed)"
                bad.append((child, reason))
                continue
            bad_name = _undecodable(child)
            if bad_name is not None:
                bad.append(bad_name)
                continue
            suffix = child.suffix.lower()
            if suffix in SUPPORTED_SUFFIXES:
                files.append(child)
            elif suffix in KNOWN_DOCUMENT_SUFFIXES:
                bad.append((child, None))
            else:
                ignored += 1
    return files, bad, ignored


def _undecodable(path: Path) -> tuple[Path, str] | None:
    """(a printable path, the reason) when ``path``'s name is not valid UTF-8, else None."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = Path(os.fsencode(path).decode("utf-8", "backslashreplace"))
        return shown, f"文件名不是有效的 UTF-8 编码，请改名后再导入：{shown} (file name is not valid UTF-8)"
    return None
