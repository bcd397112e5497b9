"""The zhiku CLI: ingest summary, --json, bad files reported and skipped, atomic output."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_ingest_folder_reports_bad_files_and_keeps_the_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(ROOT / "corpus" / "000_1945969dfabc08b4.txt", folder / "report.txt")
    (folder / "gbk.txt").write_bytes("一、基本原则\n产教融合，校企合作。".encode("gb18030"))
    shutil.copy(FIXTURES / "海南省农机购置与应用补贴实施方案的通知.doc", folder / "old.doc")
    (folder / "NOTICE").write_text("not a document", encoding="utf-8")
    out_file = tmp_path / "chunks.jsonl"

    code, out, _ = run(["ingest", str(folder), "--out", str(out_file), "--json"])

    assert code == 1  # one file failed
    summary = json.loads(out)
    assert summary["documents"] == 2
    assert summary["ignored"] == 1
    [failure] = summary["failures"]
    assert failure["path"].endswith("old.doc") and ".docx" in failure["error"]
    records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(records) == summary["chunks"] > 0
    gbk = [r for r in records if r["source"].endswith("gbk.txt")]
    assert gbk and gbk[0]["section_path"] == ["一、基本原则"] and "产教融合" in gbk[0]["text"]
    docs = [json.loads(line) for line in (tmp_path / "chunks.documents.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {d["doc_id"]: d for d in docs}
    for record in records:
        assert by_id[record["doc_id"]]["text"][record["start"] : record["end"]] == record["text"]


def test_ingest_human_summary_and_missing_file(tmp_path: Path) -> None:
    code, out, _ = run(["ingest", str(ROOT / "corpus" / "002_99f5ec69276c87e7.txt"), str(tmp_path / "nope.pdf"),
                        "--out", str(tmp_path / "c.jsonl")])
    assert code == 1
    assert "文档 documents: 1" in out and "失败 failures: 1" in out
    assert "nope.pdf" in out


def test_bad_setting_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ZHIKU_CHUNK_MAX_CHARS", "10")
    code, _, err = run(["ingest", str(ROOT / "corpus" / "002_99f5ec69276c87e7.txt"), "--out", str(tmp_path / "c.jsonl")])
    assert code == 2 and "chunk_max_chars" in err


def test_a_folder_walk_reports_a_non_utf8_name_and_skips_a_link_out_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("实习管理办法\n第一条 学生实习每月补贴不低于300元。\n", encoding="utf-8")
    gbk_name = os.fsdecode(bytes(folder) + b"/" + "测试".encode("gbk") + b".txt")
    Path(gbk_name).write_text("测试文件\n内容。\n", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容，不应被导入。\n", encoding="utf-8")
    (folder / "link.txt").symlink_to(secret)

    code, out, _ = run(["ingest", str(folder), "--out", str(tmp_path / "chunks.jsonl"), "--json"])

    assert code == 1
    summary = json.loads(out)
    assert summary["documents"] == 1  # the good file is read whatever its neighbours are
    errors = {Path(f["path"]).name: f["error"] for f in summary["failures"]}
    assert "UTF-8" in errors["\\xb2\\xe2\\xca\\xd4.txt"]
    assert "文件夹之外" in errors["link.txt"]
    assert "机密" not in (tmp_path / "chunks.jsonl").read_text(encoding="utf-8")


def test_options_out_of_range_and_an_overlong_question_are_clear_errors(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for argv in (["ingest", str(tmp_path), "--max-chars", "10"], ["ingest", str(tmp_path), "--max-chars", "0"],
                 ["search", "实习", "-k", "100000"], ["ingest", str(tmp_path), "--batch-chunks", "abc"]):
        with pytest.raises(SystemExit) as stopped:
            run(argv)
        assert stopped.value.code == 2
        message = capsys.readouterr().err
        assert "之间" in message or "整数" in message
    code, _, err = run(["ask", "实习" * 600])
    assert code == 2 and "问题过长" in err and "1200" in err
