"""Evidence records as pure functions on literal snippets: rows, figures, names, versions, weights."""

from __future__ import annotations

from decimal import Decimal

from answer.evidence import DocView, figures_of, focus_weights, read_row, recurring_names, superseded
from answer.question import Question
from answer.verify import checked_computations, ungrounded_numbers
from ingest.records import RowCells


def test_a_total_row_is_the_whole_and_a_numbered_row_has_no_running_figure() -> None:
    headers = ("序", "指标", "单位", "2021年", "2022年")
    row = read_row(RowCells("表2：就业指标", headers, ("3", "就业率", "%", "93.50", "91.20")))
    assert row.figures == (("2021年", "93.50"), ("2022年", "91.20"))
    assert not row.is_total
    total = read_row(RowCells("", ("学院", "专业", "人数"), ("机电学院汇总", "", "412")))
    assert total.is_total and total.figures == (("人数", "412"),)


def test_a_dash_in_a_cell_is_no_value() -> None:
    row = read_row(RowCells("", ("行业", "1月", "2月", "3月"), ("教育", "4", "-", "—")))
    assert row.labels == (("行业", "教育"),)
    assert row.figures == (("1月", "4"),)


def test_references_and_years_are_no_quantities() -> None:
    """An article number, a list number or a year names something; it measures nothing."""
    assert figures_of("第三十三条 （二）2022年度的报告") == []
    assert figures_of("2022届毕业生中，3人升学，占1.5%") == [frozenset({Decimal(3)}), frozenset({Decimal("1.5")})]


def test_a_recurring_name_is_found_by_its_left_boundary() -> None:
    text = "由南方建筑职业技术学院承办。南方建筑职业技术学院与企业合作；据南方建筑职业技术学院统计，学院扩招。"
    names = recurring_names(text)
    assert names[0] == "南方建筑职业技术学院"
    assert "建筑职业技术学院" not in names  # always preceded by 南方: no boundary there


def test_versions_of_one_regulation_and_the_one_in_force() -> None:
    old = DocView("a", "示例省职业教育条例（2015-06-01）", "", "")
    new = DocView("b", "示例省职业教育条例（2023-03-01）", "", "")
    assert old.family == new.family == "示例省职业教育条例"
    assert old.version == "2015-06-01"
    assert superseded([old, new], [old.title, new.title]) == {"a"}
    # a question about the earlier version means that one: the version in force is the other
    assert superseded([old, new], [old.title, new.title], earlier=True) == {"b"}


def test_the_file_name_and_the_cover_are_document_metadata() -> None:
    doc = DocView("d", "1.成果总结报告", "/x/南方建筑职业技术学院_成果总结报告.pdf", "封面标题\n2023\n学校简介。正文从这里开始。")
    assert "南方建筑职业技术学院" in doc.file_name
    assert doc.cover == "封面标题\n2023\n学校简介"


def test_a_term_every_unit_holds_weighs_little() -> None:
    """Principle: a term all retrieved units share does not tell them apart (evidence-local weight)."""
    from types import SimpleNamespace

    question = Question("示范学院的招生人数", "示范学院的招生人数", "", ("示范", "招生"), {"示范": 2.0, "招生": 2.0})
    units = [SimpleNamespace(terms=frozenset({"示范", "招生"} if i == 0 else {"示范"})) for i in range(6)]
    focused = focus_weights(question, units)  # type: ignore[arg-type]
    assert focused.weights["示范"] < 0.5 < focused.weights["招生"]


def test_a_computation_is_grounded_when_its_operands_are_cited_and_its_sum_is_right() -> None:
    quotes = ["就业率\t%\t93.50\t91.20"]
    sentence = "两者相差2.3个百分点（计算：93.5% − 91.2% = 2.3个百分点）。"
    assert ungrounded_numbers(sentence, quotes) == []
    assert ungrounded_numbers("两者相差2.4个百分点（计算：93.5% − 91.2% = 2.4个百分点）。", quotes) == ["2.4", "2.4"]
    assert checked_computations("（计算：93.5% − 90.0% = 3.5）", {Decimal("93.5")}) == []  # 90.0 is not cited


def test_chinese_numerals_with_magnitudes_are_figures() -> None:
    """「处一万元以上五万元以下的罚款」 states amounts; 「统一」「一是」 do not; 300万 stays 300万."""
    from answer.verify import cn_value, number_forms

    assert cn_value("一万五千") == 15000 and cn_value("一亿二千万") == 120_000_000
    assert number_forms("处一万元以上五万元以下的罚款") == [frozenset({Decimal(10000)}), frozenset({Decimal(50000)})]
    assert number_forms("百分之二十") == [frozenset({Decimal(20)})]
    assert number_forms("统一规划，一是加强") == []
    assert number_forms("300万元") == [frozenset({Decimal(300), Decimal(3_000_000)})]


def test_a_computation_in_people_or_money_is_checked_too() -> None:
    assert ungrounded_numbers("（计算：5897人 − 5735人 = 162人）", ["5897\t5735"]) == []
    assert ungrounded_numbers("（计算：5897人 − 5735人 = 160人）", ["5897\t5735"]) == ["160"]


def test_an_item_code_is_no_figure() -> None:
    from answer.evidence import is_figure

    assert is_figure("92.12%") and is_figure("5,897") and is_figure("300万元")
    assert not is_figure("9.2.1") and not is_figure("6.")  # 品目 codes of a catalogue
