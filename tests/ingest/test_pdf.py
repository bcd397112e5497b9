"""The PDF loader: tables vs boxed text, running headers, scanned, encrypted and corrupt files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.errors import UnreadableDocumentError
from ingest.pdf import (
    GLYPH_CODE_SHARE,
    clean_cell,
    clean_grid,
    glyph_code_share,
    is_page_number,
    is_real_table,
    load_pdf,
    meaningful_title,
    merge_disjoint_columns,
    remove_running_lines,
    stray_blanks,
)
from ingest.records import Block, LoadedFile

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
HAINAN = FIXTURES / "海南省农机购置与应用补贴实施方案的通知.pdf"
SCANNED = FIXTURES / "scanned_notice.pdf"
REPORT_TXT = ROOT / "corpus" / "001_235bd42144b22a26.txt"
RUNNING_HEADER = "清远职业技术学院高等职业教育质量年度报告（2021）"


def _tables(loaded: LoadedFile, page: int | None = None) -> list[Block]:
    return [b for b in loaded.blocks if b.kind == "table" and (page is None or b.page == page)]


def _text(loaded: LoadedFile, page: int | None = None) -> str:
    return "\n".join(b.text for b in loaded.blocks if b.kind == "text" and (page is None or b.page == page))


# --------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------


def test_clean_cell_joins_cjk_lines_without_space_and_latin_with_one() -> None:
    assert clean_cell(None) == ""
    assert clean_cell("  高技能人才学历\n提升计划 ") == "高技能人才学历提升计划"
    assert clean_cell("Web 前端开发\n职业技能等级证书") == "Web 前端开发职业技能等级证书"
    assert clean_cell("Employment\nQuality") == "Employment Quality"


def test_clean_grid_drops_empty_rows_and_columns_and_merges_staggered_columns() -> None:
    # Cell borders a few points apart from row to row split one column into two.
    raw: list[list[str | None]] = [
        ["学院", None, None, "本科毕业生", None],
        [None, None, None, None, None],
        ["化工与制药学院", None, "494", None, "10.26%"],
        [None, "机电工程学院", None, "429", "8.91%"],
    ]
    assert clean_grid(raw) == (
        ("学院", "本科毕业生", ""),
        ("化工与制药学院", "494", "10.26%"),
        ("机电工程学院", "429", "8.91%"),
    )


def test_merge_keeps_columns_that_share_a_row() -> None:
    grid = [("指标", "单位", "2019年"), ("就业率", "%", "98.02")]
    assert merge_disjoint_columns(grid) == tuple(grid)


def test_real_tables_pass() -> None:
    assert is_real_table([["招生类别", "招生计划（人）"], ["3+证书", "540"], ["外省", "215"]])
    # A two-column outline (the Hainan attachment's 品目 list) is a table too.
    assert is_real_table([["1.", "耕整地机械"], ["1.1", "耕地机械"], ["1.1.1", "犁"], ["1.1.2", "旋耕机"]])
    # Wrapped cells make continuation rows; up to ~40% of such rows is still a table.
    assert is_real_table(
        [
            ["学院", "专业", "人数", "就业人数排名前三行业", "集中度"],
            ["机电工程学院", "电气自动化技术", "88", "制造业(58.26%),信息传输业", "76.53%"],
            ["", "", "", "(9.57%),居民服务业(8.70%)", ""],
            ["", "电梯工程技术", "9", "制造业(88.89%)", "100.00%"],
            ["", "数控技术", "6", "制造业(57.14%),交通运输业", "85.72%"],
        ]
    )


def test_boxed_prose_and_tiny_grids_are_rejected() -> None:
    line = "为规范实施农机购置与应用补贴政策，充分发挥政策效益，推动农业机械化全程全面"
    letterhead = [
        ["海南省农业农村厅 海南省财政厅", "", "", "", ""],
        ["关于印发2024-2026 年海南省农机", "", "", "", ""],
        ["购置与应用补贴实施方案的通知", "", "", "", ""],
        ["", line, "", "", ""],
        [line, "", "", "", ""],
        ["业农村部办公厅", "财政部办公厅关于印发", "<2024—2026", "年农机购置与应用补贴实施意见", ">"],
        ["的通知》（农办机〔", "2024", "〕", "3", "号），现将《"],
        ["实施方案》印发给你们，请遵照执行。", "", "", "", ""],
    ]
    assert not is_real_table(letterhead)
    assert not is_real_table([["海南省农业农村厅", "海南省财政厅"]])  # one row
    assert not is_real_table([["附件"], ["目录"]])  # one column
    assert not is_real_table([[None, None], [None, None]])  # nothing in it
    assert not is_real_table([[line, line + "。"], [line + "；", line]])  # prose in boxes


def test_running_headers_footers_and_page_numbers_are_removed() -> None:
    pages = [
        ["清远职业技术学院质量年度报告（2021）", "1.基本情况", "学院 2020 年计划招生 5897 人。", "- 1 -"],
        ["清远职业技术学院质量年度报告（2021）", "表 1：2020 年学院招生总体情况", "第2页"],
        ["清远职业技术学院质量年度报告（2021）", "2.学生发展", "正文最后一行。", "- 3 -"],
        ["清远职业技术学院质量年度报告（2021）", "3.教学改革", "4 / 11"],
    ]
    assert remove_running_lines(pages) == [
        ["1.基本情况", "学院 2020 年计划招生 5897 人。"],
        ["表 1：2020 年学院招生总体情况"],
        ["2.学生发展", "正文最后一行。"],
        ["3.教学改革"],
    ]


def test_repeated_footer_with_changing_digits_is_running() -> None:
    bodies = ["一、总体要求", "二、实施重点", "三、补贴范围", "四、补贴对象"]
    pages = [[body, f"第{n}页 共4页"] for n, body in enumerate(bodies, start=1)]
    pages[2].append("附注")  # the footer is second to last here: still an edge line
    assert remove_running_lines(pages) == [["一、总体要求"], ["二、实施重点"], ["三、补贴范围", "附注"], ["四、补贴对象"]]


def test_lines_inside_a_page_and_years_are_kept() -> None:
    pages = [
        ["2023", "年度报告", "12", "正文", "结尾"],
        ["前言", "正文", "12", "内容", "- 2 -"],
    ]
    # "12" inside the page is data; "2023" at the top is a year, not a page number.
    assert remove_running_lines(pages) == [
        ["2023", "年度报告", "12", "正文", "结尾"],
        ["前言", "正文", "12", "内容"],
    ]


def test_page_number_shapes() -> None:
    for line in ("3", "- 3 -", "— 12 —", "第3页", "第 3 页 共 11 页", "3 / 11", "Page 3 of 11", "1 0", "一3—", "—2一"):
        assert is_page_number(line), line
    for line in ("2023", "1.基本情况", "表 3", "3.5%", "- 8 -x", "一、3", "第一3"):
        assert not is_page_number(line), line


def test_meaningful_title() -> None:
    assert meaningful_title(f" {RUNNING_HEADER} ") == RUNNING_HEADER
    for junk in ("扫描全能王 2025-02-14 16.06", "Microsoft Word - 方案.docx", "方案.doc", "", "  ", None, 3, "2024-07-01"):
        assert meaningful_title(junk) is None, junk


def test_stray_blanks_over_glyphs_are_found() -> None:
    def char(text: str, x0: float) -> dict[str, object]:
        return {"text": text, "x0": x0, "x1": x0 + 22, "top": 80.0, "bottom": 102.0}

    chars = [char("基", 321.6), char(" ", 329.0), char("本", 343.7), char(" ", 366.0), char("情", 390.0)]
    chars[3]["x1"] = 389.0  # a real space, between two glyphs
    assert stray_blanks(chars) == {1}


# --------------------------------------------------------------------------------------
# Real files
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hainan() -> LoadedFile:
    return load_pdf(HAINAN)


def test_letterhead_page_is_text_not_a_table(hainan: LoadedFile) -> None:
    # pdfplumber reads page 1 (white boxes behind every paragraph) as a ~37x31 grid.
    assert _tables(hainan, page=1) == []
    page1 = _text(hainan, page=1)
    assert "购置与应用补贴实施方案的通知" in page1
    assert "各市、县、自治县农业农村局、财政局：" in page1
    assert all(not _tables(hainan, page=n) for n in range(1, 8))
    assert hainan.page_count == 11
    assert hainan.warnings == ()


def test_hainan_attachment_tables_are_found(hainan: LoadedFile) -> None:
    tables = _tables(hainan)
    assert [t.page for t in tables] == [8, 9, 10, 11]
    rows = [row for table in tables for row in table.rows]
    assert any(row[0] == "1." and "耕整地机械" in row for row in rows)
    assert any(row[0] == "1.1.1" and "犁" in row for row in rows)
    assert any(row[0] == "17." and "天然橡胶初加工机械" in row for row in rows)
    for table in tables:
        assert len({len(row) for row in table.rows}) == 1  # rectangular
    # Cropped out of the page text: the list is not read twice.
    assert "旋耕机" not in _text(hainan, page=8)


def test_hainan_text_has_no_spurious_spaces_inside_words(hainan: LoadedFile) -> None:
    text = _text(hainan)
    assert "农机购置与应用补贴" in text
    assert "省农业农村厅" in text
    assert "农 机" not in text and "补 贴" not in text


@pytest.fixture(scope="module")
def scanned() -> LoadedFile:
    return load_pdf(SCANNED)  # eight pages of images: about 40 s of OCR


@pytest.mark.slow
def test_a_scanned_pdf_is_read_by_ocr(scanned: LoadedFile) -> None:
    assert [number for number, _ in scanned.ocr_pages] == list(range(1, 9))
    text = _text(scanned).replace("\n", "")  # printed lines, joined by cleaning later
    assert "将全国划分为6大区域" in _text(scanned, page=2).replace("\n", "")
    assert "补贴额测算比例可提高至40%" in _text(scanned, page=5).replace("\n", "")
    # the scanner app's mark is no text, and the printed page numbers (「— 2 —」, read as
    # 「—2一」) are no part of the sentence they sat in
    assert "扫描全能王" not in text
    assert "统一大市场" in text
    assert scanned.warnings == ("8页没有文字层，已用OCR识别，请核对引文 (read by OCR)",)
    # each OCR line keeps where it is printed, in PDF points (an A4 page is 595 x 842)
    lines = dict(scanned.ocr_pages)[5]
    assert any("40%" in line.text for line in lines)
    assert all(0 <= line.x0 < line.x1 <= 596 and 0 <= line.top < line.bottom <= 843 for line in lines)


def test_without_ocr_a_scanned_pdf_says_it_needs_it() -> None:
    with pytest.raises(UnreadableDocumentError) as info:
        load_pdf(SCANNED, ocr_pages=0)
    message = str(info.value)
    assert "没有文字层" in message and "OCR" in message
    assert "no text layer" in message


def _pdf_with_a_scanned_page(path: Path, scanned_text: str) -> None:
    """Three pages: text, an image of ``scanned_text`` with a scanner app's mark, text again."""
    import pypdfium2
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    printed = path.with_suffix(".printed.pdf")
    c = canvas.Canvas(str(printed))
    c.setFont("STSong-Light", 14)
    c.drawString(72, 760, scanned_text)
    c.showPage()
    c.save()
    image = pypdfium2.PdfDocument(str(printed))[0].render(scale=200 / 72).to_pil()  # the "scan"

    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, "第一页的正文，有文字层。")
    c.showPage()
    c.drawImage(ImageReader(image), 0, 0, width=595, height=842)
    c.setFont("STSong-Light", 9)
    c.drawString(72, 30, "扫描全能王 创建")
    c.showPage()
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, "第三页的正文。")
    c.showPage()
    c.save()


def test_a_scanned_page_inside_a_text_pdf_is_read_by_ocr(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    _pdf_with_a_scanned_page(path, "第二页是扫描件：每台补贴3000元。")
    pages: list[tuple[int, int, bool]] = []
    loaded = load_pdf(path, on_page=lambda *page: pages.append(page))
    assert pages == [(1, 3, False), (2, 3, False), (3, 3, False), (2, 3, True)]  # read, then OCR
    assert [number for number, _ in loaded.ocr_pages] == [2]
    assert "每台补贴3000元" in _text(loaded, page=2)
    assert [b.page for b in loaded.blocks] == [1, 2, 3]
    assert "扫描全能王" not in _text(loaded)
    assert loaded.warnings == ("1页没有文字层，已用OCR识别，请核对引文 (read by OCR)",)
    (_, lines), = loaded.ocr_pages
    line = next(line for line in lines if "3000" in line.text)
    # where reportlab drew it: from x 72, on a baseline 760 pt above the bottom (82 below the top)
    assert 66 < line.x0 < 78 and line.top < 842 - 760 < line.bottom and line.bottom - line.top < 25


def test_past_the_ocr_budget_a_scanned_page_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    _pdf_with_a_scanned_page(path, "第二页是扫描件。")
    loaded = load_pdf(path, ocr_pages=0)
    assert loaded.warnings == ("第2页没有文字层，需要OCR（已超出 max_ocr_pages 或未安装OCR）",)
    assert [b.page for b in loaded.blocks] == [1, 3]
    assert "扫描全能王" not in _text(loaded)


def test_encrypted_pdf_is_unreadable(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "加密.pdf"
    c = canvas.Canvas(str(path), encrypt="secret")
    c.drawString(72, 720, "confidential")
    c.showPage()
    c.save()
    with pytest.raises(UnreadableDocumentError, match="加密") as info:
        load_pdf(path)
    assert "password" in str(info.value)


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("truncated.pdf", lambda: HAINAN.read_bytes()[: HAINAN.stat().st_size // 3]),
        ("random.pdf", lambda: b"%PDF-1.4\n" + bytes(range(256)) * 8),
        ("empty.pdf", lambda: b""),
        ("text.pdf", lambda: "这不是 PDF 文件".encode()),
    ],
)
def test_corrupt_pdf_is_unreadable(tmp_path: Path, name: str, make: object) -> None:
    path = tmp_path / name
    path.write_bytes(make())  # type: ignore[operator]
    with pytest.raises(UnreadableDocumentError, match="损坏") as info:
        load_pdf(path)
    assert "corrupt" in str(info.value)
    assert name in str(info.value)


# --------------------------------------------------------------------------------------
# The rendered sample report (scripts/make_renditions.py)
# --------------------------------------------------------------------------------------


def _make_renditions(out_dir: Path) -> None:
    """Run the script as a user would: its CLI, in a fresh interpreter."""
    script = ROOT / "scripts" / "make_renditions.py"
    args = [sys.executable, str(script), "--src", str(REPORT_TXT), "--out-dir", str(out_dir)]
    done = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", check=False)
    assert done.returncode == 0, done.stderr
    assert "table" in done.stdout


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("renditions")
    _make_renditions(out)
    return out / "001_235bd42144b22a26.pdf"


def test_renditions_are_repeatable(report_pdf: Path, tmp_path: Path) -> None:
    _make_renditions(tmp_path)
    assert (tmp_path / report_pdf.name).read_bytes() == report_pdf.read_bytes()
    docx_name = report_pdf.with_suffix(".docx").name
    assert (tmp_path / docx_name).read_bytes() == (report_pdf.parent / docx_name).read_bytes()


def test_rendered_report_tables_and_text(report_pdf: Path) -> None:
    loaded = load_pdf(report_pdf)
    assert loaded.page_count is not None and loaded.page_count > 1
    assert loaded.title == RUNNING_HEADER
    assert loaded.warnings == ()

    blocks = list(loaded.blocks)
    caption = next(i for i, b in enumerate(blocks) if "表 1：2020 年学院招生总体情况" in b.text)
    table = blocks[caption + 1]
    assert table.kind == "table"
    assert ("全校", "5897", "5735", "5283", "92.12") in table.rows
    assert table.rows[0][0] == "招生人数 区域"
    # The table's cells are not repeated in the running text.
    assert not any("5897\t" in b.text or "全校 5897" in b.text for b in blocks if b.kind == "text")

    # The table of contents is text (its tab drawn as a dot leader), not a table.
    text = _text(loaded)
    assert "2.1.1 招生概况...........- 12 -" in text
    assert "表 1 : 2020 年学院招生总体情况......- 12 -" in text
    assert "学院 2020 年计划招生 5897 人，实际录取 5735 人" in text


def test_rendered_report_has_no_running_header_or_page_numbers(report_pdf: Path) -> None:
    import pdfplumber

    with pdfplumber.open(report_pdf) as pdf:  # they are really there in the file
        page3 = pdf.pages[2].extract_text()
    assert RUNNING_HEADER in page3 and "- 3 -" in page3

    loaded = load_pdf(report_pdf)
    for block in loaded.blocks:
        if block.kind != "text":
            continue
        lines = block.text.splitlines()
        assert RUNNING_HEADER not in lines
        assert not any(is_page_number(line) for line in lines), block.text


def test_text_of_font_glyph_codes_is_unreadable_and_a_stray_code_is_not() -> None:
    """A font without a Unicode map gives 「(cid:3203)(cid:3915)…」: no character of it can be read."""
    codes = Block(kind="text", text="(cid:3203)(cid:3915)(cid:1022)(cid:77) 2023 (cid:3203)(cid:11)", page=1)
    assert glyph_code_share([codes]) >= GLYPH_CODE_SHARE
    stray = Block(kind="text", text="学院2023年就业率为95.2%，毕业生共4567人，其中升学715人(cid:3)。", page=1)
    table = Block(kind="table", rows=(("专业", "人数"), ("电子商务", "250")), page=1)
    assert glyph_code_share([stray, table]) < GLYPH_CODE_SHARE


def test_a_cover_s_largest_text_is_its_title_joined_across_lines() -> None:
    from ingest.pdf import CoverLine, cover_title

    cover = [
        CoverLine("某某职业学院", 16, 90),
        CoverLine("关于印发学生顶岗实习", 22, 160),
        CoverLine("管理办法的通知", 22, 190),
        CoverLine("各二级学院：为规范学生实习管理，现将办法印发给你们。", 12, 260),
        CoverLine("第 1 页", 9, 800),
    ]
    assert cover_title(cover) == "关于印发学生顶岗实习管理办法的通知"
    # a year set apart on the title's line is read left to right with it, spaces between CJK dropped
    year = [CoverLine("届毕业生就业质量年度报告", 28, 308, 200), CoverLine("2023", 28, 311, 120),
            CoverLine("REPORT OF EMPLOYMENT QUALITY", 18, 353, 120)]
    assert cover_title(year) == "2023届毕业生就业质量年度报告"


def test_a_genre_word_alone_is_read_with_the_lines_above_it() -> None:
    from ingest.pdf import CoverLine, cover_title

    cover = [
        CoverLine("附件2", 12, 80),
        CoverLine("产教融合育人模式的探索与实践", 14, 140),
        CoverLine("总结报告", 22, 176),
        CoverLine("一、成果简介", 14, 250),
        CoverLine("本成果历经五年实践，形成了校企协同育人的完整体系，成效显著。", 14, 280),
        CoverLine("本成果历经五年实践，形成了校企协同育人的完整体系，成效显著。", 14, 310),
    ]
    assert cover_title(cover) == "产教融合育人模式的探索与实践总结报告"
    sentence = [CoverLine("本办法自发布之日起施行。", 20, 100), CoverLine("正文", 12, 200)]
    assert cover_title(sentence) is None  # a sentence is no title


def test_a_file_name_holding_the_cover_title_and_more_completes_it() -> None:
    from ingest.pdf import complete_title

    full = "某某学院2023届毕业生就业质量年度报告"
    assert complete_title("2023届毕业生就业质量年度报告", full) == full
    assert complete_title("学生实习管理办法", "附件1") == "学生实习管理办法"
    assert complete_title("学生实习管理办法", "学生实习管理办法") == "学生实习管理办法"


SHARED_PDFS = ROOT.parent / "shared" / "corpus_extra"


@pytest.mark.parametrize(
    ("relative", "title"),
    [
        ("reports/西安职业技术学院2023届毕业生就业质量年度报告.pdf", "西安职业技术学院2023届毕业生就业质量年度报告"),
        ("reports/武汉工程大学2023届毕业生就业质量年度报告.pdf", "武汉工程大学2023届毕业生就业质量年度报告"),
        ("reports/自主实习单位要求.pdf", "湘潭大学计算机学院·网络空间安全学院自主实习单位要求"),
        ("reports/广东建设职业技术学院_教学成果奖_成果总结报告_校企协同境外办学.pdf",
         "深耕行业、伴企出海、扎根育人：职业院校境外办学的创新与实践总结报告"),
        ("pdfs/海南省农机购置与应用补贴实施方案的通知.pdf",
         "海南省农业农村厅海南省财政厅关于印发2024-2026年海南省农机购置与应用补贴实施方案的通知"),
    ],
)
def test_the_real_pdfs_get_their_true_titles(relative: str, title: str) -> None:
    """The report PDFs live beside the project (no licence to copy them in), as in CI."""
    import pdfplumber

    from ingest.pdf import _cover_title

    path = SHARED_PDFS / relative
    if not path.exists():
        pytest.skip(f"{path} is not beside the project")
    with pdfplumber.open(path) as pdf:
        assert _cover_title(pdf.pages, path) == title


def _char(text: str, x0: float, size: float = 10.5, raise_by: float = 0.0) -> dict[str, object]:
    """A pdfplumber char on a line whose baseline is at 300 (a raised char sits higher)."""
    bottom = 300.0 - raise_by
    return {"text": text, "x0": x0, "x1": x0 + size * (0.5 if text.isascii() else 1.0), "size": size,
            "top": bottom - size, "bottom": bottom}


def test_footnote_marks_are_small_raised_digits_after_chinese_text() -> None:
    from ingest.pdf import footnote_marks

    # 「就业率¹²为 95.2%」: a two-digit mark after 率; the figure after it stays
    line = [_char("就", 100), _char("业", 110.5), _char("率", 121), _char("1", 131.5, 7, 4), _char("2", 135, 7, 4),
            _char("为", 139), _char("9", 152, raise_by=-0.8), _char("5", 157.3, raise_by=-0.8)]
    assert footnote_marks(line) == {3, 4}
    # an exponent after a Latin letter (面积 5 万 m²) and a digit of the text's own size stay
    area = [_char("积", 100), _char("5", 110.5), _char("m", 116), _char("2", 121.3, 7, 4)]
    assert footnote_marks(area) == set()
    same_size = [_char("第", 100), _char("3", 110.5), _char("条", 116)]
    assert footnote_marks(same_size) == set()
    # a small digit on the baseline (a subscript, a table's small print) is no mark
    lowered = [_char("率", 100), _char("1", 110.5, 7, -1)]
    assert footnote_marks(lowered) == set()
