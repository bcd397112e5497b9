"""The answer pipeline end to end on a literal library: the right unit, versions, articles,
follow-ups, computed differences, drafts, and grounding of every sentence."""

from __future__ import annotations

import pytest

from answer.records import Answer
from answer.verify import answer_sentences, markers, ungrounded_numbers
from tests.answer.conftest import DOCUMENTS, Library, build


def answer_over(tmp_path_factory: pytest.TempPathFactory, files: dict[str, str], question: str) -> Answer:
    """The answer to ``question`` over a library of ``files`` (name → text) written for one test."""
    return build(tmp_path_factory.mktemp("library"), files).ask(question)


def assert_grounded(answer: Answer) -> None:
    """Every sentence cited; every figure of a sentence in the quotes it cites; quotes exact."""
    assert not answer.refused and answer.citations
    quotes = {c.n: c.quote for c in answer.citations}
    for sentence in answer_sentences(answer.text):
        cited = markers(sentence)
        assert cited, sentence
        assert not ungrounded_numbers(sentence, [quotes[n] for n in cited]), sentence
    for citation in answer.citations:
        source = next(text for name, text in DOCUMENTS.items() if citation.source.endswith(name))
        assert citation.quote.replace("\t", "") in source.replace("\t", "")


def test_the_total_row_answers_for_the_whole_school(library: Library) -> None:
    """A question naming no part of a table gets the total row, not the first part row."""
    answer = library.ask("学校一共实际录取了多少人？")
    assert "2900" in answer.text and "1750" not in answer.text
    assert_grounded(answer)


def test_the_row_the_question_names_and_no_other(library: Library) -> None:
    answer = library.ask("东校区报到率是多少？")
    assert "96.10%" in answer.text and "93.80" not in answer.text


def test_the_version_in_force_answers_unless_an_earlier_one_is_asked(library: Library) -> None:
    current = library.ask("企业接收实习学生，每月补贴多少钱？")
    assert "300元" in current.text and "200元" not in current.text
    earlier = library.ask("2015年那版条例里，实习补贴每月多少钱？")
    assert "200元" in earlier.text and "300元" not in earlier.text
    assert_grounded(current)


def test_the_article_a_question_points_to_is_quoted_whole(library: Library) -> None:
    answer = library.ask("职业教育条例第五条是怎么规定的？")
    assert answer.text.startswith("第五条") and "一个月" in answer.text
    assert_grounded(answer)


def test_a_duration_in_chinese_numerals_answers_how_long(library: Library) -> None:
    answer = library.ask("教师去企业实践一年要多久？")
    assert not answer.refused and "一个月" in answer.text


def test_a_when_question_gets_the_date(library: Library) -> None:
    answer = library.ask("职业教育条例什么时候开始施行？")
    assert "2023年5月1日" in answer.text


def test_a_difference_is_computed_from_the_cited_figures(library: Library) -> None:
    answer = library.ask("就业率下降了多少？")
    assert "计算：93.5% − 91.2% = 2.3个百分点" in answer.text
    assert_grounded(answer)  # 2.3 is in no quote: its arithmetic is checked instead


def test_a_follow_up_is_answered_in_the_context_of_the_earlier_question(library: Library) -> None:
    answer = library.ask("那西校区呢？", history=("东校区报到率是多少？",))
    assert "93.80%" in answer.text and "96.10" not in answer.text
    assert answer.analysis["followup"]


def test_a_writing_request_is_never_refused_for_its_instructions(library: Library) -> None:
    answer = library.ask("用宣传稿的口吻写一段智能制造产业学院的简介，100字左右")
    assert not answer.refused
    assert "120人" in answer.text and "40%" in answer.text
    assert_grounded(answer)


def test_the_analysis_shows_the_names_and_their_library_names(library: Library) -> None:
    answer = library.ask("示范职院东校区的报到率是多少？")
    assert answer.analysis["aliases"] == {"示范职院": "示范职业技术学院"}


def test_an_earlier_version_asked_in_a_follow_up(library: Library) -> None:
    answer = library.ask("旧版呢？", history=("企业接收实习学生，每月补贴多少钱？",))
    assert "200元" in answer.text and "300元" not in answer.text


def test_a_several_part_question_answers_the_part_the_documents_hold(library: Library) -> None:
    """A missing name confined to one part (杭州…呢) does not refuse the part that is answered."""
    answer = library.ask("东校区的报到率是多少？杭州某某职业技术学院的报到率又是多少？")
    assert not answer.refused and "96.10%" in answer.text


def test_a_sentence_introducing_a_table_brings_its_rows(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    from answer.pipeline import with_introduced_tables

    text = (
        "示范学院社会服务报告\n\n学校面向社会开展培训，分项目情况如下表所示。\n\n"
        "项目\t人次\t到款额（万元）\n企业职工培训\t2300\t186.5\n退役军人培训\t420\t35.2\n"
    )
    built = build(tmp_path_factory.mktemp("introduced"), {"社会服务报告.txt": text})
    pipeline = built.pipeline
    doc_id = next(iter(pipeline.library.titles()))  # type: ignore[attr-defined]
    view = pipeline.document(doc_id)
    assert view is not None
    intro = next(c for c in view.chunks if "如下表所示" in c.text)
    from index.hybrid import ScoredChunk

    passage = ScoredChunk(intro, 1.0, view.title, view.source, covers=(intro.chunk_id,))
    passages = with_introduced_tables([passage], {doc_id: view})
    rows = [c for c in view.chunks if c.kind == "table_row"]
    assert len(passages) == 2 and set(passages[1].covers) == {c.chunk_id for c in rows}


def test_a_list_question_gets_the_list_of_what_it_asks_for(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """「要准备哪几样材料」 is answered by the list introduced as 材料, all of its items and only them,
    although another article shares more of the question's everyday words."""
    text = (
        "# 示例市困难学生补助办法\n\n"
        "第五条 申请补助的学生，一方因故不能亲自办理的，可以委托家长办理，家长应当准备委托书。\n\n"
        "第六条 申请人应当向学校提交补助申请表和下列证明材料：\n\n"
        "（一）申请人的学生证；\n\n（二）家庭收入情况说明；\n\n（三）村民委员会或者居民委员会出具的困难证明。\n\n"
        "属于孤儿的，还应当提交下列证明：\n\n（一）民政部门出具的孤儿证明；\n\n（二）监护人的身份证明。\n\n"
        "第七条 本办法自2024年3月1日起施行。\n"
    )
    answer = answer_over(tmp_path_factory, {"补助办法.md": text}, "补助办法里，想申请的学生一方要准备哪几样材料？")
    assert not answer.refused
    assert all(item in answer.text for item in ("学生证", "家庭收入情况说明", "困难证明"))
    assert "孤儿证明" not in answer.text  # the second list of the article starts its numbering again


def test_a_compound_says_its_parts_and_a_drop_is_a_difference(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """双师 is part of the compound 双师素质 (the tokenizer does not split it out): the row
    answers; 「掉了多少」 asks for the difference, computed once though the table is printed twice."""

    table = "表3：师资情况\n\n指标\t单位\t2022年\t2023年\n双师素质教师比例\t%\t71.40\t76.90\n生师比\t—\t17.2\t18.1\n"
    text = f"样例职业技术学院2023年质量报告\n\n一、师资队伍\n\n学校重视双师队伍建设。\n\n{table}\n二、附录\n\n{table}"
    built = build(tmp_path_factory.mktemp("compound"), {"样例质量报告.txt": text})
    question = "样例学院双师老师的比例，2023年比2022年涨了多少？"
    evidence = built.pipeline.evidence(built.pipeline.analyse(question))
    row = next(u for u in evidence.units if u.is_row and "双师素质" in u.text)
    assert "双师" in row.own
    answer = built.ask(question)
    assert not answer.refused
    assert "71.40%" in answer.text and "76.90%" in answer.text and "5.5个百分点" in answer.text
    assert answer.text.count("双师素质教师比例") == 1  # the same row printed twice is said once


def test_a_named_institution_finds_its_reports_by_cover_and_searches_them_for_the_rest(  # type: ignore[no-untyped-def]
    tmp_path_factory,
) -> None:
    """A report whose title lacks its school (a PDF title cut short) is still the school's when its
    cover names it; within it, the question is searched without the name every passage shares."""

    report = (
        "2023届毕业生就业质量年度报告\n\n样例职业技术学院\n\n一、升学\n\n毕业生国内升学312人，升学率为9.80%。\n\n"
        "二、招聘\n\n样例职业技术学院举办春季双选会。样例职业技术学院举办秋季双选会。\n"
    )
    other = "另一职业技术学院2023年质量报告\n\n另一职业技术学院毕业生国内升学120人。\n"
    built = build(tmp_path_factory.mktemp("subject"), {"就业质量年度报告.txt": report, "另一学院.txt": other})
    pipeline = built.pipeline
    question = pipeline.analyse("写一段样例职业技术学院毕业生国内升学情况的简介，100字左右")
    passages = pipeline.retriever.retrieve(question.query, top_k=4)
    subjects = pipeline._subject_documents(question, passages)
    titles = pipeline.library.titles()  # type: ignore[attr-defined]
    assert [titles[d] for d in subjects] == ["2023届毕业生就业质量年度报告"]
    assert "样例职业技术学院" not in pipeline._without_names(question) and "升学" in pipeline._without_names(question)
    answer = built.ask("写一段样例职业技术学院毕业生国内升学情况的简介，100字左右")
    assert "312人" in answer.text and "120人" not in answer.text


def test_a_long_sentence_is_narrowed_at_clauses_outside_brackets(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    sentence = (
        "毕业生来自十八个民族，其中汉族生源人数最多，共有3600人，少数民族生源人数较多的主要为回族（88人，占比2.30%）、"
        "满族（41人，占比1.10%），分学历来看，本科毕业生少数民族生源占比略高于专科毕业生，这一结构与学校招生地域分布基本一致。"
    )
    report = f"样例学院2023年生源报告\n\n一、民族结构\n\n{sentence}\n"
    answer = answer_over(tmp_path_factory, {"生源结构报告.txt": report}, "样例学院的回族学生有多少？")
    assert not answer.refused and "回族（88人，占比2.30%）" in answer.text


def test_a_rule_s_condition_is_quoted_with_its_consequence(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """A question names a rule's condition (「让中介组织学生实习」); the answer is what follows from it
    (「……的，由……责令改正，并处……罚款」), never the condition cut off after its 「的」."""
    rule = (
        "第四十条 违反本条例规定的，依照有关法律、法规处理。\n\n"
        "培训机构违反本条例规定，委托中介机构或者个人组织、安排、管理学生校外实习、跟岗实践和社会调查活动的，"
        "由县级以上人民政府教育行政部门责令改正，没收违法所得，并处违法所得二倍以上四倍以下的罚款；违法所得不足五千元的，按五千元计算。"
    )
    more = (
        "培训机构有前款规定情形，情节严重的，由原审批机关责令停止招生、吊销办学许可证；对直接负责的主管人员和其他直接责任人员，"
        "依法给予处分，五年内不得从事培训机构的管理工作。教育行政部门应当将处罚结果向社会公布，并记入培训机构信用档案。"
    )
    text = f"# 示例市职业培训条例\n\n第一条 为了规范职业培训，制定本条例。\n\n{rule}\n\n{more}\n"
    answer = answer_over(tmp_path_factory, {"培训条例.md": text}, "培训机构委托中介机构组织学生实习，会怎么罚？")
    assert not answer.refused
    assert "二倍以上四倍以下" in answer.text and "按五千元计算" in answer.text


def test_a_rule_s_fine_is_found_in_the_article_that_cites_it(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The article a question describes states no figure; the one citing it by number does
    (「违反本条例第十条规定的，……处……罚款」): it answers 「罚多少」 with the rule."""
    text = (
        "# 示例市民办培训管理条例\n\n第一条 为了规范民办培训，制定本条例。\n\n"
        "第十条 培训机构不得向学员收取报名费、考务费以外的与结业证书挂钩的费用。\n\n"
        "第十八条 培训机构应当按照核定的场地开展培训。\n\n"
        "第三十条 培训机构违反本条例第十条规定的，由区教育行政部门责令退还所收费用，处二千元以上一万元以下罚款。\n"
    )
    answer = answer_over(tmp_path_factory, {"培训管理条例.md": text}, "培训机构收跟结业证书挂钩的钱，罚多少？")
    assert not answer.refused and "二千元以上一万元以下" in answer.text


def test_a_list_said_of_what_the_question_asks_for_beats_a_list_of_other_things(  # type: ignore[no-untyped-def]
    tmp_path_factory,
) -> None:
    """「哪几个原因」 asks for reasons: the sentence giving them in a row (「原因主要为“……”、“……”」) is the
    list, not an enumerated list of something else the question shares words with."""
    text = (
        "样例职业技术学院2023年就业报告\n\n第五章 未就业学生\n\n"
        "本章从没找到工作的学生自己觉得的情况、帮扶工作、去向意愿等三个方面进行分析。\n\n"
        "一、学生情况\n\n二、帮扶工作\n\n三、去向意愿\n\n"
        "暂未就业的学生认为自己没有找到工作的原因主要为“还在准备考试”（占比41.20%）、“缺少实习经历”（占比30.50%）、"
        "“求职目标不明确”（占比18.30%）。\n"
    )
    answer = answer_over(tmp_path_factory, {"就业报告.txt": text}, "样例学院没找到工作的学生，自己觉得是哪几个原因？")
    assert not answer.refused
    assert all(reason in answer.text for reason in ("还在准备考试", "缺少实习经历", "求职目标不明确"))
    assert answer.text.startswith("暂未就业的学生") and "二、帮扶工作" not in answer.text


def test_an_enumeration_of_bare_section_headings_is_no_list_answer(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """「1.创业原因 2.创业困难 3.创业帮扶」 are headings of sections: they name what follows and say
    nothing, so they are no list of reasons; the sentence giving the reasons asked for is."""
    text = (
        "样例学院2023届毕业生就业质量报告\n\n第四章 就业质量\n\n（一）就业专业相关度\n\n"
        "毕业生所学专业与工作的相关度为70.02%。\n\n"
        "28.40%的毕业生选择从事与专业不相关的工作，其主要原因为“先就业再择业”（占比40.10%）、"
        "“专业岗位待遇低”（占比33.20%）、“不符合职业规划”（占比26.70%）。\n\n"
        "（二）创业反馈\n\n1.创业原因\n\n毕业生选择创业的原因主要为“实现理想”（占比70.00%）。\n\n"
        "2.创业困难\n\n毕业生创业的困难主要为“资金不足”（占比60.00%）。\n\n"
        "3.创业帮扶\n\n毕业生希望获得的帮扶主要为“资金支持”（占比55.00%）。\n"
    )
    answer = answer_over(tmp_path_factory, {"就业质量报告.txt": text}, "样例学院毕业生干的工作跟专业不对口，主要是哪几个原因？")
    assert not answer.refused
    assert all(reason in answer.text for reason in ("先就业再择业", "专业岗位待遇低", "不符合职业规划")), answer.text
    assert "1.创业原因" not in answer.text


@pytest.mark.parametrize("intro", ["", "本方案遵循以下原则。\n\n"])
def test_a_heading_naming_what_is_asked_brings_the_items_of_its_section(tmp_path_factory, intro: str) -> None:  # type: ignore[no-untyped-def]
    """「基本原则有哪几条」: the heading 「（二）基本原则」 says what its section lists; the answer is its
    items 1.… 2.… 3.…, not the sibling headings （一）（三）; whether the heading is a passage's text
    (it has an introduction) or only the title of its items' section."""
    text = (
        "示例市产教融合促进方案\n\n一、总体要求\n\n（一）指导思想\n\n坚持以服务产业发展为导向，深化校企合作。\n\n"
        f"（二）基本原则\n\n{intro}1.统筹规划，分步实施。按照先试点后推广的思路推进。\n\n2.市场主导，学校主体。发挥企业办学作用。\n\n"
        "3.注重质量，讲求实效。建立考核评价机制。\n\n（三）工作目标\n\n到2027年，建成产教融合实训基地10个。\n"
    )
    answer = answer_over(tmp_path_factory, {"促进方案.txt": text}, "产教融合促进方案的基本原则有哪几条？")
    assert not answer.refused
    assert all(item in answer.text for item in ("统筹规划", "市场主导", "注重质量"))
    assert "工作目标" not in answer.text


def test_a_word_with_a_character_left_out_says_the_same(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """办公楼 is 办公大楼 with 大 left out (same first and last character): the sentence about the
    办公大楼 answers 「办公楼花了多少钱」 instead of a refusal for want of the word."""

    text = (
        "样例职业技术学院基本建设情况\n\n一、基建\n\n市财政投入1500万元建设学院新办公大楼，配套设施投入300万元。\n\n"
        "二、其他\n\n学院办公场所与教学场所分区管理，办公用房按规定配置，办公经费由学院统一安排。\n"
    )
    built = build(tmp_path_factory.mktemp("shortened"), {"基建情况.txt": text})
    question = "样例学院的新办公楼花了多少钱？"
    evidence = built.pipeline.evidence(built.pipeline.analyse(question))
    unit = next(u for u in evidence.units if "办公大楼" in u.text)
    assert "办公楼" in unit.own
    answer = built.ask(question)
    assert not answer.refused and "1500万元" in answer.text


def test_a_draft_about_a_document_s_subject_uses_its_sentences_that_do_not_repeat_the_title(  # type: ignore[no-untyped-def]
    tmp_path_factory,
) -> None:
    """「讲讲示例市智慧校园建设方案」: the plan's sentences are on topic although they do not repeat its
    title; the draft fills its length with them instead of stopping after the one that does."""
    text = (
        "示例市智慧校园建设方案\n\n一、目标\n\n示例市智慧校园建设方案明确了今后三年的建设任务。\n\n"
        "到2026年，全市职业院校校园网络实现千兆到桌面，建成数字化实训室120间。\n\n"
        "二、措施\n\n市财政每年安排专项资金3000万元，支持教学资源库和数据中心建设。\n\n"
        "三、保障\n\n各院校应当设立首席信息官，每年组织教师信息化能力培训不少于40学时。\n"
    )
    request = "给领导写个简介，讲讲示例市智慧校园建设方案，200字左右"
    answer = answer_over(tmp_path_factory, {"智慧校园建设方案.txt": text}, request)
    assert not answer.refused
    assert "3000万元" in answer.text and "120间" in answer.text


def test_a_month_under_a_year_in_a_two_level_header_is_read_and_a_dash_is_no_value(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A header of years over months (one month's 「月」 wrapped onto its own ruled line), a
    caption numbered 「表3- 2」 without a colon, and 「-」 cells meaning no value."""
    text = (
        "一、宣讲会\n学校各月举办宣讲会情况如下表所示。\n表3- 2分月份分行业宣讲会场次\n"
        "行业\t2022年\t\t2023年\t合计\n\t11月\t12\t1月\t\n\t\t月\t\t\n"
        "教育\t4\t-\t2\t6\n建筑业\t5\t3\t1\t9\n"
    )
    answer = answer_over(tmp_path_factory, {"宣讲会.txt": text}, "建筑业2022年12月办了几场宣讲会？全年合计多少场？")
    assert not answer.refused
    assert "2022年 12月为3" in answer.text and "合计9" in answer.text
    assert "- 2" not in answer.text and "教育" not in answer.text


def test_a_short_name_spelled_out_only_in_a_table_cell_is_answered_from_its_row(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    text = (
        "一、各专业就业情况\n表2：各专业毕业生就业率\n"
        "学院\t专业\t毕业人数\t就业率\n商学院\t电子商务\t120\t93.20%\n\t市场营销\t80\t88.10%\n"
        "机电学院\t电子信息工程技术\t60\t91.50%\n"
    )
    answer = answer_over(tmp_path_factory, {"就业报告.txt": text}, "电商专业的就业率是多少？")
    assert not answer.refused and "93.20%" in answer.text
    assert "88.10" not in answer.text and "91.50" not in answer.text


def test_figures_without_words_are_no_sentence_of_a_draft(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A chart's caption and axis read as text (「图3- 1近三年升学人数 32.18% 32.64%」「900」) say
    nothing of what the figures measure."""
    text = (
        "一、升学情况\n学院2023届毕业生国内升学312人，升学率为24.6%。\n"
        "图3- 1近三年升学人数\n32.18% 32.64%\n900\n800\n700\n"
        "升学院校以省内本科高校为主，升入省内高校的有265人。\n"
    )
    answer = answer_over(tmp_path_factory, {"毕业生升学情况.txt": text}, "写一段毕业生升学情况的综述，150字左右。")
    assert "312" in answer.text and "265" in answer.text
    assert "900" not in answer.text and "32.18" not in answer.text


def test_a_table_that_says_no_year_is_of_its_report_s_year(tmp_path_factory: pytest.TempPathFactory) -> None:
    text = (
        "一、就业地区\n2023年，参加校园招聘的用人单位主要来自广东省（占比19.2%）、浙江省（占比11.4%）。\n"
        "表2：分学历毕业生就业地区分布\n就业地区\t本科 人数\t本科 占比\t研究生 人数\t研究生 占比\n"
        "湖北省\t1869\t60.60%\t764\t51.00%\n广东省\t347\t11.25%\t170\t11.35%\n"
    )
    files = {"样例大学2023届毕业生就业质量报告.txt": text}
    answer = answer_over(tmp_path_factory, files, "2023届研究生去广东工作的有多少？占比呢？")
    assert "170" in answer.text and "11.35%" in answer.text
    assert "19.2%" not in answer.text  # the employers' sentence says 2023 but not what is asked


def test_a_change_over_a_year_is_computed_from_two_years_never_from_a_whole_and_its_part(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """「2020年比前一年多了多少」 compares two years: the part (其中) of one year's figure is no operand;
    「比前一年」 is what is compared with, no content; 「收的钱」 asks for money."""
    text = (
        "一、社会服务\n全年共组织各类培训30多批次，培训52000人日，其中技术技能培训51000人日。\n"
        "表3：社会服务情况\n序号\t指标\t单位\t2019年\t2020年\n1\t培训到款额\t万元\t380.50\t455.25\n"
        "2\t培训人日\t人日\t48000\t52000\n"
    )
    answer = answer_over(tmp_path_factory, {"服务报告.txt": text}, "学校搞培训收的钱，2020年比前一年多了多少？")
    assert "计算：455.25万元 − 380.5万元 = 74.75万元" in answer.text
    assert "2019年为380.50万元" in answer.text  # the year compared with is shown, not only the year asked
    assert "51000" not in answer.text
    alone = answer_over(
        tmp_path_factory, {"服务.txt": "一、社会服务\n2020年全年培训52000人日，其中技术技能培训51000人日。\n"},
        "2020年培训人日比前一年多了多少？",
    )
    assert "计算" not in alone.text  # a whole and its part of one year are no change over time


def test_a_draft_keeps_the_figures_of_a_sentence_it_narrows(tmp_path_factory: pytest.TempPathFactory) -> None:
    text = (
        "一、国际合作\n学院与新西兰怀卡托理工学院联合举办的“中新班”，已开办六届，累积招录学生188人，"
        "课程由双方教师共同讲授，学生毕业时可获得两校颁发的证书，升学渠道也因此得到了进一步拓宽。\n"
    )
    answer = answer_over(tmp_path_factory, {"国际合作.txt": text}, "写一段中新班的介绍，100字左右。")
    assert "中新班" in answer.text and "188人" in answer.text


def test_a_label_filled_down_from_a_numbered_group_is_said_without_its_list_number(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """「(3)后勤服务」 labels the rows under it; its 3 orders the groups and is in no row's quote."""
    text = (
        "一、学生评价\n表5：学生评价表\n指标\t\t单位\t一年级\t二年级\n"
        "(1)教学管理\t调研人次\t人次\t3100\t2800\n\t满意度\t%\t97.10\t92.40\n"
        "(2)实习管理\t调研人次\t人次\t2900\t2600\n\t满意度\t%\t95.20\t91.10\n"
        "(3)后勤服务\t调研人次\t人次\t3050\t2750\n\t满意度\t%\t96.35\t89.70\n"
    )
    answer = answer_over(tmp_path_factory, {"学生评价.txt": text}, "学生给后勤服务打分，一年级和二年级的满意度各是多少？")
    assert "后勤服务、满意度：一年级96.35%，二年级89.70%" in answer.text
