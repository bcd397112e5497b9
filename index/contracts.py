"""What the index reads and writes of its three stores, as contracts.

``Index`` is built on a ``DocumentStore`` (documents, chunks, the write journal and the change
sequence), a ``VectorStore`` (chunk vectors in named collections) and a ``LexicalStore`` (BM25
over chunk contexts). The embedded implementations are ``index.docstore.DocStore`` (SQLite),
``index.store.ChromaStore`` (embedded Chroma or a server) and ``index.lexical.LexicalIndex``
(in memory, saved as one file); another store plugs in by implementing its contract and being
passed to ``Index`` (``docstore=``, ``vector_store=``, ``lexical_store=``).
``tests/index/test_contracts.py`` holds the contract tests every implementation must pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.docstore import DocumentStatus, KnowledgeBase, LibraryState, StoredDocument
from index.lexical import LexicalHit
from index.store import VectorHit
from ingest.records import Chunk, Document


class VectorStore(Protocol):
    """Chunk vectors with the two fields filters need (doc_id, kind), in the collection ``name``."""

    name: str
    location: str  # where it lives, for messages

    def count(self) -> int: ...

    def upsert(self, chunk_ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None: ...

    def delete_docs(self, doc_ids: Collection[str]) -> None: ...

    def delete_ids(self, chunk_ids: Sequence[str]) -> None: ...

    def ids(self) -> set[str]: ...

    def query(
        self, vector: np.ndarray, top_k: int, *, doc_ids: Collection[str] | None = None, kinds: Collection[str] | None = None
    ) -> list[VectorHit]:
        """The ``top_k`` nearest chunks (cosine similarity), best first, within the filters."""
        ...

    def follow(self, state: LibraryState) -> None:
        """The library moved on to ``state`` (another process may have written, or put another
        collection in use): see what it did."""
        ...

    def drop(self, name: str | None = None) -> None:
        """Delete this collection, or the one named ``name``."""
        ...

    def drop_strays(self, keep: str) -> int:
        """Delete this library's collections other than ``keep``; how many were deleted."""
        ...

    def check_owner(self, name: str, owned: bool) -> None:
        """Raise ``ForeignCollectionError`` when the collection ``name`` is another library's."""
        ...


class VectorStoreFactory(Protocol):
    """Opens (creating when missing) the collection ``name`` of the library ``owner``."""

    def __call__(
        self, name: str, *, owner: str, adopt: bool, owned: bool, state: LibraryState, resolve_name: Callable[[], str]
    ) -> VectorStore: ...


class LexicalStore(Protocol):
    """BM25 over chunk contexts, kept in memory and saved to ``path`` as a whole."""

    path: Path | None

    def add_many(self, items: Iterable[tuple[str, str, str, str]]) -> int:
        """Add (chunk_id, doc_id, kind, text) items; returns how many."""
        ...

    def remove_docs(self, doc_ids: Iterable[str]) -> int: ...

    def doc_ids(self) -> set[str]: ...

    def chunk_ids(self) -> set[str]: ...

    def __len__(self) -> int: ...

    def search(
        self, query: str, top_k: int = 10, *, doc_ids: Collection[str] | None = None, kinds: Collection[str] | None = None
    ) -> list[LexicalHit]: ...

    def save(self) -> None:
        """Write to ``path`` atomically: readers see the old file or the new, never half."""
        ...

    def terms(self, text: str) -> list[str]: ...

    def idf(self, terms: Iterable[str]) -> dict[str, float]: ...

    def document_frequency(self, term: str) -> int: ...

    def words_starting(self, char: str) -> list[str]: ...


LexicalStoreFactory = Callable[[Path, bool], LexicalStore]
"""``(path, fresh)``: the lexical store saved at ``path`` (empty when there is none), or a fresh
empty one bound to ``path`` when ``fresh``."""


class DocumentStore(Protocol):
    """Documents, their chunks and texts; the index's write journal (``pending`` → ``complete``,
    ``deleting``) and the library's change sequence. Every write is committed when it returns."""

    def close(self) -> None: ...

    def library_id(self) -> str: ...

    def state(self) -> LibraryState: ...

    def set_collection(self, name: str) -> None: ...

    def put_pending(self, documents: Sequence[tuple[Document, Sequence[Chunk]]], chunking: str) -> None: ...

    def set_status(self, doc_ids: Iterable[str], status: DocumentStatus) -> None: ...

    def commit_replacement(
        self,
        complete: Iterable[str],
        deleting: Iterable[str],
        *,
        successors: Iterable[tuple[str, str]] = (),
        bases: Iterable[str] = (),
    ) -> None: ...

    def delete(self, doc_ids: Iterable[str]) -> None: ...

    def set_source(self, doc_id: str, source: str) -> None: ...

    def set_members(self, base_id: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> None: ...

    def base_documents(self, base_ids: Iterable[str]) -> set[str]: ...

    def create_base(self, name: str, description: str = "") -> KnowledgeBase: ...

    def update_base(self, base_id: str, *, name: str | None = None, description: str | None = None) -> None: ...

    def delete_base(self, base_id: str) -> None: ...

    def bases(self) -> list[KnowledgeBase]: ...

    def memberships(self) -> dict[str, list[str]]: ...

    def set_title(self, doc_id: str, title: str, contexts: Sequence[tuple[str, str]] = ()) -> None: ...

    def documents(self, status: DocumentStatus | None = "complete") -> list[StoredDocument]: ...

    def titles(self) -> dict[str, str]: ...

    def sources(self) -> dict[str, str]: ...

    def document(self, doc_id: str) -> StoredDocument | None: ...

    def by_source(self, source: str) -> list[StoredDocument]: ...

    def sections(self, doc_id: str) -> list[tuple[tuple[str, ...], int, int]]: ...

    def text(self, doc_id: str) -> str | None: ...

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]: ...

    def doc_chunks(self, doc_id: str) -> list[Chunk]: ...

    def neighbours(self, chunk_id: str) -> tuple[Chunk | None, Chunk | None]: ...

    def chunk_ids_within(self, doc_id: str, start: int, end: int) -> list[str]: ...

    def iter_chunks(self, status: DocumentStatus = "complete") -> Iterator[Chunk]: ...

    def chunk_count(self, status: DocumentStatus = "complete") -> int: ...
