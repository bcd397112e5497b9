"""Knowledge bases: named parts of the library, kept by document id, that filter retrieval in
Chroma and BM25 before ranking."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.bases import BaseNameError, UnknownBaseError
from index.embed import E5SmallEmbedder
from index.hybrid import Filters, HybridRetriever
from index.indexer import Index

# Two short documents on different subjects, written for these tests.
LEAVE = """学院教职工请假管理规定

第一条 教职工因病请假三天以内的，由所在部门负责人审批。
第二条 请假超过三天的，报人事处审批，并提交二级以上医院证明。
"""
LAB = """实训室安全管理办法

第一条 实训室实行安全责任人制度，每间实训室确定一名安全责任人。
第二条 学生进入实训室前须接受安全教育，考核合格后方可操作设备。
"""


@pytest.fixture
def index(tmp_path: Path, e5_embedder: E5SmallEmbedder) -> Index:
    opened = Index(tmp_path / "home", e5_embedder)
    yield opened  # type: ignore[misc]
    opened.close()


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_names_are_cleaned_unique_and_found_by_name_or_id(index: Index) -> None:
    policy = index.create_base("  政策\u3000法规 ", "国家与省里的文件")
    assert policy.name == "政策 法规" and policy.base_id.startswith("kb_")
    assert index.base("政策 法规") == index.base(policy.base_id)
    with pytest.raises(BaseNameError, match="已有"):
        index.create_base("政策 法规")
    with pytest.raises(BaseNameError, match="1 到 40"):
        index.create_base(" \t ")
    with pytest.raises(UnknownBaseError, match="政策 法规"):  # the message lists the existing ones
        index.base("本校年报")
    renamed = index.edit_base(policy.base_id, name="政策法规")
    assert renamed.base_id == policy.base_id and [b.name for b in index.bases()] == ["政策法规"]
    index.create_base("本校年报")
    with pytest.raises(BaseNameError):
        index.edit_base("本校年报", name="政策法规")


def test_a_base_filter_reaches_both_retrievers_before_ranking(index: Index, tmp_path: Path) -> None:
    hr = index.create_base("人事")
    index.update([_write(tmp_path / "docs", "leave.txt", LEAVE)], bases=[hr.base_id])
    index.update([_write(tmp_path / "docs", "lab.txt", LAB)])
    [leave] = index.resolve("leave.txt")
    assert index.base_documents(["人事"]) == {leave.doc_id}
    assert index.base("人事").documents == 1

    retriever = HybridRetriever(index, candidates=1)
    # the best passage for this question is in the lab document, outside the base: a top-1 cut
    # filtered afterwards would leave nothing, a filter inside both retrievers finds the base's own
    question = "实训室安全责任人"
    assert retriever.retrieve(question, top_k=1)[0].chunk.doc_id != leave.doc_id
    within = retriever.retrieve(question, top_k=1, filters=Filters.of(doc_ids=index.base_documents(["人事"])))
    assert [h.chunk.doc_id for h in within] == [leave.doc_id]
    dense, lexical = retriever.candidates_for("请假", 5, Filters.of(doc_ids={leave.doc_id}))
    assert dense and {index.docstore.chunks([h.chunk_id])[h.chunk_id].doc_id for h in (*dense, *lexical)} == {leave.doc_id}


def test_membership_follows_a_document_through_edits_and_removal(index: Index, tmp_path: Path) -> None:
    hr, teaching = index.create_base("人事"), index.create_base("教学")
    path = _write(tmp_path / "docs", "leave.txt", LEAVE)
    index.update([path], bases=[hr.base_id])
    # an unchanged file ingested into another base joins it without being embedded again
    again = index.update([path], bases=[teaching.base_id])
    assert again.embedded == 0 and again.count("unchanged") == 1
    [old] = index.resolve("leave.txt")
    assert index.docstore.memberships()[old.doc_id] == sorted([hr.base_id, teaching.base_id])

    path.write_text(LEAVE + "第三条 本规定自发布之日起施行。\n", encoding="utf-8")
    assert index.update([path]).count("replaced") == 1
    [new] = index.resolve("leave.txt")
    assert new.doc_id != old.doc_id
    assert index.base_documents(["人事"]) == index.base_documents(["教学"]) == {new.doc_id}
    assert old.doc_id not in index.docstore.memberships()

    index.remove([new.doc_id])
    assert index.base_documents(["人事", "教学"]) == set() and index.docstore.memberships() == {}
    assert [b.documents for b in index.bases()] == [0, 0]


def test_deleting_a_base_keeps_or_removes_its_documents(index: Index, tmp_path: Path) -> None:
    hr, lab_base = index.create_base("人事"), index.create_base("实训")
    leave = _write(tmp_path / "docs", "leave.txt", LEAVE)
    lab = _write(tmp_path / "docs", "lab.txt", LAB)
    index.update([leave, lab], bases=[hr.base_id])
    index.update([lab], bases=[lab_base.base_id])  # the lab rules are in both

    assert index.delete_base("实训") == []
    assert len(index.documents()) == 2 and [b.name for b in index.bases()] == ["人事"]

    shared = index.create_base("共用")
    [lab_doc] = index.resolve("lab.txt")
    index.file_documents("共用", add=[lab_doc.doc_id])
    # with its documents: the one only in 人事 goes, the one also in 共用 stays
    assert [Path(d.source).name for d in index.delete_base("人事", with_documents=True)] == ["leave.txt"]
    assert [d.doc_id for d in index.documents()] == [lab_doc.doc_id]
    assert index.base_documents([shared.base_id]) == {lab_doc.doc_id}
    with pytest.raises(UnknownBaseError):
        index.delete_base("人事")


def test_a_base_deleted_while_its_file_was_indexed_costs_the_file_nothing(index: Index, tmp_path: Path) -> None:
    gone = index.create_base("临时")
    index.delete_base(gone.base_id)
    report = index.update([_write(tmp_path / "docs", "leave.txt", LEAVE)], bases=[gone.base_id])
    assert report.count("added") == 1 and not report.failures
    assert index.docstore.memberships() == {} and len(index.documents()) == 1
