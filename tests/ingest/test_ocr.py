"""OCR pieces back into lines: reading order, gaps, confidence, page coordinates."""

from __future__ import annotations

from ingest.ocr import MIN_SCORE, ocr_lines


def _piece(x0: float, top: float, x1: float, bottom: float, text: str, score: float = 0.99) -> tuple:
    return ([[x0, top], [x1, top], [x1, bottom], [x0, bottom]], text, score)


def test_pieces_of_one_printed_line_are_joined_left_to_right() -> None:
    # the detector cut 「第三条」 from its text and returned the right piece first; the next
    # line down is its own line
    pieces = [
        _piece(200, 100, 900, 130, "本办法适用于全省中等职业学校。"),
        _piece(120, 102, 190, 131, "第三条"),
        _piece(120, 150, 880, 180, "第四条 学校应当建立实习管理制度。"),
    ]
    lines = ocr_lines(pieces, scale=1.0)
    assert [line.text for line in lines] == ["第三条本办法适用于全省中等职业学校。", "第四条 学校应当建立实习管理制度。"]


def test_a_gap_wider_than_a_character_is_a_space() -> None:
    # two cells of a table row: 600 px apart on a line 30 px high
    lines = ocr_lines([_piece(100, 100, 200, 130, "毕业人数"), _piece(800, 100, 900, 130, "250")], scale=1.0)
    assert [line.text for line in lines] == ["毕业人数 250"]


def test_pieces_below_the_confidence_floor_and_empty_pieces_are_dropped() -> None:
    pieces = [_piece(100, 100, 300, 130, "印章", MIN_SCORE - 0.1), _piece(100, 200, 300, 230, "  "),
              _piece(100, 300, 300, 330, "正文")]
    assert [line.text for line in ocr_lines(pieces, scale=1.0)] == ["正文"]


def test_boxes_come_back_in_pdf_points() -> None:
    # rendered at 144 dpi: two pixels a point
    (line,) = ocr_lines([_piece(144, 288, 432, 316, "补贴标准")], scale=2.0)
    assert (line.x0, line.top, line.x1, line.bottom) == (72.0, 144.0, 216.0, 158.0)


def test_a_line_reaching_the_right_margin_runs_on_into_an_unindented_next_line() -> None:
    from ingest.pdf import runs_on
    from ingest.records import TextBox

    lines = [
        TextBox("（二）建立健全机制。", 110, 100, 300, 115),  # a heading: ends short of the margin
        TextBox("2.建立承诺和调查制度。对于纳入优补范围", 110, 122, 500, 137),  # indented, full, mid-sentence
        TextBox("的机具，产销企业要签订承诺协议。", 80, 144, 360, 159),  # unindented: its continuation
        TextBox("协议要报县级农业农村部门备案并接受监管。各省要充分", 110, 166, 500, 181),
        TextBox("— 3 —", 280, 400, 320, 415),  # far below, in the middle: a page number
    ]
    assert runs_on(lines) == [False, True, False, False, False]
