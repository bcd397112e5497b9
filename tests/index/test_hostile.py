"""A folder of hostile files ingested next to good ones: each hostile file fails alone with a
message naming what is wrong, within its limit; the parse's memory stays under 1 GB; the good
files are indexed; and the docstore, the vectors and the lexical index agree afterwards."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from bench import hostile
from index.embed import E5SmallEmbedder
from index.indexer import Index
from ingest.load import collect_files
from ingest.records import ParseLimits
from ingest.worker import ParseWorker

pytestmark = pytest.mark.slow
GOOD = "关于做好实习安全工作的通知\n\n各二级学院须在学生顶岗实习前完成安全教育，实习单位应为学生购买实习责任保险。\n"


def test_a_folder_of_hostile_files_fails_file_by_file_and_the_rest_is_indexed(
    tmp_path: Path, e5_embedder: E5SmallEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    (folder / "another.md").write_text("# 图书馆开放时间\n\n图书馆周一至周日八点开馆，晚上十点闭馆。\n", encoding="utf-8")
    expected = {
        hostile.nested_html(folder / "nested.html").name: "嵌套层级过深",
        hostile.docx_paragraph_bomb(folder / "paragraphs.docx").name: "内存超限",
        hostile.docx_text_bomb(folder / "text-node.docx").name: "解压后过大",
        hostile.blank_pdf(folder / "blank.pdf").name: "页数过多",
        hostile.glyph_code_pdf(folder / "glyphs.pdf").name: r"\(cid:N\)",
    }
    (folder / "big.txt").write_text("实习" * 600_000, encoding="utf-8")  # 1.2 M characters, over the test's cap
    expected["big.txt"] = "文字过多"
    undecodable = os.fsencode(folder) + b"/\xc8\xeb\xd1\xa7.txt"  # GBK bytes of 入学: no UTF-8 name
    with open(undecodable, "wb") as handle:
        handle.write("新生入学须知".encode())
    outside = tmp_path / "secret.txt"
    outside.write_text("口令：不应被索引", encoding="utf-8")
    (folder / "link.txt").symlink_to(outside)
    for name in expected:
        assert (folder / name).stat().st_size < 4 * 2**20  # small files, each

    limits = ParseLimits(timeout_s=60, memory_mb=768, max_pages=1000, max_text_chars=1_000_000)
    parser = ParseWorker(limits)
    index = Index(tmp_path / "home", e5_embedder, parser=parser)
    try:
        files, bad, _ = collect_files([folder])
        assert sorted(p.name[:8] for p, _ in bad) == ["\\xc8\\xeb", "link.txt"]  # the bytes shown escaped
        assert any("链接指向文件夹之外" in (reason or "") for _, reason in bad)
        assert any("不是有效的 UTF-8" in (reason or "") for _, reason in bad)
        started = time.monotonic()
        report = index.update(files)
        elapsed = time.monotonic() - started
        failures = {path.name: message for path, message in report.failures}
        assert set(failures) == set(expected)
        for name, pattern in expected.items():
            assert re.search(pattern, failures[name]), (name, failures[name])
        assert {path.name for path, _, _ in report.files} == {"good.txt", "another.md"}
        assert parser.peak_mb < 1024, parser.peak_mb
        assert elapsed < limits.timeout_s * 2  # every file within its limit, none waited out
        assert index.check() == []
        assert "不应被索引" not in "".join(index.docstore.text(d.doc_id) or "" for d in index.documents())

        # the same file by a relative and then an absolute path is one document
        monkeypatch.chdir(tmp_path)
        for given in (Path("incoming/good.txt"), (folder / "good.txt").resolve()):
            again = index.update([given])
            assert [outcome for _, outcome, _ in again.files] == ["unchanged"] and not again.duplicates
        assert len(index.documents()) == 2
    finally:
        index.close()
        parser.close()
