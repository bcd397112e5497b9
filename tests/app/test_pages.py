"""Finding a citation's quote among a page's characters, to mark it on the rendered page."""

from __future__ import annotations

from app.pages import Box, find_quote
from ingest.records import TextBox


def _line(text: str, top: float, x0: float = 100.0, width: float = 10.0) -> list[tuple[str, Box]]:
    return [(c, Box(x0 + i * width, top, x0 + (i + 1) * width, top + 10)) for i, c in enumerate(text)]


def test_a_quote_over_two_lines_is_marked_as_two_boxes() -> None:
    page = _line("第五条学校应当", 100) + _line("建立实习管理制度。第六条", 120)
    boxes = find_quote(page, "学校应当\n建立实习管理制度。")  # the canonical text may keep the break
    assert boxes == [Box(130, 100, 170, 110), Box(100, 120, 190, 130)]


def test_a_quote_cleaning_changed_is_found_piece_by_piece() -> None:
    # the page prints a footnote mark 「1」 the canonical text dropped
    page = _line("毕业去向落实率1为90.69%，较上年提高", 100)
    boxes = find_quote(page, "毕业去向落实率为90.69%，较上年提高")
    assert boxes == [Box(100, 100, 310, 110)]  # both runs, 「毕业去向落实率」 and 「为90.69%，较上年提高」, on one line


def test_a_quote_not_on_the_page_marks_nothing() -> None:
    assert find_quote(_line("本页是别的内容。", 100), "实训室钥匙由管理员保管") == []
    assert find_quote(_line("本页是别的内容。", 100), "") == []


def test_ocr_lines_share_their_box_among_their_characters() -> None:
    from app.pages import _ocr_layer

    chars = _ocr_layer([TextBox("补贴 标准", 100, 50, 180, 70)])
    assert [c for c, _ in chars] == ["补", "贴", "标", "准"]
    assert chars[2][1] == Box(140, 50, 160, 70)


def test_a_row_with_a_wrapped_cell_is_marked_where_each_part_is_printed() -> None:
    # printed: 「专项招聘会 2023-05-31 152」 with the cell's end 「校园场」 on the next line, and the
    # next row's 「152」 below it; the canonical row keeps the cell whole
    page = (_line("百日冲刺专项", 100) + _line("2023-05-31", 100, x0=200) + _line("1525", 100, x0=320)
            + _line("校园招聘会", 112) + _line("另一场招聘会", 130) + _line("1525", 130, x0=320))
    boxes = find_quote(page, "百日冲刺专项校园招聘会\t2023-05-31\t1525")
    assert boxes == [Box(100, 100, 160, 110), Box(100, 112, 150, 122), Box(200, 100, 360, 110)]
