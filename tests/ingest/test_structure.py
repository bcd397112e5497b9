"""A test per heading pattern, on literal lines of the sample documents, plus TOC detection."""

from __future__ import annotations

import pytest

from ingest.structure import build_sections, detect_headings, document_facts, find_toc_spans


def kinds_and_titles(text: str) -> list[tuple[str, str]]:
    return [(h.kind, h.title) for h in detect_headings(text)]


@pytest.mark.parametrize(
    ("line", "kind", "title"),
    [
        ("第四章 中止与退出", "chapter", "第四章 中止与退出"),
        ("第一章总则", "chapter", "第一章总则"),
        ("第十二条 合作期间，合作一方根据协议约定，提出提前终止履约的，由学院提出申请。", "article", "第十二条"),
        ("第一条为促进、规范、保障学校校企合作运行与管理，特制定本办法。", "article", "第一条"),
        ("一、基本原则", "cn_num", "一、基本原则"),
        ("（二）多元投资，共建共享教学科研环境。", "cn_paren", "（二）多元投资，共建共享教学科研环境"),
        ("(二)基本原则", "cn_paren", "(二)基本原则"),
        ("1.探索多元人才培养模式", "arabic", "1.探索多元人才培养模式"),
        ("2、具体考核内容及评分标准见附件", "arabic", "2、具体考核内容及评分标准见附件"),
        ("（1）体制机制仍需完善", "arabic_paren", "（1）体制机制仍需完善"),
        ("2.1 招生情况", "dec2", "2.1 招生情况"),
        ("2.1.1 招生概况", "dec3", "2.1.1 招生概况"),
        ("3.1.3 1+X证书制度试点稳步推进", "dec3", "3.1.3 1+X证书制度试点稳步推进"),
        ("案例1：学院护理专业毕业生驰援武汉", "case", "案例1：学院护理专业毕业生驰援武汉"),
        ("表1：2020年学院招生总体情况", "caption", "表1：2020年学院招生总体情况"),
        ("图4：2020年各类招生情况占比", "caption", "图4：2020年各类招生情况占比"),
        ("表3- 2近三年毕业生就业行业分布", "caption", "表3- 2近三年毕业生就业行业分布"),
        ("表5 2022年各专业招生人数", "caption", "表5 2022年各专业招生人数"),
        ("## 第一章 总 则", "md2", "第一章 总 则"),
        ("# 中华人民共和国职业教育法", "md1", "中华人民共和国职业教育法"),
    ],
)
def test_heading_patterns(line: str, kind: str, title: str) -> None:
    assert kinds_and_titles(line) == [(kind, title)]


def test_run_in_heading_takes_only_its_first_sentence() -> None:
    text = "（一）育人为本原则。以培育精准对接产业行业最新需求的高素质技术技能人才为根本任务，不断推动学校人才培养。"
    [heading] = detect_headings(text)
    assert heading.title == "（一）育人为本原则"
    assert text[heading.start : heading.end] == "（一）育人为本原则"


@pytest.mark.parametrize(
    "line",
    [
        "1.按照上级有关规定，负责制定学校校企合作相关政策和管理制度，负责牵头与地方政府、行业企业开展合作洽谈。",
        "3.09%的学生来自省外，比上年有所增加，生源结构持续优化，这一比例比去年提高了不少。",
        "学院2020年计划招生5897人，实际录取5735人。",
        "2020年，学院被广东省教育厅确定为广东省示范性高等职业院校。",
        "表2显示，近三年毕业生就业率稳定在95%以上",  # a sentence naming a table is no caption
    ],
)
def test_body_lines_are_not_headings(line: str) -> None:
    assert detect_headings(line) == []


def test_dotted_number_tops_a_decimal_scheme_only_when_sub_numbers_follow() -> None:
    report = "1.基本情况\n正文。\n1.1 服务现代职教体系建设取得新突破\n正文。"
    assert [h.kind for h in detect_headings(report)] == ["dec1", "dec2"]
    policy = "（一）产教研合作中心主要职责\n1.负责统筹\n2.负责指导"
    assert [h.kind for h in detect_headings(policy)] == ["cn_paren", "arabic", "arabic"]


def test_sections_nest_by_first_appearance_and_decimal_depth() -> None:
    text = "\n".join(
        [
            "2.学生发展",
            "2.1 招生情况",
            "2.1.1 招生概况",
            "学院2020年计划招生5897人。",
            "案例2：创新创业教育成果丰富",
            "正文。",
            "2.2 就业质量",
            "正文。",
            "附件：",
            "郴州职业技术学院",
            "校企合作考核评价工作方案（试行稿）",
            "一、组织机构",
        ]
    )
    sections = build_sections(detect_headings(text), len(text))
    paths = [" › ".join(s.path) for s in sections]
    assert paths == [
        "2.学生发展",
        "2.学生发展 › 2.1 招生情况",
        "2.学生发展 › 2.1 招生情况 › 2.1.1 招生概况",
        "2.学生发展 › 2.1 招生情况 › 2.1.1 招生概况 › 案例2：创新创业教育成果丰富",
        "2.学生发展 › 2.2 就业质量",
        "附件：郴州职业技术学院校企合作考核评价工作方案（试行稿）",
        "附件：郴州职业技术学院校企合作考核评价工作方案（试行稿） › 一、组织机构",
    ]
    # 2.1 ends where 2.2 starts
    assert sections[1].end == text.index("2.2 就业质量")


def test_chapter_closes_open_articles() -> None:
    text = "第三章 管理\n第十条 内容。\n第四章 中止与退出\n第十二条 合作期间。"
    paths = [s.path for s in build_sections(detect_headings(text), len(text))]
    assert paths[-1] == ("第四章 中止与退出", "第十二条")


def test_table_of_contents_is_recognised_and_skipped() -> None:
    text = "\n".join(
        [
            "目录",
            "",
            "1.基本情况.....\t- 8 -",
            "1.1 服务现代职教体系建设取得新突破.....\t- 8 -",
            "2.学生发展.....\t- 12 -",
            "表目录",
            "表1：2020年学院招生总体情况\t- 12 -",
            "案例目录",
            "案例1：学院护理专业毕业生驰援武汉\t11",
            "",
            "1.基本情况",
            "清远职业技术学院学习贯彻习近平新时代中国特色社会主义思想。",
            "1.1 服务现代职教体系建设取得新突破",
        ]
    )
    spans = find_toc_spans(text)
    assert len(spans) == 1
    start, end = spans[0]
    assert text[start:end].startswith("目录") and text[start:end].endswith("驰援武汉\t11")
    headings = detect_headings(text, exclude=spans)
    assert [h.title for h in headings] == ["1.基本情况", "1.1 服务现代职教体系建设取得新突破"]
    assert all(h.start >= end for h in headings)


def test_table_rows_ending_in_a_number_are_not_a_toc() -> None:
    text = "教职员额定编制数\t人\t498\t498\n在岗教职员总数\t人\t648\t701\n其中：专任教师总数\t人\t489\t554"
    assert find_toc_spans(text) == []


def test_document_facts_label_number_and_date() -> None:
    text = (
        "郴州职业技术学院文件\n郴职院产教融合〔2023〕4号\n关于印发…的通知\n各二级学院：\n……\n"
        "郴州职业技术学院\n2023年10月20日\n正文"
    )
    facts = {label: text[s:e] for label, s, e in document_facts(text)}
    assert facts == {"发文字号（文号）": "郴职院产教融合〔2023〕4号", "成文日期（落款日期）": "2023年10月20日"}
    assert document_facts("第一条 2020年学院招生5897人。") == []
    assert [label for label, _, _ in document_facts("正文。\n\n某某学院\n2021年3月1日")] == ["成文日期（落款日期）"]
