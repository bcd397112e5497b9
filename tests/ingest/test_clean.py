"""One test per cleaning rule, on literal snippets of the sample documents."""

from __future__ import annotations

from ingest.clean import (
    clean_text,
    normalize_for_match,
    normalize_spaces,
    remove_boilerplate,
    remove_html_comments,
    remove_page_markers,
    repair_line_wraps,
    split_run_in_headings,
    strip_invisible,
)

# 002: a PDF copy wrapped every ~30 characters with blank lines in between.
WRAPPED_002 = """一、基本情况

广东工程职业教育集团入选教育部第二批示范性职教集团（联盟）

培育单位，是广东省第二批示范性职业教育集团建设单位，2023年职

教集团顺利通过省教育厅中期验收。集团行业企业共建产业学院，

2023年推动长隆产业学院等第一批共6个产业学院优化升级，推进

婴幼儿托育与服务产业学院等第二批共3所产业学院立项建设。学校

在打造市域联合体、行业共同体方面展开积极建设，参与申报清远市

域产教联合体，牵头成立全国休闲服务行业产教融合共同体、数字媒

体行业产教融合共同体等，荣获2023年中国产学研合作促进奖。

二、工作举措

（一）推进职教集团实体化运作，促进集团多维发展

对接广东省先进制造业基地、制造业创新集聚地、制造业开放合"""


def test_repair_line_wraps_joins_fixed_width_lines_and_keeps_headings() -> None:
    fixed = repair_line_wraps(WRAPPED_002)
    assert "（联盟）培育单位" in fixed
    assert "2023年职教集团顺利通过" in fixed
    assert "清远市域产教联合体" in fixed
    # the paragraph ends at 。 and the headings stay on lines of their own
    assert "促进奖。\n\n二、工作举措\n\n（一）推进职教集团实体化运作，促进集团多维发展\n\n对接" in fixed
    assert fixed.startswith("一、基本情况\n\n广东工程")


def test_repair_line_wraps_joins_a_long_line_broken_mid_word() -> None:
    # 001: a page break inside 教学 in an otherwise unwrapped report
    text = (
        "2020年春季学期，学院严格按照省教育厅要求，全面禁止线下集中教\n\n"
        "学活动和培训，印发《清远职业技术学院2020年春季学期开学工作方案》。"
    )
    assert "全面禁止线下集中教学活动和培训" in repair_line_wraps(text)


def test_repair_line_wraps_joins_a_line_whose_new_sentence_runs_on() -> None:
    # a line ends one sentence and starts the next, which the PDF broke mid-word
    text = (
        "申请人应当提交学历证明和近期照片一张。建议提前登录政务服务\n"
        "网站查询办理进度。\n"
        "二、办理时限"
    )
    assert repair_line_wraps(text) == "申请人应当提交学历证明和近期照片一张。建议提前登录政务服务网站查询办理进度。\n二、办理时限"
    title = "关于做好二〇二四年度职业院校学生实习管理工作的通知\n各二级学院："
    assert repair_line_wraps(title) == title


def test_repair_line_wraps_keeps_short_title_lines_and_list_items() -> None:
    text = "郴州职业技术学院\n校企合作管理办法（试行）\n第一章总则\n1.按照上级有关规定，负责制定学校校企合作相关政策\n2.负责组织"
    assert repair_line_wraps(text) == text


def test_remove_boilerplate_drops_document_site_notice() -> None:
    # 004: the first line of a scraped copy
    text = (
        "《推进校企合作以技术赋能企业专项行动方案.docx》由会员分享,可在线阅读,更多相关《推进校企合作以技术赋能企业"
        "专项行动方案.docx(5页珍藏版)》请在taowenge.com淘文阁网|工程机械CAD图纸|机械工程制图|CAD装配图下载|"
        "SolidWorks_CaTia_CAD_UG_PROE_设计图分享下载上搜索。\n1、推进校企合作以技术赋能企业专项行动方案"
    )
    cleaned = remove_boilerplate(text)
    assert "由会员分享" not in cleaned and "taowenge" not in cleaned
    assert cleaned.strip() == "1、推进校企合作以技术赋能企业专项行动方案"


def test_remove_page_markers_rejoins_a_word_split_by_a_page_counter() -> None:
    long = "内容" * 120
    text = f"1、{long}以市场和社会需\n2、求为校企共谋发展的着力点{long}\n3、{long}结束。"
    fixed = remove_page_markers(text)
    assert "以市场和社会需求为" in fixed
    assert "2、" not in fixed and not fixed.startswith("1、")


def test_remove_page_markers_leaves_a_real_list_alone() -> None:
    text = "1、计分办法：\n2、具体考核内容及评分标准见附件。\n3、总评。"
    assert remove_page_markers(text) == text


def test_normalize_spaces_between_cjk_and_digits() -> None:
    assert normalize_spaces("学院 2020 年计划招生 5897 人，报到率为 92.12%") == "学院2020年计划招生5897人，报到率为92.12%"
    # Latin words keep their spaces; a heading number keeps the space before its title
    assert normalize_spaces("St. Clair College of Applied Arts") == "St. Clair College of Applied Arts"
    assert normalize_spaces("2.1 招生情况") == "2.1 招生情况"
    assert normalize_spaces("第四章 中止与退出 ") == "第四章 中止与退出"
    # tabs separate table cells and survive
    assert normalize_spaces("全校\t5897\t5735") == "全校\t5897\t5735"


def test_strip_invisible_removes_zero_width_and_bom() -> None:
    assert strip_invisible("\ufeff产教\u200b融合\r\n校企\u00ad合作") == "产教融合\n校企合作"


def test_remove_html_comments() -> None:
    assert remove_html_comments("修订）\n\n<!-- INFO END -->\n\n## 第一章 总 则") == "修订）\n\n\n\n## 第一章 总 则"


def test_split_run_in_headings_in_a_scraped_page() -> None:
    line = "制定本方案。一、总体要求(一)指导思想坚持新发展理念。(二)基本原则1.政府引导,多方参与。" + "内容" * 200
    lines = split_run_in_headings(line).split("\n")
    assert lines[:4] == ["制定本方案。", "一、总体要求", "(一)指导思想坚持新发展理念。", "(二)基本原则"]
    assert lines[4].startswith("1.政府引导,多方参与。")


def test_normalize_for_match_folds_width_and_whitespace() -> None:
    assert normalize_for_match("的 8 人，占 57.14%)") == normalize_for_match("的8人,占57.14％）")


def test_clean_text_on_004_reads_social_demand() -> None:
    from pathlib import Path

    raw = (Path(__file__).resolve().parents[2] / "corpus" / "004_3731aaf5d8013a17.txt").read_text(encoding="utf-8")
    cleaned = clean_text(raw)
    assert "以市场和社会需求为" in cleaned
    assert "由会员分享" not in cleaned and "taowenge" not in cleaned
