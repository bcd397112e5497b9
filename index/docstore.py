"""The docstore: each document's canonical text, metadata and chunks, in one SQLite file.

It is also the index's journal. A document is written as ``pending`` before any of its chunks
reach Chroma or the lexical index, and marked ``complete`` only after both hold them; removal
marks it ``deleting`` first. After a crash, whatever is not ``complete`` is known and can be
cleaned up (see ``index.indexer.Index.repair``): no orphan chunks, no document without chunks.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ingest.records import Chunk, Document, Page, RowCells, TextBox

DocumentStatus = Literal["pending", "complete", "deleting"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'deleting')),
    chunking TEXT NOT NULL,
    info TEXT NOT NULL,
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents (source);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    text TEXT NOT NULL,
    context TEXT NOT NULL,
    section_path TEXT NOT NULL,
    page INTEGER,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    kind TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id, ord);
CREATE TABLE IF NOT EXISTS library (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bases (
    base_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at REAL NOT NULL
);
-- a document's knowledge bases, by its content id; no foreign key to documents, since a document
-- written again (put_pending deletes and inserts its row) keeps them; removal deletes them
CREATE TABLE IF NOT EXISTS base_documents (
    base_id TEXT NOT NULL REFERENCES bases (base_id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (base_id, doc_id)
);
CREATE INDEX IF NOT EXISTS base_documents_doc ON base_documents (doc_id);
INSERT OR IGNORE INTO library VALUES ('id', lower(hex(randomblob(16))));
INSERT OR IGNORE INTO library VALUES ('generation', '0');
INSERT OR IGNORE INTO library VALUES ('writer', '');
"""

# Who writes: this process, told apart from another process (a CLI next to a server) on the same
# library, also across pid reuse.
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
DEFAULT_COLLECTION = "zhiku_chunks"
# a document joins a knowledge base that still exists (one deleted while a file was being indexed
# for it is skipped, not an error that would lose the file's whole write)
_JOIN = "INSERT OR IGNORE INTO base_documents SELECT ?, ? WHERE EXISTS (SELECT 1 FROM bases WHERE base_id = ?)"


@dataclass(frozen=True)
class LibraryState:
    """The library's change sequence: ``generation`` grows with every committed write, ``writer``
    is the process that made the last one, ``collection`` the vector collection in use."""

    generation: int
    writer: str
    collection: str


@dataclass(frozen=True)
class KnowledgeBase:
    """A named part of the library (政策法规, 本校年报): a document belongs to any number of them."""

    base_id: str
    name: str
    description: str
    documents: int  # complete documents in it
    created_at: float


@dataclass(frozen=True)
class StoredDocument:
    """One row of the library: what ``zhiku list`` shows and citations need."""

    doc_id: str
    source: str
    title: str
    format: str
    status: DocumentStatus
    chunking: str
    chunks: int
    pages: tuple[Page, ...]
    tables: int
    warnings: tuple[str, ...]
    added_at: float


class DocStore:
    """SQLite-backed documents and chunks. Every write method commits before it returns."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._listed: dict[str, tuple[tuple[int, int], dict[str, str]]] = {}

    def close(self) -> None:
        self._db.close()

    def library_id(self) -> str:
        """This library's id, made once when its docstore is created: what a shared vector
        collection records as its owner, so that no other library's repair deletes from it."""
        (value,) = self._db.execute("SELECT value FROM library WHERE key = 'id'").fetchone()
        return str(value)

    def state(self) -> LibraryState:
        """Where the library stands (one cheap read: readers call it before every search)."""
        values = dict(self._db.execute("SELECT key, value FROM library WHERE key IN ('generation', 'writer', 'collection')"))
        return LibraryState(int(values["generation"]), values["writer"], values.get("collection", DEFAULT_COLLECTION))

    def set_collection(self, name: str) -> None:
        """Put the vector collection ``name`` in use (a re-index's swap): one committed write."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO library VALUES ('collection', ?)", (name,))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write; it advances the change sequence, so every reader sees that something changed."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("UPDATE library SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
            self._db.execute("UPDATE library SET value = ? WHERE key = 'writer'", (PROCESS,))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ------------------------------------------------------------------ writes

    def put_pending(self, documents: Sequence[tuple[Document, Sequence[Chunk]]], chunking: str) -> None:
        """Record documents and their chunks as ``pending`` in one transaction."""
        now = time.time()
        with self._transaction() as db:
            for document, chunks in documents:
                db.execute("DELETE FROM documents WHERE doc_id = ?", (document.doc_id,))
                info = {
                    "pages": [asdict(p) for p in document.pages],
                    "tables": len(document.tables),
                    "sections": [{"path": list(s.path), "start": s.start, "end": s.end} for s in document.sections],
                    "warnings": list(document.warnings),
                    "chunks": len(chunks),
                }
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                    (document.doc_id, document.source, document.title, document.format, document.text, chunking,
                     json.dumps(info, ensure_ascii=False), now),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (c.chunk_id, c.doc_id, i, c.text, c.context, json.dumps(c.section_path, ensure_ascii=False),
                         c.page, c.start, c.end, c.kind, _metadata_json(c))
                        for i, c in enumerate(chunks)
                    ],
                )

    def set_status(self, doc_ids: Iterable[str], status: DocumentStatus) -> None:
        ids = list(doc_ids)
        with self._transaction() as db:
            db.executemany("UPDATE documents SET status = ? WHERE doc_id = ?", [(status, d) for d in ids])

    def commit_replacement(
        self,
        complete: Iterable[str],
        deleting: Iterable[str],
        *,
        successors: Iterable[tuple[str, str]] = (),
        bases: Iterable[str] = (),
    ) -> None:
        """Mark new documents complete and the ones they replace as deleting, atomically. Each
        new document of ``successors`` (``(old, new)``: an edited file's new version) takes the
        knowledge bases of the old, and every complete one joins ``bases``."""
        complete = list(complete)
        with self._transaction() as db:
            db.executemany("UPDATE documents SET status = 'complete' WHERE doc_id = ?", [(d,) for d in complete])
            db.executemany("UPDATE documents SET status = 'deleting' WHERE doc_id = ?", [(d,) for d in deleting])
            db.executemany(
                "INSERT OR IGNORE INTO base_documents SELECT base_id, ? FROM base_documents WHERE doc_id = ?",
                [(new, old) for old, new in successors],
            )
            db.executemany(_JOIN, [(base_id, doc_id, base_id) for base_id in bases for doc_id in complete])

    def delete(self, doc_ids: Iterable[str]) -> None:
        """Drop documents, (by cascade) their chunks, and their places in knowledge bases."""
        ids = [(d,) for d in doc_ids]
        with self._transaction() as db:
            db.executemany("DELETE FROM documents WHERE doc_id = ?", ids)
            db.executemany("DELETE FROM base_documents WHERE doc_id = ?", ids)

    # ------------------------------------------------------------------ knowledge bases

    def create_base(self, name: str, description: str = "") -> KnowledgeBase:
        """A new, empty knowledge base (``sqlite3.IntegrityError`` when the name is taken)."""
        base_id = "kb_" + secrets.token_hex(4)
        now = time.time()
        with self._transaction() as db:
            db.execute("INSERT INTO bases VALUES (?, ?, ?, ?)", (base_id, name, description, now))
        return KnowledgeBase(base_id, name, description, 0, now)

    def update_base(self, base_id: str, *, name: str | None = None, description: str | None = None) -> None:
        with self._transaction() as db:
            if name is not None:
                db.execute("UPDATE bases SET name = ? WHERE base_id = ?", (name, base_id))
            if description is not None:
                db.execute("UPDATE bases SET description = ? WHERE base_id = ?", (description, base_id))

    def delete_base(self, base_id: str) -> None:
        """Delete the knowledge base (its documents stay in the library)."""
        with self._transaction() as db:
            db.execute("DELETE FROM bases WHERE base_id = ?", (base_id,))

    def bases(self) -> list[KnowledgeBase]:
        """Every knowledge base, by name, with how many complete documents it holds."""
        rows = self._db.execute(
            "SELECT b.base_id, b.name, b.description, COUNT(d.doc_id), b.created_at FROM bases b "
            "LEFT JOIN base_documents m ON m.base_id = b.base_id "
            "LEFT JOIN documents d ON d.doc_id = m.doc_id AND d.status = 'complete' "
            "GROUP BY b.base_id ORDER BY b.name"
        )
        return [KnowledgeBase(str(i), str(n), str(desc), int(count), float(at)) for i, n, desc, count, at in rows]

    def set_members(self, base_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        """Put documents into the knowledge base and take others out of it, in one write."""
        with self._transaction() as db:
            db.executemany(_JOIN, [(base_id, d, base_id) for d in add])
            db.executemany("DELETE FROM base_documents WHERE base_id = ? AND doc_id = ?", [(base_id, d) for d in remove])

    def base_documents(self, base_ids: Iterable[str]) -> set[str]:
        """The complete documents in any of ``base_ids``."""
        ids = list(base_ids)
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT DISTINCT m.doc_id FROM base_documents m JOIN documents d ON d.doc_id = m.doc_id "
            f"WHERE m.base_id IN ({marks}) AND d.status = 'complete'", ids,
        )
        return {str(r[0]) for r in rows}

    def memberships(self) -> dict[str, list[str]]:
        """doc_id → the ids of the knowledge bases it is in."""
        out: dict[str, list[str]] = {}
        for base_id, doc_id in self._db.execute("SELECT base_id, doc_id FROM base_documents ORDER BY base_id"):
            out.setdefault(str(doc_id), []).append(str(base_id))
        return out

    def set_title(self, doc_id: str, title: str, contexts: Sequence[tuple[str, str]] = ()) -> None:
        """Give a document the title a person chose; every citation reads it from here. Its
        chunks' new ``contexts`` (``(chunk_id, context)``, what was embedded) change with it."""
        with self._transaction() as db:
            db.execute("UPDATE documents SET title = ? WHERE doc_id = ?", (title, doc_id))
            db.executemany("UPDATE chunks SET context = ? WHERE chunk_id = ? AND doc_id = ?",
                           [(context, chunk_id, doc_id) for chunk_id, context in contexts])

    def set_source(self, doc_id: str, source: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE documents SET source = ? WHERE doc_id = ?", (source, doc_id))

    # ------------------------------------------------------------------ reads

    def documents(self, status: DocumentStatus | None = "complete") -> list[StoredDocument]:
        sql = "SELECT doc_id, source, title, format, status, chunking, info, added_at FROM documents"
        rows = (
            self._db.execute(sql + " ORDER BY source").fetchall()
            if status is None
            else self._db.execute(sql + " WHERE status = ? ORDER BY source", (status,)).fetchall()
        )
        return [_stored_document(row) for row in rows]

    def titles(self) -> dict[str, str]:
        """doc_id → title of the complete documents (what short names in questions resolve to)."""
        return self._listing("title")

    def sources(self) -> dict[str, str]:
        """doc_id → source path of the complete documents (a file's name may name its school)."""
        return self._listing("source")

    def _listing(self, column: str) -> dict[str, str]:
        """doc_id → ``column`` of the complete documents, read again only after a write: every
        question asks for the titles, and a library of 700 documents takes milliseconds to list."""
        # data_version moves when another connection commits; total_changes when this one writes
        (data_version,) = self._db.execute("PRAGMA data_version").fetchone()
        generation = (int(data_version), self._db.total_changes)
        cached = self._listed.get(column)
        if cached is not None and cached[0] == generation:
            return dict(cached[1])
        rows = self._db.execute(f"SELECT doc_id, {column} FROM documents WHERE status = 'complete' ORDER BY doc_id")
        listing = {str(doc_id): str(value) for doc_id, value in rows}
        self._listed[column] = (generation, listing)
        return dict(listing)

    def document(self, doc_id: str) -> StoredDocument | None:
        row = self._db.execute(
            "SELECT doc_id, source, title, format, status, chunking, info, added_at FROM documents WHERE doc_id = ?",
            (doc_id,),
        ).fetchone()
        return None if row is None else _stored_document(row)

    def by_source(self, source: str) -> list[StoredDocument]:
        """The documents read from the file ``source`` names, however it was named then (a
        relative path stored by an earlier version is resolved from the working folder)."""
        return [d for d in self.documents(status=None) if same_file(d.source, source)]

    def sections(self, doc_id: str) -> list[tuple[tuple[str, ...], int, int]]:
        """The document's sections as (path, start, end); a section's span includes its subsections."""
        row = self._db.execute("SELECT info FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return []
        return [(tuple(s["path"]), int(s["start"]), int(s["end"])) for s in json.loads(row[0])["sections"]]

    def text(self, doc_id: str) -> str | None:
        row = self._db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return None if row is None else str(row[0])

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id, of complete documents only: a document an interrupted ingest left pending
        (its vectors already written) or one being deleted is never cited. Other ids are left out."""
        out: dict[str, Chunk] = {}
        columns = ", ".join(f"c.{name}" for name in _CHUNK_FIELDS)
        for start in range(0, len(chunk_ids), 500):
            batch = list(chunk_ids[start : start + 500])
            marks = ",".join("?" * len(batch))
            query = (
                f"SELECT {columns} FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
                f"WHERE c.chunk_id IN ({marks}) AND d.status = 'complete'"
            )
            for row in self._db.execute(query, batch):
                chunk = _chunk(row)
                out[chunk.chunk_id] = chunk
        return out

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._db.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY ord", (doc_id,))
        return [_chunk(row) for row in rows]

    def neighbours(self, chunk_id: str) -> tuple[Chunk | None, Chunk | None]:
        """The chunks just before and after ``chunk_id`` in its document."""
        row = self._db.execute("SELECT doc_id, ord FROM chunks WHERE chunk_id = ?", (chunk_id,)).fetchone()
        if row is None:
            return None, None
        doc_id, ord_ = row
        found = {
            r[-1]: _chunk(r[:-1])
            for r in self._db.execute(
                f"SELECT {_CHUNK_COLUMNS}, ord FROM chunks WHERE doc_id = ? AND ord IN (?, ?)", (doc_id, ord_ - 1, ord_ + 1)
            )
        }
        return found.get(ord_ - 1), found.get(ord_ + 1)

    def chunk_ids_within(self, doc_id: str, start: int, end: int) -> list[str]:
        """Ids of the document's chunks lying inside ``start:end``, in document order."""
        rows = self._db.execute(
            'SELECT chunk_id FROM chunks WHERE doc_id = ? AND start >= ? AND "end" <= ? ORDER BY ord', (doc_id, start, end)
        )
        return [str(r[0]) for r in rows]

    def iter_chunks(self, status: DocumentStatus = "complete") -> Iterator[Chunk]:
        sql = (
            f"SELECT {', '.join('c.' + c for c in _CHUNK_FIELDS)} FROM chunks c JOIN documents d USING (doc_id) "
            "WHERE d.status = ? ORDER BY c.doc_id, c.ord"
        )
        for row in self._db.execute(sql, (status,)):
            yield _chunk(row)

    def chunk_count(self, status: DocumentStatus = "complete") -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM chunks c JOIN documents d USING (doc_id) WHERE d.status = ?", (status,)
        ).fetchone()
        return int(row[0])


def same_file(stored: str, source: str) -> bool:
    """Whether the stored source and ``source`` (a resolved path) name the same file."""
    return stored == source or os.path.realpath(stored) == os.path.realpath(source)


def _page(record: dict[str, Any]) -> Page:
    """A page as stored (JSON: boxes as lists; older rows without ``ocr`` and ``boxes``)."""
    boxes = tuple(TextBox(*box) if isinstance(box, list) else TextBox(**box) for box in record.get("boxes", ()))
    return Page(record["number"], record["start"], record["end"], bool(record.get("ocr", False)), boxes)


_CHUNK_FIELDS = ("chunk_id", "doc_id", "text", "context", "section_path", "page", "start", '"end"', "kind", "metadata")
_CHUNK_COLUMNS = ", ".join(_CHUNK_FIELDS)


def _metadata_json(chunk: Chunk) -> str:
    """A chunk's metadata column: its metadata, and a table row's cells under ``"row"``."""
    data: dict[str, Any] = dict(chunk.metadata)
    if chunk.row is not None:
        data["row"] = asdict(chunk.row)
    return json.dumps(data, ensure_ascii=False)


def _chunk(row: Sequence[Any]) -> Chunk:
    chunk_id, doc_id, text, context, path, page, start, end, kind, metadata_json = row
    metadata = json.loads(metadata_json)
    cells = metadata.pop("row", None)
    return Chunk(
        chunk_id=chunk_id,
        doc_id=doc_id,
        text=text,
        context=context,
        section_path=tuple(json.loads(path)),
        page=page,
        start=start,
        end=end,
        kind=kind,
        metadata=metadata,
        row=RowCells.from_dict(cells) if isinstance(cells, dict) else None,
    )


def _stored_document(row: Sequence[Any]) -> StoredDocument:
    doc_id, source, title, fmt, status, chunking, info_json, added_at = row
    info = json.loads(info_json)
    return StoredDocument(
        doc_id=doc_id,
        source=source,
        title=title,
        format=fmt,
        status=status,
        chunking=chunking,
        chunks=int(info["chunks"]),
        pages=tuple(_page(p) for p in info["pages"]),
        tables=int(info["tables"]),
        warnings=tuple(info["warnings"]),
        added_at=added_at,
    )
