"""The .docx loader: body order, headings, automatic numbering, merged tables, errors."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml

from ingest.docx import chinese_counting, format_number, join_lines, load_docx, meaningful_title
from ingest.errors import UnreadableDocumentError, UnsupportedFormatError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL_DOCX = FIXTURES / "2026年中央一号文件.docx"
LEGACY_DOC = FIXTURES / "海南省农机购置与应用补贴实施方案的通知.doc"

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

# Three lists as Chinese policy documents number them, plus a bullet list:
# 90: 一、 / （一） / 1.   93: 第一条 (space suffix)   94: bullets   95: ① ②
NUMBERING = {
    90: [("chineseCounting", "%1、"), ("chineseCounting", "（%2）"), ("decimal", "%3.")],
    93: [("chineseCounting", "第%1条")],
    94: [("bullet", "\uf0b7")],
    95: [("decimalEnclosedCircle", "%1")],
    96: [("decimal", "%1."), ("decimal", "%1.%2"), ("lowerLetter", "%3)")],
}


def _abstract_xml(abstract_id: int, levels: list[tuple[str, str]], suffix: str) -> str:
    lvls = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/>{suffix}</w:lvl>'
        for i, (fmt, text) in enumerate(levels)
    )
    return f'<w:abstractNum {W} w:abstractNumId="{abstract_id}">{lvls}</w:abstractNum>'


def _add_numbering(document: Any) -> None:
    numbering = document.part.numbering_part.element
    first_num = numbering.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}num")
    for abstract_id, levels in NUMBERING.items():
        suffix = '<w:suff w:val="space"/>' if abstract_id == 93 else ""
        abstract = parse_xml(_abstract_xml(abstract_id, levels, suffix))
        # The schema wants every abstractNum before the first num.
        if first_num is not None:
            first_num.addprevious(abstract)
        else:
            numbering.append(abstract)
        numbering.append(parse_xml(f'<w:num {W} w:numId="{abstract_id}"><w:abstractNumId w:val="{abstract_id}"/></w:num>'))
    # numId 91 reuses list 90 but starts its first level at 5 (五、).
    numbering.append(
        parse_xml(
            f'<w:num {W} w:numId="91"><w:abstractNumId w:val="90"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>'
        )
    )


def _numbered(document: Any, text: str, num_id: int, ilvl: int = 0) -> None:
    paragraph = document.add_paragraph(text)
    paragraph._p.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))


@pytest.fixture
def built_docx(tmp_path: Path) -> Path:
    document = Document()
    _add_numbering(document)
    article_style = document.styles.add_style("条款", WD_STYLE_TYPE.PARAGRAPH)
    article_style.element.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:numId w:val="93"/></w:numPr>'))

    title = document.add_paragraph("职业教育管理办法", style="Title")
    title.runs[0].add_break()
    title.add_run("（试行）")
    document.add_paragraph("总则\t1", style=document.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH))
    document.add_heading("总则", level=1)
    _numbered(document, "基本原则", 90, 0)
    _numbered(document, "坚持立德树人", 90, 1)
    _numbered(document, "坚持产教融合", 90, 1)
    _numbered(document, "合作企业投入不低于100万元", 90, 2)
    _numbered(document, "合作企业每年接收实习学生", 90, 2)
    _numbered(document, "组织实施", 90, 0)
    _numbered(document, "加强领导", 90, 1)
    _numbered(document, "保障措施", 91, 0)
    document.add_paragraph("本办法适用于全省职业院校。", style="条款")
    document.add_paragraph("本办法自发布之日起施行。", style="条款")
    _numbered(document, "项目一", 94, 0)
    _numbered(document, "第一项", 95, 0)
    _numbered(document, "第二项", 95, 0)
    outline = document.add_paragraph("考核办法")
    outline._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {W} w:val="1"/>'))
    document.add_heading("经费", level=2)

    document.add_paragraph("表1：经费安排", style="Caption")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1))  # horizontal: 项目 spans two columns
    table.cell(0, 2).merge(table.cell(1, 2))  # vertical: 备注 spans two rows
    values = [["项目", "", "备注"], ["设备", "50", ""], ["培训", "20", "每年"]]
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            if value:
                table.cell(r, c).text = value
    table.cell(2, 2).paragraphs[0].text = "每"
    table.cell(2, 2).add_paragraph("年")
    nested = table.cell(2, 0).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "线上"
    nested.cell(0, 1).text = "线下"

    document.add_paragraph("附：经费由学校统筹。")
    path = tmp_path / "built.docx"
    document.save(str(path))
    return path


def test_numbering_is_rendered_into_text(built_docx: Path) -> None:
    texts = [block.text for block in load_docx(built_docx).blocks]
    assert texts[2:10] == [
        "一、基本原则",
        "（一）坚持立德树人",
        "（二）坚持产教融合",
        "1. 合作企业投入不低于100万元",
        "2. 合作企业每年接收实习学生",
        "二、组织实施",
        "（一）加强领导",  # a lower level restarts after its parent advances
        "五、保障措施",  # startOverride
    ]
    # Numbering that comes from the paragraph style, with a space suffix.
    assert texts[10:12] == ["第一条 本办法适用于全省职业院校。", "第二条 本办法自发布之日起施行。"]
    assert texts[12:15] == ["项目一", "①第一项", "②第二项"]  # bullet glyph dropped


def test_headings_title_and_order(built_docx: Path) -> None:
    loaded = load_docx(built_docx)
    kinds = [(block.kind, block.level) for block in loaded.blocks]
    assert loaded.title == "职业教育管理办法（试行）"  # the line break inside is dropped
    assert loaded.warnings == ("skipped 1 table-of-contents lines",)
    assert kinds[0] == ("heading", 1)  # Title style
    assert kinds[1] == ("heading", 1) and loaded.blocks[1].text == "总则"
    outline = next(b for b in loaded.blocks if b.text == "考核办法")
    assert (outline.kind, outline.level) == ("heading", 2)  # w:outlineLvl 1
    assert (loaded.blocks[16].kind, loaded.blocks[16].level) == ("heading", 2)
    # Caption stays a text block right before the table; the paragraph after it follows.
    assert [b.kind for b in loaded.blocks[-3:]] == ["text", "table", "text"]
    assert loaded.blocks[-3].text == "表1：经费安排"
    assert loaded.blocks[-1].text == "附：经费由学校统筹。"
    assert loaded.format == "docx"


def test_merged_cells_form_a_grid(built_docx: Path) -> None:
    table = next(b for b in load_docx(built_docx).blocks if b.kind == "table")
    assert table.rows == (
        ("项目", "", "备注"),
        ("设备", "50", ""),
        ("培训 线上 线下", "20", "每年"),  # nested table flattened; CJK lines joined
    )


def test_real_government_docx() -> None:
    loaded = load_docx(REAL_DOCX)
    blocks = loaded.blocks
    assert len(blocks) == 37
    assert (blocks[0].kind, blocks[0].level, blocks[0].text) == ("heading", 1, "2026年中央一号文件")
    assert loaded.title == "2026年中央一号文件"
    lead = blocks[1]
    assert lead.kind == "text"
    assert lead.text.startswith("党的十八大以来第14个指导“三农”工作的中央一号文件2月3日由新华社受权发布")
    texts = [b.text for b in blocks]
    assert "一、提升农业综合生产能力和质量效益" in texts
    assert any(t.startswith("（一）稳定发展粮油生产。粮食产量稳定在1.4万亿斤左右。") for t in texts)
    assert texts[-1].startswith("我们要更加紧密地团结在以习近平同志为核心的党中央周围")


def test_not_a_zip_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes("这不是Word文件".encode())
    with pytest.raises(UnreadableDocumentError, match=r"不是有效的 \.docx"):
        load_docx(path)


def test_zip_without_document_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UnreadableDocumentError, match=r"无法作为 \.docx 打开"):
        load_docx(path)


def test_legacy_doc_renamed_docx(tmp_path: Path) -> None:
    path = tmp_path / "renamed.docx"
    path.write_bytes(LEGACY_DOC.read_bytes())
    with pytest.raises(UnsupportedFormatError, match=r"另存为 \.docx"):
        load_docx(path)


def test_encrypted_docx(tmp_path: Path) -> None:
    # Password-protected .docx files are OLE containers holding an EncryptedPackage stream.
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptedPackage".encode("utf-16-le"))
    with pytest.raises(UnreadableDocumentError, match="已加密"):
        load_docx(path)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (21, "二十一"), (100, "一百"), (101, "一百零一"), (110, "一百一十")],
)
def test_chinese_counting(n: int, expected: str) -> None:
    assert chinese_counting(n) == expected


@pytest.mark.parametrize(
    ("n", "fmt", "expected"),
    [
        (3, "decimal", "3"),
        (3, "upperLetter", "C"),
        (28, "lowerLetter", "bb"),
        (4, "lowerRoman", "iv"),
        (9, "upperRoman", "IX"),
        (2, "ideographTraditional", "乙"),
        (12, "chineseCountingThousand", "十二"),
        (3, "decimalEnclosedCircle", "③"),
        (3, "chineseLegalSimplified", "叁"),
        (7, "decimalZero", "07"),
        (5, "somethingNew", "5"),
    ],
)
def test_format_number(n: int, fmt: str, expected: str) -> None:
    assert format_number(n, fmt) == expected


def test_join_lines_and_titles() -> None:
    assert join_lines(["每人责", "任限额", "（万元）"]) == "每人责任限额（万元）"
    assert join_lines(["2658", "74.0"]) == "2658\n74.0"
    assert meaningful_title("Microsoft Word - 实施方案.doc") == "实施方案"
    assert meaningful_title("文档1") is None
    assert meaningful_title("  ") is None


def test_multilevel_decimal_numbering(tmp_path: Path) -> None:
    document = Document()
    _add_numbering(document)
    for text, ilvl in [("学生发展", 0), ("招生情况", 1), ("就业情况", 1), ("对口就业", 2), ("教学改革", 0), ("课程建设", 1)]:
        _numbered(document, text, 96, ilvl)
    path = tmp_path / "report.docx"
    document.save(str(path))
    assert [block.text for block in load_docx(path).blocks] == [
        "1. 学生发展",
        "1.1 招生情况",
        "1.2 就业情况",
        "a)对口就业",
        "2. 教学改革",
        "2.1 课程建设",
    ]


def test_a_package_that_unpacks_past_any_real_report_is_refused(tmp_path: Path) -> None:
    """A decompression bomb: a small .docx whose document part unpacks to hundreds of MB."""
    from ingest.docx import MAX_UNPACKED_MB, load_docx
    from ingest.errors import UnreadableDocumentError

    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            chunk = b" " * 2**20
            for _ in range(MAX_UNPACKED_MB + 10):
                part.write(chunk)
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(UnreadableDocumentError, match="解压后过大"):
        load_docx(bomb)
