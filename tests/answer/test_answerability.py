"""Answerability on a literal library (see ``conftest.py``): what may and may not cause a refusal.

Each test names the principle it checks; none of the questions comes from an eval set.
"""

from __future__ import annotations

import pytest

from tests.answer.conftest import Library


@pytest.mark.parametrize(
    "question",
    [
        "老师到企业实践到底怎么办？",  # question words and everyday verbs
        "帮我查一下，实习补贴每个月有多少钱？",  # asking verbs, deixis
        "示范职院一共录取了多少新生？",  # a short form of the school in the report's title
    ],
)
def test_question_words_never_cause_a_refusal(library: Library, question: str) -> None:
    """Principle 1: only names, years and articles can be missing; question words cannot."""
    assert not library.ask(question).refused


def test_a_school_that_is_not_in_the_library_is_refused(library: Library) -> None:
    answer = library.ask("深圳某某职业学院的就业率是多少？")
    assert answer.refused and "深圳" in answer.text


def test_a_year_the_documents_do_not_cover_is_refused(library: Library) -> None:
    answer = library.ask("2020年的就业率是多少？")
    assert answer.refused and "2020" in answer.text


def test_an_article_beyond_the_last_one_is_refused(library: Library) -> None:
    answer = library.ask("条例第三十条是怎么规定的？")
    assert answer.refused and "第三十条" in answer.text


def test_an_amount_the_regulation_does_not_state_is_refused(library: Library) -> None:
    """Principle 5: a quantity question is answered only by a unit stating that kind of figure about it."""
    answer = library.ask("职业学校给企业培训职工，培训费具体收多少钱？")
    assert answer.refused, answer.text


def test_a_figure_about_something_else_does_not_answer(library: Library) -> None:
    """The report says 120 students for the 产业学院, no yearly intake for another one."""
    assert library.ask("智能制造产业学院首批招了多少学生？").refused is False
    assert library.ask("电梯产业学院每年招多少学生？").refused


def test_a_name_only_the_title_says_counts_as_said(library: Library) -> None:
    """Principle 2: the report's rows never say the school's name; its title does."""
    answer = library.ask("示范职业技术学院东校区的报到率是多少？")
    assert not answer.refused and "96.10%" in answer.text


def test_an_amount_in_wan_said_of_a_money_word_is_money() -> None:
    """「注册资金200万以上」 states an amount of money without 元; 「200万人次」 and 「5万册」 do not."""
    from answer.answerability import _MEASURE_FIGURES

    money = _MEASURE_FIGURES["money"]
    assert money.search("合作企业注册资金200万以上，成立满三年")
    assert money.search("学校投入经费1.5亿用于实训基地建设")
    assert not money.search("年接待培训200万人次，馆藏图书5万册")
