"""The default generator: answers composed from the retrieved sentences and table rows, no model.

It picks the units (``answer.evidence``) that together cover the question's weighted terms, one
at a time, each adding terms the answer does not hold yet; a table row is rendered with its
headers and only the year columns the question asks about (「全校：计划招生5897人，实际录取5735人，
报到人数5283人，报到率92.12%。」). A list question gets the items of the best passage in order; a
writing request (「写一段……200字左右」) gets as many figure-bearing sentences as its length allows.
Every sentence is an exact quote or a rendering of one cited row, so it is cited and verifiable by
construction; text inside documents is only ever quoted, never obeyed.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from answer.answerability import fold, measures_stated, ordinal, states_asked_figure, supported
from answer.compose import Claim, Composition, Span
from answer.evidence import Evidence, Unit, figures_of, is_heading
from answer.question import Mention, Question
from answer.verify import cn_value, number_forms, ungrounded_numbers
from ingest.chunk import CLOSE_BRACKETS, OPEN_BRACKETS, split_sentences, trim_span

_YEAR_HEADER = re.compile(r"(?:19|20)\d{2}")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_ITEM_NUMBER = re.compile(r"^\s*(?:[(（]\d{1,2}[)）]|\d{1,2}[.、．](?!\d))\s*")
_UNIT_IN_HEADER = re.compile(r"[（(]([^（）()]{1,6})[）)]\s*$")
_CAPTION_NUMBER = re.compile(r"^(?:表|附表|续表)\s*[\d一二三四五六七八九十]+(?:\s*[-－.．]\s*\d+)?[\s:：.、]*")
_CLAUSE_END = re.compile(r"[，,；;：:]")
_CONDITION = re.compile(r"的\s*[，,]$")  # 「违反本法规定……的，」: a rule's condition, its consequence follows


@dataclass(frozen=True)
class Budget:
    """How much an answer may say: units, characters, and the least gain worth another unit."""

    units: int
    chars: int
    min_gain: float


BUDGETS = {
    "fact": Budget(units=4, chars=400, min_gain=0.08),
    "list": Budget(units=12, chars=650, min_gain=0.05),
    "write": Budget(units=10, chars=300, min_gain=0.02),
}
# sentences longer than this are narrowed to the clauses that hold the matched terms
LONG_SENTENCE = 110
# a unit from a document the library holds a later version of weighs this much (the one in force wins)
SUPERSEDED_PRIOR = 0.5
# a table row naming a part (其中：广东) when the question names none of its labels, against a total row
PART_ROW_PRIOR = 0.7
PASSAGE_DECAY = 0.25  # how fast the retriever's later passages weigh less
POINTED_ARTICLE_PRIOR = 2.0  # the article the question names (第九条)
PREAMBLE_PRIOR = 0.3  # a regulation's revision history answers only questions about its history
LENGTH_NORM, LENGTH_EXPONENT = 80, 0.3
CONTEXT_SHARE = 0.5  # a question term only a unit's title or headings say counts this much
SUPPLY_SHARE = 0.3  # a unit added for a requirement gains at least this share of the first pick
REPEAT_SHARE = 0.5  # a draft's sentence that says no asked term the draft lacks counts this much


class ExtractiveComposer:
    """Composes the answer from the chosen units themselves: quotes and rendered table rows."""

    name = "extractive"
    judged = True

    def compose(self, evidence: Evidence, chosen: Sequence[Unit]) -> Composition:
        claims = [claim for unit in order(chosen, evidence.question) for claim in render(unit, evidence)]
        if evidence.question.operation == "difference":
            computed = difference(chosen, evidence)
            if computed is not None:
                claims.append(computed)
        return Composition(tuple(claims))


_FIGURE_WITH_UNIT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(%|％|万元|亿元|元|万人|人次|人|个|家|项|门|天|日|年)")
_STATED_CHANGE = re.compile(r"(?:上升|下降|增加|减少|提高|降低|增长|下滑|回落|相差)[^，。；\d]{0,6}\d")


def difference(chosen: Sequence[Unit], evidence: Evidence) -> Claim | None:
    """The difference a question asks for (下降了多少, 相差多少), computed from two cited figures of
    the same kind and shown with its arithmetic (``answer.verify.COMPUTATION``), so that it can be
    checked: the two figures of one row or sentence (a row's year columns first), else the
    first figure of each of two units. A question about a year (「2020年比前一年多了多少」) asks for
    a change over time: the two figures must be of two years (a row's year columns, a sentence
    naming two years, or two units naming one each), never a whole and its part of one year.
    None when a unit already states the change, or when no two comparable figures are there."""
    over_time = bool(evidence.question.years)

    def years_of(unit: Unit) -> set[str]:
        return set(_YEAR.findall(_row_text(unit) if unit.row is not None else unit.text))

    pairs: list[tuple[Unit, list[tuple[Decimal, str]]]] = [(u, _figures_with_units(u)) for u in chosen]
    used: list[Unit] = []
    values: list[tuple[Decimal, str]] = []
    for unit, figures in pairs:
        same = [f for f in figures if f[1] == figures[0][1]] if figures else []
        if len(same) >= 2 and (not over_time or len(years_of(unit)) >= 2):
            used, values = [unit], same[:2]
            break
    else:
        firsts = [(u, f[0]) for u, f in pairs if f]
        if len(firsts) >= 2 and firsts[0][1][1] == firsts[1][1][1]:
            apart = years_of(firsts[0][0]) != years_of(firsts[1][0]) and all(years_of(u) for u, _ in firsts[:2])
            if not over_time or apart:
                used, values = [firsts[0][0], firsts[1][0]], [firsts[0][1], firsts[1][1]]
    if len(values) < 2 or any(_STATED_CHANGE.search(u.text) for u in used):
        return None
    (a, unit_a), (b, _) = values
    high, low = max(a, b), min(a, b)
    result = high - low
    shown = "个百分点" if unit_a in ("%", "％") else unit_a
    spans = tuple(span for u in used for claim in render(u, evidence) for span in claim.spans)
    text = f"两者相差{_plain(result)}{shown}（计算：{_plain(high)}{unit_a} − {_plain(low)}{unit_a} = {_plain(result)}{shown}）"
    return Claim(text, spans)


def _figures_with_units(unit: Unit) -> list[tuple[Decimal, str]]:
    """The figures of ``unit`` with their units, in order: a row's year columns when it has two or
    more, else its figures; a sentence's figures written with a unit."""
    if unit.row is not None:
        figures = list(unit.row.figures)
        by_year = [(h, v) for h, v in figures if _YEAR_HEADER.search(h)]
        if len(by_year) >= 2:
            figures = sorted(by_year, key=lambda hv: _YEAR_HEADER.search(hv[0]).group(0))  # type: ignore[union-attr]
        unit_of_row = next((v for h, v in unit.row.labels if h in ("单位", "计量单位")), "")
        out = []
        for header, value in figures:
            match = re.fullmatch(r"([-+]?\d[\d,]*(?:\.\d+)?)\s*(\S*)", value.strip())
            if not match:
                continue
            in_header = _UNIT_IN_HEADER.search(header)
            measure = match.group(2) or (in_header.group(1) if in_header else unit_of_row)
            out.append((Decimal(match.group(1).replace(",", "")), measure))
        return out
    return [
        (Decimal(m.group(1)), m.group(2))
        for m in _FIGURE_WITH_UNIT.finditer(unit.text)
        if not (m.group(2) == "年" and _YEAR_HEADER.fullmatch(m.group(1)))  # a year names a time, it measures nothing
    ]


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value != value.to_integral() else str(int(value))


@dataclass(frozen=True)
class Scoring:
    """How units are scored (calibrated on dev and dev2 together: ``bench/calibrate.py``).

    The first unit is chosen by ``lexical × coverage + rank × 1/(1 + passage rank)``, times its
    prior: the words it shares with the question, and how high the retriever (dense + BM25)
    placed its passage, which carries meaning that shared words miss (「新招的人」 and 「录用职工」).
    Every later unit is chosen by the new coverage it adds, times its prior.
    """

    lexical: float = 1.0
    rank: float = 0.25
    unmeasured: float = 0.4  # a unit without the kind of figure a quantity question asks for
    unmeasured_numbers: float = 0.6  # ... that states figures of another kind
    follow: float = 0.5  # a later unit covers at least this share of what the first covered
    fact_chars: int = 500  # how long a fact answer may be
    tie: float = 0.6  # a fact answer also gives the units scoring this share of the best one
    ties: int = 3  # ... at most this many


SCORING = Scoring()


def select(evidence: Evidence, budget: Budget | None = None, scoring: Scoring = SCORING) -> list[Unit]:
    """Units that together answer the question, greedily by new weighted terms covered.

    After the first, a unit must add enough new weight and be about the question itself: it
    covers half as much as the first did, or most of one sub-question.
    """
    question = evidence.question
    budget = budget or _budget(question, scoring)
    if question.kind == "write":
        return draft_units(evidence, budget, scoring)
    candidates = [
        u for u in evidence.units if not u.instruction and not u.heading and (not u.label or set(question.terms) & u.label_terms)
    ]
    if not candidates:
        return []
    covered: set[str] = set()
    chosen: list[Unit] = []
    used_chars = 0
    first_coverage = 0.0

    def gain(unit: Unit) -> float:
        return _gain(unit, question, covered, evidence.superseded, scoring, first=not chosen)

    while candidates and len(chosen) < budget.units:
        best, best_gain = None, 0.0
        forced = False
        if not chosen and question.enumerates:
            start, alone = _list_start(candidates, evidence, gain)
            if start is not None:
                best, best_gain = start, gain(start)
                candidates, forced = ([start], False) if alone else (candidates, True)
        for unit in candidates if not forced else ():
            if chosen and not (
                question.coverage(unit.terms) >= scoring.follow * first_coverage
                or question.part_coverage(unit.terms, covered) >= 0.5
            ):
                continue
            value = gain(unit)
            if value > best_gain:
                best, best_gain = unit, value
        if best is None or (best_gain < budget.min_gain and chosen):
            break
        size = _length(best, question)
        if chosen and used_chars + size > budget.chars:
            candidates.remove(best)
            continue
        if not chosen:
            first_coverage = question.coverage(best.terms)
        chosen.append(best)
        used_chars += size
        covered |= best.terms
        candidates = [u for u in candidates if u is not best and not _overlaps(u, best)]
    if question.enumerates and chosen:
        items = list_items(chosen[0], evidence)
        if items:
            listed = sorted([chosen[0], *items], key=lambda u: u.start)
            return _fit([*listed, *chosen[1:]], question, budget)
    if question.kind in ("fact", "list") and chosen:
        chosen = _ties(chosen, candidates, evidence, budget, scoring)
    return _supply(chosen, candidates, evidence, budget, scoring)


def _list_start(candidates: list[Unit], evidence: Evidence, gain: Callable[[Unit], float]) -> tuple[Unit | None, bool]:
    """Where a list question's answer starts, and whether that unit and its items are the whole
    answer (a list) or only its first pick (a sentence naming its items). In order:

    - the list introduced as what the question asks for (「下列证件、证明材料：」 for 「要准备哪几样
      材料」, the heading 「（二）基本原则」), whatever other words it shares;
    - the first item of a section titled so, when the title is in no passage's text;
    - a list among the best units (its gain at least 1/1.6 of the best), one saying the asked-for
      noun when any of them does;
    - the best unit saying what the items are of (「原因主要为“……”、“……”」).
    """
    question = evidence.question
    noun = question.head
    head = sorted(candidates, key=lambda u: -gain(u))[:6]
    if noun:
        saying_it = [u for u in evidence.units if noun in u.text and not u.instruction and gain(u) > 0]
        start = next((u for u in sorted(saying_it, key=lambda u: -gain(u)) if list_items(u, evidence)), None)
        if start is None:
            under = [
                u for u in evidence.units
                if len(u.chunk.section_path) >= 2 and noun in u.chunk.section_path[-2]
                and _ENUMERATOR.match(u.text) and list_items(u, evidence)
            ]
            start = min(under, key=lambda u: (u.doc_id != under[0].doc_id, u.start)) if under else None
        if start is not None:
            return start, True
    listed = [u for u in head if list_items(u, evidence)]
    if noun and any(noun in u.text for u in head):
        listed = [u for u in listed if noun in u.text]
    if listed and gain(listed[0]) * 1.6 >= gain(head[0]):
        return listed[0], True
    saying = [u for u in head if noun and noun in u.text and gain(u) >= 0.5 * gain(head[0])]
    return (saying[0], False) if saying else (None, False)


def draft_units(evidence: Evidence, budget: Budget, scoring: Scoring = SCORING) -> list[Unit]:
    """The sentences a piece of writing is made of: on topic (a unit covers at least
    ``Scoring.follow`` of what the best one covers, its title and headings counted: every
    sentence of a document about the topic is on topic), figures first, the
    retriever's order next, one saying an asked term the draft lacks before one that does not,
    until the length is used; a sentence saying much the same as one already taken (most of its
    character pairs) is left out."""
    question = evidence.question
    candidates = [u for u in evidence.units if not u.instruction and not u.heading and not u.label]
    # a piece of writing about an institution is made of what is said about it: each sentence's own
    # words or its document's (title, cover, recurring names) name it, not another school
    institutions = [m for m in question.mentions if m.kind in ("org", "major")]
    about = [u for u in candidates if all(supported(m, fold(u.words), question) for m in institutions)]
    candidates = about or candidates
    if not candidates:
        return []

    def score(unit: Unit) -> float:
        return _gain(unit, question, set(), evidence.superseded, scoring, first=True)

    best = max(question.coverage(u.terms) for u in candidates)
    pool = [u for u in candidates if question.coverage(u.terms) >= scoring.follow * best]
    out: list[Unit] = []
    said: set[str] = set()
    used = 0
    while pool and len(out) < budget.units:
        # what the request asks for and the draft does not say yet comes first (「要用到A、B和C」)
        unit = max(pool, key=lambda u: score(u) * (1.0 if (u.own & set(question.weights)) - said else REPEAT_SHARE))
        pool.remove(unit)
        size = _length(unit, question)
        if (out and used + size > budget.chars) or any(_overlaps(unit, u) or _repeats(unit, u) for u in out):
            continue
        out.append(unit)
        said |= unit.own
        used += size
    return out


def _names_row(unit: Unit, question: Question) -> bool:
    """Whether the question names the row: a row is about its most specific label (the last label
    cell: the 专业 under its 学院)."""
    assert unit.row is not None
    if not unit.row.labels:
        return False
    label = re.sub(r"^(?:其中)?[:：\s]*|[\s（(].*$", "", unit.row.labels[-1][1])
    core = re.sub(r"(?<=..)[省市县区]$", "", label)
    # inside a name the question gives (工程管理 in 武工程管理学院) it names that, not this row
    inside = [m.text for m in question.mentions if core in m.text and not m.text.startswith(core)]
    if core and core in question.text and not inside:
        return True
    # or the question says most of it in one word (电子商务 of 电子商务专业), not just a shared part (校区);
    # the question's own words: a follow-up names its row itself (「那西校区呢？」 after 东校区)
    return any(t in label and len(t) >= 0.75 * len(label) and t in question.text for t in question.terms)


def _says_years(unit: Unit, question: Question) -> bool:
    """Whether ``unit`` (its text, a row's caption and headers, its headings) says every year asked."""
    if not question.years:
        return True
    said = " ".join([unit.text, *unit.chunk.section_path, *([unit.row.caption, *unit.row.headers] if unit.row else [])])
    return all(y in said for y in question.years)


def _repeats(a: Unit, b: Unit) -> bool:
    """Whether ``a`` says much the same as ``b``: most of its character pairs, and no figure of its
    own (「国内升学1583人」 beside 「国内、出国（境）升学1652人」 says something new)."""
    if set(figures_of(a.text)) - set(figures_of(b.text)):
        return False
    pairs = {a.text[i : i + 2] for i in range(len(a.text) - 1)}
    other = {b.text[i : i + 2] for i in range(len(b.text) - 1)}
    return bool(pairs) and len(pairs & other) >= 0.6 * min(len(pairs), len(other) or 1)


def _ties(chosen: list[Unit], candidates: list[Unit], evidence: Evidence, budget: Budget, scoring: Scoring) -> list[Unit]:
    """The chosen units and those nearly as good as the first (``Scoring.tie``): when shared words
    and the retriever's rank cannot tell two units apart, the answer gives both, not a guess."""
    question = evidence.question

    def score(unit: Unit) -> float:
        return _gain(unit, question, set(), evidence.superseded, scoring, first=True)

    best = score(chosen[0])
    out = list(chosen)
    used = sum(_length(u, question) for u in out)
    # a row the question names, or a total row for a question naming no part: no other row of it ties
    named_row = chosen[0].row is not None and (_names_row(chosen[0], question) or chosen[0].row.is_total)
    close = sorted(
        (
            u
            for u in candidates
            if u not in out
            and score(u) >= scoring.tie * best
            and _says_years(u, question)
            and not (named_row and u.row is not None and not _names_row(u, question))  # 北校区 asked: not 南校区
        ),
        key=score,
        reverse=True,
    )
    for unit in close[: scoring.ties]:
        size = _length(unit, question)
        if any(_overlaps(unit, u) for u in out) or used + size > budget.chars:
            continue
        out.append(unit)
        used += size
    return out


def _supports(mention: Mention, question: Question, unit: Unit) -> bool:
    return supported(mention, fold(unit.words), question)


def _supply(chosen: list[Unit], candidates: list[Unit], evidence: Evidence, budget: Budget, scoring: Scoring) -> list[Unit]:
    """The chosen units, with the best unit added for each thing the question requires that they
    do not hold yet: the kind of figure it asks for (多久 → a duration), and each name it mentions.
    A unit is added only when it is about the question too (its score is a share of the first's)."""
    question = evidence.question
    if not chosen:
        return chosen

    def score(unit: Unit) -> float:
        return _gain(unit, question, set(), evidence.superseded, scoring, first=True)

    first = score(chosen[0])
    needs: list[Callable[[Unit], bool]] = []
    best_own = max((question.coverage(u.own) for u in evidence.units), default=0.0)
    if question.quantity and question.measures and not any(states_asked_figure(u, question, best_own) for u in chosen):
        needs.append(lambda u: states_asked_figure(u, question, best_own))
    said = fold("\n".join(u.words for u in chosen))
    for mention in question.mentions:
        if not supported(mention, said, question):
            needs.append(functools.partial(_supports, mention, question))
    out = list(chosen)
    if question.quantity and not any(u.numbers for u in chosen):
        # a rule's figures (its fine, its deadline) may stand in the article that cites it
        # (「违反本条例第二十二条第一款规定的，……处一万元以上五万元以下的罚款」)
        citing = [u for u in _citing(chosen[0], evidence) if u.numbers and not any(_overlaps(u, v) for v in out)]
        if citing:
            # it speaks of what the cited rule says: the rule's words introduce it
            out.append(replace(max(citing, key=score), lead=chosen[0].own))
    for need in needs:
        if any(need(u) for u in out):
            continue
        pool = [u for u in candidates if u not in out and not any(_overlaps(u, v) for v in out) and need(u)]
        best = max(pool, key=score, default=None)
        if best is None or score(best) < SUPPLY_SHARE * first:
            continue
        out.append(best)
        while len(out) > 2 and sum(_length(u, question) for u in out) > budget.chars:
            out.pop(-2)  # the last earlier pick makes room, never the first
    return out


def _citing(unit: Unit, evidence: Evidence) -> list[Unit]:
    """The units of ``unit``'s document that cite its article by number (本条例第二十二条)."""
    doc = evidence.docs[unit.doc_id]
    span = doc.article_at(unit.start)
    if span is None:
        return []
    number = re.escape(doc.text[span[0] : span[1]])
    digit = "[一二三四五六七八九十百零〇\\d]"
    cited = re.compile(rf"(?:本条例|本法|本办法|本规定|本细则)(?:第{digit}+条、)*{number}(?!{digit})")
    return [u for u in evidence.units if u.doc_id == unit.doc_id and u is not unit and cited.search(u.text)]


_ENUMERATOR = re.compile(
    r"^\s*(?:(?P<paren>[（(][一二三四五六七八九十]+[）)])|(?P<aparen>[（(]\d+[）)])|(?P<cn>[一二三四五六七八九十]+、)"
    r"|(?P<num>\d+[.、．](?!\d))|(?P<circled>[①-⑳])|(?P<shi>(?:一|二|三|四|五|六|七|八|九|十)是))"
)


def list_items(first: Unit, evidence: Evidence) -> list[Unit]:
    """The enumerated items (（一）… 1.… 一是…) of ``first``'s list, one unit each: the sentence
    that opens each item. When ``first`` is a heading, the items of its section (「（二）基本原则」 →
    1.… 2.…); when it is an item, its siblings; else the items after it in its section. Empty when
    there is no list of at least two items."""
    if first.is_row:
        return []
    doc = evidence.docs[first.doc_id]
    text = doc.text
    own = _ENUMERATOR.match(first.text)
    holding = [(p, s, e) for p, s, e in doc.sections if s <= first.start < e]
    if not holding:
        return []
    path, start, end = max(holding, key=lambda section: len(section[0]))
    heads_section = start == trim_span(text, start, end)[0] and len(path) > 1 and text.startswith(first.text[:6], start)
    if first.heading and heads_section:
        children = _items_in(first, evidence, first.end, end, None)
        if children:
            return children
    if own and heads_section:
        # ``first`` heads its own section: the list is its parent's
        path, start, end = next(((p, s, e) for p, s, e in holding if p == path[:-1]), (path, start, end))
    if not own:
        start = first.end
    return _items_in(first, evidence, start, end, own.lastgroup if own else None)


def _items_in(first: Unit, evidence: Evidence, start: int, end: int, kind: str | None) -> list[Unit]:
    """The items of one list between ``start`` and ``end``: enumerated alike (``kind``, else the
    first one's), up to where the numbering starts again; ``first`` itself left out."""
    doc = evidence.docs[first.doc_id]
    text = doc.text
    chunks = [c for c in doc.chunks if c.kind == "text"]
    items: list[Unit] = []
    previous: int | None = None
    for s, e in split_sentences(text, start, end):
        match = _ENUMERATOR.match(text[s:e])
        if not match or (s, e) == (first.start, first.end):
            continue
        if kind is None:
            kind = match.lastgroup
        if match.lastgroup != kind:
            continue
        number = _item_number(match.group(0))
        if items and number is not None and previous is not None and number <= previous:
            break  # the numbering starts again: another list (a second （一）（二） in the same article)
        previous = number
        chunk = next((c for c in chunks if c.start <= s < c.end), first.chunk)
        sentence = text[s:e]
        items.append(Unit(first.passage, first.doc_id, s, e, sentence, frozenset(), chunk, numbers=len(figures_of(sentence))))
    if all(is_heading(item.text) for item in items):
        return []  # bare headings of sections (「1.自主创业原因」): they name what follows and say nothing
    return items if len(items) >= 2 else []


def _item_number(enumerator: str) -> int | None:
    """The number of an item's enumerator: 3 of （三）, 3.、 ③ and 三是."""
    digits = re.search(r"\d+", enumerator)
    if digits:
        return int(digits.group(0))
    circled = re.search(r"[①-⑳]", enumerator)
    if circled:
        return ord(circled.group(0)) - ord("①") + 1
    numeral = re.search(r"[一二三四五六七八九十]+", enumerator)
    return cn_value(numeral.group(0)) if numeral else None


def _fit(units: list[Unit], question: Question, budget: Budget) -> list[Unit]:
    out: list[Unit] = []
    used = 0
    for unit in units:
        if any(_overlaps(unit, u) for u in out):
            continue
        size = _length(unit, question)
        if out and used + size > budget.chars:
            continue
        out.append(unit)
        used += size
    return out


def _budget(question: Question, scoring: Scoring = SCORING) -> Budget:
    budget = BUDGETS[question.kind]
    if question.kind == "fact":
        budget = replace(budget, chars=scoring.fact_chars)
    if question.limit:
        limit, approximate = question.limit
        chars = int(limit * (1.05 if approximate else 0.95))
        return Budget(units=budget.units, chars=chars, min_gain=BUDGETS["write"].min_gain)
    return budget


def prior_of(unit: Unit, question: Question, superseded: frozenset[str], scoring: Scoring = SCORING) -> float:
    """How much a unit counts, before coverage.

    - The version the question means (``Evidence.superseded`` holds the others): the one in force,
      or an earlier one when the question asks about it; a year the unit's version says decides.
    - A total row over a part (其中：广东) the question does not name.
    - The article a question points to (第九条) over the others; a regulation's body over its
      preamble (revision history).
    - For a quantity question, a unit stating the kind of figure asked for (多久 → 30日); for a
      draft, one stating figures at all; a table row of the year asked for.
    """
    prior = 1.0
    if unit.doc_id in superseded and not any(y in unit.words for y in question.years):
        prior *= SUPERSEDED_PRIOR
    if unit.row is not None and not unit.row.is_total and unit.row.labels and not _names_row(unit, question):
        prior *= PART_ROW_PRIOR
    if question.ordinals:
        said = {ordinal(o) for o in question.ordinals}
        if said & {ordinal(p) for p in unit.chunk.section_path}:
            prior *= POINTED_ARTICLE_PRIOR
    if unit.preamble:
        prior *= PREAMBLE_PRIOR
    if question.kind == "write":
        prior *= 1.0 if unit.numbers else 0.35  # a draft's substance is its figures
    elif question.quantity:
        if question.measures:
            if not measures_stated(unit, question.measures[:1]):
                prior *= scoring.unmeasured_numbers if unit.numbers else scoring.unmeasured
        elif not unit.numbers:
            prior *= scoring.unmeasured_numbers
    if unit.is_row and question.years and _of_another_year(unit, question):
        prior *= 0.5
    return prior


def _of_another_year(unit: Unit, question: Question) -> bool:
    """A row of a year not asked: its table says years, none of them asked; a table that says no
    year is of its document's year (the report's cover or file name says it)."""
    said = _row_text(unit)
    if any(y in said for y in question.years):
        return False
    return bool(_YEAR_HEADER.search(said)) or not any(y in unit.words for y in question.years)


def _gain(
    unit: Unit,
    question: Question,
    covered: set[str],
    superseded: frozenset[str] = frozenset(),
    scoring: Scoring = SCORING,
    *,
    first: bool = False,
) -> float:
    """What ``unit`` adds: the weight of the question's terms it holds that ``covered`` does not
    (a term the unit says itself counts fully, one only its title or headings say, half; a draft
    counts only what it says), per length beyond ``LENGTH_NORM`` characters (a long sentence
    matches many words by chance); for the first unit, plus its passage's rank (see ``Scoring``)."""
    context = 0.0 if question.kind == "write" else CONTEXT_SHARE
    new = (
        sum(w * (1.0 if t in unit.own else context) for t, w in question.weights.items() if t in unit.terms and t not in covered)
        / question.weight
    )
    size = unit.end - unit.start
    if size > LENGTH_NORM:
        new *= (LENGTH_NORM / size) ** LENGTH_EXPONENT
    rank = 1.0 / (1.0 + unit.passage)
    if first:
        return (scoring.lexical * new + scoring.rank * rank) * prior_of(unit, question, superseded, scoring)
    return new * prior_of(unit, question, superseded, scoring) / (1.0 + PASSAGE_DECAY * unit.passage)


def _row_text(unit: Unit) -> str:
    assert unit.row is not None
    return " ".join([unit.row.caption, *(h + v for h, v in unit.row.labels), *(h for h, _ in unit.row.figures)])


def _overlaps(a: Unit, b: Unit) -> bool:
    """The same stretch of one document, or the same words again (a table printed twice)."""
    return (a.doc_id == b.doc_id and a.start < b.end and b.start < a.end) or a.text.strip() == b.text.strip()


def _length(unit: Unit, question: Question) -> int:
    if unit.is_row:
        return len(render_row(unit, question)[0])
    start, end = narrow(unit, question)
    return end - start


def order(units: Sequence[Unit], question: Question) -> list[Unit]:
    """Units grouped by passage (best first), in document order within a passage."""
    first_pick: dict[int, int] = {}
    for i, unit in enumerate(units):
        first_pick.setdefault(unit.passage, i)
    return sorted(units, key=lambda u: (first_pick[u.passage], u.start))


def narrow(unit: Unit, question: Question) -> tuple[int, int]:
    """A long sentence narrowed to the run of clauses holding the terms it matches (exact offsets)."""
    longest = LONG_SENTENCE if question.kind != "write" else LONG_SENTENCE // 2
    if unit.is_row or unit.whole or unit.end - unit.start <= longest:
        return unit.start, unit.end
    text = unit.text
    bounds = [0, *_clause_ends(text), len(text)]
    clauses = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    wanted = {t for t in question.terms if t in unit.terms}
    if not wanted or len(clauses) < 2:
        return unit.start, unit.end
    hits = [i for i, (a, b) in enumerate(clauses) if any(t in text[a:b] for t in wanted)]
    if not hits:
        return unit.start, unit.end
    lo, hi = min(hits), max(hits)
    if question.quantity or question.kind == "write":
        # keep the figure that answers (a draft's substance is its figures): extend to the next
        # clause with a number if none is inside
        while hi + 1 < len(clauses) and not re.search(r"\d", text[clauses[lo][0] : clauses[hi][1]]):
            hi += 1
    if _CONDITION.search(text[clauses[hi][0] : clauses[hi][1]]):
        hi = len(clauses) - 1  # a condition (「……的，」) is said with what follows from it
    a, b = clauses[lo][0], clauses[hi][1]
    return unit.start + a, unit.start + len(text[:b].rstrip("，,；;：: "))


def _clause_ends(text: str) -> list[int]:
    """Where ``text``'s clauses end: after a comma, semicolon or colon outside brackets and quotes
    (「土家族（162人，占比2.52%）」 is one clause)."""
    ends, depth = [], 0
    for i, char in enumerate(text):
        if char in OPEN_BRACKETS:
            depth += 1
        elif char in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_END.fullmatch(char):
            ends.append(i + 1)
    return ends


def render(unit: Unit, evidence: Evidence) -> list[Claim]:
    """A unit as the sentences of the answer: a quote, a whole article sentence by sentence (each
    cited), or a table row spelled out with its headers."""
    if not unit.whole:
        return [_render_one(unit, evidence)]
    doc = evidence.docs[unit.doc_id]
    passage = evidence.passages[unit.passage]
    joiner = "\n" if evidence.question.kind == "list" else ""
    claims: list[Claim] = []
    for s, e in split_sentences(doc.text, unit.start, unit.end):
        span = Span.of(doc.chunk_at(s, e) or unit.chunk, passage.title, passage.source, s, e)
        claims.append(Claim(_one_line(doc.text[s:e]), (span,), joiner if not claims else ""))
    return claims


def _render_one(unit: Unit, evidence: Evidence) -> Claim:
    passage = evidence.passages[unit.passage]
    doc = evidence.docs[unit.doc_id]
    span = Span.of(unit.chunk, passage.title, passage.source, unit.start, unit.end)
    joiner = "\n" if evidence.question.kind == "list" else ""
    if unit.row is not None:
        question = evidence.question
        header_chunk = doc.chunk_at(*unit.header) if unit.header else None
        # a caption naming the asked year (表1：2020年学院招生总体情况) is said and cited with the row
        cite_caption = unit.caption_span is not None and any(y in unit.row.caption for y in question.years)
        header_text = doc.text[unit.header[0] : unit.header[1]] if unit.header else ""
        text, with_header = render_row(unit, question, caption_cited=cite_caption, header_text=header_text)
        spans: tuple[Span, ...] = (span,)
        if with_header and header_chunk is not None and unit.header is not None:
            spans = (Span.of(header_chunk, passage.title, passage.source, *unit.header), span)
        if cite_caption and unit.caption_span is not None:
            spans = (Span.of(header_chunk or unit.chunk, passage.title, passage.source, *unit.caption_span), *spans)
        return Claim(text, spans, joiner)
    start, end = narrow(unit, evidence.question)
    text = _one_line(doc.text[start:end])
    spans = (replace(span, start=start, end=end),)
    if unit.label:
        text = f"{unit.label}：{text}"
    elif unit.article is not None:
        # a clause quoted from inside an article says which article it is, and cites the number
        text = f"{doc.text[unit.article[0] : unit.article[1]]}：{text}"
        number = doc.chunk_at(*unit.article) or unit.chunk
        spans = (Span.of(number, passage.title, passage.source, *unit.article), *spans)
    return Claim(text, spans, joiner)


def _one_line(text: str) -> str:
    """Line breaks inside a quoted sentence (a wrapped cell, a list) read as nothing or a space."""
    text = re.sub(r"\s*\n\s*", "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def render_row(unit: Unit, question: Question, caption_cited: bool = False, header_text: str = "") -> tuple[str, bool]:
    """A table row as a sentence, and whether the header rows must be cited (a year in a header).

    The caption leads the sentence when it is cited too, or when its figures are in the quotes."""
    row = unit.row
    assert row is not None
    unit_of_row = next((v for h, v in row.labels if h in ("单位", "计量单位")), "")
    # a list number before a label orders the items, it is no part of the name (「(3)后勤服务」)
    labels = [_ITEM_NUMBER.sub("", v) or v for h, v in row.labels if h not in ("单位", "计量单位")]
    figures = list(row.figures)
    # the year asked, not the row's other years; a difference asked keeps the year compared with
    if question.years and question.operation != "difference" and any(_YEAR_HEADER.search(h) for h, _ in figures):
        asked = [(h, v) for h, v in figures if not _YEAR_HEADER.search(h) or any(y in h for y in question.years)]
        if any(_YEAR_HEADER.search(h) for h, _ in asked):
            figures = asked
    parts = []
    for header, value in figures:
        unit_text = unit_of_row
        match = _UNIT_IN_HEADER.search(header)
        if match:
            unit_text = match.group(1)
            header = header[: match.start()].strip()
        if unit_text in ("%", "％") or not re.fullmatch(r"[-+]?[\d,.]+", value):
            unit_text = "%" if unit_text in ("%", "％") and not value.endswith(("%", "％")) else ""
        joiner = "为" if _YEAR_HEADER.search(header) else ""
        parts.append(f"{header}{joiner}{value}{unit_text}")
    label = "、".join(dict.fromkeys(labels))
    body = "，".join(parts)
    sentence = f"{label}：{body}" if label and body else label or body
    with_header = any(number_forms(h) for h, _ in figures)  # 2020年, and 一年级 too
    caption = _CAPTION_NUMBER.sub("", row.caption).strip()
    if caption:
        quotes = [unit.text] + ([header_text] if with_header and header_text else [])
        if caption_cited or not ungrounded_numbers(caption, quotes):
            sentence = f"{caption}中，{sentence}"
    return sentence, with_header
