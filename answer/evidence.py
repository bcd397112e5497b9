"""What a question asks and what the retrieved passages offer to answer it, sentence by sentence.

``Question`` is the analysis of the question: its content terms weighted by idf, the years and
names it mentions, whether it asks for a figure, a list or a piece of writing, and any length
limit. ``Unit`` is one candidate answer sentence: a sentence of a retrieved text passage, or
one table row with its headers, always an exact span of its document. ``gather`` turns the
retrieved passages into units; ``support`` decides whether they can answer the question at all,
and says why not when they cannot (the refusal rule every generator shares).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from answer.verify import length_limit, number_forms
from index.docstore import DocStore
from index.hybrid import ScoredChunk
from index.lexical import LexicalIndex
from ingest.chunk import split_sentences, trim_span
from ingest.records import Chunk
from ingest.structure import document_facts

QuestionKind = Literal["fact", "list", "write"]

# Words that ask rather than say: never evidence that a passage is about the question.
_QUESTION_WORDS = """
    什么 怎么 怎样 如何 多少 哪些 哪个 哪几 哪几个 哪 几 几个 谁 吗 呢 是否 有没有 分别 各
    各是 一共 总共 共 请 列出 请列出 说明 介绍 时候 什么样 哪里 哪天 哪年 哪些方面 方面 具体 有
    要 会 能 可以 应该 提到 规定 里 中 写 一段 帮 我 起草 写清 字 以内 左右 不超过 根据 按
    按照 给 用到 要点 材料 小结 进展 情况 几批 那份 哪份 想 处于 说 表述 两者 层面 章节 表里
    正文 还是 对得上 一下 这 那
"""
QUESTION_WORDS: frozenset[str] = frozenset(_QUESTION_WORDS.split())
_LIST = re.compile(
    r"哪些|哪几|列出|列举|包括什么|有什么(?:原则|措施|形式|要求|任务|内容)|几[个项条方]|[三四五六七八九十两][个项条大]"
)
_WRITE = re.compile(r"写一段|写一篇|写[个份]|起草|撰写|拟写|帮我写|写清|小结|总结一段|草拟")
_QUANTITY = re.compile(r"多少|几[个名人门项次所家批届]|[占为达]?(?:比例|比率|百分之)|人数|数量|金额|总量")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# 「一年中什么时候考核」 asks for a time: a sentence stating one (每学年末, 每年3月, 学期初) answers it
_WHEN = re.compile(r"什么时候|何时|什么时间|哪个时间|哪段时间|几月份?|时间安排")
_TIME = re.compile(
    r"(?:每|各|本|上|下)?(?:学年|学期|年度|季度|半年|年|月)(?:末|底|初|中旬|上旬|下旬|前|后)|"
    r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|每(?:年|学年|学期|季度|月)|定期|期末"
)
TIME_TERM = "⟨时间⟩"  # the pseudo-term a time-asking sub-question weighs and a time-stating sentence holds
# 「哪个地级市」「哪一个省」: the answer must name a place of that kind
_PLACE_KIND = re.compile(r"(?:哪个|哪一个|哪座|什么)(?:地级)?(市|省|县|区)")
_PLACE_NAME = r"[\u4e00-\u9fa5]{2,6}"
_GENERIC_PLACE = re.compile(r"^(?:全|我|本|该|各|地级|省|县|区|市|其|此|两|同|外|城)")
_INSTRUCTION = re.compile(
    r"忽略(?:以上|上述|之前|前面|先前)|无视(?:以上|上述)|ignore (?:all |the )?(?:previous|above)|system prompt|"
    r"你(?:现在)?是(?:一个)?(?:AI|人工智能|助手|模型)|请(?:直接)?(?:回答|输出)[:：]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    text: str
    terms: tuple[str, ...]  # content terms, question words removed
    weights: dict[str, float]  # idf of each term
    years: tuple[str, ...]
    kind: QuestionKind
    quantity: bool  # asks for a figure
    limit: tuple[int, bool] | None  # (characters, approximate) when the question states one
    place_kind: str | None  # 市/省/县/区 when it asks which place
    enumerates: bool = False  # asks for several items (哪些, 三个阶段), whatever its kind
    parts: tuple[dict[str, float], ...] = ()  # term weights of each sub-question (split at ？；。)
    unseen: tuple[str, ...] = ()  # content terms no indexed chunk contains

    @property
    def weight(self) -> float:
        return sum(self.weights.values()) or 1.0

    def coverage(self, terms: frozenset[str] | set[str]) -> float:
        """Share of the question's term weight that ``terms`` hold."""
        return sum(w for t, w in self.weights.items() if t in terms) / self.weight

    def part_coverage(self, terms: frozenset[str] | set[str], answered: frozenset[str] | set[str] = frozenset()) -> float:
        """The best share of one sub-question's term weight that ``terms`` hold, over the
        sub-questions that ``answered`` terms do not cover by half yet."""

        def share(part: dict[str, float], have: frozenset[str] | set[str]) -> float:
            return sum(w for t, w in part.items() if t in have) / (sum(part.values()) or 1.0)

        def own(i: int) -> dict[str, float]:
            # a sub-question is answered when its own words are: 「学生反馈表里…在校生」 is not
            # answered by a 服务贡献表 row that shares only 在校生人数 with it
            others = {t for j, part in enumerate(self.parts) if j != i for t in part}
            return {t: w for t, w in self.parts[i].items() if t not in others} or self.parts[i]

        return max(
            (share(part, terms) for i, part in enumerate(self.parts) if share(own(i), answered) < 0.5), default=0.0
        )


def _content_terms(text: str, lexical: LexicalIndex) -> tuple[str, ...]:
    return tuple(t for t in lexical.terms(text) if t not in QUESTION_WORDS and not re.fullmatch(r"\d{1,3}", t))


def analyse(text: str, lexical: LexicalIndex) -> Question:
    terms = _content_terms(text, lexical)
    weights = lexical.idf(terms)
    parts = tuple(
        {t: weights[t] for t in _content_terms(part, lexical) if t in weights}
        for part in re.split(r"[？?；;。！!]", text)
        if len(part.strip()) >= 4
    )
    if _WHEN.search(text):
        weight = max(weights.values(), default=1.0)
        weights = {**weights, TIME_TERM: weight}
        split = [part for part in re.split(r"[？?；;。！!]", text) if len(part.strip()) >= 4]
        parts = tuple({**part, TIME_TERM: weight} if _WHEN.search(raw) else part for part, raw in zip(parts, split, strict=False))
    limit = length_limit(text)
    kind: QuestionKind = "write" if limit or _WRITE.search(text) else "list" if _LIST.search(text) else "fact"
    place = _PLACE_KIND.search(text)
    return Question(
        text=text,
        terms=terms,
        weights=weights,
        parts=tuple(p for p in parts if p),
        enumerates=bool(_LIST.search(text)),
        unseen=tuple(t for t in terms if lexical.document_frequency(t) == 0 and not _YEAR.fullmatch(t)),
        years=tuple(dict.fromkeys(_YEAR.findall(text))),
        kind=kind,
        quantity=bool(_QUANTITY.search(text)),
        limit=limit,
        place_kind=place.group(1) if place else None,
    )


@dataclass(frozen=True)
class Row:
    """A table row as its context reads: the row's label cells and (header, value) figures."""

    caption: str
    labels: tuple[tuple[str, str], ...]  # (header, text) cells that name the row
    figures: tuple[tuple[str, str], ...]  # (header, value) cells holding numbers


@dataclass(frozen=True)
class Unit:
    """A candidate answer sentence: an exact span ``[start, end)`` of document ``doc_id``."""

    passage: int  # index of the passage it comes from (0 = best)
    doc_id: str
    start: int
    end: int
    text: str
    terms: frozenset[str]  # its own terms and those of its surroundings (title, headings)
    chunk: Chunk  # the indexed chunk holding it
    own: frozenset[str] = frozenset()  # its own terms only
    row: Row | None = None
    header: Chunk | None = None  # a table row's header rows (cited when a rendered header has a figure)
    numbers: int = 0
    instruction: bool = False  # reads like an instruction to an assistant: never used as an answer
    heading: bool = False
    label: str = ""  # what a labelled fact is (发文字号, 成文日期), shown before it
    label_terms: frozenset[str] = frozenset()  # a question must ask for the label to get the fact

    @property
    def is_row(self) -> bool:
        return self.row is not None


@dataclass
class Evidence:
    """Passages retrieved for a question and the units they hold, with the documents' texts."""

    question: Question
    passages: list[ScoredChunk]
    units: list[Unit]
    texts: dict[str, str] = field(default_factory=dict)
    store: DocStore | None = None  # for reading beyond the passages (the rest of a list)
    _sections: dict[str, list[tuple[tuple[str, ...], int, int]]] = field(default_factory=dict, repr=False)
    _chunks: dict[str, list[Chunk]] = field(default_factory=dict, repr=False)

    def sections(self, doc_id: str) -> list[tuple[tuple[str, ...], int, int]]:
        """The section tree of a document, read once per question."""
        if doc_id not in self._sections and self.store is not None:
            self._sections[doc_id] = self.store.sections(doc_id)
        return self._sections.get(doc_id, [])

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in order, read once per question."""
        if doc_id not in self._chunks and self.store is not None:
            self._chunks[doc_id] = self.store.doc_chunks(doc_id)
        return self._chunks.get(doc_id, [])


def gather(question: Question, passages: Sequence[ScoredChunk], store: DocStore, lexical: LexicalIndex) -> Evidence:
    """Every sentence and table row of ``passages`` as a ``Unit``, in passage order."""
    texts: dict[str, str] = {}
    doc_chunks: dict[str, list[Chunk]] = {}
    units: list[Unit] = []
    seen: set[tuple[str, int, int]] = set()
    context_terms: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
    sections: dict[str, list[tuple[tuple[str, ...], int, int]]] = {}

    def around(chunk: Chunk) -> frozenset[str]:
        """Terms a unit's surroundings say for it: its document's title and number, its section path."""
        key = (chunk.doc_id, chunk.section_path)
        if key not in context_terms:
            text = texts[chunk.doc_id]
            facts = " ".join(text[s:e] for _, s, e in document_facts(text))
            if chunk.doc_id not in sections:
                sections[chunk.doc_id] = store.sections(chunk.doc_id)
            headings = [  # the heading lines of the sections holding the chunk (「第八条 合作形式」)
                text[start:end].split("\n", 1)[0][:40]
                for _, start, end in sections[chunk.doc_id]
                if start <= chunk.start < end
            ]
            words = " ".join((titles.get(chunk.doc_id, ""), facts, *chunk.section_path, *headings))
            context_terms[key] = frozenset(lexical.terms(words))
        return context_terms[key]

    titles = {p.chunk.doc_id: p.title for p in passages}
    for rank, passage in enumerate(passages):
        doc_id = passage.chunk.doc_id
        if doc_id not in texts:
            texts[doc_id] = store.text(doc_id) or ""
        text = texts[doc_id]
        covered = store.chunks(list(passage.covers)) if passage.covers else {}
        rows = sorted((c for c in covered.values() if c.kind == "table_row"), key=lambda c: c.start)
        prose: list[Chunk] = []
        for chunk in rows:
            if (doc_id, chunk.start, chunk.end) in seen:
                continue
            seen.add((doc_id, chunk.start, chunk.end))
            if doc_id not in doc_chunks:
                doc_chunks[doc_id] = store.doc_chunks(doc_id)
            header = _table_head(doc_chunks[doc_id], chunk, text)
            row = _parse_row(chunk)
            is_header = header is not None and header.chunk_id == chunk.chunk_id
            if is_header or not row.figures or any(len(v) > 30 for _, v in row.labels):
                prose.append(chunk)  # header rows, or a "table" of sentences: read as text
                continue
            units.append(
                Unit(
                    passage=rank,
                    doc_id=doc_id,
                    start=chunk.start,
                    end=chunk.end,
                    text=chunk.text,
                    own=frozenset(lexical.terms(_row_words(row))),
                    terms=frozenset(lexical.terms(_row_words(row))) | around(chunk),
                    chunk=chunk,
                    row=row,
                    header=header,
                    numbers=len(row.figures),
                )
            )
        text_chunks = sorted((c for c in covered.values() if c.kind == "text" or c in prose), key=lambda c: c.start) or [
            passage.chunk
        ]
        for label, s, e in document_facts(text):
            if passage.chunk.start <= s and e <= passage.chunk.end and (doc_id, s, e) not in seen:
                seen.add((doc_id, s, e))
                chunk = next((c for c in covered.values() if c.start <= s < c.end), passage.chunk)
                fact = text[s:e]
                units.append(
                    Unit(rank, doc_id, s, e, fact, frozenset(lexical.terms(f"{label} {fact}")) | around(chunk), chunk,
                         own=frozenset(lexical.terms(f"{label} {fact}")),
                         numbers=len(number_forms(fact)), label=label, label_terms=frozenset(lexical.terms(label)))
                )
        holes = [(c.start, c.end) for c in rows if c not in prose]
        if doc_id not in sections:
            sections[doc_id] = store.sections(doc_id)
        heads = {trim_span(text, start, end)[0]: path[-1] for path, start, end in sections[doc_id] if path}
        for start, end in _pieces(passage.chunk.start, passage.chunk.end, holes):
            for s, e in split_sentences(text, start, end):
                if (doc_id, s, e) in seen:
                    continue
                seen.add((doc_id, s, e))
                sentence = text[s:e]
                chunk = next((c for c in text_chunks if c.start <= s < c.end), passage.chunk)
                time_term = frozenset({TIME_TERM}) if _TIME.search(sentence) else frozenset()
                units.append(
                    Unit(
                        passage=rank,
                        doc_id=doc_id,
                        start=s,
                        end=e,
                        text=sentence,
                        own=frozenset(lexical.terms(sentence)) | time_term,
                        terms=frozenset(lexical.terms(sentence)) | around(chunk) | time_term,
                        chunk=chunk,
                        numbers=len(number_forms(sentence)),
                        instruction=bool(_INSTRUCTION.search(sentence)),
                        heading=_is_heading(sentence) or _is_heading_line(sentence, heads.get(s)),
                    )
                )
    return Evidence(question, list(passages), units, texts, store, sections, doc_chunks)


@dataclass(frozen=True)
class Support:
    ok: bool
    reason: str = ""  # why not, in Chinese, shown with the refusal


# the best unit must hold this share of the question's term weight
MIN_COVERAGE = 0.35


def support(evidence: Evidence, chosen: Sequence[Unit] | None = None, min_coverage: float = MIN_COVERAGE) -> Support:
    """Whether the evidence can answer the question; ``chosen`` are the units an answer would use.

    Refuses when no unit covers enough of the question's weighted terms, when a year or place the
    question names appears nowhere in the units used, and when the question asks which city or
    province and the units name none.
    """
    question = evidence.question
    usable = [u for u in evidence.units if not u.instruction and not u.heading]
    if not usable:
        return Support(False, "没有检索到相关段落")
    used = list(chosen) if chosen else usable
    covered = question.coverage(set().union(*(u.terms for u in used)))
    if covered < min_coverage:
        return Support(False, f"找到的段落只覆盖了问题要点的 {covered:.0%}")
    said = "\n".join(_unit_words(u) for u in used)
    # a word no indexed passage contains must at least be spelled out in the sentences used
    unspelled = [t for t in question.unseen if sum(char in said for char in t) * 2 < len(t)]
    if unspelled:
        return Support(False, f"资料中没有「{'、'.join(unspelled)}」的相关内容")
    # a year counts where a sentence says it about the question's subject (「2021年3月，学院成立……」
    # does not answer 「2021年的报到率」)
    subject = set(question.terms) - set(question.years) - {"年", "年度"}
    missing_years = [
        y for y in question.years if not any(y in _unit_words(u) and (not subject or subject & u.terms) for u in used)
    ]
    if missing_years:
        return Support(False, f"资料中没有 {'、'.join(missing_years)} 年的相关内容")
    everything = "\n".join(_unit_words(u) for u in usable)
    missing_names = [n for n in proper_names(question.text) if re.sub(r"(?<=..)[市省县区]$", "", n) not in everything]
    if missing_names:
        return Support(False, f"资料中没有提到「{'、'.join(missing_names)}」")
    if question.place_kind and not _names_place(said, question.place_kind, question.text):
        return Support(False, f"资料中没有写明是哪个{question.place_kind}")
    return Support(True)


def proper_names(text: str) -> list[str]:
    """Place and organisation names jieba tags in ``text`` (香港, 澳门, 深圳职业技术学院)."""
    return [
        word
        for word, flag in _posseg().cut(text)
        if flag in ("ns", "nt") and len(word) >= 2 and not re.search(r"(?:度|率|性|化|平)$", word)
    ]


@cache
def _posseg() -> Any:
    """jieba's part-of-speech tagger (its own dictionary, loaded on first use)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba.posseg.POSTokenizer(jieba.Tokenizer())


def _names_place(text: str, kind: str, question: str) -> bool:
    for match in re.finditer(_PLACE_NAME + kind, text):
        name = match.group(0)
        # the longest candidate may start mid-phrase: try each suffix of at least 2 characters + kind
        for i in range(len(name) - 2):
            candidate = name[i:]
            if not _GENERIC_PLACE.match(candidate) and candidate not in question and _is_place(candidate):
                return True
    return False


def _is_place(word: str) -> bool:
    return any(flag == "ns" and w == word for w, flag in _posseg().cut(word))


def _pieces(start: int, end: int, holes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces, cursor = [], start
    for s, e in sorted(holes):
        if s > cursor:
            pieces.append((cursor, min(s, end)))
        cursor = max(cursor, e)
    if cursor < end:
        pieces.append((cursor, end))
    return [(s, e) for s, e in pieces if e > s]


def _is_heading(sentence: str) -> bool:
    """A heading line: short, no sentence punctuation (「2.1.1 招生概况」「三、产业学院建设任务情况」)."""
    if re.match(r"^(?:图|表|附表)\s*[\d一二三四五六七八九十]+\s*[：:．.、\s]", sentence) and len(sentence) <= 40:
        return True  # a figure or table caption
    return len(sentence) <= 30 and not re.search(r"[。！？；，,;：:]", sentence)


def _is_heading_line(sentence: str, title: str | None) -> bool:
    """A sentence at a section's start that is all heading (「2.2.3 就业相关度高，…需求。」), not an
    article whose heading is only its number (「第八条 学校和企业可以……」)."""
    return title is not None and len(title) >= len(sentence.rstrip("。：:；;")) - 2


def _table_head(chunks: list[Chunk], row: Chunk, text: str) -> Chunk | None:
    """The first chunk of the run of table-row chunks holding ``row``: the table's header rows."""
    index = next((i for i, c in enumerate(chunks) if c.chunk_id == row.chunk_id), None)
    if index is None:
        return None
    while index > 0:
        before = chunks[index - 1]
        if before.kind != "table_row" or text[before.end : chunks[index].start].strip():
            break
        index -= 1
    return chunks[index]


def _parse_row(chunk: Chunk) -> Row:
    """Caption and cells from a row chunk's context (``ingest.tables.row_context``)."""
    lines = [line for line in chunk.context.split("\n") if line.strip()]
    pairs_line = lines[-1] if lines else ""
    caption = ""
    if len(lines) >= 2 and re.match(r"^(?:表|附表|续表)\s*[\d一二三四五六七八九十]", lines[-2]):
        caption = lines[-2]
    labels: list[tuple[str, str]] = []
    figures: list[tuple[str, str]] = []
    seen_label_headers: set[str] = set()
    for pair in pairs_line.split("；"):
        header, sep, value = pair.partition("：")
        if not sep:
            header, value = "", pair
        header, value = header.strip(), value.strip()
        if not value:
            continue
        if _is_figure(value):
            if header in ("序号", "编号", "排名") or (header and header in seen_label_headers):
                continue  # a running number, not a figure
            if not labels and re.fullmatch(r"\d{1,2}", value) and not header:
                continue
            figures.append((header, value))
        else:
            labels.append((header, value))
            seen_label_headers.add(header)
    # a leading small integer under the same merged header as the label is a row number
    figures = [(h, v) for h, v in figures if not (h in seen_label_headers and re.fullmatch(r"\d{1,3}", v))]
    return Row(caption, tuple(labels), tuple(figures))


def _is_figure(value: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,.]+\s*(?:%|％|万元|万|亿元|亿|元|人|个|门|所|家|项|次|分)?", value))


def _row_words(row: Row) -> str:
    return "\n".join([row.caption, *(f"{h} {v}" for h, v in row.labels), *(f"{h} {v}" for h, v in row.figures)])


def _unit_words(unit: Unit) -> str:
    """What a unit says, for the year and name checks: a row with its caption and headers."""
    if unit.row is not None:
        return _row_words(unit.row) + "\n" + " › ".join(unit.chunk.section_path)
    return unit.text
