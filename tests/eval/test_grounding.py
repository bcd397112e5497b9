"""Answer checks on hand-built answers where the right figures are known."""

from __future__ import annotations

import pytest

from answer.records import Answer, Citation
from answer.verify import answer_length, answer_sentences, length_limit, number_forms, ungrounded_numbers
from eval.dataset import EvalItem, GoldSource
from eval.grounding import check_answer, includes, quotes_overlap

DOC = "000_1945969dfabc08b4.txt"
TEXT = (
    "（二）多元投资。合作企业原则上投入折合金额不低于300万元，学校原则上投入资金与合作企业投入比例不少于1:1。"
    "产业学院设院长1名。"
)
QUOTE = "合作企业原则上投入折合金额不低于300万元"
ITEM = EvalItem(
    "t1", "fact", "合作企业投入不低于多少？", "不低于300万元。", ("300万元",), (GoldSource(DOC, QUOTE),), 1
)
UNANSWERABLE = EvalItem("t2", "unanswerable", "2021年招了多少学生？", "", (), (), 2)


def _citation(n: int, quote: str = QUOTE, start: int | None = None) -> Citation:
    begin = TEXT.find(quote) if start is None else start
    return Citation(n, f"c{n}", "doc1", "2022年校企合作机制体制改革情况报告", f"corpus/{DOC}", ("三、产业学院建设任务情况",),
                    None, quote, begin, begin + len(quote))


def _answer(text: str, *citations: Citation, refused: bool = False) -> Answer:
    return Answer(question=ITEM.question, text=text, citations=citations, refused=refused)


def test_a_grounded_answer_passes_every_check() -> None:
    check = check_answer(ITEM, _answer("合作企业原则上投入折合金额不低于300万元[1]。", _citation(1)), {"doc1": TEXT})
    assert (check.sentences, check.cited_sentences, check.citations, check.valid_citations) == (1, 1, 1, 1)
    assert check.numbers == 1 and check.unverified_numbers == 0 and check.bad_markers == 0
    assert check.must_include == 1.0 and check.correct is True and check.gold_agreement is True
    assert check.problems == ()


def test_a_sentence_without_citation_is_counted() -> None:
    check = check_answer(ITEM, _answer("不低于300万元[1]。学校投入比例也有要求。", _citation(1)), {"doc1": TEXT})
    assert check.sentences == 2 and check.cited_sentences == 1
    assert any("uncited" in p for p in check.problems)


def test_a_quote_that_is_not_the_documents_text_is_invalid() -> None:
    forged = _citation(1, quote="合作企业投入不低于500万元", start=8)
    check = check_answer(ITEM, _answer("合作企业投入不低于500万元[1]。", forged), {"doc1": TEXT})
    assert check.valid_citations == 0
    assert check.unverified_numbers == 0  # the number is in its (forged) quote: validity is what catches it


def test_a_wrong_number_is_unverified() -> None:
    check = check_answer(ITEM, _answer("合作企业投入不低于500万元[1]。", _citation(1)), {"doc1": TEXT})
    assert check.valid_citations == 1 and check.unverified_numbers == 1
    assert check.correct is False and check.must_include == 0.0
    assert any("500万元" in p for p in check.problems)


def test_a_marker_without_citation_counts_as_uncited() -> None:
    check = check_answer(ITEM, _answer("不低于300万元[2]。", _citation(1)), {"doc1": TEXT})
    assert check.bad_markers == 1 and check.cited_sentences == 0 and check.unverified_numbers == 1


def test_refusals_right_and_wrong() -> None:
    refusal = "知识库中没有找到2021年的招生数据。"
    right = check_answer(UNANSWERABLE, _answer(refusal, refused=True), {})
    assert right.refused and right.must_include is None and right.correct is None and right.sentences == 0
    wrong = check_answer(ITEM, _answer(refusal, refused=True), {})
    assert wrong.refused and wrong.correct is False and wrong.must_include == 0.0 and wrong.gold_agreement is None


def test_citation_to_another_document_does_not_agree_with_gold() -> None:
    other = Citation(1, "c1", "doc1", "t", "corpus/003_da08deca98ac4f1a.txt", (), None, QUOTE, 8, 8 + len(QUOTE))
    check = check_answer(ITEM, _answer("不低于300万元[1]。", other), {"doc1": TEXT})
    assert check.gold_agreement is False


def test_answer_sentences_keep_their_markers() -> None:
    text = "第一句[1]。第二句。[2]\n第三句；第四句[3][4]"
    assert answer_sentences(text) == ["第一句[1]。", "第二句。[2]", "第三句；第四句[3][4]"]


def test_numbers_are_normalised() -> None:
    assert number_forms("300万元") == [frozenset({300, 3_000_000})]
    assert number_forms("５,８９７人，57.14%")[0] == frozenset({5897})
    assert ungrounded_numbers("投入3000000元[1]", ["不低于300万元"]) == []
    assert ungrounded_numbers("成功申请十个证书", ["成功申请10个证书"]) == []
    assert ungrounded_numbers("2023年10月21日", ["2023年10月20日"]) == ["21"]
    assert ungrounded_numbers("分三个阶段", ["宣传发动阶段、深入实施阶段"]) == ["三"]
    assert number_forms("统一部署，一是……") == []  # no measure word: not a figure
    # a digit group is exactly three digits: a comma before a year separates two figures
    assert number_forms("合计113，2022年为66")[:2] == [frozenset({113}), frozenset({2022})]


def test_must_include_matching() -> None:
    assert includes("占57.14 %[1]", "57.14%")
    assert includes("不低于 300 万元", "300万元")
    assert includes("投入3000000元", "300万")
    assert not includes("投入300元", "300万")
    assert not includes("院长一名", "院长1名")  # words and figures together match as text only


@pytest.mark.parametrize(
    ("question", "limit"),
    [
        ("给就业质量章节写一段200字左右的小结", (200, True)),
        ("写一段材料，不超过250字。", (250, False)),
        ("写清三个阶段的时间和任务，300字以内。", (300, False)),
        ("郴职院的发文字号是什么？", None),
    ],
)
def test_length_limits(question: str, limit: tuple[int, bool] | None) -> None:
    assert length_limit(question) == limit


def test_draft_length_is_checked() -> None:
    item = EvalItem("t3", "draft", "写一段不超过10字的小结。", "", (), (GoldSource(DOC, QUOTE),), 3)
    assert answer_length("不低于300万元[1]。\n") == 9
    ok = check_answer(item, _answer("不低于300万元[1]。", _citation(1)), {"doc1": TEXT})
    long = check_answer(item, _answer("合作企业原则上投入不低于300万元[1]。", _citation(1)), {"doc1": TEXT})
    assert ok.length_ok is True and long.length_ok is False


def test_quote_overlap() -> None:
    assert quotes_overlap("合作企业原则上投入折合金额不低于300万元", "投入折合金额不低于300万元，学校")
    assert not quotes_overlap("合作企业原则上投入", "学校原则上投入资金")
    assert quotes_overlap("院长1名", "设院长1名，副院长若干名")


def test_answer_round_trips_through_json() -> None:
    import json

    answer = _answer("不低于300万元[1]。", _citation(1))
    again = Answer.from_dict(json.loads(json.dumps(answer.to_dict(), ensure_ascii=False)))
    assert again == answer


def test_a_pdf_citation_agrees_only_on_the_gold_quote_s_page() -> None:
    from eval.grounding import same_page

    assert same_page(17, 17) and same_page(16, 17)  # a passage may start at the foot of the page before
    assert not same_page(18, 17) and not same_page(3, 17)
    assert same_page(None, 17) and same_page(5, None)
