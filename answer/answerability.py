"""Whether the evidence can answer the question: judged by content and meaning, not vocabulary.

Principles (each tested in ``tests/answer/test_answerability.py`` on snippets written for it):

1. Only what an answer must be *about* can be missing: the names the question mentions
   (institutions, majors, places, documents), its years and the articles it points to.
   Question words, verbs, everyday words and writing instructions never cause a refusal.
2. A document's title and head (发文字号, 成文日期), a unit's section headings, and a table's
   caption and column headers count as said by every unit under them.
3. A short form counts as present when it resolves to a longer name said in the evidence (化环学院
   → 化学与环境工程学院) or in the library's titles (职教法 → 中华人民共和国职业教育法).
4. A year must be said by a unit that is about the question's subject (it shares one of the
   question's content terms), not by any sentence that merely holds the year.
5. A question asking for a quantity (多少, 多久, 几个) of one thing is answered only by a unit that
   states a figure.
6. Relevance by meaning: the best unit covers enough of the question's weighted terms, or its
   passage is close to the question in the embedding space (``MIN_COVERAGE``, ``MIN_SIMILARITY``,
   calibrated on dev and dev2 together: ``bench/calibrate.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from answer.evidence import Evidence, Unit
from answer.question import MAJOR_KINDS, NAME_IN_TEXT, ORG_KINDS, Mention, Question, abbreviates, is_place
from answer.question import words_of as _words
from answer.verify import cn_value

# the best unit must hold this share of the question's term weight, unless its passage is this
# close in meaning (cosine similarity of the e5 query and passage vectors)
MIN_COVERAGE = 0.30
MIN_SIMILARITY = 0.86
ABOUT_SHARE = 0.5  # a unit stating the asked figure says at least this share of what the best unit says
ABOUT_TOP = 3  # ... or one of the question's weightiest terms

_ORDINAL = re.compile(r"第([一二三四五六七八九十百零〇两\d]+)([条章节款项])")
_NUMERAL = r"(?:\d[\d,.]*|[零〇一二两三四五六七八九十百千万]+|半)"
_MEASURE_FIGURES = {
    # an amount in 元, a figure after a money word, or 万/亿 said of one (注册资金200万以上)
    "money": re.compile(
        _NUMERAL + r"\s*(?:万|亿)?\s*(?:元|块)|(?:元|金额|费|资|款)\S{0,6}\s\d"
        r"|(?:资金|资本|经费|投入|投资|金额|费用|款)\S{0,4}?\d[\d,.]*\s*(?:万|亿)"
    ),
    "time": re.compile(_NUMERAL + r"\s*(?:个)?\s*(?:工作日|日|天|周|星期|月|年|小时|分钟|学期|学年)|半年"),
    "ratio": re.compile(r"\d\s*[%％‰]|百分之|分之|[一二三四五六七八九十]成|倍|(?:率|比例|占比)\S{0,6}\s\d"),
    "people": re.compile(_NUMERAL + r"\s*(?:人|名|位)|人数\S{0,6}\s\d"),
}
# a chain of names is a school and one of its units (武工程 管理学院): schools and units by kind word
_SCHOOL = re.compile("(?:" + "|".join(k for k in ORG_KINDS if k.endswith(("大学", "学院", "学校", "职院"))) + ")$")
_UNIT = re.compile(r"^[\u4e00-\u9fff]{2,14}(?:" + "|".join((*ORG_KINDS, *MAJOR_KINDS)) + ")$")
# what a table header or row label says its figures are
_MEASURE_HEADERS = {
    "money": re.compile(r"元|金额|收入|工资|薪|费|资金|经费"),
    "time": re.compile(r"天|日|周|月|年|时间|期限|时长|学时"),
    "ratio": re.compile(r"率|比|占|[%％‰]"),
    "people": re.compile(r"人|名"),
}
_PLACE_NAME = r"[\u4e00-\u9fa5]{2,6}"
# a place word that points rather than names (全市, 本省, 各县, 外省, 地级市): no answer to 「哪个市」
_GENERIC_PLACE = re.compile(r"^(?:全|我|本|该|各|地级|省|县|区|市|其|此|两|同|外|城)")
_YEAR_WORDS = frozenset({"年", "年度", "届"})  # what a year is written with, not what it is about


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # why not, in Chinese, shown with the refusal
    relevance: float = 0.0  # the best unit's share of the question's term weight
    similarity: float = 0.0  # the best passage's cosine similarity to the question


@dataclass(frozen=True)
class Thresholds:
    min_coverage: float = MIN_COVERAGE
    min_similarity: float = MIN_SIMILARITY


def judge(evidence: Evidence, chosen: Sequence[Unit], thresholds: Thresholds = Thresholds()) -> Verdict:
    """Whether ``chosen`` (the units an answer would use) can answer ``evidence.question``."""
    question = evidence.question
    similarity = max((p.similarity for p in evidence.passages if p.similarity is not None), default=0.0)
    if not chosen:
        return Verdict(False, "没有检索到相关段落", 0.0, similarity)
    relevance = max(question.coverage(u.terms) for u in chosen)
    said = fold("\n".join(u.words for u in chosen))
    from_named = any(u.doc_id in question.documents for u in chosen)
    missing = [
        m.text
        for m in question.mentions
        if not (m.kind == "document" and m.text in question.aliases and from_named) and not supported(m, said, question)
    ]
    if missing and not _answers_another_part(question, missing, chosen):
        return Verdict(False, f"资料中没有提到「{'、'.join(missing)}」", relevance, similarity)
    subject = set(question.terms) - set(question.years) - _YEAR_WORDS
    missing_years = [
        y for y in question.years if not any(y in u.words and (not subject or subject & u.terms) for u in chosen)
    ]
    if missing_years and not _answers_another_part(question, missing_years, chosen):
        return Verdict(False, f"资料中没有 {'、'.join(missing_years)} 年的相关内容", relevance, similarity)
    # an article the question points to must be there, in the document it names when it names one
    named = [u for u in chosen if u.doc_id in question.documents] if question.documents else list(chosen)
    articles = {ordinal(m.group(0)) for u in named for m in _ORDINAL.finditer(fold(u.words))}
    missing_ordinals = [o for o in question.ordinals if ordinal(o) not in articles]
    if missing_ordinals:
        return Verdict(False, f"资料中没有{'、'.join(missing_ordinals)}", relevance, similarity)
    if relevance < thresholds.min_coverage and similarity < thresholds.min_similarity:
        return Verdict(False, f"找到的段落只覆盖了问题要点的 {relevance:.0%}", relevance, similarity)
    if question.quantity and question.kind == "fact" and not question.when:
        if not any(_states_figure(u) for u in chosen):
            return Verdict(False, "资料中没有写明具体数字", relevance, similarity)
        best = max((question.coverage(u.own) for u in evidence.units), default=0.0)
        if question.measures and not any(states_asked_figure(u, question, best) for u in chosen):
            return Verdict(False, "资料中没有写明具体数额", relevance, similarity)
    if question.place_kind and not _names_place(said, question.place_kind, question.text):
        return Verdict(False, f"资料中没有写明是哪个{question.place_kind}", relevance, similarity)
    return Verdict(True, "", relevance, similarity)


def _answers_another_part(question: Question, missing: Sequence[str], chosen: Sequence[Unit]) -> bool:
    """A question of several parts (「郴职院…？清职院…？」) whose missing names or years all sit in
    some parts is still answered when another part, naming none of them, is covered by half: the answer gives
    what the documents hold for that part."""
    if len(question.part_texts) < 2:
        return False
    free = [i for i, part in enumerate(question.part_texts) if not any(name in part for name in missing)]
    if len(free) == len(question.part_texts):
        return False  # the names are in no single part: they belong to the whole question
    terms = set().union(*(u.terms for u in chosen))
    for i in free:
        weights = question.parts[i] if i < len(question.parts) else {}
        if weights and sum(w for t, w in weights.items() if t in terms) >= 0.5 * sum(weights.values()):
            return True
    return False


def fold(text: str) -> str:
    """Width, case and whitespace folded, for matching names in text."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def supported(mention: Mention, said: str, question: Question) -> bool:
    """Whether ``said`` (folded) holds ``mention``: whole, by its core (电子商务 of 电子商务专业), by
    the library name it resolved to, as the short form of a name ``said`` holds, or as a chain of
    names (武工程管理学院: 武工程 → 武汉工程大学, then 管理学院). A mention too short to stand
    without its kind word (医学院) must stand alone in ``said``, not inside a longer name (同济医学院)."""
    names = [m.group(0) for m in NAME_IN_TEXT.finditer(said)]
    if any(_holds(fold(form), said, names, alone=not mention.core) for form in mention.forms or (mention.text,)):
        return True
    full = question.aliases.get(mention.text, "")
    kind_word = mention.text[len(mention.core) :] if mention.core and mention.text.startswith(mention.core) else ""
    # the name it resolved to, also without the kind word a table cell leaves out (电子商务 of 电子商务专业)
    forms = [mention.core, full, full[: -len(kind_word)] if kind_word and full.endswith(kind_word) else ""]
    if mention.kind == "place":
        forms.append(re.sub(r"(?<=..)[市省县区]$", "", mention.text))
    if any(form and len(form) >= 2 and fold(form) in said for form in forms):
        return True
    words = _words(mention.text)
    if len(words) > 1 and is_place(words[0]) and mention.kind != "place":
        # a name qualified by a place (宁波 中职学校): the place and the rest are each said
        place = Mention(words[0], "place", words[0], (words[0],))
        rest_text = mention.text[len(words[0]) :]
        rest = Mention(rest_text, mention.kind, mention.core[len(words[0]) :], (rest_text,))
        if supported(place, said, question) and supported(rest, said, question):
            return True
    for i in range(1, len(words)):
        head, tail = "".join(words[:i]), "".join(words[i:])
        # a chain is a school and one of its units: the head names a school, the tail a unit of it
        if len(head) >= 2 and _UNIT.search(tail) and _holds(fold(tail), said, names, alone=False):
            resolved = question.aliases.get(head, "")
            schools = [n for n in names if _SCHOOL.search(n)]
            if (resolved and fold(resolved) in said) or any(fold(head) == n or abbreviates(fold(head), n) for n in schools):
                return True
    return False


def _holds(form: str, said: str, names: Sequence[str], *, alone: bool) -> bool:
    """``form`` is in ``said`` (standing alone: not right after another CJK character), or
    abbreviates one of ``names``."""
    if alone:
        if re.search(rf"(?<![\u4e00-\u9fff]){re.escape(form)}", said):
            return True
    elif form in said:
        return True
    return any(abbreviates(form, name) for name in names if len(name) > len(form))


def measures_stated(unit: Unit, measures: Sequence[str]) -> bool:
    """Whether ``unit`` states a figure of each kind asked for (an amount of money, a duration,
    a ratio, a number of people): in its text, or for a table row, a figure under a header or in
    a row whose label names that kind (计划招生（人）, 报到率（%）, 单位：元)."""
    if unit.row is None:
        return all(_MEASURE_FIGURES[m].search(unit.text) for m in measures)
    said = " ".join([*(h for h, _ in unit.row.figures), *(f"{h}{v}" for h, v in unit.row.labels)])
    figures = " ".join(v for _, v in unit.row.figures)
    return bool(unit.row.figures) and all(
        _MEASURE_HEADERS[m].search(said) or _MEASURE_FIGURES[m].search(figures) for m in measures
    )


def states_asked_figure(unit: Unit, question: Question, best: float = 0.0) -> bool:
    """``unit`` states the kind of figure the question asks for, about what it asks.

    It says, in its own words or the sentence introducing it, one of the question's ``ABOUT_TOP``
    weightiest terms or at least ``ABOUT_SHARE`` of what the best unit of the evidence says
    (``best``); and it is about what the question names. 「每月300元的实习补贴」 does not answer
    「培训费多少钱」; a unit holding 「10人次」 does not answer 「电梯产业学院每年招多少学生」.
    """
    if not measures_stated(unit, question.measures[:1]):
        return False
    top = sorted(question.weights, key=question.weights.__getitem__, reverse=True)[:ABOUT_TOP]
    about = unit.own | unit.lead  # a figure continues the sentence introducing it (…加权平均，即： S=…×40%)
    if not set(top) & about and question.coverage(about) < ABOUT_SHARE * best:
        return False
    said = fold(unit.words)
    named = [m for m in question.mentions if m.kind in ("org", "major", "place")]
    # with several names (北京和上海各…), the figure is about one of them
    return not named or any(supported(m, said, question) for m in named)


def ordinal(text: str) -> tuple[int, str] | None:
    """「第十五条」 and 「第15条」 as (15, "条")."""
    match = _ORDINAL.fullmatch(text) or _ORDINAL.search(text)
    if not match:
        return None
    number = match.group(1)
    value = int(number) if number.isdigit() else cn_value(number.replace("〇", "零"))
    return (value, match.group(2)) if value is not None else None


def _states_figure(unit: Unit) -> bool:
    return unit.numbers > 0


def _names_place(text: str, kind: str, question: str) -> bool:
    for match in re.finditer(_PLACE_NAME + kind, text):
        name = match.group(0)
        # the longest candidate may start mid-phrase: try each suffix of at least 2 characters + kind
        for i in range(len(name) - 2):
            candidate = name[i:]
            if not _GENERIC_PLACE.match(candidate) and candidate not in question and is_place(candidate):
                return True
    return False
