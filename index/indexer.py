"""The index as one thing: docstore + Chroma vectors + lexical BM25, kept consistent.

Writes follow a journal in the docstore (see ``index.docstore``):

1. documents and chunks are recorded ``pending``;
2. chunk contexts are embedded and upserted into Chroma, and added to the lexical index,
   which is saved;
3. in one transaction the new documents become ``complete`` and the ones they replace
   (same source, older content) become ``deleting``;
4. replaced documents are removed from Chroma and the lexical index, then from the docstore.

A process killed anywhere in between leaves ``pending`` or ``deleting`` rows, and
``repair`` (run on every open for writing) removes their chunks everywhere. It also
reconciles the stores against the docstore (a lost lexical file, vectors missing after a
crash), so the index is never stale or half-written for long.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import numpy as np

from index.bases import clean_description, clean_name, find_base, refuse_taken
from index.contracts import DocumentStore, LexicalStore, LexicalStoreFactory, VectorStore, VectorStoreFactory
from index.docstore import DocStore, KnowledgeBase, StoredDocument, same_file
from index.embed import Embedder
from index.lexical import LexicalIndex
from index.store import COLLECTION, ForeignCollectionError, StoreUnavailableError, chroma_collections
from index.tokenize import ChineseTokenizer
from ingest.chunk import Chunker
from ingest.errors import ZhikuError
from ingest.pipeline import IngestResult, file_hash
from ingest.records import Chunk, PageProgress
from ingest.worker import ParseWorker

# Bump when chunking changes in a way that should re-chunk documents already indexed.
CHUNKING_VERSION = 3  # 3: table rows carry their cells as data (Chunk.row)
EMBED_BATCH = 64

Progress = Callable[[int], None]
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(method: Callable[Concatenate[Index, _P], _R]) -> Callable[Concatenate[Index, _P], _R]:
    """Run an Index method that writes while holding the writer lock."""

    @functools.wraps(method)
    def wrapper(self: Index, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.writing():
            return method(self, *args, **kwargs)

    return wrapper


def chunking_signature(chunker: Chunker) -> str:
    return f"v{CHUNKING_VERSION} max_chars={chunker.max_chars}"


@dataclass
class StageTimes:
    """Seconds spent per stage of an update (the ingest benchmark prints them)."""

    load: float = 0.0
    clean: float = 0.0
    chunk: float = 0.0
    embed: float = 0.0
    store: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"load": self.load, "clean": self.clean, "chunk": self.chunk, "embed": self.embed, "store": self.store}


FileOutcome = Literal["added", "replaced", "unchanged", "moved"]


@dataclass
class UpdateReport:
    """What an update did, file by file."""

    files: list[tuple[Path, FileOutcome, IngestResult | StoredDocument]] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    duplicates: list[tuple[Path, str]] = field(default_factory=list)  # (path, source of the same content)
    # documents already in the library that files of this update hold (unchanged, moved, or the same content)
    held: list[str] = field(default_factory=list)
    embedded: int = 0
    removed_docs: int = 0
    times: StageTimes = field(default_factory=StageTimes)

    def count(self, outcome: FileOutcome) -> int:
        return sum(1 for _, o, _ in self.files if o == outcome)


@dataclass(frozen=True)
class RepairReport:
    dropped_docs: int = 0
    vectors_removed: int = 0
    vectors_added: int = 0
    lexical_rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.dropped_docs or self.vectors_removed or self.vectors_added or self.lexical_rebuilt)


class UpdateCancelled(ZhikuError):
    """An update or reindex stopped by ``Index.cancel``."""


class Index:
    """The index under ``home``. Opening is cheap: the vector store opens (and the embedder
    loads) on first need, so listing documents never loads a model."""

    def __init__(
        self,
        home: Path,
        embedder: Embedder,
        *,
        chroma_url: str | None = None,
        tokenizer: ChineseTokenizer | None = None,
        parser: ParseWorker | None = None,
        docstore: DocumentStore | None = None,
        vector_store: VectorStoreFactory | None = None,
        lexical_store: LexicalStoreFactory | None = None,
    ) -> None:
        """The stores default to the embedded ones (see ``index.contracts``): SQLite under
        ``home``, Chroma under ``home`` (or the server at ``chroma_url``), the lexical index saved
        under ``home``. ``parser`` parses files in a bounded worker process
        (``ParseWorker.shared()`` by default)."""
        self.home = home
        self.embedder = embedder
        self.chroma_url = chroma_url
        self.tokenizer = tokenizer or ChineseTokenizer()
        self.parser = parser or ParseWorker.shared()
        self.docstore: DocumentStore = docstore or DocStore(home / "docstore.sqlite3")
        location = {"url": chroma_url} if chroma_url else {"path": home / "chroma"}
        self._vector_store = vector_store or chroma_collections(embedder.name, embedder.dim, **location)
        tokenizer_ = self.tokenizer
        self._lexical_store: LexicalStoreFactory = lexical_store or (
            lambda path, fresh: LexicalIndex(tokenizer_, path) if fresh else LexicalIndex.open(path, tokenizer_)
        )
        self._stop = threading.Event()
        self._lexical: LexicalStore | None = None
        self._lexical_mtime: float | None = None
        self._vectors: VectorStore | None = None
        self._generation: int | None = None
        self._lock_depth = 0
        self._lock_file: Any = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's writer lock: one writing process at a time, readers are never blocked.

        Reentrant within the process; the OS drops it when a process dies, even by SIGKILL.
        """
        if self._lock_depth == 0:
            self._lock_file = open(self.home / "write.lock", "a+b")  # noqa: SIM115 - held across the block
            try:
                import fcntl
            except ImportError:  # Windows: no advisory locks, one writer by convention
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
            self.refresh()  # write on top of what another process wrote, never over a stale view
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._lock_file.close()  # closing releases the lock
                self._lock_file = None

    def close(self) -> None:
        self.docstore.close()

    # ------------------------------------------------------------------ parts

    @property
    def lexical_path(self) -> Path:
        return self.home / "lexical.npz"

    @property
    def lexical(self) -> LexicalStore:
        """The lexical index, reloaded when another process saved a newer file."""
        mtime = self.lexical_path.stat().st_mtime if self.lexical_path.exists() else None
        if self._lexical is None or mtime != self._lexical_mtime:
            self._lexical = self._lexical_store(self.lexical_path, False)
            self._lexical_mtime = mtime
        return self._lexical

    def _save_lexical(self) -> None:
        lexical = self.lexical
        lexical.save()
        self._lexical_mtime = self.lexical_path.stat().st_mtime

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = self._open_vectors()
        return self._vectors

    def _open_vectors(self, name: str | None = None, *, adopt: bool = False) -> VectorStore:
        """The collection in use (or ``name``), recording this library as its owner. A collection
        on a shared Chroma server that another library owns is refused (repair would delete its
        vectors as strays) unless ``adopt``; the embedded one lives in this library's own folder."""
        state = self.docstore.state()
        return self._vector_store(
            name or state.collection, owner=self.docstore.library_id(), adopt=adopt or not self.chroma_url,
            owned=bool(self.docstore.documents(status=None)), state=state,
            resolve_name=lambda: self.docstore.state().collection,
        )

    def refresh(self) -> None:
        """See what another process (``zhiku ingest`` beside ``zhiku serve``) committed: readers
        call this before each search, writers on taking the lock. One small read when nothing
        changed; the lexical index follows its file by itself."""
        state = self.docstore.state()
        if state.generation == self._generation:
            return
        self._generation = state.generation
        if self._vectors is not None:
            self._vectors.follow(state)

    # ------------------------------------------------------------------ reads

    def documents(self) -> list[StoredDocument]:
        return self.docstore.documents()

    def resolve(self, ref: str) -> list[StoredDocument]:
        """Documents matching ``ref``: a doc_id (or its prefix), a source path or a title."""
        docs = self.documents()
        exact = [d for d in docs if ref in (d.doc_id, d.title) or same_file(d.source, ref)]
        if exact:
            return exact
        by_prefix = [d for d in docs if len(ref) >= 4 and d.doc_id.startswith(ref)]
        return by_prefix or [d for d in docs if Path(d.source).name == ref]

    # ------------------------------------------------------------------ writes

    @_locked
    def update(
        self,
        paths: Iterable[Path],
        chunker: Chunker | None = None,
        *,
        batch_chunks: int = 512,
        on_file: Progress | None = None,
        on_embedded: Progress | None = None,
        stop: threading.Event | None = None,
        on_page: PageProgress | None = None,
        bases: Collection[str] = (),
        on_stage: Callable[[str, int], None] | None = None,
    ) -> UpdateReport:
        """Bring the index up to date with ``paths`` (files): add new, replace changed, skip unchanged.

        Every document the files hold, new or already indexed, joins the knowledge bases ``bases``
        (ids); a changed file's new version keeps the knowledge bases of the old.

        Progress: ``on_file(1)`` after each file, ``on_page(number, total, ocr)`` after each page
        of a PDF, ``on_stage("parsed", n)`` when a file was read into ``n`` chunks to embed,
        ``on_stage("embed", n)`` before a write batch of ``n`` chunks is embedded, and
        ``on_embedded(n)`` after each ``EMBED_BATCH`` of chunks embedded.

        Unreadable files are reported in ``failures`` and the rest go on. Setting ``stop`` (from
        another thread; see ``cancel``) ends the update with ``UpdateCancelled``.
        """
        self._stop = stop or threading.Event()
        chunker = chunker or Chunker()
        signature = chunking_signature(chunker)
        repaired = self.repair()
        # vectors the repair embedded again (a killed reindex left the collection empty) are
        # embedded by this run too, and said so
        report = UpdateReport(embedded=repaired.vectors_added)
        batch: list[tuple[Path, IngestResult]] = []
        pending_chunks = 0
        seen: dict[str, Path] = {}
        for path in paths:
            self._check_stop()
            outcome = self._classify(path, chunker, signature, seen, report, on_page)
            if on_file:
                on_file(1)
            if outcome is None:
                continue
            batch.append((path, outcome))
            pending_chunks += len(outcome.chunks)
            if on_stage:
                on_stage("parsed", len(outcome.chunks))
            if pending_chunks >= batch_chunks:
                self._write_batch(batch, signature, report, on_embedded, bases, on_stage)
                batch, pending_chunks = [], 0
        if batch:
            self._write_batch(batch, signature, report, on_embedded, bases, on_stage)
        for base_id in bases if report.held else ():
            self.docstore.set_members(base_id, add=report.held)
        return report

    def _classify(
        self,
        path: Path,
        chunker: Chunker,
        signature: str,
        seen: dict[str, Path],
        report: UpdateReport,
        on_page: PageProgress | None = None,
    ) -> IngestResult | None:
        """None when nothing needs indexing (recorded in ``report``), else the parsed file."""
        try:
            started = time.perf_counter()
            doc_id = file_hash(path.read_bytes())
            report.times.load += time.perf_counter() - started
        except OSError as error:
            report.failures.append((path, f"无法读取文件 (cannot read file): {error.strerror or error}"))
            return None
        # a file is known by its real path: 「docs/a.txt」 and 「/home/x/docs/a.txt」 are one document,
        # so an edited file replaces its old version whatever path either was given by
        path = Path(os.path.realpath(path))
        source = str(path)
        if doc_id in seen:
            if seen[doc_id] != path:  # the same file given twice (by two paths) is no duplicate of itself
                report.duplicates.append((path, str(seen[doc_id])))
            return None
        seen[doc_id] = path
        existing = self.docstore.document(doc_id)
        if existing and existing.status == "complete" and existing.chunking == signature:
            if same_file(existing.source, source):
                if existing.source != source:
                    self.docstore.set_source(doc_id, source)  # stored by an earlier version as given
                report.files.append((path, "unchanged", existing))
            elif Path(existing.source).exists():
                report.duplicates.append((path, existing.source))
            else:
                self.docstore.set_source(doc_id, source)  # the file was moved or renamed
                report.files.append((path, "moved", existing))
            report.held.append(doc_id)
            return None
        try:
            stage: dict[str, float] = {}
            result = self.parser.parse(path, chunker, timings=stage, on_page=on_page)
        except ZhikuError as error:
            self._check_stop()
            report.failures.append((path, str(error)))
            del seen[doc_id]  # a failed file is no original: a copy of it fails on its own account
            return None
        except Exception as error:
            report.failures.append((path, f"内部错误 internal error: {error!r}"))
            del seen[doc_id]
            return None
        report.times.load += stage.get("load", 0.0)
        report.times.clean += stage.get("clean", 0.0)
        report.times.chunk += stage.get("chunk", 0.0)
        return result

    def _write_batch(
        self,
        batch: Sequence[tuple[Path, IngestResult]],
        signature: str,
        report: UpdateReport,
        on_embedded: Progress | None,
        bases: Collection[str] = (),
        on_stage: Callable[[str, int], None] | None = None,
    ) -> None:
        new_ids = {r.document.doc_id for _, r in batch}
        earlier = [
            (old, r.document.doc_id)
            for _, r in batch
            for old in self.docstore.by_source(r.document.source)
            if old.doc_id not in new_ids
        ]
        successors = [(old.doc_id, new) for old, new in earlier]  # an edited file's versions
        replaced_sources = {old.doc_id: old.source for old, _ in earlier}
        replaced = set(replaced_sources)
        started = time.perf_counter()
        self.docstore.put_pending([(r.document, r.chunks) for _, r in batch], signature)
        report.times.store += time.perf_counter() - started

        chunks = [c for _, r in batch for c in r.chunks]
        if on_stage:
            on_stage("embed", len(chunks))
        self._index_chunks(chunks, report, on_embedded)

        started = time.perf_counter()
        self.docstore.commit_replacement(complete=new_ids, deleting=replaced, successors=successors, bases=bases)
        self._drop(replaced)
        report.times.store += time.perf_counter() - started
        report.removed_docs += len(replaced)
        for path, result in batch:
            outcome: FileOutcome = "replaced" if result.document.source in replaced_sources.values() else "added"
            report.files.append((path, outcome, result))

    def _index_chunks(self, chunks: Sequence[Chunk], report: UpdateReport, on_embedded: Progress | None) -> None:
        """Embed and store ``chunks`` in Chroma and the lexical index (saved before returning)."""
        vectors = self._embed([c.context for c in chunks], report, on_embedded)
        started = time.perf_counter()
        self.vectors.upsert(
            [c.chunk_id for c in chunks], vectors, [{"doc_id": c.doc_id, "kind": c.kind} for c in chunks]
        )
        self.lexical.add_many((c.chunk_id, c.doc_id, c.kind, c.context) for c in chunks)
        self._save_lexical()
        report.times.store += time.perf_counter() - started

    def _embed(self, texts: Sequence[str], report: UpdateReport, on_embedded: Progress | None) -> np.ndarray:
        """Passage vectors in the order of ``texts``, computed in length-sorted batches (less padding)."""
        started = time.perf_counter()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        for start in range(0, len(order), EMBED_BATCH):
            positions = order[start : start + EMBED_BATCH]
            self._check_stop()
            vectors[positions] = self.embedder.encode_passages([texts[i] for i in positions])
            if on_embedded:
                on_embedded(len(positions))
        report.embedded += len(texts)
        report.times.embed += time.perf_counter() - started
        return vectors

    def cancel(self) -> None:
        """Stop the update or reindex in progress (from another thread): the file being parsed is
        dropped, nothing more is embedded, and ``UpdateCancelled`` ends it. What it committed
        before stays; what it had not committed is cleaned up by the next write's repair."""
        self._stop.set()
        self.parser.cancel()

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise UpdateCancelled("已取消 (cancelled)")

    @_locked
    def retitle(self, doc_id: str, title: str) -> int:
        """Give ``doc_id`` a new title everywhere: in its citations, and in what its chunks are
        embedded and indexed as (a context's first line is its document's title), so a search by
        the right title finds it. Returns how many chunks were embedded again.

        The vectors and the lexical index take the new contexts first, the docstore last, in one
        transaction with the title: a crash between leaves the old title, listed and cited, with
        vectors that already know the new one."""
        self._stop = threading.Event()  # a cancel meant for an earlier write does not stop this one
        chunks = self.docstore.doc_chunks(doc_id)
        carried = Counter(c.context.split("\n", 1)[0] for c in chunks).most_common(1)
        renamed = [
            replace(c, context=title + c.context[len(carried[0][0]):])
            for c in chunks
            if carried and c.context.startswith(carried[0][0] + "\n") and carried[0][0] != title
        ]
        if renamed:
            self._index_chunks(renamed, UpdateReport(), None)
        self.docstore.set_title(doc_id, title, [(c.chunk_id, c.context) for c in renamed])
        return len(renamed)

    @_locked
    def remove(self, doc_ids: Iterable[str]) -> int:
        """Delete documents everywhere. Returns how many were removed."""
        ids = [d for d in dict.fromkeys(doc_ids) if self.docstore.document(d) is not None]
        if ids:
            self.docstore.set_status(ids, "deleting")
            try:
                self._drop(set(ids))
            except StoreUnavailableError:
                # nothing was removed from the docstore: the documents stay listed and cited
                # (vectors a partial delete took are embedded again by the next write's repair)
                self.docstore.set_status(ids, "complete")
                raise
        return len(ids)

    def _drop(self, doc_ids: set[str]) -> None:
        """Remove ``doc_ids`` from Chroma and the lexical index, then from the docstore."""
        if not doc_ids:
            return
        self.vectors.delete_docs(doc_ids)
        if self.lexical.remove_docs(doc_ids):
            self._save_lexical()
        self.docstore.delete(doc_ids)

    # ------------------------------------------------------------------ knowledge bases
    # A knowledge base's name and members are the docstore's alone, each change one transaction:
    # they take no writer lock, so a knowledge base is made or filled while a long upload runs.

    def bases(self) -> list[KnowledgeBase]:
        return self.docstore.bases()

    def base(self, ref: str) -> KnowledgeBase:
        """The knowledge base named ``ref`` (its id or its name); ``UnknownBaseError`` otherwise."""
        return find_base(self.docstore.bases(), ref)

    def base_documents(self, refs: Iterable[str]) -> set[str]:
        """The documents of the knowledge bases ``refs`` name (ids or names): a retrieval filter."""
        return self.docstore.base_documents([self.base(ref).base_id for ref in refs])

    def create_base(self, name: str, description: str = "") -> KnowledgeBase:
        name, description = clean_name(name), clean_description(description)
        refuse_taken(self.docstore.bases(), name)
        try:
            return self.docstore.create_base(name, description)
        except sqlite3.IntegrityError:  # another writer took the name meanwhile
            refuse_taken(self.docstore.bases(), name)
            raise

    def edit_base(self, ref: str, *, name: str | None = None, description: str | None = None) -> KnowledgeBase:
        """Rename a knowledge base or change its description (its documents stay in it)."""
        base = self.base(ref)
        if name is not None:
            name = clean_name(name)
            refuse_taken(self.docstore.bases(), name, other_than=base.base_id)
        self.docstore.update_base(base.base_id, name=name,
                                  description=None if description is None else clean_description(description))
        return self.base(base.base_id)

    def delete_base(self, ref: str, *, with_documents: bool = False) -> list[StoredDocument]:
        """Delete a knowledge base. Its documents stay in the library, unless ``with_documents``:
        then those in no other knowledge base are removed (one still in another stays, for that
        one's sake). Returns the documents removed."""
        base = self.base(ref)
        removed: list[StoredDocument] = []
        if with_documents:
            members = self.docstore.base_documents([base.base_id])
            elsewhere = {d for d, ids in self.docstore.memberships().items() if set(ids) - {base.base_id}}
            removed = [d for d in self.documents() if d.doc_id in members - elsewhere]
            self.remove([d.doc_id for d in removed])
        self.docstore.delete_base(base.base_id)
        return removed

    def file_documents(self, ref: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> KnowledgeBase:
        """Put documents into the knowledge base ``ref`` and take others out (unknown ids refused)."""
        base = self.base(ref)
        add, remove = list(add), list(remove)
        unknown = [d for d in (*add, *remove) if self.docstore.document(d) is None]
        if unknown:
            raise ZhikuError(f"资料库中没有这些文档 (unknown documents): {', '.join(unknown)}")
        self.docstore.set_members(base.base_id, add=add, remove=remove)
        return self.base(base.base_id)

    # ------------------------------------------------------------------ recovery

    @_locked
    def repair(self) -> RepairReport:
        """Finish or undo what an interrupted run left, and reconcile the stores with the docstore."""
        unfinished = {d.doc_id for d in self.docstore.documents(status="pending")}
        unfinished |= {d.doc_id for d in self.docstore.documents(status="deleting")}
        if unfinished:
            self._drop(unfinished)
        complete = {d.doc_id for d in self.docstore.documents()}

        lexical_rebuilt = False
        lexical = self.lexical
        if lexical.doc_ids() != complete or len(lexical) != self.docstore.chunk_count():
            stray = lexical.doc_ids() - complete
            lexical.remove_docs(stray)
            missing = complete - lexical.doc_ids()
            lexical.add_many(
                (c.chunk_id, c.doc_id, c.kind, c.context) for c in self.docstore.iter_chunks() if c.doc_id in missing
            )
            if lexical.doc_ids() != complete or len(lexical) != self.docstore.chunk_count():
                lexical = self._lexical_store(self.lexical_path, True)
                lexical.add_many((c.chunk_id, c.doc_id, c.kind, c.context) for c in self.docstore.iter_chunks())
                self._lexical = lexical
            self._save_lexical()
            lexical_rebuilt = True

        removed = added = 0
        if self.vectors_exist():
            self.vectors.drop_strays(keep=self.vectors.name)
        if complete or self.vectors_exist():
            expected = self.docstore.chunk_count()
            if self.vectors.count() != expected:
                stored = self.vectors.ids()
                wanted = {c.chunk_id: c for c in self.docstore.iter_chunks()}
                stray_ids = sorted(stored - wanted.keys())
                self.vectors.delete_ids(stray_ids)
                missing_chunks = [wanted[i] for i in sorted(wanted.keys() - stored)]
                if missing_chunks:
                    report = UpdateReport()
                    vectors = self._embed([c.context for c in missing_chunks], report, None)
                    self.vectors.upsert(
                        [c.chunk_id for c in missing_chunks], vectors,
                        [{"doc_id": c.doc_id, "kind": c.kind} for c in missing_chunks],
                    )
                removed, added = len(stray_ids), len(missing_chunks)
        return RepairReport(len(unfinished), removed, added, lexical_rebuilt)

    def check(self) -> list[str]:
        """Where the stores disagree: [] when every document is complete and the docstore, the
        vectors and the lexical index hold exactly the same chunks."""
        problems: list[str] = []
        unfinished = [d.doc_id for d in self.docstore.documents(status=None) if d.status != "complete"]
        if unfinished:
            problems.append(f"{len(unfinished)} 个文档未完成 (documents not complete): {', '.join(unfinished[:5])}")
        wanted = {c.chunk_id for c in self.docstore.iter_chunks()}
        for name, held in (("vectors", self.vectors.ids()), ("lexical", self.lexical.chunk_ids())):
            missing, stray = wanted - held, held - wanted
            if missing or stray:
                problems.append(
                    f"{name}: 缺少 {len(missing)} 个片段、多出 {len(stray)} 个 (missing {len(missing)}, stray {len(stray)})"
                )
        return problems

    def vectors_exist(self) -> bool:
        return self.chroma_url is not None or (self.home / "chroma").exists()

    @_locked
    def reindex(
        self, on_embedded: Progress | None = None, *, adopt: bool = False, stop: threading.Event | None = None
    ) -> UpdateReport:
        """Rebuild vectors (with the current embedder) and the lexical index from the docstore.

        The vectors go into a new collection, put in use in one committed write once complete;
        the old one serves every search until then and is deleted after. A re-index killed or
        cancelled midway leaves the old collection in use (the next write deletes the new one's
        remains). ``adopt`` takes over a shared collection another library owns (it is deleted).
        """
        self._stop = stop or threading.Event()
        self.repair_docstore_only()
        old = self.docstore.state().collection
        fresh = self._open_vectors(f"{COLLECTION}-{secrets.token_hex(4)}", adopt=True)
        if not adopt and self.chroma_url:
            try:
                fresh.check_owner(old, owned=bool(self.docstore.documents(status=None)))
            except ForeignCollectionError:
                fresh.drop()
                raise
        lexical = self._lexical_store(self.lexical_path, True)
        report = UpdateReport()
        try:
            chunks = list(self.docstore.iter_chunks())
            for start in range(0, len(chunks), 2048):
                batch = chunks[start : start + 2048]
                vectors = self._embed([c.context for c in batch], report, on_embedded)
                started = time.perf_counter()
                fresh.upsert([c.chunk_id for c in batch], vectors, [{"doc_id": c.doc_id, "kind": c.kind} for c in batch])
                lexical.add_many((c.chunk_id, c.doc_id, c.kind, c.context) for c in batch)
                report.times.store += time.perf_counter() - started
        except BaseException:
            with contextlib.suppress(Exception):
                fresh.drop()
            raise
        self._lexical = lexical
        self._save_lexical()
        self.docstore.set_collection(fresh.name)
        self._vectors = fresh
        fresh.drop(old)
        return report

    def repair_docstore_only(self) -> None:
        """Forget unfinished documents without touching the other stores (they are rebuilt)."""
        unfinished = [d.doc_id for d in self.docstore.documents(status=None) if d.status != "complete"]
        self.docstore.delete(unfinished)
