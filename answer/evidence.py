"""The evidence for a question: retrieved passages, their documents, and the sentences and table
rows they offer as answer units. Pure: built from records the pipeline read once, never from a store.

``DocView`` is a document as the answer stage reads it (title, version, text, sections, chunks).
``Unit`` is one candidate answer sentence: a sentence of a retrieved text passage, a labelled fact
of a document's head (发文字号), or one table row with its cells as data, always an exact span of
its document. A unit's ``own`` terms are what it says itself; its ``terms`` add what its
surroundings say for it (its document's title, file name and recurring names: a name only the
title says, such as the school in 「西安职业技术学院…年度报告」, counts as said in every passage of
that document; its section headings; for a table row, the caption and column headers), and its
``words`` hold the same as text, with the document's cover, for the answerability checks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from pathlib import PurePath

from answer.question import KIND_WORD, TIME_TERM, Question, Vocabulary, family
from answer.verify import number_forms
from index.hybrid import ScoredChunk
from ingest.chunk import split_sentences, trim_span
from ingest.records import Chunk, RowCells
from ingest.structure import document_facts
from ingest.tables import TOTAL_LABEL

Section = tuple[tuple[str, ...], int, int]

COVER_CHARS = 200
# digits inside a name: 1+X, 5G, 3D打印, B2B
_NAME_WITH_DIGITS = re.compile(r"\d+\s*[+＋]\s*[A-Za-z]+|[A-Za-z]+\d+[A-Za-z]*|\d+[A-Za-z]+")
_CAPTION = re.compile(r"^(?:图|表|附表|续表)\s*[\d一二三四五六七八九十]+(?:\s*[-－.．]\s*\d+)*")
_YEAR_OF = re.compile(r"(?<!\d)(?:19|20)\d{2}(?:\s*(?:年度?|届|级|学年))?(?!\d)")
_REFERENCE = re.compile(
    r"第[一二三四五六七八九十百零〇两\d]+[条章节款项编]|(?:表|图|附表|续表)\s*\d+(?:\s*[-－.．]\s*\d+)*"
    r"|^\s*\d+(?:[.．]\d+)+|^\s*[（(]?[一二三四五六七八九十\d]+[）)、.．]"
    r"|[（(][一二三四五六七八九十\d]+[）)]"
)
ARTICLE_UNIT_CHARS = 240  # an article this short is answered whole
SUBJECTS = 3  # the most frequent names a document is taken to be about
LOCAL_DAMPING, LOCAL_MIN_UNITS = 0.8, 5
BOUNDARY_SHARE = 0.8  # a name's left end: no one character precedes this share of its uses
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇两\d]+条")
_ARTICLE_OR_CHAPTER = re.compile(r"^第[一二三四五六七八九十百零〇两\d]+[条章]")
_VERSION = re.compile(r"[（(]\s*((?:19|20)\d{2})[-－.年](\d{1,2})[-－.月](\d{1,2})日?\s*[)）]\s*$")
_INSTRUCTION = re.compile(
    r"忽略(?:以上|上述|之前|前面|先前)|无视(?:以上|上述)|ignore (?:all |the )?(?:previous|above)|system prompt|"
    r"你(?:现在)?是(?:一个)?(?:AI|人工智能|助手|模型)|请(?:直接)?(?:回答|输出)[:：]",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"(?:每|各|本|上|下)?(?:学年|学期|年度|季度|半年|年|月)(?:末|底|初|中旬|上旬|下旬|前|后)|"
    r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|每(?:年|学年|学期|季度|月)|定期|期末"
)
_FIGURE = re.compile(r"[-+]?[\d,.]+\s*(?:%|％|‰|万元|万人|万|亿元|亿|元|人次|人|个|门|所|家|项|次|分|天|日|年|月|倍)?")
_UNIT_OF_MEASURE_HEADERS = ("单位", "计量单位")
_RUNNING_NUMBER_HEADERS = ("序号", "编号", "排名", "序")


@dataclass(frozen=True)
class DocView:
    """A document as the answer stage reads it, once per question (or cached by its id)."""

    doc_id: str
    title: str
    source: str
    text: str
    sections: tuple[Section, ...] = ()
    chunks: tuple[Chunk, ...] = ()  # in document order

    @cached_property
    def family(self) -> str:
        """The title without its version date: versions of one regulation share it."""
        return family(self.title)

    @cached_property
    def file_name(self) -> str:
        """The file's name without its suffix, its separators as spaces: often the only place a
        report names its school (「广东建设职业技术学院_教学成果奖_成果总结报告」)."""
        return re.sub(r"[_\-—\s]+", " ", PurePath(self.source).stem) if self.source else ""

    @cached_property
    def cover(self) -> str:
        """The head of the first page, up to its first full stop: where a report names its school
        and year (its metadata when the title is incomplete), before the body begins."""
        head = self.text[:COVER_CHARS]
        stop = head.find("。")
        return head[:stop] if stop >= 0 else head

    @cached_property
    def subjects(self) -> str:
        """The names a document keeps coming back to (three times or more): the school or body it
        is about, which a passage need not repeat (「清远职业技术学院」 in its reports)."""
        return " ".join(recurring_names(self.text)[:SUBJECTS])

    @cached_property
    def body_start(self) -> int:
        """Where a regulation's body starts: its first chapter or article. What comes before is
        its preamble (title, adoption and revision history). 0 for other documents."""
        starts = [start for path, start, _ in self.sections if path and _ARTICLE_OR_CHAPTER.match(path[-1])]
        return min(starts, default=0)

    @cached_property
    def short_articles(self) -> list[tuple[int, int]]:
        """The spans of the articles (第八条 …) of at most ``ARTICLE_UNIT_CHARS`` characters."""
        out = []
        for path, start, end in self.sections:
            if path and _ARTICLE.match(path[-1]):
                start, end = trim_span(self.text, start, end)
                if end - start <= ARTICLE_UNIT_CHARS:
                    out.append((start, end))
        return out

    def article_at(self, offset: int) -> tuple[int, int] | None:
        """The span of the article number (第八条) of the article holding ``offset``, if any."""
        for path, start, end in self.sections:
            if path and start <= offset < end and _ARTICLE.match(path[-1]):
                head = _ARTICLE.match(self.text[start : start + 12])
                if head:
                    return start, start + len(head.group(0))
        return None

    @cached_property
    def version(self) -> str:
        """The version date the title ends with (「（2024-11-10）」 → 2024-11-10), else ""."""
        match = _VERSION.search(self.title)
        return f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}" if match else ""

    @cached_property
    def by_id(self) -> dict[str, Chunk]:
        return {c.chunk_id: c for c in self.chunks}

    @cached_property
    def facts(self) -> list[tuple[str, int, int]]:
        return document_facts(self.text)

    def headings_at(self, offset: int) -> list[str]:
        """The heading lines of the sections holding ``offset`` (「第八条 合作形式」), outermost first."""
        return [self.text[start:end].split("\n", 1)[0][:40] for _, start, end in self.sections if start <= offset < end]

    def chunk_at(self, start: int, end: int) -> Chunk | None:
        """The chunk spanning exactly ``[start, end)``, else the first one holding ``start``."""
        exact = next((c for c in self.chunks if c.start == start and c.end == end), None)
        return exact or next((c for c in self.chunks if c.start <= start < c.end), None)


@dataclass(frozen=True)
class Row:
    """A table row read from its cells: the cells that name it and the (header, value) figures."""

    caption: str
    labels: tuple[tuple[str, str], ...]  # (header, text) cells that name the row
    figures: tuple[tuple[str, str], ...]  # (header, value) cells holding numbers
    headers: tuple[str, ...] = ()
    is_total: bool = False  # a total row (全校, 合计, 总计): the whole, not a part


@dataclass(frozen=True)
class Unit:
    """A candidate answer sentence: an exact span ``[start, end)`` of document ``doc_id``."""

    passage: int  # index of the passage it comes from (0 = best)
    doc_id: str
    start: int
    end: int
    text: str
    terms: frozenset[str]  # its own terms and those of its surroundings (``own | context``)
    chunk: Chunk  # the indexed chunk holding it
    own: frozenset[str] = frozenset()  # its own terms only
    row: Row | None = None
    header: tuple[int, int] | None = None  # a table row's header rows (cited when a header holds a figure)
    caption_span: tuple[int, int] | None = None
    numbers: int = 0
    instruction: bool = False  # reads like an instruction to an assistant: never used as an answer
    heading: bool = False
    label: str = ""  # what a labelled fact is (发文字号, 成文日期), shown before it
    label_terms: frozenset[str] = frozenset()  # a question must ask for the label to get the fact
    words: str = ""  # what the unit and its surroundings say, as text (title, headings, caption, headers)
    preamble: bool = False  # in a regulation's preamble (revision history), not its body
    article: tuple[int, int] | None = None  # the number of the article holding it (第八条), when it does not start with it
    whole: bool = False  # a whole short article: quoted in full, never narrowed
    lead: frozenset[str] = frozenset()  # the terms of the sentence just before it (what a formula or list continues)

    @property
    def is_row(self) -> bool:
        return self.row is not None


@dataclass
class Evidence:
    """Passages retrieved for a question, their documents, and the units they hold."""

    question: Question
    passages: list[ScoredChunk]
    units: list[Unit]
    docs: dict[str, DocView] = field(default_factory=dict)
    superseded: frozenset[str] = frozenset()  # doc ids in a version the question does not mean

    @property
    def texts(self) -> dict[str, str]:
        return {doc_id: doc.text for doc_id, doc in self.docs.items()}




def build_units(
    question: Question,
    passages: Sequence[ScoredChunk],
    docs: dict[str, DocView],
    vocabulary: Vocabulary,
) -> list[Unit]:
    """Every sentence, labelled fact and table row of ``passages`` as a ``Unit``, in passage order."""
    units: list[Unit] = []
    seen: set[tuple[str, int, int]] = set()
    context_cache: dict[tuple[str, tuple[str, ...], int], tuple[frozenset[str], str]] = {}

    def around(doc: DocView, chunk: Chunk, extra: str = "") -> tuple[frozenset[str], str]:
        """Terms (and text) the unit's surroundings say for it: title, document facts, headings."""
        key = (doc.doc_id, chunk.section_path, hash(extra))
        if key not in context_cache:
            facts = " ".join(doc.text[s:e] for _, s, e in doc.facts)
            words = " ".join(
                (doc.title, doc.file_name, doc.subjects, facts, *chunk.section_path, *doc.headings_at(chunk.start), extra)
            )
            context_cache[key] = (frozenset(vocabulary.terms(words)), f"{words}\n{doc.cover}")
        return context_cache[key]

    for rank, passage in enumerate(passages):
        doc = docs.get(passage.chunk.doc_id)
        if doc is None:
            continue
        text = doc.text
        covered = [doc.by_id[cid] for cid in passage.covers if cid in doc.by_id]
        rows = sorted((c for c in covered if c.kind == "table_row"), key=lambda c: c.start)
        prose: list[Chunk] = []
        for chunk in rows:
            key = (doc.doc_id, chunk.start, chunk.end)
            if key in seen:
                continue
            seen.add(key)
            cells = chunk.row
            row = read_row(cells) if cells is not None and not cells.is_header else None
            if row is None or not row.figures or any(len(v) > 30 for _, v in row.labels):
                prose.append(chunk)  # header rows, or a "table" of sentences: read as text
                continue
            said = row_words(row)
            context, words = around(doc, chunk, row.caption + " " + " ".join(row.headers))
            own = frozenset(vocabulary.terms(said))
            units.append(
                Unit(
                    passage=rank,
                    doc_id=doc.doc_id,
                    start=chunk.start,
                    end=chunk.end,
                    text=chunk.text,
                    own=own,
                    terms=own | context,
                    chunk=chunk,
                    row=row,
                    header=cells.header if cells is not None and cells.header != (chunk.start, chunk.end) else None,
                    caption_span=cells.caption_span if cells is not None else None,
                    numbers=len(row.figures),
                    words=f"{said}\n{words}",
                )
            )
        text_chunks = sorted((c for c in covered if c.kind == "text" or c in prose), key=lambda c: c.start) or [
            passage.chunk
        ]
        for label, s, e in doc.facts:
            if passage.chunk.start <= s and e <= passage.chunk.end and (doc.doc_id, s, e) not in seen:
                seen.add((doc.doc_id, s, e))
                chunk = next((c for c in covered if c.start <= s < c.end), passage.chunk)
                fact = text[s:e]
                own = frozenset(vocabulary.terms(f"{label} {fact}"))
                context, words = around(doc, chunk)
                units.append(
                    Unit(rank, doc.doc_id, s, e, fact, own | context, chunk, own=own, numbers=len(figures_of(fact)),
                         label=label, label_terms=frozenset(vocabulary.terms(label)), words=f"{fact}\n{words}")
                )
        holes = [(c.start, c.end) for c in rows if c not in prose]
        heads = {trim_span(text, start, end)[0]: path[-1] for path, start, end in doc.sections if path}
        for start, end in _pieces(passage.chunk.start, passage.chunk.end, holes):
            for a_start, a_end in doc.short_articles:
                # a short article is one unit: the smallest whole rule (its items included)
                if start <= a_start and a_end <= end and (doc.doc_id, a_start, a_end) not in seen:
                    seen.add((doc.doc_id, a_start, a_end))
                    seen.update((doc.doc_id, s, e) for s, e in split_sentences(text, a_start, a_end))
                    article_text = text[a_start:a_end]
                    chunk = next((c for c in text_chunks if c.start <= a_start < c.end), passage.chunk)
                    own = frozenset(vocabulary.terms(article_text)) | _time_term(article_text)
                    context, words = around(doc, chunk)
                    units.append(
                        Unit(rank, doc.doc_id, a_start, a_end, article_text, own | context, chunk, own=own,
                             numbers=len(figures_of(article_text)), whole=True, words=f"{article_text}\n{words}",
                             instruction=bool(_INSTRUCTION.search(article_text)))
                    )
            lead: frozenset[str] = frozenset()
            for s, e in split_sentences(text, start, end):
                before, lead = lead, frozenset(vocabulary.terms(text[s:e]))
                if (doc.doc_id, s, e) in seen:
                    continue
                seen.add((doc.doc_id, s, e))
                sentence = text[s:e]
                if not _WORD.search(sentence):
                    continue  # figures without words (a chart's axis: 「900 800 700」) say nothing
                chunk = next((c for c in text_chunks if c.start <= s < c.end), passage.chunk)
                article = doc.article_at(s)
                own = frozenset(vocabulary.terms(sentence)) | _time_term(sentence)
                context, words = around(doc, chunk)
                units.append(
                    Unit(
                        passage=rank,
                        doc_id=doc.doc_id,
                        start=s,
                        end=e,
                        text=sentence,
                        own=own,
                        terms=own | context,
                        chunk=chunk,
                        numbers=len(figures_of(sentence)),
                        instruction=bool(_INSTRUCTION.search(sentence)),
                        heading=is_caption(sentence)
                        or ((is_heading(sentence) or _is_heading_line(sentence, heads.get(s))) and not _states_figure(sentence)),
                        words=f"{sentence}\n{words}",
                        preamble=s < doc.body_start,
                        article=article if article is not None and article[0] != s else None,
                        lead=before,
                    )
                )
    return [_with_parts(unit, question) for unit in units]


def _with_parts(unit: Unit, question: Question) -> Unit:
    """``unit`` holding also the question's terms that are part of one of its words: a Chinese
    compound says its parts (双师素质 says 双师, 专任教师 says 专任), while the tokenizer splits
    out only the parts its dictionary knows; and a word with one character left out says the
    same as the word (教学楼 of 教学大楼, 年假 of 年休假: same first and last character)."""
    missing = [t for t in question.weights if len(t) >= 2 and t not in unit.terms]
    if not missing:
        return unit
    # a missing term found in the words joined by a separator is inside a longer word
    own_words, all_words = "\x00".join(unit.own), "\x00".join(unit.terms)
    own = {t for t in missing if t in own_words or any(_shortens(t, w) for w in unit.own)}
    context = {t for t in missing if t not in own and t in all_words}
    if not own and not context:
        return unit
    return replace(unit, own=unit.own | own, terms=unit.terms | own | context)


def _shortens(short: str, word: str) -> bool:
    """``word`` with one character left out inside is ``short`` (教学大楼 → 教学楼)."""
    return (
        len(word) == len(short) + 1 and word[0] == short[0] and word[-1] == short[-1]
        and any(word[:i] + word[i + 1 :] == short for i in range(1, len(word) - 1))
    )


def focus_weights(question: Question, units: Sequence[Unit]) -> Question:
    """``question`` with each term's weight scaled by how well it tells the retrieved units apart.

    A term nearly every unit holds (the school a report is about, the regulation it scopes to)
    says no more about which unit answers than a stopword does; its weight falls to
    ``1 - LOCAL_DAMPING × share`` of itself, where ``share`` is the fraction of units holding it
    (in their own words or their surroundings). Applies from ``LOCAL_MIN_UNITS`` units on.
    """
    if len(units) < LOCAL_MIN_UNITS:
        return question
    held = Counter(t for u in units for t in u.terms if t in question.weights)
    factor = {t: 1.0 - LOCAL_DAMPING * held[t] / len(units) for t in question.weights}
    weights = {t: w * factor[t] for t, w in question.weights.items()}
    parts = tuple({t: w * factor.get(t, 1.0) for t, w in part.items()} for part in question.parts)
    return replace(question, weights=weights, parts=parts)


def _time_term(text: str) -> frozenset[str]:
    """The time pseudo-term when ``text`` states a time (每学年末, 3月, 每学期)."""
    return frozenset({TIME_TERM}) if _TIME.search(text) else frozenset()


def versions_of(titles: Iterable[str]) -> dict[str, list[str]]:
    """The version dates the library holds of each regulation (by its title without the date)."""
    versions: dict[str, list[str]] = {}
    for title in titles:
        view = DocView("", title, "", "")
        if view.version:
            versions.setdefault(view.family, []).append(view.version)
    return versions


def superseded(
    docs: Sequence[DocView], titles: Iterable[str] | dict[str, list[str]], *, earlier: bool = False
) -> frozenset[str]:
    """Ids of ``docs`` in a version the question does not mean: a question that names no version
    means the one in force, so the versions the library holds a later one of; a question asking
    about an earlier version (旧版, 原来的) means that one, so the versions with an earlier one.
    ``titles`` are the library's titles, or their ``versions_of``."""
    versions = titles if isinstance(titles, dict) else versions_of(titles)
    if earlier:
        return frozenset(d.doc_id for d in docs if d.version and min(versions.get(d.family, [d.version])) < d.version)
    return frozenset(d.doc_id for d in docs if d.version and max(versions.get(d.family, [d.version])) > d.version)


def recurring_names(text: str, least: int = 3, longest: int = 14) -> list[str]:
    """Names ``text`` uses at least ``least`` times, most used first: strings ending in a kind
    word (学院, 大学, 条例 …) whose left end is a boundary, i.e. no single character precedes
    most of their uses (「广东建设职业技术学院」 is a name; 「设职业技术学院」 always follows 建, so
    it is not; 「由广东建设职业技术学院」 is one use among many, so it is not either)."""
    counts: Counter[str] = Counter()
    for match in KIND_WORD.finditer(text):
        end = match.end()
        for size in range(len(match.group(0)) + 2, longest + 1):
            start = end - size
            if start < 0 or not _CJK.match(text[start]):
                break
            counts[text[start:end]] += 1
    # the most uses of a string one character longer to the left (its extension), for each string
    extensions: Counter[str] = Counter()
    for other, m in counts.items():
        extensions[other[1:]] = max(extensions[other[1:]], m)
    names = []
    for name, n in counts.items():
        if n < least:
            continue
        if extensions[name] < BOUNDARY_SHARE * n:
            names.append((n, name))
    return [name for _, name in sorted(names, key=lambda pair: (-pair[0], pair[1]))]


def read_row(cells: RowCells) -> Row:
    """A row's label cells and figure cells, from its cells and column headers.

    A running number (序号) is no figure; a unit-of-measure column (单位) names the row's unit.
    """
    labels: list[tuple[str, str]] = []
    figures: list[tuple[str, str]] = []
    label_headers: set[str] = set()
    filled = [(col, v.strip()) for col, v in enumerate(cells.cells) if v.strip()]
    # a row opening with a small integer and then its label is numbered (1 就业率 % 98.02): no figure
    numbered = len(filled) >= 2 and re.fullmatch(r"\d{1,3}", filled[0][1]) is not None and not is_figure(filled[1][1])
    for col, value in enumerate(cells.cells):
        if numbered and col == filled[0][0]:
            continue
        header = cells.headers[col].strip() if col < len(cells.headers) else ""
        value = value.strip()
        if not value or value == header or _NO_VALUE.fullmatch(value):
            continue  # 「-」「—」「/」 in a cell says there is no value
        if is_figure(value):
            if header in _RUNNING_NUMBER_HEADERS or (not labels and not header and re.fullmatch(r"\d{1,2}", value)):
                continue
            if header in label_headers and re.fullmatch(r"\d{1,3}", value):
                continue  # a row number under the same merged header as the label
            figures.append((header, value))
        else:
            labels.append((header, value))
            label_headers.add(header)
    names = [v for h, v in labels if h not in _UNIT_OF_MEASURE_HEADERS]
    total = bool(names) and any(TOTAL_LABEL.search(re.sub(r"\s+", "", n)) for n in names)
    return Row(cells.caption, tuple(labels), tuple(figures), cells.headers, total)


def figures_of(text: str) -> list[frozenset[Decimal]]:
    """The quantities ``text`` states (numbers, amounts, shares, durations), not references to an
    article, chapter, table or figure (第三十三条, 表2), a list item's number ((二), 3.), a year
    (2023届, 2020年) or digits inside a name (1+X, 5G), which name something rather than measure it."""
    return number_forms(_NAME_WITH_DIGITS.sub(" ", _YEAR_OF.sub(" ", _REFERENCE.sub(" ", text))))


def _states_figure(sentence: str) -> bool:
    """A line holding a figure other than a year or its own list number (放假4天, 30日内)."""
    return bool(figures_of(sentence))


_WORD = re.compile(r"[\u4e00-\u9fff]{2}|[A-Za-z]{2}")
_NO_VALUE = re.compile(r"[-－—–/／\\]+")


def is_figure(value: str) -> bool:
    """A cell holding a quantity (5897, 92.12%, 300万元), not a code or number of an item (9.2.1, 6.)."""
    value = value.strip()
    number = re.sub(r"[^\d.,]", "", value)
    if number.count(".") > 1 or number.endswith(".") or number.startswith("."):
        return False
    return bool(_FIGURE.fullmatch(value)) and bool(re.search(r"\d", value))


def row_words(row: Row) -> str:
    return "\n".join([row.caption, *(f"{h} {v}" for h, v in row.labels), *(f"{h} {v}" for h, v in row.figures)])


def _pieces(start: int, end: int, holes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces, cursor = [], start
    for s, e in sorted(holes):
        if s > cursor:
            pieces.append((cursor, min(s, end)))
        cursor = max(cursor, e)
    if cursor < end:
        pieces.append((cursor, end))
    return [(s, e) for s, e in pieces if e > s]


def is_caption(sentence: str) -> bool:
    """A figure or table caption, with the chart labels read after it (「图3-1近三年升学人数 32.18%
    32.64%」): it names what follows and states nothing, whatever figures it holds."""
    return bool(_CAPTION.match(sentence)) and len(sentence) <= 60 and not re.search(r"[。！？；，,;]", sentence)


def is_heading(sentence: str) -> bool:
    """A heading line: short, no sentence punctuation (「2.1.1 招生概况」「三、产业学院建设任务情况」)."""
    if _CAPTION.match(sentence) and len(sentence) <= 40 and not re.search(r"[。！？；，,;]", sentence):
        return True  # a figure or table caption names what follows; it answers nothing
    return len(sentence) <= 30 and not re.search(r"[。！？；，,;：:]", sentence)


def _is_heading_line(sentence: str, title: str | None) -> bool:
    """A sentence at a section's start that is all heading (「2.2.3 就业相关度高，…需求。」), not an
    article whose heading is only its number (「第八条 学校和企业可以……」)."""
    return title is not None and len(title) >= len(sentence.rstrip("。：:；;")) - 2
