"""Grounding checks shared by every generator and the eval harness, as pure functions.

An answer is split into sentences, each with the ``[n]`` markers that follow it; every figure
(number, percentage, date) and every 《title》 of a sentence must appear in one of the quotes its
markers cite. ``number_forms`` normalises the ways a figure is written (300万 = 3000000, full-width
digits, 十个 = 10), so a faithful rewording passes and a changed figure does not.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from ingest.clean import normalize_for_match

MARKER = re.compile(r"\[(\d{1,3})\]")
# a sentence ends at 。！？ or a line break, with any closing quote and [n] markers after it
# (「；」 joins clauses of one sentence, as the chunker's sentence splitter has it)
_SENTENCE = re.compile(r"[^。！？!?\n]+(?:[。！？!?]+[”’」』）)]*)?(?:\s*\[\d{1,3}\])*")
# a digit group is exactly three digits: 「113，2022年」 is two figures, not 113,202 and 2
_ARABIC = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(\d+))?\s*(万|亿)?\s*(%|％)?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_MAGNITUDES = {"万": 10_000, "亿": 100_000_000}
# Chinese numerals are taken as figures only before a measure word (三个阶段, 十个证书, 一万元,
# 三十日, 六个月) or after 百分之 (百分之二十), never inside words such as 一是 or 统一.
_CN_NUMBER = re.compile(
    r"(?:(?<=百分之)|(?<=千分之))([零〇一二两三四五六七八九十百千][零〇一二两三四五六七八九十百千万亿]*)"
    r"|(?<![\d.])([零〇一二两三四五六七八九十百千][零〇一二两三四五六七八九十百千万亿]*)"
    r"(?=[个名人项门所家次批届类条章节年倍岁种位元日天周月]|小时|分钟|工作日)"
)
LENGTH_LIMIT = re.compile(r"(?:不超过|不多于|少于)\s*(\d+)\s*字|(\d+)\s*字\s*(以内|之内|以下|左右)")


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer, each with the [n] markers that follow it."""
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if MARKER.sub("", m.group(0)).strip(" \t，,。")]


def markers(sentence: str) -> tuple[int, ...]:
    return tuple(int(n) for n in MARKER.findall(sentence))


def cn_value(numeral: str) -> int | None:
    """The value of a Chinese numeral: 三十 = 30, 一万五千 = 15000, 二亿 = 200000000."""
    for magnitude in ("亿", "万"):  # the largest first: 一亿二千万 = 一 亿 + 二千万
        if magnitude in numeral:
            head, _, tail = numeral.partition(magnitude)
            high = cn_value(head) if head else 1
            low = cn_value(tail) if tail else 0
            return None if high is None or low is None else high * _CN_MAGNITUDES[magnitude] + low
    total, digit = 0, None
    for char in numeral:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


def number_forms(text: str) -> list[frozenset[Decimal]]:
    """Each figure in ``text`` as the set of values it may stand for.

    「300万元」 is {300, 3000000}; 「57.14%」 is {57.14}; 「5,897」 is {5897}; 「十个」 is {10}. Years,
    months and days count as figures too: an answer's date must be in its quote.
    """
    folded = unicodedata.normalize("NFKC", MARKER.sub(" ", text))
    out: list[frozenset[Decimal]] = []
    for match in _ARABIC.finditer(folded):
        whole, fraction, scale, _ = match.groups()
        try:
            value = Decimal(whole.replace(",", "") + ("." + fraction if fraction else ""))
        except InvalidOperation:
            continue
        forms = {value.normalize()}
        if scale:
            forms.add((value * (10_000 if scale == "万" else 100_000_000)).normalize())
        out.append(frozenset(forms))
    for match in _CN_NUMBER.finditer(folded):
        cn = cn_value(match.group(1) or match.group(2))
        if cn is not None:
            out.append(frozenset({Decimal(cn)}))
    return out


# a figure computed from cited ones, shown with its arithmetic: 「（计算：98.02% − 90.34% = 7.68个百分点）」
_MEASURE_AFTER = r"[^\s\d−\-+＋=（）()，,。；;]{0,4}"  # %, 人, 万元, 个百分点: what the figure counts
COMPUTATION = re.compile(
    rf"计算[:：]\s*(?P<a>\d[\d,]*(?:\.\d+)?)\s*{_MEASURE_AFTER}\s*(?P<op>[−\-+＋])\s*"
    rf"(?P<b>\d[\d,]*(?:\.\d+)?)\s*{_MEASURE_AFTER}\s*=\s*(?P<c>\d[\d,]*(?:\.\d+)?)"
)


def checked_computations(sentence: str, available: set[Decimal]) -> list[Decimal]:
    """The results of ``sentence``'s computations whose operands are grounded in ``available`` and
    whose arithmetic is right (to the operands' decimals): such a result needs no quote of its
    own, in the computation or elsewhere in the sentence, since the reader can redo the sum."""
    results = []
    folded = unicodedata.normalize("NFKC", MARKER.sub(" ", sentence))
    for match in COMPUTATION.finditer(folded):
        a, b, c = (Decimal(match.group(k).replace(",", "")) for k in ("a", "b", "c"))
        if a not in available or b not in available:
            continue
        exact = a - b if match.group("op") in "−-" else a + b
        places = max(-a.as_tuple().exponent, -b.as_tuple().exponent, 0)  # type: ignore[operator]
        if abs(exact - c) <= Decimal(1).scaleb(-places) / 2:
            results.append(c.normalize())
    return results


def ungrounded_numbers(sentence: str, quotes: list[str]) -> list[str]:
    """Figures of ``sentence`` that appear in none of ``quotes`` (as written, the figure's text);
    a checked computation's result (``checked_computations``) counts as grounded."""
    available: set[Decimal] = set()
    for quote in quotes:
        for values in number_forms(quote):
            available |= values
    folded = unicodedata.normalize("NFKC", MARKER.sub(" ", sentence))
    computed = set(checked_computations(sentence, available))
    missing = []
    for match in _ARABIC.finditer(folded):
        if set(number_forms(match.group(0))[0] if number_forms(match.group(0)) else ()) & computed:
            continue
        figure = number_forms(match.group(0))
        if figure and not figure[0] & available:
            missing.append(match.group(0).strip())
    for match in _CN_NUMBER.finditer(folded):
        numeral = match.group(1) or match.group(2)
        value = cn_value(numeral)
        if value is not None and Decimal(value) not in available:
            missing.append(numeral)
    return missing


_TITLE = re.compile(r"《([^《》]{1,60})》")


def titles(text: str) -> list[str]:
    """The 《titles》 named in ``text``."""
    return _TITLE.findall(text)


def ungrounded_titles(sentence: str, quotes: list[str]) -> list[str]:
    """《titles》 of ``sentence`` that appear in none of ``quotes`` (width and space insensitive)."""
    available = [normalize_for_match(q) for q in quotes]
    return [t for t in titles(sentence) if not any(normalize_for_match(t) in q for q in available)]


def length_limit(question: str) -> tuple[int, bool] | None:
    """(limit, approximate) from 「不超过250字」, 「300字以内」, 「200字左右」; None when not stated."""
    match = LENGTH_LIMIT.search(question)
    if not match:
        return None
    if match.group(1):
        return int(match.group(1)), False
    return int(match.group(2)), match.group(3) == "左右"


def answer_length(text: str) -> int:
    """Characters of the answer as a reader counts them: no [n] markers, no whitespace."""
    return len(re.sub(r"\s+", "", MARKER.sub("", text)))
