"""The index commands end to end: ingest (incremental), search, list, remove, reindex."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["002_99f5ec69276c87e7.txt", "004_3731aaf5d8013a17.txt"]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZHIKU_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no zhiku.toml from the project
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(ROOT / "corpus" / name, folder / name)
    return folder


@pytest.mark.slow
def test_ingest_search_list_remove_reindex(library: Path) -> None:
    shutil.copy(ROOT / "tests" / "fixtures" / "海南省农机购置与应用补贴实施方案的通知.doc", library / "old.doc")
    code, out, _ = run(["ingest", str(library), "--json"])
    summary = json.loads(out)
    assert code == 1  # the .doc failed, the rest is indexed
    assert summary["added"] == 2 and summary["failed"] == 1
    assert ".docx" in summary["failures"][0]["error"]
    assert summary["embedded_chunks"] == summary["index"]["chunks"] > 20

    code, out, _ = run(["ingest", str(library / DOCS[0]), str(library / DOCS[1]), "--json"])
    again = json.loads(out)
    assert code == 0 and again["unchanged"] == 2 and again["embedded_chunks"] == 0

    code, out, _ = run(["search", "市教育局会围绕哪些专题遴选校企合作典型", "--json", "-k", "3"])
    results = json.loads(out)["results"]
    assert code == 0 and len(results) == 3
    top = results[0]
    assert top["source"].endswith(DOCS[1]) and top["title"] == "推进校企合作以技术赋能企业专项行动方案"
    assert "遴选部分校企合作典型" in "".join(r["text"] for r in results)
    assert {"section_path", "page", "score", "dense_rank", "lexical_rank", "start", "end"} <= top.keys()

    code, out, _ = run(["search", "示范性职教集团"])
    assert code == 0 and "[1] 《" in out and "score=" in out

    code, out, _ = run(["list", "--json"])
    listed = json.loads(out)
    assert sorted(Path(d["source"]).name for d in listed) == DOCS

    code, out, _ = run(["remove", DOCS[1]])
    assert code == 0 and "推进校企合作以技术赋能企业专项行动方案" in out
    code, out, _ = run(["search", "市教育局会围绕哪些专题遴选校企合作典型", "--json"])
    assert all(not r["source"].endswith(DOCS[1]) for r in json.loads(out)["results"])
    code, out, _ = run(["list"])
    assert "共 1 个文档" in out

    code, _, err = run(["search", "校企合作", "--doc", "no-such-document"])
    assert code == 2 and "zhiku list" in err

    code, out, _ = run(["reindex"])
    assert code == 0 and "1 个文档" in out


def test_search_on_an_empty_index_says_what_to_do(library: Path) -> None:
    code, out, _ = run(["search", "校企合作"])
    assert code == 0 and "zhiku ingest" in out


@pytest.mark.slow
def test_eval_writes_results_and_compares(library: Path, tmp_path: Path) -> None:
    assert run(["ingest", str(library)])[0] == 0
    questions = tmp_path / "q.jsonl"
    items = [
        {"id": "q1", "type": "list", "question": "市教育局会围绕哪些专题遴选校企合作典型？", "answer": "",
         "must_include": ["校企协同育人"], "sources": [{"doc": DOCS[1], "quote": "专题遴选部分校企合作典型"}]},
        {"id": "q2", "type": "unanswerable", "question": "2030年有多少所学校参加？", "answer": "", "must_include": [],
         "sources": []},
    ]
    lines = [json.dumps(i, ensure_ascii=False) for i in items]
    questions.write_text("\n".join([lines[0], "{broken", lines[1]]) + "\n", encoding="utf-8")

    code, out, err = run(["eval", str(questions), "--generator", "quote", "--out", str(tmp_path / "run")])
    assert code == 1  # one malformed line, reported and skipped
    assert "line 2" in err
    assert "| metric |" in out and "unanswerable (1)" in out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    overall = summary["overall"]
    assert summary["meta"]["generator"] == "quote" and overall["items"] == 2
    assert overall["valid_citations"] == 1.0 and overall["cited_sentences"] == 1.0
    assert overall["refusal_rate"] == 0.0  # the quote generator never refuses: the harness says so
    assert overall["retrieval_any_quote"] == 1.0
    results = (tmp_path / "run" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in results] == ["q1", "q2"]
    assert "q2" in (tmp_path / "run" / "report.md").read_text(encoding="utf-8")

    code, out, _ = run(["eval", "--compare", str(tmp_path / "run"), str(tmp_path / "run")])
    assert code == 0 and "no item changed" in out
