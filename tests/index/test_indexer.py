"""Incremental, consistent indexing: re-ingest embeds nothing, change/remove leave nothing stale,
a SIGKILL mid-ingest is repaired, an index built with another embedder is refused."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.embed import E5SmallEmbedder, SentenceTransformerEmbedder
from index.hybrid import HybridRetriever
from index.indexer import Index
from index.store import EmbedderMismatchError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
SMALL = ["000_1945969dfabc08b4.txt", "002_99f5ec69276c87e7.txt", "004_3731aaf5d8013a17.txt"]


def assert_consistent(index: Index) -> None:
    """The docstore, Chroma and the lexical index hold exactly the same chunks, all complete."""
    assert not index.docstore.documents(status="pending")
    assert not index.docstore.documents(status="deleting")
    wanted = {c.chunk_id for c in index.docstore.iter_chunks()}
    assert index.vectors.ids() == wanted
    assert index.lexical.chunk_ids() == wanted
    assert index.lexical.doc_ids() == {d.doc_id for d in index.documents()}
    for doc in index.documents():
        assert doc.chunks == len(index.docstore.doc_chunks(doc.doc_id)) > 0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in SMALL:
        shutil.copy(CORPUS / name, docs / name)
    return docs


@pytest.fixture
def index(tmp_path: Path, e5_embedder: E5SmallEmbedder) -> Index:
    opened = Index(tmp_path / "home", e5_embedder)
    yield opened  # type: ignore[misc]
    opened.close()


def test_reingest_of_an_unchanged_corpus_embeds_nothing(index: Index, folder: Path) -> None:
    files = sorted(folder.iterdir())
    first = index.update(files)
    assert first.count("added") == 3 and not first.failures
    assert first.embedded == index.docstore.chunk_count() > 40
    assert_consistent(index)

    second = index.update(files)
    assert second.embedded == 0
    assert second.count("unchanged") == 3 and second.count("added") == 0
    assert_consistent(index)


def test_changed_file_replaces_its_chunks_everywhere(index: Index, folder: Path) -> None:
    target = folder / SMALL[1]
    index.update(sorted(folder.iterdir()))
    [old] = [d for d in index.documents() if d.source == str(target)]
    old_chunks = {c.chunk_id for c in index.docstore.doc_chunks(old.doc_id)}

    text = target.read_text(encoding="utf-8").replace("广东工程职业教育集团", "粤东智能制造职教联盟", 1)
    target.write_text(text + "\n补充说明：联盟共建校外实训基地一百二十七个。\n", encoding="utf-8")
    report = index.update(sorted(folder.iterdir()))

    assert report.count("replaced") == 1 and report.count("unchanged") == 2
    assert report.removed_docs == 1
    assert index.docstore.document(old.doc_id) is None
    [new] = [d for d in index.documents() if d.source == str(target)]
    assert new.doc_id != old.doc_id
    assert not old_chunks & index.vectors.ids()
    assert not old_chunks & index.lexical.chunk_ids()
    assert_consistent(index)
    hits = HybridRetriever(index).retrieve("联盟共建校外实训基地多少个", top_k=3)
    assert any("一百二十七" in h.chunk.text for h in hits)


def test_remove_deletes_a_document_everywhere(index: Index, folder: Path) -> None:
    index.update(sorted(folder.iterdir()))
    [doc] = index.resolve(SMALL[0])
    assert index.remove([doc.doc_id]) == 1
    assert_consistent(index)
    assert doc.doc_id not in {d.doc_id for d in index.documents()}
    hits = HybridRetriever(index).retrieve("产业学院实行理事会领导下的院长负责制", top_k=10)
    assert all(h.chunk.doc_id != doc.doc_id for h in hits)
    assert index.remove([doc.doc_id]) == 0


def test_moved_and_copied_files_are_not_embedded_again(index: Index, folder: Path) -> None:
    shutil.copy(folder / SMALL[1], folder / "copy_in_the_same_run.txt")
    first = index.update(sorted(folder.iterdir()))
    assert first.count("added") == 3
    assert [Path(p).name for p, _ in first.duplicates] == ["copy_in_the_same_run.txt"]

    moved = folder / "renamed.txt"
    (folder / SMALL[0]).rename(moved)
    shutil.copy(folder / SMALL[2], folder / "later_copy.txt")
    report = index.update(sorted(folder.iterdir()))
    assert report.embedded == 0 and report.count("moved") == 1
    assert {Path(p).name for p, _ in report.duplicates} == {"copy_in_the_same_run.txt", "later_copy.txt"}
    assert index.resolve("renamed.txt")[0].source == str(moved)
    assert_consistent(index)


def test_lost_lexical_file_and_vectors_are_repaired(index: Index, folder: Path) -> None:
    index.update(sorted(folder.iterdir()))
    index.lexical_path.unlink()
    some = sorted(index.vectors.ids())[:5]
    index.vectors.delete_ids(some)
    repaired = index.repair()
    assert repaired.lexical_rebuilt and repaired.vectors_added == 5
    assert_consistent(index)


def test_another_embedder_is_refused_until_reindex(
    tmp_path: Path, folder: Path, e5_embedder: E5SmallEmbedder, minilm_embedder: SentenceTransformerEmbedder
) -> None:
    home = tmp_path / "home"
    first = Index(home, e5_embedder)
    first.update([folder / SMALL[0]])
    first.close()

    other = Index(home, minilm_embedder)
    with pytest.raises(EmbedderMismatchError, match="zhiku reindex") as info:
        other.vectors.count()
    assert "e5-small" in str(info.value)
    report = other.reindex()
    assert report.embedded == other.docstore.chunk_count() > 0
    assert_consistent(other)
    assert other.vectors.embedder_name == minilm_embedder.name
    other.close()


# --------------------------------------------------------------------------------------
# SIGKILL in the middle of an ingest
# --------------------------------------------------------------------------------------


def _rows(db: Path, status: str) -> int:
    """Documents with ``status``, read with a normal connection: after a SIGKILL a read-only
    connection cannot recover the WAL and fails."""
    with sqlite3.connect(db, timeout=5) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM documents WHERE status = ?", (status,)).fetchone()[0])


def _half_written(db: Path) -> bool:
    """One batch complete and the next one pending."""
    if not db.exists():
        return False
    try:
        return _rows(db, "pending") >= 1 and _rows(db, "complete") >= 1
    except sqlite3.Error:  # the schema is being created
        return False


@pytest.mark.slow
def test_sigkill_mid_ingest_is_repaired_and_completed(tmp_path: Path, e5_embedder: E5SmallEmbedder) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for law in sorted((CORPUS / "laws").glob("*.md")):
        if law.name.startswith(("北京市", "河南省实施", "宁波市职业")):  # four short laws, ~140 chunks
            shutil.copy(law, folder / law.name)
    home = tmp_path / "home"
    env = {**os.environ, "ZHIKU_HOME": str(home), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "app", "ingest", str(folder), "--batch-chunks", "40"]
    db = home / "docstore.sqlite3"

    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    # wait until one batch is complete and the next one is half-written, then kill
    while time.monotonic() < deadline and process.poll() is None:
        if _half_written(db):
            break
        time.sleep(0.05)
    assert process.poll() is None, "ingest finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert _rows(db, "pending") >= 1  # the kill really left a half-written batch

    index = Index(home, e5_embedder)
    complete_before = len(index.documents())
    # before any repair, the pending batch's chunks are in the vectors and may be in BM25, yet
    # no search cites them: only complete documents are passages
    from index.hybrid import HybridRetriever

    complete = {d.doc_id for d in index.documents()}
    hits = HybridRetriever(index).retrieve("职业教育 学校 企业 实习", 40)
    assert hits and {hit.chunk.doc_id for hit in hits} <= complete
    repaired = index.repair()
    assert repaired.dropped_docs >= 1
    assert_consistent(index)
    assert len(index.documents()) == complete_before >= 1
    index.close()

    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    index = Index(home, e5_embedder)
    assert len(index.documents()) == len(list(folder.iterdir()))
    assert_consistent(index)
    index.close()


def test_a_file_given_by_a_relative_and_an_absolute_path_is_one_document(
    index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edited file replaces its old version whatever path it was given by before."""
    folder = tmp_path / "docs"
    folder.mkdir()
    target = folder / "放假通知.txt"
    target.write_text("放假通知\n国庆节放假六天。\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    index.update([Path("docs/放假通知.txt")])
    [first] = index.documents()
    assert first.source == str(target.resolve())
    target.write_text("放假通知\n国庆节放假七天。\n", encoding="utf-8")
    report = index.update([target.resolve()])
    [current] = index.documents()
    assert current.doc_id != first.doc_id and report.count("replaced") == 1
    assert "七天" in index.docstore.text(current.doc_id) and not index.resolve(first.doc_id)
    assert index.resolve("docs/放假通知.txt") == [current]  # removable by either path
    assert_consistent(index)


def test_copies_of_a_failing_file_each_fail_and_none_is_called_a_duplicate(index: Index, tmp_path: Path) -> None:
    broken = b"%PDF-1.4\n this is no pdf at all"
    paths = [tmp_path / "a.pdf", tmp_path / "b.pdf"]
    for path in paths:
        path.write_bytes(broken)
    report = index.update(paths)
    assert [Path(p).name for p, _ in report.failures] == ["a.pdf", "b.pdf"]
    assert not report.duplicates


def test_vectors_a_killed_reindex_lost_are_embedded_again_and_counted(index: Index, folder: Path) -> None:
    index.update(sorted(folder.iterdir()))
    chunks = index.docstore.chunk_count()
    index.vectors.delete_ids(sorted(index.vectors.ids()))  # what a reindex killed after its drop leaves
    report = index.update(sorted(folder.iterdir()))
    assert report.embedded == chunks  # said, not 「embedded: 0」
    assert index.vectors.count() == chunks
    assert_consistent(index)


def test_a_new_title_is_embedded_and_indexed_with_the_document_s_chunks(index: Index, folder: Path) -> None:
    index.update(sorted(folder.iterdir()))
    [doc] = index.resolve(SMALL[0])
    before = {c.chunk_id: c.context for c in index.docstore.doc_chunks(doc.doc_id)}
    title = "鲲鹏职教联合体年度纪要"  # 鲲鹏: a word no document holds
    assert not index.lexical.search("鲲鹏", top_k=5)
    assert index.retitle(doc.doc_id, title) == len(before)
    stored = index.docstore.document(doc.doc_id)
    assert stored is not None and stored.title == title
    after = {c.chunk_id: c.context for c in index.docstore.doc_chunks(doc.doc_id)}
    assert after.keys() == before.keys()
    for chunk_id, context in after.items():
        assert context.startswith(title + "\n")
        assert context.split("\n", 1)[1] == before[chunk_id].split("\n", 1)[1]  # only the title changed
    assert_consistent(index)
    # searching by the new title finds the document, by words and by meaning
    found = index.lexical.search("鲲鹏", top_k=5)
    assert found and all(hit.chunk_id in after for hit in found)
    hits = HybridRetriever(index).retrieve("鲲鹏职教联合体年度纪要", top_k=3)
    assert hits and hits[0].chunk.doc_id == doc.doc_id
    assert index.retitle(doc.doc_id, title) == 0  # the same title again embeds nothing
