"""The store contracts (``index.contracts``): tests every implementation must pass, run on the
embedded ones and on a second vector store written here from the contract alone (exact cosine
search in numpy), which the index then uses in place of Chroma."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np
import pytest

from index.contracts import DocumentStore, LexicalStore, VectorStore
from index.docstore import DocStore, LibraryState
from index.embed import E5SmallEmbedder
from index.indexer import Index
from index.lexical import LexicalIndex
from index.store import ChromaStore, ForeignCollectionError, VectorHit
from index.tokenize import ChineseTokenizer
from ingest.chunk import Chunker
from ingest.pipeline import ingest_file

RULES = "实习管理规定\n\n第一条 学生实习须签订三方协议。\n第二条 实习单位应购买实习责任保险。\n"


class ExactVectorStore:
    """Collections of vectors in memory, searched exactly: the contract and nothing else."""

    def __init__(self, collections: dict[str, dict[str, tuple[np.ndarray, dict[str, str]]]], name: str, owner: str) -> None:
        self._collections, self.name, self.owner, self.location = collections, name, owner, "memory"
        self._collections.setdefault(name, {})

    @property
    def _rows(self) -> dict[str, tuple[np.ndarray, dict[str, str]]]:
        return self._collections[self.name]

    def count(self) -> int:
        return len(self._rows)

    def upsert(self, chunk_ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None:
        for chunk_id, vector, metadata in zip(chunk_ids, vectors, metadatas, strict=True):
            self._rows[chunk_id] = (vector / np.linalg.norm(vector), dict(metadata, owner=self.owner))

    def delete_docs(self, doc_ids: Collection[str]) -> None:
        for chunk_id in [c for c, (_, m) in self._rows.items() if m["doc_id"] in doc_ids]:
            del self._rows[chunk_id]

    def delete_ids(self, chunk_ids: Sequence[str]) -> None:
        for chunk_id in chunk_ids:
            self._rows.pop(chunk_id, None)

    def ids(self) -> set[str]:
        return set(self._rows)

    def query(self, vector: np.ndarray, top_k: int, *, doc_ids: Collection[str] | None = None,
              kinds: Collection[str] | None = None) -> list[VectorHit]:
        vector = vector.reshape(-1) / np.linalg.norm(vector)
        hits = [VectorHit(c, float(v @ vector)) for c, (v, m) in self._rows.items()
                if (doc_ids is None or m["doc_id"] in doc_ids) and (kinds is None or m["kind"] in kinds)]
        return sorted(hits, key=lambda h: -h.similarity)[: max(top_k, 0)]

    def follow(self, state: LibraryState) -> None:
        self.name = state.collection

    def drop(self, name: str | None = None) -> None:
        self._collections.pop(name or self.name, None)

    def drop_strays(self, keep: str) -> int:
        strays = [n for n in self._collections if n != keep]
        for name in strays:
            del self._collections[name]
        return len(strays)

    def check_owner(self, name: str, owned: bool) -> None:
        rows = self._collections.get(name, {})
        if any(m["owner"] != self.owner for _, m in rows.values()):
            raise ForeignCollectionError(f"collection {name} belongs to another library")


def exact_factory() -> Callable[..., ExactVectorStore]:
    collections: dict[str, dict[str, tuple[np.ndarray, dict[str, str]]]] = {}

    def open_collection(name: str, *, owner: str, adopt: bool, owned: bool, state: LibraryState,
                        resolve_name: Callable[[], str]) -> ExactVectorStore:
        store = ExactVectorStore(collections, name, owner)
        if not adopt:
            store.check_owner(name, owned)
        return store

    return open_collection


@pytest.fixture(params=["chroma", "exact"])
def vector_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], VectorStore]:
    if request.param == "chroma":
        return lambda name: ChromaStore("test", 4, path=tmp_path / "chroma", name=name, owner="lib-a")
    factory = exact_factory()
    state = LibraryState(0, "", "zhiku_chunks")
    return lambda name: factory(name, owner="lib-a", adopt=True, owned=True, state=state, resolve_name=lambda: name)


def test_vector_store_contract(vector_store: Callable[[str], VectorStore]) -> None:
    store = vector_store("zhiku_chunks")
    vectors = np.eye(4, dtype=np.float32)[:3] + 0.01
    store.upsert(["a", "b", "c"], vectors, [{"doc_id": "d1", "kind": "text"}] * 2 + [{"doc_id": "d2", "kind": "table_row"}])
    store.upsert(["a"], vectors[:1], [{"doc_id": "d1", "kind": "text"}])  # upsert, never a duplicate
    assert store.count() == 3 and store.ids() == {"a", "b", "c"}
    assert [h.chunk_id for h in store.query(vectors[1], 1)] == ["b"]
    assert store.query(vectors[1], 1)[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert {h.chunk_id for h in store.query(vectors[0], 3, kinds={"table_row"})} == {"c"}
    assert {h.chunk_id for h in store.query(vectors[0], 3, doc_ids={"d1"})} == {"a", "b"}
    store.delete_docs({"d2"})
    store.delete_ids(["a"])
    assert store.ids() == {"b"}

    other = vector_store("zhiku_chunks-new")  # a re-index's collection beside the one in use
    other.upsert(["x"], vectors[2:], [{"doc_id": "d3", "kind": "text"}])
    store.follow(LibraryState(1, "", "zhiku_chunks-new"))
    assert store.name == "zhiku_chunks-new" and store.ids() == {"x"}
    other.drop("zhiku_chunks")
    vector_store("zhiku_chunks-killed")  # what a killed re-index left
    assert store.drop_strays(keep="zhiku_chunks-new") == 1
    assert other.ids() == {"x"}


def test_lexical_and_document_store_contracts(tmp_path: Path) -> None:
    lexical: LexicalStore = LexicalIndex(ChineseTokenizer(), tmp_path / "lexical.npz")
    documents: DocumentStore = DocStore(tmp_path / "docstore.sqlite3")
    source = tmp_path / "规定.txt"
    source.write_text(RULES, encoding="utf-8")
    result = ingest_file(source, Chunker())
    before = documents.state()
    documents.put_pending([(result.document, result.chunks)], "v")
    assert documents.documents() == [] and documents.chunk_count() == 0  # pending: not yet a document
    documents.commit_replacement(complete=[result.document.doc_id], deleting=[])
    after = documents.state()
    assert after.generation > before.generation and after.collection == before.collection
    assert [d.title for d in documents.documents()] == ["实习管理规定"]
    assert documents.chunk_count() == len(result.chunks)
    lexical.add_many((c.chunk_id, c.doc_id, c.kind, c.context) for c in documents.iter_chunks())
    lexical.save()
    assert lexical.chunk_ids() == {c.chunk_id for c in result.chunks}
    hits = lexical.search("实习责任保险", 1)
    assert hits and "保险" in documents.chunks([hits[0].chunk_id])[hits[0].chunk_id].text
    documents.delete([result.document.doc_id])
    assert documents.documents(status=None) == [] and documents.chunk_count() == 0
    documents.close()


@pytest.mark.slow
def test_the_index_runs_on_an_injected_vector_store(tmp_path: Path, e5_embedder: E5SmallEmbedder) -> None:
    from index.hybrid import HybridRetriever

    index = Index(tmp_path / "home", e5_embedder, vector_store=exact_factory())
    try:
        source = tmp_path / "规定.txt"
        source.write_text(RULES, encoding="utf-8")
        assert not index.update([source]).failures
        assert isinstance(index.vectors, ExactVectorStore) and not (tmp_path / "home" / "chroma").exists()
        assert index.check() == []
        hits = HybridRetriever(index).retrieve("实习要买什么保险？", 1)
        assert "保险" in hits[0].chunk.text
        index.reindex()
        assert index.vectors.name != "zhiku_chunks" and index.check() == []
    finally:
        index.close()
