"""The Chroma store in both modes: embedded (PersistentClient) and a real server (``chroma run``)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.embed import E5SmallEmbedder
from index.hybrid import HybridRetriever
from index.indexer import Index
from index.store import COLLECTION, SEARCH_BEAM, ChromaStore, EmbedderMismatchError, ForeignCollectionError, _server_client
from ingest.errors import SettingsError
from tests.servers import free_port, running

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "corpus" / "000_1945969dfabc08b4.txt", ROOT / "corpus" / "004_3731aaf5d8013a17.txt"]
QUESTIONS = ["产业学院实行什么管理体制", "校企合作典型专题有哪些", "工作步骤分几个阶段"]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``chroma run`` on 127.0.0.1, stopped when the module's tests are done."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI comes with the chromadb package"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma_server")
    url = f"http://127.0.0.1:{port}"
    command = [chroma, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with running(command, f"{url}/api/v2/heartbeat", data / "server.log", timeout=60):
        yield url


def _ranked(index: Index) -> list[list[tuple[str, int]]]:
    retriever = HybridRetriever(index, expand=False)
    return [[(h.chunk.chunk_id, h.dense_rank or 0) for h in retriever.retrieve(q, top_k=6)] for q in QUESTIONS]


@pytest.mark.slow
def test_embedded_and_server_modes_give_the_same_results(
    tmp_path: Path, chroma_server: str, e5_embedder: E5SmallEmbedder
) -> None:
    embedded = Index(tmp_path / "embedded", e5_embedder)
    served = Index(tmp_path / "served", e5_embedder, chroma_url=chroma_server)
    try:
        embedded.update(DOCS)
        served.update(DOCS)
        assert served.vectors.location == chroma_server
        assert served.vectors.count() == embedded.vectors.count() == embedded.docstore.chunk_count()
        assert served.vectors.ids() == embedded.vectors.ids()
        assert _ranked(served) == _ranked(embedded)
    finally:
        embedded.close()
        served.close()


@pytest.mark.slow
def test_a_second_library_on_a_shared_server_never_deletes_the_first_one_s_vectors(
    tmp_path: Path, chroma_server: str, e5_embedder: E5SmallEmbedder
) -> None:
    """B's repair would take A's vectors for strays of its empty docstore: B is refused instead."""
    first = Index(tmp_path / "a", e5_embedder, chroma_url=chroma_server)
    second = Index(tmp_path / "b", e5_embedder, chroma_url=chroma_server)
    try:
        server = _server_client(chroma_server)
        for collection in server.list_collections():  # other tests' libraries
            server.delete_collection(collection.name)
        first.update(DOCS[:1])
        held = first.vectors.ids()
        assert held and len(held) == first.docstore.chunk_count()
        with pytest.raises(ForeignCollectionError, match="zhiku reindex --adopt"):
            second.update(DOCS[1:])
        with pytest.raises(ForeignCollectionError):
            second.reindex()  # a rebuild would drop the collection: refused too
        assert first.vectors.ids() == held  # nothing of A's was deleted
        assert _ranked(first)[0]  # and A still answers
        second.reindex(adopt=True)  # taken over on purpose
        second.update(DOCS[1:])
        assert second.vectors.count() == second.docstore.chunk_count()
    finally:
        first.close()
        second.close()


def test_store_records_its_embedder_and_refuses_another(tmp_path: Path) -> None:
    store = ChromaStore("e5-small", 4, path=tmp_path / "chroma")
    vectors = np.eye(4, dtype=np.float32)[:3]
    store.upsert(["a", "b", "c"], vectors, [{"doc_id": "d1", "kind": "text"}] * 2 + [{"doc_id": "d2", "kind": "table_row"}])
    assert [h.chunk_id for h in store.query(vectors[1], 1)] == ["b"]
    assert store.query(vectors[1], 1)[0].similarity == pytest.approx(1.0)
    assert {h.chunk_id for h in store.query(vectors[0], 3, kinds={"table_row"})} == {"c"}
    assert {h.chunk_id for h in store.query(vectors[0], 3, doc_ids={"d1"})} == {"a", "b"}
    store.upsert(["a"], vectors[:1], [{"doc_id": "d1", "kind": "text"}])  # upsert, never duplicate
    assert store.count() == 3

    with pytest.raises(EmbedderMismatchError, match="zhiku reindex"):
        ChromaStore("bge-small-zh", 512, path=tmp_path / "chroma")
    rebuilt = ChromaStore("bge-small-zh", 512, path=tmp_path / "chroma", name="zhiku_chunks-rebuilt")
    assert rebuilt.count() == 0  # a re-index builds beside the old collection


def test_bad_server_url_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ZHIKU_CHROMA_URL"):
        ChromaStore("e5-small", 384, url="localhost:8000")


def test_a_reader_follows_a_rebuilt_collection(tmp_path: Path) -> None:
    """A re-index (``zhiku reindex``, the app's 重建索引) builds a new collection, puts it in use
    and deletes the old one while a reader holds it: the reader's next call follows to the
    collection in use instead of failing, and never re-creates the deleted one empty."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 8)).astype(np.float32)
    in_use = ["zhiku_chunks"]
    reader = ChromaStore("test", 8, path=tmp_path, resolve_name=lambda: in_use[0])
    reader.upsert(["a", "b", "c"], vectors, [{"doc_id": "d", "kind": "text"}] * 3)
    writer = ChromaStore("test", 8, path=tmp_path, name="zhiku_chunks-1")
    writer.upsert(["x"], vectors[:1], [{"doc_id": "e", "kind": "text"}])
    in_use[0] = writer.name
    writer.drop("zhiku_chunks")
    assert [h.chunk_id for h in reader.query(vectors[0], 3)] == ["x"]
    assert reader.name == "zhiku_chunks-1"
    newer = ChromaStore("test", 8, path=tmp_path, name="zhiku_chunks-2")
    in_use[0] = newer.name
    writer.drop()
    reader.upsert(["y"], vectors[1:2], [{"doc_id": "f", "kind": "text"}])  # the stale handle writes
    assert reader.count() == 1 and reader.ids() == {"y"} and newer.ids() == {"y"}
    names = {c.name for c in reader._client.list_collections()}
    assert names == {"zhiku_chunks-2"}


def test_the_search_beam_is_wide_on_new_and_old_collections(tmp_path: Path) -> None:
    """Sentence embeddings crowd into a narrow band of similarities, where Chroma's default HNSW
    beam (100) loses some queries' nearest chunks: every collection searches with ``SEARCH_BEAM``,
    also one an earlier version made with the default, and finds what an exact search finds."""
    import chromadb

    def beam(store: ChromaStore) -> int:
        return int(store._collection.configuration_json["hnsw"]["ef_search"])

    assert beam(ChromaStore("test", 8, path=tmp_path / "new")) == SEARCH_BEAM
    from chromadb.config import Settings as ChromaSettings

    old = chromadb.PersistentClient(path=str(tmp_path / "old"), settings=ChromaSettings(anonymized_telemetry=False))
    made = old.create_collection(
        COLLECTION,
        metadata={"zhiku_embedder": "test", "zhiku_dim": 8},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    assert made.configuration_json["hnsw"]["ef_search"] < SEARCH_BEAM
    rng = np.random.default_rng(3)
    vectors = (rng.normal(size=(1, 8)) * 3 + rng.normal(size=(600, 8))).astype(np.float32)  # one crowded band
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    made.add(ids=[str(i) for i in range(600)], embeddings=vectors)
    store = ChromaStore("test", 8, path=tmp_path / "old")
    assert beam(store) == SEARCH_BEAM
    for query in vectors[:20] + 0.05:
        exact = {str(i) for i in np.argsort(-(vectors @ query))[:10]}
        assert {h.chunk_id for h in store.query(query, 10)} == exact


def test_a_filter_gives_the_same_hits_read_off_a_deeper_unfiltered_search_or_filtered(tmp_path: Path) -> None:
    """``query`` with a filter first tries an unfiltered search ``FILTER_OVERFETCH`` times deeper;
    whether that suffices (a broad filter) or not (a narrow one), the hits are the filtered search's."""
    rng = np.random.default_rng(7)
    store = ChromaStore("test-embedder", 16, path=tmp_path / "chroma")
    vectors = rng.normal(size=(400, 16)).astype(np.float32)
    ids = [f"c{i}" for i in range(400)]
    store.upsert(ids, vectors, [{"doc_id": f"d{i % 40}", "kind": "table_row" if i % 3 else "text"} for i in range(400)])
    collection = store._current()

    def filtered(vector: np.ndarray, where: dict) -> list[str]:
        result = collection.query(query_embeddings=vector.reshape(1, -1), n_results=10, where=where, include=[])
        return list(result["ids"][0])

    broad = {f"d{i}" for i in range(36)}  # 90% of the chunks: read off the unfiltered search
    narrow = {"d3", "d17"}  # 5%: too few among the unfiltered hits, so the filtered search runs
    for query in rng.normal(size=(20, 16)).astype(np.float32):
        for docs in (broad, narrow):
            hits = [h.chunk_id for h in store.query(query, 10, doc_ids=docs)]
            assert hits == filtered(query, {"doc_id": {"$in": sorted(docs)}})
        hits = [h.chunk_id for h in store.query(query, 10, doc_ids=broad, kinds={"text"})]
        assert hits == filtered(query, {"$and": [{"doc_id": {"$in": sorted(broad)}}, {"kind": {"$in": ["text"]}}]})
