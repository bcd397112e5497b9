"""Question analysis on sentences written for these tests: names, short forms, stoplist, kinds."""

from __future__ import annotations

import pytest

from answer.question import (
    STOPLIST,
    Catalog,
    Mention,
    analyse,
    content_terms,
    find_mentions,
    is_followup,
    is_place,
    list_head,
    matches,
    names_in_context,
    resolve,
    resolve_all,
    topic_of,
)
from index.lexical import LexicalIndex
from index.tokenize import ChineseTokenizer


@pytest.fixture(scope="module")
def vocabulary() -> LexicalIndex:
    lexical = LexicalIndex(ChineseTokenizer())
    texts = [
        "南京职业技术学院软件技术专业毕业生就业率为95.20%。",
        "职业学校应当组织教师到企业实践。",
        "学生实习补贴按照每人每月300元发放。",
        "图书馆改造工程于2022年完成，新增座位800个。",
    ]
    lexical.add_many((f"c{i}", "d", "text", t) for i, t in enumerate(texts))
    return lexical


def texts(mentions: list[Mention]) -> list[str]:
    return [m.text for m in mentions]


def test_question_words_are_no_content(vocabulary: LexicalIndex) -> None:
    """Principle: question words, asking verbs and deixis never count as what a question is about."""
    terms = content_terms("请问一下，这些职业学校到底怎么办才好呢？", vocabulary)
    assert "职业学校" in terms or "职业" in terms
    assert not {"请问", "一下", "这些", "怎么办", "呢"} & set(terms)
    assert {"怎么办", "多久", "哪几条", "口吻", "综述", "短讯", "简介"} <= STOPLIST
    # a verb character glued to the question word it asks with is no content either
    assert not {"占多大", "有多少"} & set(content_terms("女生占多大比例？男生有多少？", vocabulary))
    assert "个" not in content_terms("写个短讯，说说实习补贴", vocabulary)  # the general classifier says no kind
    # words pointing into the text itself, comparing, or spreading a verb (各办) say no content
    terms = content_terms("报告里招聘会到底各办了几场？前后两处说的数一样吗？", vocabulary)
    assert not {"到底", "各办", "前后", "两处", "数", "一样"} & set(terms) and "招聘会" in terms


def test_names_end_in_a_kind_word() -> None:
    found = find_mentions("南京职业技术学院软件技术专业的就业率是多少？")
    assert ("南京职业技术学院", "org") in [(m.text, m.kind) for m in found]
    major = next(m for m in found if m.kind == "major")
    assert major.text == "软件技术专业" and major.core == "软件技术"


def test_a_kind_word_behind_a_function_word_names_nothing() -> None:
    assert find_mentions("按规定应该怎么处理？") == []
    assert find_mentions("有什么办法吗？") == []


def test_a_document_named_with_leading_verbs_has_shorter_forms_but_keeps_its_place() -> None:
    mention = next(m for m in find_mentions("提醒大家执行杭州市职业教育条例") if m.kind == "document")
    assert "杭州市职业教育条例" in mention.forms
    assert "职业教育条例" not in mention.forms  # the place in front is part of the name


def test_everyday_words_jieba_tags_as_places_are_no_places() -> None:
    """Principle: a place is an administrative name (jieba lists it with 省/市/县/区)."""
    assert is_place("杭州") and is_place("江苏") and is_place("苏州市")
    assert not is_place("扎根") and not is_place("上路") and not is_place("东部")
    assert texts(find_mentions("老师扎根一线，车辆上路前要检查")) == []
    assert texts(find_mentions("去杭州工作的毕业生有多少？")) == ["杭州"]


@pytest.mark.parametrize(
    ("short", "name"),
    [("苏职院", "苏州职业技术学院"), ("高教法", "中华人民共和国高等教育法"), ("收养登记办法", "中国公民收养子女登记办法")],
)
def test_a_short_form_abbreviates_a_longer_name(short: str, name: str) -> None:
    """Principle: a short form's characters appear in the name in order, starting at one of its words."""
    assert matches(short, name)


def test_a_short_form_does_not_match_another_place_or_school() -> None:
    assert not matches("杭职院", "苏州职业技术学院")
    assert not matches("广州市职业教育条例", "杭州市职业教育条例")
    mention = Mention("苏职院", "org", "", ("苏职院",))
    assert resolve(mention, ["苏州职业技术学院", "杭州职业技术学院"]) == "苏州职业技术学院"


def test_a_place_narrows_the_titles_a_short_document_name_may_mean() -> None:
    mention = Mention("职教条例", "document", "职教", ("职教条例",))
    titles = ["浙江省职业教育条例", "江苏省职业教育条例"]
    assert resolve_all(mention, titles) == titles
    assert resolve_all(mention, titles, ["江苏"]) == ["江苏省职业教育条例"]


def test_a_question_asks_for_a_kind_of_figure(vocabulary: LexicalIndex) -> None:
    assert analyse("实习补贴一个月给多少钱？", vocabulary).measures == ("money",)
    assert analyse("试用期要多久？", vocabulary).measures == ("time",)
    assert analyse("本地生源占多大比例？", vocabulary).measures == ("ratio",)
    assert analyse("今年招了多少学生？", vocabulary).measures == ("people",)
    assert analyse("图书馆有什么规定？", vocabulary).measures == ()


def test_kinds_of_question(vocabulary: LexicalIndex) -> None:
    assert analyse("写一段图书馆改造的简介，200字左右", vocabulary).kind == "write"
    assert analyse("学校有哪些实训基地？", vocabulary).kind == "list"
    assert analyse("条例第三十条怎么规定的？", vocabulary).kind == "fact"  # an article number is not a list
    assert analyse("就业率比去年下降了多少？", vocabulary).operation == "difference"


def test_a_writing_request_retrieves_for_its_topic() -> None:
    topic = topic_of("用新闻稿的口吻写一段图书馆改造工程的介绍，200字左右")
    assert "图书馆" in topic and "改造" in topic
    assert "口吻" not in topic and "200" not in topic and "介绍" not in topic


def test_a_follow_up_keeps_what_the_earlier_question_was_about(vocabulary: LexicalIndex) -> None:
    assert is_followup("那研究生呢？", vocabulary) and is_followup("第六条呢？", vocabulary)
    assert is_followup("要公示多久？", vocabulary)  # too short to name a subject of its own
    assert not is_followup("南京职业技术学院软件技术专业的就业率是多少？", vocabulary)
    question = analyse("那研究生呢？", vocabulary, history=["南京职业技术学院软件技术专业的就业率是多少？"])
    assert "南京职业技术学院" in [m.text for m in question.mentions]
    assert question.quantity and question.query.startswith("南京职业技术学院")


def test_a_short_name_resolves_against_the_library_titles(vocabulary: LexicalIndex) -> None:
    library = {"d1": "南京职业技术学院2022年质量报告", "d2": "中华人民共和国职业教育法（2022-04-20）"}
    question = analyse("南职院的就业率是多少？职教法怎么说？", vocabulary, library)
    assert question.aliases["南职院"] == "南京职业技术学院"
    assert question.aliases["职教法"] == "中华人民共和国职业教育法"
    assert question.documents == ("d2",)


def test_a_file_name_names_the_school_a_title_leaves_out(vocabulary: LexicalIndex) -> None:
    source = "uploads/ab12/南京职业技术学院2023届毕业生就业质量年度报告.pdf"
    catalog = Catalog.of({"d1": "届毕业生就业质量年度报告"}, {"d1": source})
    assert analyse("南职院的就业率是多少？", vocabulary, catalog).aliases == {"南职院": "南京职业技术学院"}


def test_a_short_name_no_title_explains_is_spelled_out_by_the_passages(vocabulary: LexicalIndex) -> None:
    question = analyse("化环学院和电商专业的就业率各是多少？", vocabulary, {"d1": "就业质量年度报告"})
    passages = [
        "各学院就业率：化学与环境工程学院96.1%，机电工程学院97.2%。",
        "学院\t专业\t就业率\n现代商学院\t电子商务\t93.20%\n\t电子制造技术\t90.00%",
    ]
    assert names_in_context(question, passages) == ["化学与环境工程学院", "电子商务专业"]
    # a name the passages already say, or one the titles explained, is left alone
    assert names_in_context(question, ["化环学院的电商专业就业率为95%。"]) == []


def test_regressions_of_names_and_kinds(vocabulary: LexicalIndex) -> None:
    """Names keep their first character; everyday words ending in a kind word name nothing."""
    assert "同济大学" in texts(find_mentions("同济大学的录取分数线是多少？"))
    assert "中心" not in texts(find_mentions("以学生为中心的教学方法有哪些？"))
    assert analyse("教学方法有哪些？", vocabulary, {"d": "中华人民共和国职业教育法"}).mentions == ()
    assert analyse("毕业最少需要多少学分？", vocabulary).operation is None
    assert analyse("实习之前要签什么协议？", vocabulary).old_version is False
    assert analyse("旧版条例怎么规定的？", vocabulary).old_version is True
    assert analyse("录取了多少新生？", vocabulary).measures == ("people",)
    assert analyse("学校搞培训收的钱，比去年多了多少？", vocabulary).measures == ("money",)
    assert analyse("年假没让休，怎么给钱？", vocabulary).measures == ()  # asks how, not how much
    # what a change is compared with (比前一年, 同比) is no content: the compared year's header says it
    weights = analyse("2020年就业率比前一年高了多少？同比呢？", vocabulary).weights
    assert not {"比前", "一年", "同比"} & set(weights) and "就业率" in weights


def test_short_forms_are_spelled_out_in_one_pass(vocabulary: LexicalIndex) -> None:
    library = {"d1": "清远职业技术学院质量年度报告"}
    question = analyse("清职院在清远的招生情况", vocabulary, library)
    assert question.query.count("清远职业技术学院") == 1  # 清远 is a place, never resolved to the school
    # the documents say the name, not the short form: only the name is weighed
    assert "清职院" not in question.weights and "学院" in question.weights


def test_sub_questions_and_their_texts_stay_in_step(vocabulary: LexicalIndex) -> None:
    question = analyse("请问一下。职业学校怎么组织实践？实习补贴多少钱？", vocabulary)
    assert len(question.parts) == len(question.part_texts) == 2


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("申请助学金要提交哪几样材料？", "材料"),
        ("设立分校应当符合哪些条件？", "条件"),
        ("这个基金的基本原则有哪几条？", "原则"),  # a noun phrase ends in its head: 基本原则 → 原则
        ("要提交的证明有哪些？", "证明"),  # the noun the asking word is said of
        ("学校和企业可以在哪几方面合作？", None),  # a vague noun names no kind of item
        ("每天最多工作几个小时？", None),  # how many, not which
    ],
)
def test_a_list_question_names_what_its_items_are(question: str, head: str | None) -> None:
    """Principle: the noun a list question asks items of is the head of its asking phrase."""
    assert list_head(question) == head


def test_genre_words_are_content_except_in_a_writing_request(vocabulary: LexicalIndex) -> None:
    """A genre (材料, 总结, 简介) instructs a writing request and is a thing anywhere else."""
    assert "材料" in analyse("申请补贴要准备哪些材料？", vocabulary).terms
    assert "总结" in analyse("年度总结什么时候交？", vocabulary).terms
    writing = analyse("写一段图书馆改造工程的总结材料，200字左右", vocabulary)
    assert writing.kind == "write" and not {"总结", "材料"} & set(writing.terms)


def test_a_named_document_leaves_its_words_where_the_question_repeats_them(vocabulary: LexicalIndex) -> None:
    """The document a question names scopes it; its name is cut from what is weighed, not its words
    elsewhere in the question (资助 of 「申请资助的学生」 after 「资助办法里」)."""
    library = {"d": "示例省学生资助管理办法"}
    question = analyse("资助办法里，申请资助的学生要交什么？", vocabulary, library)
    assert question.documents == ("d",)
    assert "资助" in question.terms
    assert "资助" not in analyse("资助办法里，学生要交什么？", vocabulary, library).terms


def test_a_word_the_library_never_uses_may_be_a_short_form_of_one_it_does() -> None:
    """教资 is no word of the library or the dictionary: it stands for the library's 教师资格. 招人 is a
    dictionary word of its own and is never read as 招生人数; 五一 is a numeral, no short form."""
    lexical = LexicalIndex(ChineseTokenizer())
    texts = ["申请认定教师资格的，应当提交身份证明。", "学校今年招生人数为3200人。", "职工累计工作已满1年的，享受年休假。"]
    lexical.add_many((f"c{i}", "d", "text", t) for i, t in enumerate(texts))
    question = analyse("教资怎么申请认定？", lexical)
    assert question.aliases["教资"] == "教师资格" and "教师资格" in question.weights
    assert "教师资格" in question.query
    assert "招人" not in analyse("哪些单位在招人？", lexical).aliases
    assert "五一" not in analyse("五一放几天？", lexical).aliases


def test_two_characters_the_tokenizer_cut_apart_are_tried_as_one_short_form() -> None:
    """年假 is cut into 年 and 假; together they are a short form of the library's 年休假."""
    lexical = LexicalIndex(ChineseTokenizer())
    texts = ["职工累计工作已满1年的，享受带薪年休假。", "单位应当统筹安排职工年休假。"]
    lexical.add_many((f"c{i}", "d", "text", t) for i, t in enumerate(texts))
    question = analyse("年假一年能休几天？", lexical)
    assert question.aliases.get("年假") == "年休假" and "年休假" in question.weights
    assert "假" not in question.weights


def test_who_a_piece_of_writing_is_for_is_no_topic() -> None:
    topic = topic_of("帮财务处写一段给全体教师的通知，讲清楚差旅费报销流程，200字以内")
    assert "差旅费" in topic and "报销" in topic
    assert "财务处" not in topic and "讲清楚" not in topic and "通知" not in topic


def test_a_kind_word_jieba_glues_to_the_next_word_still_ends_a_name() -> None:
    """jieba reads 「专业本科」 as one word; 「护理专业」 is still the major the question names."""
    found = find_mentions("南京某某学院护理专业本科毕业生有多少人？")
    assert ("护理专业", "major") in [(m.text, m.kind) for m in found]
