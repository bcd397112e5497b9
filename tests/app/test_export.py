"""Exporting answers to Markdown and Word, on hand-built answers with Chinese text."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from answer.records import Answer, Citation
from app.export import MAX_QUOTE, ExportError, export, to_docx, to_markdown
from ingest.errors import ZhikuError

TEXT = "合作企业原则上投入折合金额不低于300万元。[1]学校投入与企业投入比例不少于1:1。[2]\n基地应当面向区域开放共享。[3]"


def _citation(n: int, title: str, section: tuple[str, ...], page: int | None, quote: str) -> Citation:
    return Citation(
        n=n,
        chunk_id=f"chunk-{n}",
        doc_id=f"doc-{n}",
        title=title,
        source=f"corpus/{title}.pdf",
        section_path=section,
        page=page,
        quote=quote,
        start=0,
        end=len(quote),
    )


GUIDE = "产教融合实训基地建设指南"
CITATIONS = (
    _citation(1, GUIDE, ("第三章 建设要求", "（二）资金投入"), 5, "合作企业原则上投入折合金额不低于300万元。"),
    _citation(2, GUIDE, ("第三章 建设要求",), None, "学校投入与企业投入比例\n不少于1:1。"),
    _citation(3, "职业教育法", (), 12, "基地应当面向区域开放共享。"),
)
ANSWER = Answer(question="实训基地的投入要求是什么？", text=TEXT, citations=CITATIONS)
REFUSAL = Answer(
    question="学校食堂几点开门？",
    text="知识库中没有找到能回答这个问题的内容。以下是最接近的段落，供参考。",
    refused=True,
    closest=CITATIONS[:2],
)


def _style(paragraph: Paragraph) -> str | None:
    return paragraph.style.name if paragraph.style is not None else None


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# Markdown


def test_markdown_keeps_text_paragraphs_and_markers() -> None:
    md = to_markdown(ANSWER, title="实训基地 投入")
    assert md.startswith("# 实训基地 投入\n\n")
    first, second = TEXT.splitlines()
    assert f"{first}\n\n{second}" in md


def test_markdown_lists_references_in_number_order_with_quotes() -> None:
    md = to_markdown(Answer(question="q", text=TEXT, citations=CITATIONS[::-1]))
    assert "## 参考文献 References" in md
    references = md.split("## 参考文献 References", 1)[1]
    assert references.index("[1] 《") < references.index("[2] 《") < references.index("[3] 《")
    assert f"[1] 《{GUIDE}》 › 第三章 建设要求 › （二）资金投入，第 5 页\n> 合作企业原则上投入折合金额不低于300万元。" in md
    assert f"[2] 《{GUIDE}》 › 第三章 建设要求\n> 学校投入与企业投入比例 不少于1:1。" in md  # no page; newline flattened
    assert "[3] 《职业教育法》，第 12 页\n> 基地应当面向区域开放共享。" in md


def test_markdown_shortens_long_quotes() -> None:
    long = _citation(1, "长文", (), None, "校" * 1000)
    md = to_markdown(Answer(question="q", text="很长。[1]", citations=(long,)))
    quote = next(line for line in md.splitlines() if line.startswith("> "))
    assert quote.endswith("…")
    assert len(quote) == len("> ") + MAX_QUOTE


def test_markdown_refusal_lists_closest_passages() -> None:
    md = to_markdown(REFUSAL)
    assert md.startswith("知识库中没有找到能回答这个问题的内容。")
    assert "## 最接近的段落 Closest passages" in md
    assert "参考文献" not in md
    assert "[1] 《产教融合实训基地建设指南》" in md
    assert "> 合作企业原则上投入折合金额不低于300万元。" in md


def test_export_writes_utf8_markdown(tmp_path: Path) -> None:
    path = export(ANSWER, tmp_path / "out" / "answer.md", title="投入")
    assert path == tmp_path / "out" / "answer.md"
    assert path.read_text(encoding="utf-8") == to_markdown(ANSWER, title="投入")
    assert _leftovers(path.parent) == []


# Word


def test_docx_has_text_superscript_markers_and_references(tmp_path: Path) -> None:
    path = to_docx(ANSWER, tmp_path / "answer.docx", title="实训基地投入")
    document = docx.Document(str(path))
    paragraphs = document.paragraphs
    texts = [p.text for p in paragraphs]

    assert texts[0] == "实训基地投入"
    assert _style(paragraphs[0]) == "Title"
    assert "合作企业原则上投入折合金额不低于300万元。[1]学校投入与企业投入比例不少于1:1。[2]" in texts
    assert "基地应当面向区域开放共享。[3]" in texts

    runs = [run for p in paragraphs for run in p.runs]
    markers = [run for run in runs if run.text == "[1]"]
    assert markers and all(run.font.superscript is True for run in markers)
    body = next(run for run in runs if run.text.startswith("合作企业"))
    assert not body.font.superscript

    heading = next(p for p in paragraphs if p.text == "参考文献 References")
    assert _style(heading) == "Heading 1"
    after = texts[texts.index("参考文献 References") :]
    for citation in CITATIONS:
        assert any(t.startswith(f"[{citation.n}] 《{citation.title}》") for t in after)
        assert " ".join(citation.quote.split()) in after
    assert "[1] 《产教融合实训基地建设指南》 › 第三章 建设要求 › （二）资金投入，第 5 页" in after
    label = next(p for p in paragraphs if p.text.startswith("[1] 《"))
    assert label.runs[0].bold and label.runs[0].text == "[1] 《产教融合实训基地建设指南》"


def test_docx_sets_east_asian_font(tmp_path: Path) -> None:
    document = docx.Document(str(to_docx(ANSWER, tmp_path / "answer.docx")))
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "宋体"
    assert document.styles["Normal"].font.name == "SimSun"
    heading_fonts = document.styles["Heading 1"].element.rPr.rFonts
    assert heading_fonts.get(qn("w:eastAsia")) == "黑体"
    assert heading_fonts.get(qn("w:eastAsiaTheme")) is None  # a theme font would win over the name


def test_docx_refusal_lists_closest_passages(tmp_path: Path) -> None:
    texts = [p.text for p in docx.Document(str(to_docx(REFUSAL, tmp_path / "refusal.docx"))).paragraphs]
    assert texts[0].startswith("知识库中没有找到")
    assert "最接近的段落 Closest passages" in texts
    assert "参考文献 References" not in texts
    assert "合作企业原则上投入折合金额不低于300万元。" in texts


def test_export_picks_docx_by_suffix_and_creates_folders(tmp_path: Path) -> None:
    path = export(ANSWER, tmp_path / "a" / "b" / "Answer.DOCX")
    assert docx.Document(str(path)).paragraphs[0].text.startswith("合作企业")
    assert _leftovers(path.parent) == []


# Failures


@pytest.mark.parametrize("name", ["answer.txt", "answer.pdf", "answer"])
def test_unsupported_suffix_raises(tmp_path: Path, name: str) -> None:
    with pytest.raises(ExportError, match=r"只支持导出为 \.docx 或 \.md") as caught:
        export(ANSWER, tmp_path / name)
    assert isinstance(caught.value, ZhikuError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["answer.md", "answer.docx"])
def test_parent_is_a_file_raises_and_leaves_nothing(tmp_path: Path, name: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ExportError, match="无法写入"):
        export(ANSWER, blocker / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


@pytest.mark.skipif(os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0), reason="needs POSIX permissions")
@pytest.mark.parametrize("name", ["answer.md", "answer.docx"])
def test_read_only_folder_raises_and_leaves_nothing(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ExportError, match="无法写入"):
            export(ANSWER, folder / name)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_unwritable_folder_raises_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.export.tempfile.mkstemp", refuse)  # root ignores a read-only folder's mode
    with pytest.raises(ExportError, match="Permission denied"):
        export(ANSWER, tmp_path / "answer.md")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_removes_temp_file_and_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "answer.docx"
    path.write_bytes(b"old")

    def broken_save(self: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("docx.document.Document.save", broken_save)
    with pytest.raises(ExportError, match="No space left on device"):
        export(ANSWER, path)
    assert path.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []
