"""The document library behind the app's 资料库 tab and the upload API.

Uploads are checked (type by suffix, size) before anything is written, stored under
``<home>/uploads/<random>/<cleaned name>`` (a generated folder; the client's name is reduced to
a safe base name and never used as a path), then indexed. A file that fails to parse, or
repeats a document already in the library, is removed again: nothing already indexed is lost
and nothing half-written stays behind.

Writes go through their own ``Index`` (a separate docstore connection and lexical index), one
at a time on the write queue's thread (``app.jobs``), so the answering side keeps reading
while a file is ingested: it sees the new lexical file by its mtime and the same Chroma
collection.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.jobs import Job, WriteProgress, WriteQueue
from app.services import make_chunker
from app.settings import Settings
from index.docstore import KnowledgeBase, StoredDocument
from index.indexer import Index, UpdateReport
from ingest.errors import ZhikuError
from ingest.load import SUPPORTED_SUFFIXES, unsupported_message
from ingest.pipeline import IngestResult
from ingest.records import PageProgress

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
    bases: tuple[str, ...] = ()  # the names of the knowledge bases it is in

    @classmethod
    def of(cls, doc: StoredDocument, uploads: Path, bases: Sequence[str] = ()) -> DocumentRow:
        source = Path(doc.source)
        return cls(doc.doc_id, doc.title, source.name, doc.format, len(doc.pages), doc.tables, doc.chunks,
                   doc.warnings, source.is_relative_to(uploads), tuple(bases))

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["warnings"] = list(self.warnings)
        record["bases"] = list(self.bases)
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


MAX_TITLE_CHARS = 200
ABANDONED_AFTER_S = 3600  # an upload folder this old with no document read from it was abandoned


def sweep(parent: Path, keep: Callable[[Path], bool] = lambda folder: False) -> int:
    """Remove the folders under ``parent`` older than ``ABANDONED_AFTER_S`` (a younger one may be
    another instance's upload in progress) unless ``keep``; returns how many were removed."""
    if not parent.is_dir():
        return 0
    removed = 0
    for folder in parent.iterdir():
        if not folder.is_dir() or time.time() - folder.stat().st_mtime < ABANDONED_AFTER_S or keep(folder):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


class Library:
    """Upload, list, remove and re-index, safe to call from several threads.

    Writes go through ``queue`` (see ``app.jobs``): ``submit_*`` return a job at once, ``add``,
    ``remove`` and ``reindex`` wait for theirs. Listing reads the answering side's docstore and
    never waits for a write.
    """

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.uploads = (settings.home / "uploads").resolve()
        self.max_bytes = int(settings.max_upload_mb * 2**20)
        self._reader = index
        # the writer's own index: a separate docstore connection and lexical index, same embedder
        self._index = Index(
            settings.home, index.embedder, chroma_url=settings.chroma_url, tokenizer=index.tokenizer, parser=index.parser
        )
        self.queue = WriteQueue(settings.write_queue, index.parser.cancel)
        self.sweep_uploads()

    def sweep_uploads(self) -> int:
        """Remove the upload folders no document was read from (a server killed mid-upload left
        them); a folder younger than ``ABANDONED_AFTER_S`` may be another instance's upload in
        progress and stays. Returns how many were removed."""
        known = {os.path.realpath(d.source) for d in self._index.docstore.documents(status=None)}
        return sweep(self.uploads, keep=lambda folder: any(os.path.realpath(f) in known for f in folder.iterdir()))

    def documents(self, base: str | None = None) -> list[DocumentRow]:
        """The library's documents, or those of the knowledge base ``base`` (its name or id)."""
        names = {b.base_id: b.name for b in self._reader.bases()}
        members = self._reader.docstore.memberships()
        wanted = None if base is None else self._reader.base_documents([base])
        return [
            DocumentRow.of(d, self.uploads, sorted(names[i] for i in members.get(d.doc_id, ()) if i in names))
            for d in self._reader.documents()
            if wanted is None or d.doc_id in wanted
        ]

    # ------------------------------------------------------------------ knowledge bases
    # Names and members are single docstore writes (``index.bases``): they do not wait behind an
    # upload on the write queue. Deleting a base with its documents removes files, so it does.

    def bases(self) -> list[KnowledgeBase]:
        return self._reader.bases()

    def base(self, ref: str) -> KnowledgeBase:
        return self._reader.base(ref)

    def base_documents(self, ref: str) -> set[str]:
        return self._reader.base_documents([ref])

    def create_base(self, name: str, description: str = "") -> KnowledgeBase:
        return self._index.create_base(name, description)

    def edit_base(self, ref: str, *, name: str | None = None, description: str | None = None) -> KnowledgeBase:
        return self._index.edit_base(ref, name=name, description=description)

    def file_documents(self, ref: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> KnowledgeBase:
        return self._index.file_documents(ref, add=add, remove=remove)

    def submit_delete_base(self, ref: str, *, with_documents: bool = False) -> Job:
        """Queue the deletion of a knowledge base (an unknown one is refused now); with its
        documents, those in no other base are removed, uploaded files too. The job's result is
        the removed documents' rows."""
        base = self._reader.base(ref)

        def work(stop: threading.Event) -> list[DocumentRow]:
            removed = self._index.delete_base(base.base_id, with_documents=with_documents)
            rows = [DocumentRow.of(d, self.uploads) for d in removed]
            for row, doc in zip(rows, removed, strict=True):
                if row.uploaded:
                    shutil.rmtree(Path(doc.source).parent, ignore_errors=True)
            return rows

        label = f"删除知识库「{base.name}」" + ("及其文档" if with_documents else "")
        return self.queue.submit("delete-base", label, work)

    def add(
        self,
        files: Sequence[tuple[str, Path]],
        on_file: Callable[[int], None] | None = None,
        on_page: PageProgress | None = None,
        base: str | None = None,
    ) -> list[UploadOutcome]:
        """Store and index ``files`` (client name, temporary path), waiting for the job. Each
        gets an outcome; one bad file does not stop the others. ``on_page(number, total, ocr)``
        follows a PDF page by page. Every file's document joins the knowledge base ``base``."""
        return self.submit_add(files, on_file, on_page, base).future.result()

    def submit_add(
        self,
        files: Sequence[tuple[str, Path]],
        on_file: Callable[[int], None] | None = None,
        on_page: PageProgress | None = None,
        base: str | None = None,
    ) -> Job:
        """Check and store ``files`` now (the temporary paths may go once this returns), and queue
        their indexing; the job's result is the list of outcomes, one per file. An unknown
        knowledge base ``base`` is refused before anything is stored."""
        bases = [self._reader.base(base).base_id] if base else []
        early, stored = self._store(files, on_file)
        progress = WriteProgress(files_total=len(stored))

        def work(stop: threading.Event) -> list[UploadOutcome]:
            outcomes = dict(early)
            if stored:
                try:
                    report = self._update(list(stored.values()), progress, stop, bases, on_file, on_page)
                except BaseException:
                    self._discard(stored.values())
                    raise
                outcomes.update(self._outcomes(files, stored, report))
            progress.phase = "done"
            return [outcomes[i] for i in range(len(files))]

        label = "、".join(name for name, _ in files[:3]) + (f" 等 {len(files)} 个文件" if len(files) > 3 else "")
        try:
            return self.queue.submit("upload", label, work, on_cancel=lambda: self._discard(stored.values()),
                                     progress=progress)
        except BaseException:
            self._discard(stored.values())
            raise

    def submit_ingest(self, paths: Sequence[Path], label: str) -> Job:
        """Queue the indexing of files where they are (the bundled corpus at the first start: not
        copied into uploads), with progress; the job's result is the index's report."""
        progress = WriteProgress(files_total=len(paths))
        return self.queue.submit("ingest", label, lambda stop: self._update(list(paths), progress, stop), progress=progress)

    def _update(
        self,
        paths: list[Path],
        progress: WriteProgress,
        stop: threading.Event,
        bases: Sequence[str] = (),
        on_file: Callable[[int], None] | None = None,
        on_page: PageProgress | None = None,
    ) -> UpdateReport:
        """Index ``paths`` on the write queue's thread, reporting into ``progress`` (and to the
        callbacks of a caller that follows the files and pages itself)."""

        def file_done(n: int) -> None:
            progress.file_done()
            if on_file:
                on_file(n)

        def page_done(number: int, pages: int, ocr: bool) -> None:
            progress.on_page(number, pages, ocr)
            if on_page:
                on_page(number, pages, ocr)

        progress.phase = "parse"
        report = self._index.update(
            paths, make_chunker(self.settings), on_file=file_done, stop=stop, on_page=page_done, bases=bases,
            on_stage=progress.stage, on_embedded=progress.embedded,
        )
        progress.phase = "done"
        return report

    def _store(
        self, files: Sequence[tuple[str, Path]], on_file: Callable[[int], None] | None
    ) -> tuple[dict[int, UploadOutcome], dict[int, Path]]:
        """Refused files' outcomes, and the others copied to their own upload folders."""
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
        except BaseException:
            self._discard(stored.values())  # an error midway: no stored copy stays behind
            raise
        return outcomes, stored

    def _discard(self, paths: Iterable[Path]) -> None:
        """Remove stored uploads that no complete document was read from."""
        known = {os.path.realpath(d.source) for d in self._index.docstore.documents()}
        for path in paths:
            if os.path.realpath(path) not in known:
                shutil.rmtree(path.parent, ignore_errors=True)

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
        """Remove one document from the index, waiting for the job; a file that came in by upload
        is deleted too."""
        return self.submit_remove(doc_id).future.result()

    def submit_remove(self, doc_id: str) -> Job:
        """Queue the removal of ``doc_id`` (an unknown id is refused now); the job's result is
        the removed document's row."""
        doc = self._reader.docstore.document(doc_id)
        if doc is None or doc.status != "complete":
            raise UnknownDocumentError(f"资料库中没有文档 {doc_id} (no such document)")

        def work(stop: threading.Event) -> DocumentRow:
            current = self._index.docstore.document(doc_id)
            if current is None:
                raise UnknownDocumentError(f"资料库中没有文档 {doc_id} (no such document)")
            row = DocumentRow.of(current, self.uploads)
            self._index.remove([doc_id])
            if row.uploaded:
                shutil.rmtree(Path(current.source).parent, ignore_errors=True)
            return row

        return self.queue.submit("remove", f"《{doc.title}》", work)

    def retitle(self, doc_id: str, title: str) -> DocumentRow:
        """Give a document a title of one's own, waiting for the job."""
        return self.submit_retitle(doc_id, title).future.result()

    def submit_retitle(self, doc_id: str, title: str) -> Job:
        """Queue a new title for ``doc_id`` (checked now); every later citation shows it, and its
        chunks are embedded again with it (``Index.retitle``), so asking by the title finds them."""
        title = " ".join(title.split())
        if not 1 <= len(title) <= MAX_TITLE_CHARS:
            raise ZhikuError(f"标题须为 1 到 {MAX_TITLE_CHARS} 个字 (a title has 1 to {MAX_TITLE_CHARS} characters)")
        doc = self._reader.docstore.document(doc_id)
        if doc is None or doc.status != "complete":
            raise UnknownDocumentError(f"资料库中没有文档 {doc_id} (no such document)")

        def work(stop: threading.Event) -> DocumentRow:
            with self._index.writing():
                if self._index.docstore.document(doc_id) is None:
                    raise UnknownDocumentError(f"资料库中没有文档 {doc_id} (no such document)")
                self._index.retitle(doc_id, title)
                current = self._index.docstore.document(doc_id)
            assert current is not None
            return DocumentRow.of(current, self.uploads)

        return self.queue.submit("retitle", f"《{doc.title}》→《{title}》", work)

    def reindex(self, on_embedded: Callable[[int], None] | None = None) -> UpdateReport:
        """Rebuild the vectors and the lexical index, waiting for the job."""
        return self.submit_reindex(on_embedded).future.result()

    def submit_reindex(self, on_embedded: Callable[[int], None] | None = None) -> Job:
        progress = WriteProgress()

        def embedded(n: int) -> None:
            progress.embedded(n)
            if on_embedded:
                on_embedded(n)

        def work(stop: threading.Event) -> UpdateReport:
            progress.chunks_total = self._index.docstore.chunk_count()
            progress.stage("embed", progress.chunks_total)
            report = self._index.reindex(on_embedded=embedded, stop=stop)
            progress.phase = "done"
            return report

        return self.queue.submit("reindex", "重建索引 (re-index)", work, progress=progress)

    def cancel(self, job_id: str) -> Job:
        return self.queue.cancel(job_id)

    def close(self) -> None:
        self.queue.close()
        self._index.close()
