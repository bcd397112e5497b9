"""The document library behind the app's 资料库 tab and the upload API.

Uploads are checked (type by suffix, size) before anything is written, stored under
``<home>/uploads/<random>/<cleaned name>`` (a generated folder; the client's name is reduced to
a safe base name and never used as a path), then indexed. A file that fails to parse, or
repeats a document already in the library, is removed again: nothing already indexed is lost
and nothing half-written stays behind.

Writes go through their own ``Index`` (a separate docstore connection and lexical index)
under one lock, so the answering side keeps reading while a file is ingested: it sees the new
lexical file by its mtime and the same Chroma collection.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.services import make_chunker
from app.settings import Settings
from index.docstore import StoredDocument
from index.indexer import Index, UpdateReport
from ingest.errors import ZhikuError
from ingest.load import SUPPORTED_SUFFIXES, unsupported_message
from ingest.pipeline import IngestResult

_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff（）()《》〔〕【】.\-]+")


class UploadError(ZhikuError):
    """An upload refused before anything was stored: wrong type, too large, empty."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # unsupported | too_large | empty | unreadable


class UnknownDocumentError(ZhikuError):
    """No document with that id in the library."""


@dataclass(frozen=True)
class DocumentRow:
    """One document as the library tab and ``GET /api/documents`` show it."""

    doc_id: str
    title: str
    file: str
    format: str
    pages: int
    tables: int
    chunks: int
    warnings: tuple[str, ...]
    uploaded: bool

    @classmethod
    def of(cls, doc: StoredDocument, uploads: Path) -> DocumentRow:
        source = Path(doc.source)
        return cls(doc.doc_id, doc.title, source.name, doc.format, len(doc.pages), doc.tables, doc.chunks,
                   doc.warnings, source.is_relative_to(uploads))

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["warnings"] = list(self.warnings)
        return record


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to one uploaded file."""

    name: str  # as the client called it (shown back, never used as a path)
    outcome: str  # added | replaced | unchanged | moved | duplicate | rejected | failed
    message: str
    reason: str = ""  # why a file was rejected: unsupported | too_large | empty | unreadable
    doc_id: str | None = None
    title: str | None = None
    chunks: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome in ("added", "replaced", "unchanged", "moved")

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["warnings"] = list(self.warnings)
        return record


def safe_name(name: str) -> str:
    """The client's file name reduced to a harmless base name (no folders, no odd characters)."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    suffix = Path(base).suffix.lower()
    stem = _UNSAFE.sub("_", base[: len(base) - len(suffix)] if suffix else base).strip("._") or "upload"
    return f"{stem[:80]}{suffix}"


def too_large(name: str, max_bytes: int) -> UploadError:
    limit = max_bytes / 2**20
    return UploadError(f"{name}: 文件过大，上限为 {limit:.0f} MB (file too large; the limit is {limit:.0f} MB, "
                       "setting max_upload_mb)", "too_large")


def check_upload(name: str, size: int, max_bytes: int) -> None:
    """Refuse a file zhiku would not read or that is too large, with a message saying why."""
    suffix = Path(safe_name(name)).suffix
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(f"{name}: {unsupported_message(suffix)}", "unsupported")
    if size == 0:
        raise UploadError(f"{name}: 文件为空 (the file is empty)", "empty")
    if size > max_bytes:
        raise too_large(name, max_bytes)


ABANDONED_AFTER_S = 3600  # an upload folder this old with no document read from it was abandoned


class Library:
    """Upload, list, remove and re-index, safe to call from several threads."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.uploads = (settings.home / "uploads").resolve()
        self.max_bytes = int(settings.max_upload_mb * 2**20)
        # the writer's own index: a separate docstore connection and lexical index, same embedder
        self._index = Index(settings.home, index.embedder, chroma_url=settings.chroma_url, tokenizer=index.tokenizer)
        self._lock = threading.Lock()
        self.sweep_uploads()

    def sweep_uploads(self) -> int:
        """Remove the upload folders no document was read from (a server killed mid-upload left
        them); a folder younger than ``ABANDONED_AFTER_S`` may be another instance's upload in
        progress and stays. Returns how many were removed."""
        if not self.uploads.is_dir():
            return 0
        known = {os.path.realpath(d.source) for d in self._index.docstore.documents(status=None)}
        removed = 0
        for folder in self.uploads.iterdir():
            if not folder.is_dir() or time.time() - folder.stat().st_mtime < ABANDONED_AFTER_S:
                continue
            if any(os.path.realpath(f) in known for f in folder.iterdir()):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        return removed

    def documents(self) -> list[DocumentRow]:
        return [DocumentRow.of(d, self.uploads) for d in self._index.documents()]

    def add(self, files: Sequence[tuple[str, Path]], on_file: Callable[[int], None] | None = None) -> list[UploadOutcome]:
        """Store and index ``files`` (client name, temporary path). Each gets an outcome; one bad
        file does not stop the others."""
        outcomes: dict[int, UploadOutcome] = {}
        stored: dict[int, Path] = {}
        try:
            for i, (name, path) in enumerate(files):
                try:
                    check_upload(name, path.stat().st_size, self.max_bytes)
                except UploadError as error:
                    outcomes[i] = UploadOutcome(name, "rejected", str(error), error.reason)
                    if on_file:
                        on_file(1)
                    continue
                except OSError as error:
                    outcomes[i] = UploadOutcome(name, "rejected", f"{name}: 无法读取 (cannot read): {error}", "unreadable")
                    continue
                target = self.uploads / secrets.token_hex(8) / safe_name(name)
                stored[i] = target
                target.parent.mkdir(parents=True)
                shutil.copyfile(path, target)
            if stored:
                with self._lock:
                    report = self._index.update(list(stored.values()), make_chunker(self.settings), on_file=on_file)
                outcomes.update(self._outcomes(files, stored, report))
        except BaseException:
            for target in stored.values():  # an error midway: no stored copy stays behind
                shutil.rmtree(target.parent, ignore_errors=True)
            raise
        return [outcomes[i] for i in range(len(files))]

    def _outcomes(
        self, files: Sequence[tuple[str, Path]], stored: dict[int, Path], report: UpdateReport
    ) -> dict[int, UploadOutcome]:
        by_path = {path: i for i, path in stored.items()}
        outcomes: dict[int, UploadOutcome] = {}
        for path, outcome, item in report.files:
            name = files[by_path[path]][0]
            if isinstance(item, IngestResult):
                doc = item.document
                doc_id, title, chunks, warnings = doc.doc_id, doc.title, len(item.chunks), doc.warnings
            else:
                doc_id, title, chunks, warnings = item.doc_id, item.title, item.chunks, item.warnings
            outcomes[by_path[path]] = UploadOutcome(
                name, outcome, f"已导入 《{title}》，{chunks} 个片段 (indexed, {chunks} chunks)",
                doc_id=doc_id, title=title, chunks=chunks, warnings=tuple(warnings),
            )
        for path, original in report.duplicates:
            outcomes[by_path[path]] = UploadOutcome(
                files[by_path[path]][0], "duplicate",
                f"与已有文档内容相同，未重复导入 (same content as {Path(original).name}; not added again)",
            )
        for path, error in report.failures:
            outcomes[by_path[path]] = UploadOutcome(files[by_path[path]][0], "failed", str(error))
        for i, path in stored.items():
            if i not in outcomes or not outcomes[i].ok:
                shutil.rmtree(path.parent, ignore_errors=True)
        return outcomes

    def remove(self, doc_id: str) -> DocumentRow:
        """Remove one document from the index; a file that came in by upload is deleted too."""
        with self._lock:
            doc = self._index.docstore.document(doc_id)
            if doc is None:
                raise UnknownDocumentError(f"资料库中没有文档 {doc_id} (no such document)")
            row = DocumentRow.of(doc, self.uploads)
            self._index.remove([doc_id])
        if row.uploaded:
            shutil.rmtree(Path(doc.source).parent, ignore_errors=True)
        return row

    def reindex(self, on_embedded: Callable[[int], None] | None = None) -> UpdateReport:
        with self._lock:
            return self._index.reindex(on_embedded=on_embedded)

    def close(self) -> None:
        self._index.close()
