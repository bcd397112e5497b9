"""The vector store: one Chroma collection of chunk embeddings.

Embedded (``PersistentClient`` under the data folder) by default; a Chroma server
(``HttpClient``) when a URL is configured, so several app instances share one index. Chroma
holds ids, vectors and the two fields filters need (doc_id, kind); texts live in the docstore.

The embedder's name and dimension are stored in the collection's metadata. Opening it with a
different embedder is an error that says how to rebuild, never a silent mix of vector spaces.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlparse

import numpy as np

from index.docstore import DEFAULT_COLLECTION, PROCESS, LibraryState
from ingest.errors import SettingsError, ZhikuError

if TYPE_CHECKING:
    from index.contracts import VectorStoreFactory

COLLECTION = DEFAULT_COLLECTION  # the first collection's name; a re-index builds a new one beside it
# How many candidates Chroma's HNSW graph keeps while it searches. Sentence embeddings crowd into a
# narrow band of similarities (e5: 0.85–0.95 for anything on topic), where Chroma's default beam
# of 100 loses the true nearest chunks of some queries altogether (measured on the dev2 library:
# recall@10 0.973 with questions at 0.0; at 500 it is 1.0, for well under a millisecond more).
SEARCH_BEAM = 500
FILTER_OVERFETCH = 4  # an unfiltered search this many times deeper is tried before a filtered one
_T = TypeVar("_T")


class EmbedderMismatchError(ZhikuError):
    """The index was built with another embedder."""


class StoreUnavailableError(ZhikuError):
    """The vector store cannot be reached (a Chroma server down or unreachable): retry later."""


def _unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the store could not be reached, rather than that a call was wrong."""
    name = type(error).__name__
    return (
        isinstance(error, OSError)
        or any(word in name for word in ("Connect", "Timeout", "Network", "Transport"))
        or "could not connect" in str(error).lower()
    )


class ForeignCollectionError(ZhikuError):
    """The collection belongs to another library (another ZHIKU_HOME on the same Chroma server)."""


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    similarity: float  # cosine similarity, 1 = same direction


class ChromaStore:
    """Chunk vectors in Chroma. ``path`` for embedded mode, ``url`` for a server."""

    def __init__(
        self,
        embedder_name: str,
        dim: int,
        *,
        path: Path | None = None,
        url: str | None = None,
        name: str = COLLECTION,
        owner: str | None = None,
        adopt: bool = False,
        owned: bool = True,
        state: LibraryState | None = None,
        resolve_name: Callable[[], str] | None = None,
    ) -> None:
        """Open (or create) the collection ``name``.

        ``owner`` is the library id the collection records: a collection another library owns is
        refused (``ForeignCollectionError``) unless ``adopt`` (``zhiku reindex --adopt``). A
        collection from before owners were recorded is taken over when that cannot delete
        another library's vectors: it is empty, or ``owned`` (this library has documents).

        ``state`` is the library's change sequence as of opening (see ``follow``);
        ``resolve_name`` says which collection is in use now, when the one open was deleted (a
        re-index in another process swapped in its new one).
        """
        if (path is None) == (url is None):
            raise ValueError("give exactly one of path (embedded) or url (server)")
        self.embedder_name = embedder_name
        self.dim = dim
        self.owner = owner
        self.name = name
        self.location = url or str(path)
        self._embedded = EmbeddedChroma.of(path, state.generation if state else 0) if path is not None else None
        if self._embedded is not None and state is not None:
            self._embedded.catch_up(state.generation, foreign=state.writer != PROCESS)
        self._server = _server_client(url) if url else None
        self._resolve_name = resolve_name or (lambda: self.name)
        if owner is not None and not adopt:
            self.check_owner(self.name, owned)
        self._epoch = self._embedded.epoch if self._embedded else 0
        self._collection = self._open_collection(create=True)

    @property
    def _client(self) -> Any:
        return self._embedded.client if self._embedded is not None else self._server

    def check_owner(self, name: str, owned: bool) -> None:
        """Refuse (``ForeignCollectionError``) when the collection ``name`` belongs to another library."""
        owner = self.owner
        try:
            existing = self._client.get_collection(name)
        except Exception:
            return  # none yet (or unreachable: opening it says so)
        recorded = (existing.metadata or {}).get("zhiku_library")
        if recorded == owner or (recorded is None and (owned or existing.count() == 0)):
            return
        raise ForeignCollectionError(
            f"向量库 {self.location} 中的集合 {name} 属于另一个知识库（{recorded or '来源不明'}），"
            f"本知识库为 {owner}。多个实例共用一个 Chroma 服务时请使用同一个 ZHIKU_HOME；"
            "确需接管（会删除其中全部向量并按本知识库重建）请运行 `zhiku reindex --adopt`。"
            f" (the collection belongs to another library: {recorded}; this one is {owner}. "
            "Share one ZHIKU_HOME, or run `zhiku reindex --adopt` to take it over and rebuild it)"
        )

    def _open_collection(self, *, create: bool) -> Any:
        """The collection ``self.name``; ``create`` makes it when missing (only on the first open:
        a collection deleted under a reader must not come back empty)."""
        identity: dict[str, Any] = {"zhiku_embedder": self.embedder_name, "zhiku_dim": self.dim}
        if self.owner is not None:
            identity["zhiku_library"] = self.owner
        try:
            if create:
                collection = self._client.get_or_create_collection(
                    self.name,
                    metadata=identity,
                    configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_BEAM}},
                    embedding_function=None,
                )
            else:
                collection = self._client.get_collection(self.name, embedding_function=None)
        except Exception as error:  # connection refused, server error: say where
            kind = StoreUnavailableError if _unreachable(error) else ZhikuError
            raise kind(f"无法打开向量库 {self.location} (cannot open the Chroma store): {error}") from error
        stored = collection.metadata or {}
        name, dim = stored.get("zhiku_embedder"), stored.get("zhiku_dim")
        if (name, dim) != (self.embedder_name, self.dim):
            raise EmbedderMismatchError(
                f"索引是用嵌入模型 {name}（{dim} 维）建立的，当前设置为 {self.embedder_name}（{self.dim} 维）。"
                f"请运行 `zhiku reindex` 用当前模型重建索引，或把 ZHIKU_EMBED_MODEL 改回 {name}。"
                f" (index built with embedder {name}/{dim}, settings say {self.embedder_name}/{self.dim}: "
                "run `zhiku reindex` to rebuild)"
            )
        if self.owner is not None and stored.get("zhiku_library") != self.owner:
            # taken over (adopted, or made before owners were recorded): record the owner now
            collection.modify(metadata={**stored, "zhiku_library": self.owner})
        _widen_search(collection)
        return collection

    def drop(self, name: str | None = None) -> None:
        """Delete this collection, or the collection ``name`` (a re-index's old one, once the new
        one is in use)."""
        with contextlib.suppress(Exception):
            self._client.delete_collection(name or self.name)

    def drop_strays(self, keep: str) -> int:
        """Delete this library's collections other than ``keep`` (the new collection of a re-index
        that was killed before its swap). Returns how many were deleted."""
        dropped = 0
        for collection in self._client.list_collections():
            metadata = collection.metadata or {}
            if (
                collection.name != keep
                and collection.name.startswith(COLLECTION)
                and self.owner is not None
                and metadata.get("zhiku_library") == self.owner
            ):
                self._client.delete_collection(collection.name)
                dropped += 1
        return dropped

    def follow(self, state: LibraryState) -> None:
        """The library moved on to ``state``: open an embedded folder afresh when another process
        wrote to it, and switch to the collection in use."""
        if self._embedded is not None:
            self._embedded.catch_up(state.generation, foreign=state.writer != PROCESS)
        self.use(state.collection)

    def use(self, name: str) -> None:
        """Switch to the collection ``name`` (another process's re-index put it in use)."""
        if name != self.name:
            self.name = name
            self._collection = self._open_collection(create=False)

    def _current(self) -> Any:
        if self._embedded is not None and self._epoch != self._embedded.epoch:
            self._epoch = self._embedded.epoch  # the folder was opened afresh: fetch from the new client
            self._collection = self._open_collection(create=False)
        return self._collection

    def _call(self, action: Callable[[Any], _T]) -> _T:
        """``action(collection)``; when the collection was deleted meanwhile (a re-index in another
        process swapped in its new one), follow to the collection in use and try once more."""
        try:
            try:
                return action(self._current())
            except Exception as error:
                if "does not exist" not in str(error) and type(error).__name__ != "NotFoundError":
                    raise
                if self._embedded is not None:
                    self._embedded.reopen()
                self.name = self._resolve_name()
                self._epoch = self._embedded.epoch if self._embedded else 0
                self._collection = self._open_collection(create=False)
                return action(self._collection)
        except Exception as error:
            if _unreachable(error):
                raise StoreUnavailableError(
                    f"向量库暂时无法访问（{self.location}），请稍后再试；服务恢复后无需任何操作 "
                    f"(the vector store cannot be reached, retry later): {type(error).__name__}"
                ) from error
            raise

    def count(self) -> int:
        return int(self._call(lambda c: c.count()))

    def upsert(self, chunk_ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None:
        if len(chunk_ids) != len(vectors) or len(chunk_ids) != len(metadatas):
            raise ValueError("ids, vectors and metadatas must have the same length")
        step = max(1, min(2000, int(self._client.get_max_batch_size())))
        for start in range(0, len(chunk_ids), step):
            end = start + step
            ids, batch, metas = list(chunk_ids[start:end]), vectors[start:end], list(metadatas[start:end])
            self._call(lambda c: c.upsert(ids=ids, embeddings=batch, metadatas=metas))  # noqa: B023 - called at once

    def delete_docs(self, doc_ids: Collection[str]) -> None:
        if doc_ids:
            self._call(lambda c: c.delete(where={"doc_id": {"$in": sorted(doc_ids)}}))

    def delete_ids(self, chunk_ids: Sequence[str]) -> None:
        for start in range(0, len(chunk_ids), 2000):
            ids = list(chunk_ids[start : start + 2000])
            self._call(lambda c: c.delete(ids=ids))  # noqa: B023 - called at once

    def ids(self) -> set[str]:
        """Every chunk id in the collection (used to reconcile after a crash)."""
        out: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self._call(lambda c: c.get(include=[], limit=page, offset=offset))  # noqa: B023 - called at once
            out.update(got["ids"])
            if len(got["ids"]) < page:
                return out
            offset += page

    def query(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        doc_ids: Collection[str] | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[VectorHit]:
        if top_k <= 0:
            return []
        clauses: list[dict[str, Any]] = []
        if doc_ids is not None:
            clauses.append({"doc_id": {"$in": sorted(doc_ids)}})
        if kinds is not None:
            clauses.append({"kind": {"$in": sorted(kinds)}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        if (doc_ids is not None and not doc_ids) or (kinds is not None and not kinds):
            return []
        if where is not None:
            found = self._nearest_within(vector, top_k, doc_ids, kinds)
            if found is not None:
                return found
        result = self._call(
            lambda c: c.query(query_embeddings=vector.reshape(1, -1), n_results=top_k, where=where, include=["distances"])
        )
        return [VectorHit(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)]


    def _nearest_within(
        self, vector: np.ndarray, top_k: int, doc_ids: Collection[str] | None, kinds: Collection[str] | None
    ) -> list[VectorHit] | None:
        """The ``top_k`` nearest chunks that pass a filter, read off an unfiltered search of
        ``FILTER_OVERFETCH`` times as many, or None when fewer than ``top_k`` of those pass.

        When enough pass they are exactly what the filtered search returns: a passing chunk
        nearer than the last of them would be among the unfiltered hits too. A filtered search
        costs in proportion to the records its filter admits (Chroma reads their metadata
        first): a knowledge base of most of a 30k-chunk library took 0.2 s against 5 ms for
        this, and a narrow filter that this misses costs one extra unfiltered search."""
        depth = top_k * FILTER_OVERFETCH
        result = self._call(lambda c: c.query(query_embeddings=vector.reshape(1, -1), n_results=depth,
                                              include=["distances", "metadatas"]))
        ids, distances, metadatas = result["ids"][0], result["distances"][0], result["metadatas"][0]
        kept = [
            VectorHit(cid, 1.0 - float(dist))
            for cid, dist, meta in zip(ids, distances, metadatas, strict=True)
            if (doc_ids is None or (meta or {}).get("doc_id") in doc_ids)
            and (kinds is None or (meta or {}).get("kind") in kinds)
        ]
        if len(kept) >= top_k or len(ids) < depth:  # enough, or the whole collection was read
            return kept[:top_k]
        return None


def _widen_search(collection: Any) -> None:
    """Raise a collection's search beam to ``SEARCH_BEAM`` (collections made by earlier versions
    kept Chroma's default). A server too old to change it keeps its own."""
    hnsw = (getattr(collection, "configuration_json", None) or {}).get("hnsw") or {}
    if int(hnsw.get("ef_search") or 0) >= SEARCH_BEAM:
        return
    with contextlib.suppress(Exception):
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_BEAM}})


def chroma_collections(
    embedder_name: str, dim: int, *, path: Path | None = None, url: str | None = None
) -> VectorStoreFactory:
    """The ``VectorStoreFactory`` (``index.contracts``) of Chroma collections at ``path`` or ``url``."""

    def open_collection(
        name: str, *, owner: str, adopt: bool, owned: bool, state: LibraryState, resolve_name: Callable[[], str]
    ) -> ChromaStore:
        return ChromaStore(embedder_name, dim, path=path, url=url, name=name, owner=owner, adopt=adopt, owned=owned,
                           state=state, resolve_name=resolve_name)

    return open_collection


class EmbeddedChroma:
    """This process's client of one embedded Chroma folder, shared by every store on it.

    Embedded Chroma keeps a collection's search graph in memory and does not see what another
    process (``zhiku ingest`` beside ``zhiku serve``) writes to the folder. So when the library's
    change sequence shows a write by another process, the folder is opened afresh (``catch_up``)
    and every store on it fetches its collection from the new client (``epoch``). Writes of this
    process go through the one client and need nothing.
    """

    _all: ClassVar[dict[str, EmbeddedChroma]] = {}
    _all_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, generation: int) -> None:
        self.path = path
        self.generation = generation  # the change sequence the client is known fresh at
        self.epoch = 0
        self._lock = threading.Lock()
        self.client = _embedded_client(path)

    @classmethod
    def of(cls, path: Path, generation: int = 0) -> EmbeddedChroma:
        key = os.path.realpath(path)
        with cls._all_lock:
            if key not in cls._all:
                cls._all[key] = cls(path, generation)
            return cls._all[key]

    @classmethod
    def known(cls, path: Path) -> EmbeddedChroma | None:
        with cls._all_lock:
            return cls._all.get(os.path.realpath(path))

    def catch_up(self, generation: int, foreign: bool) -> None:
        """The library is at ``generation``, last written by another process when ``foreign``."""
        with self._lock:
            if generation <= self.generation:
                return
            self.generation = generation
            if foreign:
                self._reopen()

    def reopen(self) -> None:
        with self._lock:
            self._reopen()

    def _reopen(self) -> None:
        import chromadb

        # a new client gets a new system (Chroma shares one per folder); the old one stays usable
        # by whatever call is running on it and goes when its last collection does
        chromadb.api.client.SharedSystemClient.clear_system_cache()
        self.client = _embedded_client(self.path)
        self.epoch += 1


def _embedded_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def _server_client(url: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(f"ZHIKU_CHROMA_URL 无效 (invalid Chroma URL): {url!r}; 例如 e.g. http://127.0.0.1:8000")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        return chromadb.HttpClient(
            host=parsed.hostname,
            port=port,
            ssl=parsed.scheme == "https",
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as error:
        raise StoreUnavailableError(
            f"无法连接向量库 Chroma 服务器 {url}，请确认它在运行；恢复后无需任何操作 (cannot reach the Chroma server): {error}"
        ) from error
