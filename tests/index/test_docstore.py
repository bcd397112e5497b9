"""The document store's listings follow every write, its own and another connection's."""

from __future__ import annotations

from pathlib import Path

from index.docstore import DocStore
from ingest.chunk import Chunker
from ingest.pipeline import ingest_file


def test_titles_follow_writes_of_this_and_of_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "docstore.sqlite3"
    reader, writer = DocStore(path), DocStore(path)
    try:
        assert reader.titles() == {}
        source = tmp_path / "实习管理办法.txt"
        source.write_text("实习管理办法\n第一条 学生实习每月补贴不低于300元。\n", encoding="utf-8")
        result = ingest_file(source, Chunker())
        doc_id = result.document.doc_id
        writer.put_pending([(result.document, result.chunks)], "test")
        assert reader.titles() == {}  # pending: not listed yet
        writer.set_status([doc_id], "complete")
        assert reader.titles() == {doc_id: result.document.title}  # another connection's commit
        assert reader.sources()[doc_id].endswith("实习管理办法.txt")
        reader.delete([doc_id])
        assert reader.titles() == {} and writer.titles() == {}  # its own write, and the other's view
    finally:
        reader.close()
        writer.close()


def test_only_chunks_of_complete_documents_are_looked_up(tmp_path: Path) -> None:
    """A document an interrupted ingest left pending (its vectors written) is never cited."""
    store = DocStore(tmp_path / "docstore.sqlite3")
    try:
        source = tmp_path / "放假办法.txt"
        source.write_text("放假办法\n第一条 春节放假四天。\n", encoding="utf-8")
        result = ingest_file(source, Chunker())
        ids = [c.chunk_id for c in result.chunks]
        store.put_pending([(result.document, result.chunks)], "test")
        assert store.chunks(ids) == {}
        store.set_status([result.document.doc_id], "complete")
        assert set(store.chunks(ids)) == set(ids)
        store.set_status([result.document.doc_id], "deleting")
        assert store.chunks(ids) == {}
    finally:
        store.close()
