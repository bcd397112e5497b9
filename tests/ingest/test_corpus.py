"""The acceptance points of ingestion, on the shipped corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.pipeline import IngestResult, ingest_file
from ingest.tables import is_repeated_header

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
# PDF and DOCX renditions of the annual report (scripts/make_renditions.py). They stay out of
# corpus/ so that the default index holds each document once.
RENDITIONS = ROOT / "tests" / "fixtures" / "renditions"
ANNUAL_REPORT = "001_235bd42144b22a26"


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, IngestResult]:
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in {".txt", ".md", ".pdf", ".docx"})
    results = {str(p.relative_to(CORPUS)): ingest_file(p) for p in files}
    results.update({p.name: ingest_file(p) for p in sorted(RENDITIONS.iterdir())})
    return results


def test_every_chunk_is_an_exact_slice_of_its_document(corpus_results: dict[str, IngestResult]) -> None:
    assert len(corpus_results) >= 19
    for name, result in corpus_results.items():
        text = result.document.text
        assert result.chunks, name
        for chunk in result.chunks:
            assert chunk.text == text[chunk.start : chunk.end], (name, chunk.chunk_id)
            if chunk.kind == "text":
                assert chunk.text.strip() == chunk.text
            assert chunk.doc_id == result.document.doc_id
        assert len({c.chunk_id for c in result.chunks}) == len(result.chunks)


@pytest.mark.parametrize("suffix", [".txt", ".docx", ".pdf"])
def test_enrolment_table_row_in_every_format(corpus_results: dict[str, IngestResult], suffix: str) -> None:
    result = corpus_results.get(ANNUAL_REPORT + suffix)
    if result is None:
        pytest.fail(f"{RENDITIONS}/{ANNUAL_REPORT}{suffix} missing: run scripts/make_renditions.py")
    rows = [c for c in result.chunks if c.kind == "table_row" and c.text.split("\t")[0] == "全校" and "5897" in c.text]
    assert rows, "全校 row of 表1 not found"
    row = rows[0]
    for value in ("5897", "5735", "5283", "92.12"):
        assert value in row.text
    assert "表1：2020年学院招生总体情况" in row.context
    assert "报到率（%）：92.12" in row.context and "计划招生（人）：5897" in row.context
    assert "招生人数区域：全校" in row.context  # cells are cleaned like text: no PDF spaces
    assert row.section_path == ("2.学生发展", "2.1 招生情况", "2.1.1 招生概况")
    if suffix == ".pdf":
        assert row.page is not None and row.page > 1


def test_tables_found_in_the_annual_report(corpus_results: dict[str, IngestResult]) -> None:
    document = corpus_results[ANNUAL_REPORT + ".txt"].document
    assert len(document.tables) >= 13
    captions = {t.caption for t in document.tables}
    assert {"表1：2020年学院招生总体情况", "表2：2020年学院各类别招生情况"} <= captions
    # the table of contents is skipped, not read as headings or tables
    [toc] = document.skipped[:1]
    assert all(not (toc[0] <= h.start < toc[1]) for h in document.headings)


def test_002_has_no_mid_sentence_line_breaks(corpus_results: dict[str, IngestResult]) -> None:
    document = corpus_results["002_99f5ec69276c87e7.txt"].document
    heading_lines = {document.text[h.start : h.end] for h in document.headings}
    for line in document.text.split("\n"):
        line = line.strip()
        if not line or line in heading_lines or line == document.title:
            continue
        assert re.search(r"[。！？；：”）]$", line), f"line ends mid-sentence: {line[-30:]}"


def test_004_reads_demand_and_has_no_boilerplate(corpus_results: dict[str, IngestResult]) -> None:
    document = corpus_results["004_3731aaf5d8013a17.txt"].document
    assert "以市场和社会需求为" in document.text
    for noise in ("由会员分享", "在线阅读", "taowenge", "淘文阁", "珍藏版"):
        assert noise not in document.text
    assert document.title == "推进校企合作以技术赋能企业专项行动方案"


def test_003_article_12_path(corpus_results: dict[str, IngestResult]) -> None:
    chunks = [c for c in corpus_results["003_da08deca98ac4f1a.txt"].chunks if c.text.startswith("第十二条")]
    assert chunks
    assert all(c.section_path == ("第四章 中止与退出", "第十二条") for c in chunks)


def test_law_versions_are_told_apart(corpus_results: dict[str, IngestResult]) -> None:
    titles = {r.document.title for name, r in corpus_results.items() if "职业教育法" in name and "实施" not in name}
    assert titles == {"中华人民共和国职业教育法（1996-05-15）", "中华人民共和国职业教育法（2022-04-20）"}


def test_titles_read_like_titles(corpus_results: dict[str, IngestResult]) -> None:
    titles = {name: r.document.title for name, r in corpus_results.items()}
    assert titles["001_235bd42144b22a26.txt"] == "清远职业技术学院高等职业教育质量年度报告(2021)"
    assert titles["000_1945969dfabc08b4.txt"] == "2022年校企合作机制体制改革情况报告"
    assert titles["003_da08deca98ac4f1a.txt"].startswith("关于印发《郴州职业技术学院校企合作管理办法（试行）》")


def test_multi_line_title_of_a_real_pdf() -> None:
    result = ingest_file(ROOT / "tests" / "fixtures" / "海南省农机购置与应用补贴实施方案的通知.pdf")
    assert result.document.title == "海南省农业农村厅海南省财政厅关于印发2024-2026年海南省农机购置与应用补贴实施方案的通知"
    assert len(result.document.pages) == 11
    assert all(c.page is not None for c in result.chunks)


def test_no_text_is_left_out_of_every_chunk(corpus_results: dict[str, IngestResult]) -> None:
    """Apart from skipped tables of contents, bare headings and repeated table headers, every
    character is in a chunk."""
    for name, result in corpus_results.items():
        document = result.document
        covered = bytearray(len(document.text))
        for chunk in result.chunks:
            covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
        repeated = [
            (row.start, row.end) for t in document.tables for i, row in enumerate(t.rows) if i >= t.header_rows
            and is_repeated_header(t, i)
        ]
        for start, end in (*document.skipped, *((h.start, h.end) for h in document.headings), *repeated):
            covered[start:end] = b"\x01" * (end - start)
        lost = [i for i, flag in enumerate(covered) if not flag and not document.text[i].isspace()]
        assert not lost, f"{name}: text in no chunk: {document.text[lost[0] : lost[0] + 40]!r}"
