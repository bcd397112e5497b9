"""Table detection in text, header rows, merged cells and the indexed row context."""

from __future__ import annotations

from pathlib import Path

from ingest.tables import build_table, column_headers, count_header_rows, fill_down, find_text_tables, row_context

TABLE_1 = (
    "表1：2020年学院招生总体情况\n\n"
    "招生人数区域\t计划招生（人）\t实际录取（人）\t报到人数（人）\t报到率（%）\n"
    "全校\t5897\t5735\t5283\t92.12\n"
    "其中：广东\t5682\t5661\t5214\t92.10\n\n"
    "其中：清远\t\t1723\t1645\t95.47\n"
    "-------\t--\t------\t------\t-------\n\n"
    "表2：2020年学院各类别招生情况"
)


def test_tab_table_found_with_blank_and_ruled_lines_inside() -> None:
    [rows] = find_text_tables(TABLE_1)
    assert [r.cells[0] for r in rows] == ["招生人数区域", "全校", "其中：广东", "其中：清远"]
    for row in rows:
        assert TABLE_1[row.start : row.end] == "\t".join(row.cells)


def test_header_rows_stop_at_the_first_row_with_numbers() -> None:
    assert count_header_rows([["指标", "单位", "2019年", "2020年"], ["就业率", "%", "98.02", "90.34"]]) == 1
    assert count_header_rows([["年度", "科类", "市外"], ["", "", "控制分数线"], ["2020", "文科", "160"]]) == 2
    assert count_header_rows([["2020", "文科", "160"], ["", "理科", "160"]]) == 0


def test_a_header_row_of_months_and_its_wrapped_characters_stay_in_the_header() -> None:
    # a ruled PDF header: the year spans its months, 「10月」 wrapped onto a second ruled line
    rows = [
        ["行业", "2021年", "", "", "2022年", "", "合计"],
        ["", "11月", "12", "1", "2", "3月", ""],
        ["", "", "月", "月", "月", "", ""],
        ["教育", "4", "7", "-", "2", "9", "22"],
    ]
    assert count_header_rows(rows) == 3
    assert column_headers(rows[:3], 7) == ["行业", "2021年 11月", "2021年 12月", "2021年 1月", "2022年 2月", "2022年 3月", "合计"]
    # a row of rates under the header is data, whatever its first cell
    assert count_header_rows([["专业", "就业率", "对口率"], ["", "95.2%", "80.1%"]]) == 1


def test_a_merged_label_spreads_only_under_its_own_parent() -> None:
    rows = [["城市", "本科", "", "专科", "", "总计"], ["", "人数", "占比", "人数", "占比", ""]]
    assert column_headers(rows, 6) == ["城市", "本科 人数", "本科 占比", "专科 人数", "专科 占比", "总计"]
    # under a label of one column the next ruled line is the rest of it, wrapped
    wrapped = [["专业", "毕业人数", "毕业去向", "协议和合"], ["", "", "落实率", "同就业率"]]
    assert column_headers(wrapped, 4) == ["专业", "毕业人数", "毕业去向落实率", "协议和合同就业率"]


def test_fill_down_repeats_labels_but_never_numbers() -> None:
    grid = fill_down([["年度", "科类", "分数"], ["2020", "文科", "160"], ["", "理科", "160"]], 3)
    assert grid[2] == ["", "理科", "160"]  # the year column holds numbers: not a label column
    grid = fill_down([["类型", "专业", "数"], ["现代学徒制试点", "电子商务", "1"], ["", "医学美容", "5"]], 3)
    assert grid[2][0] == "现代学徒制试点"
    grid = fill_down([["区域", "计划", "录取"], ["其中：广东", "5682", "5661"], ["其中：清远", "", "1723"]], 3)
    assert grid[2] == ["其中：清远", "", "1723"]


def test_row_context_carries_caption_headers_and_units() -> None:
    [rows] = find_text_tables(TABLE_1)
    table = build_table(rows, caption="表1：2020年学院招生总体情况")
    context = row_context(table, 1, prefix="2.学生发展 › 2.1 招生情况 › 2.1.1 招生概况")
    assert context.splitlines()[:2] == ["2.学生发展 › 2.1 招生情况 › 2.1.1 招生概况", "表1：2020年学院招生总体情况"]
    assert "报到率（%）：92.12" in context
    assert "计划招生（人）：5897" in context
    # the empty 计划招生 cell of 清远 stays empty instead of borrowing 广东's number
    assert "5682" not in row_context(table, 3)


def test_markdown_pipe_tables_become_tables(tmp_path: Path) -> None:
    from ingest.chunk import Chunker
    from ingest.pipeline import ingest_file

    path = tmp_path / "招生.md"
    path.write_text(
        "# 招生情况\n\n表1：近两年招生情况\n\n"
        "| 年份 | 计划招生（人） | 报到率（%） |\n| --- | ---: | :---: |\n"
        "| 2019年 | 5100 | 90.50 |\n| 2020年 | 5897 | 92.12 |\n\n"
        "以上为全校数据。| 不是表格 |\n",
        encoding="utf-8",
    )
    result = ingest_file(path, Chunker())
    [table] = result.document.tables
    rows = [c for c in result.chunks if c.kind == "table_row"]
    assert [r.text for r in rows] == ["年份\t计划招生（人）\t报到率（%）", "2019年\t5100\t90.50", "2020年\t5897\t92.12"]
    assert table.header_rows == 1
    assert "报到率（%）：92.12" in rows[2].context and "表1：近两年招生情况" in rows[2].context
    assert "以上为全校数据" in result.document.text and "---" not in result.document.text
