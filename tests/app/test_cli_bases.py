"""`zhiku kb` and the --kb option of ingest, list, search and ask, end to end through main()."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main

# Written for this test: two short rules of different offices.
LEAVE = "学院教职工请假管理规定\n\n第一条 教职工因病请假三天以内的，由所在部门负责人审批。\n"
LAB = "实训室安全管理办法\n\n第一条 实训室实行安全责任人制度，每间实训室确定一名安全责任人。\n"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.txt").write_text(LEAVE, encoding="utf-8")
    (folder / "lab.txt").write_text(LAB, encoding="utf-8")
    return folder


def test_knowledge_bases_from_the_command_line(docs: Path) -> None:
    code, _, err = run("ingest", str(docs / "leave.txt"), "--kb", "人事")
    assert code == 0 and "新建知识库" in err and "人事" in err
    assert run("ingest", str(docs / "lab.txt"))[0] == 0

    code, out, _ = run("kb", "list", "--json")
    [base] = json.loads(out)
    assert (base["name"], base["documents"]) == ("人事", 1)
    code, out, _ = run("list", "--kb", "人事", "--json")
    assert [Path(d["source"]).name for d in json.loads(out)] == ["leave.txt"]

    # within the base, the lab rules are not there to be found, however well they match
    code, out, _ = run("search", "实训室安全责任人", "--kb", "人事", "--json")
    assert {Path(r["source"]).name for r in json.loads(out)["results"]} == {"leave.txt"}
    code, out, _ = run("ask", "因病请假三天以内由谁审批", "--kb", base["base_id"], "--json")
    assert code == 0 and {Path(c["source"]).name for c in json.loads(out)["citations"]} == {"leave.txt"}

    assert run("kb", "create", "实训")[0] == 0
    code, _, err = run("ask", "实训室安全责任人", "--kb", "实训")
    assert code == 2 and "还没有文档" in err
    assert run("kb", "add", "实训", "lab.txt")[0] == 0
    code, out, _ = run("ask", "每间实训室确定几名安全责任人", "--kb", "实训", "--json")
    assert {Path(c["source"]).name for c in json.loads(out)["citations"]} == {"lab.txt"}

    code, _, err = run("kb", "rename", "实训", "人事")
    assert code == 2 and "已有" in err
    assert run("kb", "rename", "实训", "实训安全")[0] == 0
    code, out, _ = run("kb", "delete", "实训安全", "--with-documents")
    assert code == 0 and "实训室安全管理办法" in out
    code, out, _ = run("list", "--json")
    assert [Path(d["source"]).name for d in json.loads(out)] == ["leave.txt"]
    code, _, err = run("kb", "delete", "实训安全")
    assert code == 2 and "没有知识库" in err
