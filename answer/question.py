"""What a question asks, and what the evidence must hold to answer it.

``analyse`` turns a question into a ``Question``: its content terms weighted by idf (what makes a
passage relevant), and separately the things an answer must be *about*, which decide
answerability (``answer.answerability``):

- the names it mentions: institutions, majors, documents and places (「清职院」「电子商务专业」
  「年休假条例」「宜昌」), found by the kind words names end in (学院, 大学, 专业, 条例, 法 …), by
  《》, and for places by jieba's place tag and dictionary;
- its years (2020年), and the articles it points to (第十五条);
- whether it asks for a quantity, a list, a time, a difference, or a piece of writing.

Principles (each tested in ``tests/answer/test_question.py`` on snippets written for the tests):

- Question words, function words, verbs of asking and writing instructions never decide
  answerability and never count as content (``STOPLIST``, a general list of such words, not
  words taken from eval questions).
- A short form resolves to a longer name in the library when its characters appear in the
  long name in order, starting at the first character of one of its words (清职院 → 清远职业
  技术学院, 职教法 → 中华人民共和国职业教育法); ``Question.aliases`` shows the mapping.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import PurePath
from typing import Any, Literal, Protocol

from answer.verify import LENGTH_LIMIT, length_limit

QuestionKind = Literal["fact", "list", "write"]
Measure = Literal["money", "time", "ratio", "people"]
FOLLOWUP_CONTEXT_WEIGHT = 0.5  # a follow-up's terms taken from the question it follows
SINGLE_CHARACTER_WEIGHT = 0.5  # one character alone says little
SHORT_QUESTION = 8  # characters: a question this short names no subject of its own
TIME_TERM = "⟨时间⟩"  # the pseudo-term a time-asking question weighs and a time-stating sentence holds
Operation = Literal["difference"]


class Vocabulary(Protocol):
    """The lexical index as the answer stage sees it: one tokenizer and corpus statistics."""

    def terms(self, text: str) -> list[str]: ...

    def idf(self, terms: Iterable[str]) -> dict[str, float]: ...

    def document_frequency(self, term: str) -> int: ...

    def words_starting(self, char: str) -> list[str]: ...


# Words that ask, point or instruct rather than say what the answer is about. They are the closed
# classes of Chinese questions and requests: interrogatives, modal and asking verbs, deixis (also
# pointing into the text itself: 前后两处说的数一样吗), vague quantifiers, comparison, and the
# vocabulary of writing requests (genre, tone, length, format).
_STOPLIST = """
    什么 什么样 怎么 怎样 怎么样 如何 为何 为什么 多少 多久 多长 多大 多高 多远 多少钱 几 几个 几项 几条 几种
    几天 几年 几次 几批 几月 哪 哪些 哪个 哪几 哪几个 哪几条 哪几项 哪一 哪一个 哪里 哪儿 哪天 哪年 哪份 哪种 哪类
    谁 吗 呢 吧 啊 呀 么 是否 有没有 能否 可否 能不能 可不可以 要不要 是不是 会不会 该不该 怎么办 咋 咋办 何时
    什么时候 时候 到底 究竟 请 请问 问 问一下 告诉 告知 介绍 介绍一下 说明 说说 讲讲 讲 说 谈谈 列出 列举 概括 解释 查 查询 查一下
    了解 知道 想 想知道 想问 帮 帮忙 帮我 麻烦 给 给我 一下 看看 看 显示 提到 提及 讲到 写到 规定 里 中 上 下
    写 写一段 写一篇 写个 写份 起草 撰写 拟写 草拟 拟 润色 改写 口吻 语气 风格 名义 身份 角度
    讲清 讲清楚 说清 说清楚 写清 写清楚 讲明 讲明白 说明白 顺带 顺便 提一下 带一句
    段 一段 篇 一篇 字 字数 以内 之内 左右 个
    不超过 不多于 以下 要点 内容 情况 相关 有关 关于 方面 具体 具体地 大概 大约 一共 总共 共 都 各 各有 分别 各自 各是
    用到 用上 写进 写入 包含 涉及 体现 突出 围绕 章节 段落 部分
    比 相比 相较 比较 对比 较 多 少 高 低 多了 少了 高了 低了 一样 相同 一致
    前后 两处 多处 各处 上文 下文 前文 后文 数 数字
    这 那 这个 那个 这些 那些 这种 那种 此 其 它 它们 他们 她们 我们 我 你 您 咱 咱们 大家 上面 以上 上述 前面 刚才 之前
    最后 还 还有 另外 以及 和 与 及 或 或者 还是 的 地 得 了 着 过 是 有 在 对 把 被 让 由 从 到 按 按照 根据 依据 依照
    要 会 能 可以 应该 应当 需要 需 得到 可 就 才 又 也 再 么样 一些 有些 有的 等 等等 呢 嘛 吧 哪些方面 一下子
    新版 旧版 老版 原版 现在 目前 当前 如今 现行 最新 以前 以后 过去 原来 当时 今年 去年 明年
    不是 是不是 有没有 对不对 行不行 好不好
    他 她 他的 她的 它的 自己 人家 别人 有人 谁的 啥 多大 多么 那么 这么 这样 那样 怎么样 么 嗯 哦
"""
# The genres a writing request names (写一段材料, 宣传稿, 综述). They are instructions in a writing
# request and content anywhere else (「要准备哪些材料」「年度总结什么时候交」).
_GENRES = """
    材料 稿 稿子 宣传稿 新闻稿 发言稿 讲话稿 短讯 简讯 简介 综述 概述 小结 总结 汇报 报道 通讯 文案 提醒 通知
"""
GENRE_WORDS: frozenset[str] = frozenset(_GENRES.split())
STOPLIST: frozenset[str] = frozenset(_STOPLIST.split()) | GENRE_WORDS
_ASKING = frozenset(["哪", "哪几", "几", "多少", "多", "第几", "哪一"])
# the how-much interrogatives of the stoplist's first line (多少 多久 多长 多大 多高 多远): a closed class
_HOW_MUCH = ("多少", "多久", "多长", "多大", "多高", "多远")
_DISTRIBUTIVE = frozenset("各")
_MEASURE_WORDS = frozenset("个条项种类样块件张天年月日次名位批届所家门本份步点段篇")
# 那份, 这条, 一条: pointing words with an item measure point, they say no content
_POINTING = frozenset(["这", "那", "哪", "每", "某", "该", "本", "此", "一", "这一", "那一"])
_ITEMS = frozenset("个条项份段篇种类本位名家所门批届")  # (not time units: 每年, 一年 say how often or how long)

# Kind words that end a name: what a thing is (an institution, a unit of one, a major, a
# document). A name is the run of noun-like words that ends in one of them.
ORG_KINDS = (
    "职业技术学院",
    "职业学院",
    "技术学院",
    "大学",
    "学院",
    "学校",
    "职院",
    "中学",
    "小学",
    "幼儿园",
    "研究院",
    "研究所",
    "公司",
    "集团",
    "协会",
    "学会",
    "委员会",
    "基金会",
    "联盟",
    "医院",
    "银行",
    "中心",
    "局",
    "厅",
    "署",
)
MAJOR_KINDS = ("专业", "专业群")
DOC_KINDS = ("实施细则", "细则", "条例", "办法", "规定", "法", "实施方案", "纲要", "章程")
KIND_WORD = re.compile("(?:" + "|".join(sorted({*ORG_KINDS, *MAJOR_KINDS, *DOC_KINDS}, key=len, reverse=True)) + ")")
_KIND = re.compile(KIND_WORD.pattern + "$")
# a name's leading words that only point at it (这个学院, 本专业, 该条例, 我校): not part of a name
_DEICTIC = re.compile(r"^(?:(?:这|那|新|旧|老|现行)?版|这个?|那个?|该|本|此|我|贵|各|每|全|其|某|哪个?|什么|新|旧|老|现行|原)+")
# proper nouns that are names on their own: places (jieba's person, organisation and other-name
# tags fire on everyday words too often to decide answerability; institutions end in kind words)
_PROPER_FLAGS = ("ns",)

# a name in running text or a title: the shortest run of characters before a kind word
NAME_IN_TEXT = re.compile(
    r"[\u4e00-\u9fff（）()]{1,16}?(?:" + "|".join(sorted({*ORG_KINDS, *MAJOR_KINDS, *DOC_KINDS}, key=len, reverse=True)) + ")"
)
_VERSION_DATE = re.compile(r"[（(]\s*(?:19|20)\d{2}[-－.年]\d{1,2}[-－.月]\d{1,2}日?\s*[)）]\s*$")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_ORDINAL = re.compile(r"第([一二三四五六七八九十百零〇两\d]+)([条章节款项])")
_LIST = re.compile(
    r"哪些|哪几|列出|列举|包括什么|有什么|有几|几[个项条方种类大]|(?<![第一二三四五六七八九十百零〇两\d])[两三四五六七八九十][个项条大种类方]"
)
_WRITE = re.compile(r"写[一个份篇段则条]|起草|撰写|拟写|草拟|帮我写|[写拟]一?[段篇份个]|润色|改写|写成")
_QUANTITY = re.compile(
    r"多少|几[个名人门项次所家批届天年月日周倍岁折分]|多[久长大高远重]|[占为达]?(?:比例|比率|百分之)|人数|数量|金额|总量|几成|几折"
)
_WHEN = re.compile(r"什么时候|何时|什么时间|哪个时间|哪段时间|几月份?|哪一?天|时间安排")
# a change or gap between two figures (下降了多少, 相差多少), not a bound (最少多少, 至少多少)
_DIFFERENCE = re.compile(
    r"(?:[下上]降|[增减][加少长]|提高|降低|上升|变化|[掉跌涨]|(?<![最至])[高低多少]|相差|差)了?多少|差[多几]少|差距"
)
# what a comparison is made against (比前一年, 较上年, 同比): the year before the one asked, which
# the compared figures' headers say; the phrase itself says nothing the answer is about
_COMPARED_WITH = re.compile(r"(?:比|较|相比|和|与|跟)(?:前一|上一|上|去|前)年(?:度|同期)?|同比|环比")
# what kind of figure a quantity question expects (多少钱 → an amount of money, 多久 → a duration)
_MEASURES: tuple[tuple[Measure, re.Pattern[str]], ...] = (
    (
        "money",
        # 「收的钱……多了多少」: money received, spent or paid, asked how much of
        re.compile(r"多少钱|几块钱|多少元|[收花给挣赚拿交付]\S{0,3}钱(?=.*?(?:多少|几))|[钱款费金薪资贴]\S{0,4}多少|多少\S{0,2}[钱款费]|[罚赔补奖]多少"),
    ),
    ("time", re.compile(r"多久|多长时间|多少天|几天|几个月|多少个月|几年|多少年|多少日|几个工作日|多少个工作日")),
    ("ratio", re.compile(r"比例|占比|百分之|百分比|几成|多大比|占多[少大]|[率比]是?多少|多少[%％]")),
    ("people", re.compile(r"(?:多少|几)个?(?:人|名|位)")),  # and 多少 + an agent noun: ``_asks_people``
)
# an earlier version named as such: 旧版, 修订前, 原来的条例, 老办法, 2013年那版 (not any 以前 or 当年)
_OLD_VERSION = re.compile(
    r"[旧老原]版|修订前|修改前|以前的版本|之前的版本|(?:原来的|原|旧的?|老的?)(?:"
    + "|".join(sorted(DOC_KINDS, key=len, reverse=True))
    + r")|(?:19|20)\d{2}年?(?:那|的)?[一个]?版"
)
# a question opening with one of these words leans back on the one before
# the genre, tone and voice a writing request asks for (jieba may split them: 宣传 稿): instructions
_GENRE = re.compile(
    r"(?:用|以)?(?:宣传稿|新闻稿|发言稿|讲话稿|通讯稿|公众号文章|推文|短讯|简讯|简报|综述|简介|小结|总结|材料|文案|通知|倡议书)"
    r"(?:的)?(?:口吻|语气|风格|形式|格式)?|(?:用|以)\S{1,6}的?(?:口吻|语气|名义|身份)"
)
# who a piece of writing is written for or on behalf of (「帮人事处写」「给科研处写个」「为年报写」): no topic
_FOR_WHOM = re.compile(r"(?:帮|替|为|给)[\u4e00-\u9fff]{1,8}?(?=写|起草|拟写|撰写)")
_POINTING_BACK = frozenset(["那", "那么", "这些", "那些", "它", "它们", "其中", "上述", "同样", "还有", "另外"])
_SHORT_KINDS = ("职院",)  # a kind word that is itself a short form: the word before it completes the name
_LEADING_FUNCTION_CHARS = "来去在到从是和与及对向给被把让跟同"
_CURRENT_VERSION = re.compile(r"现在|现行|目前|最新|新版|如今|当前")
_PLACE_KIND = re.compile(r"(?:哪个|哪一个|哪座|什么)(?:地级)?(市|省|县|区)")


@dataclass(frozen=True)
class Mention:
    """A name the question mentions: ``text`` as written, ``kind`` what sort of thing it is."""

    text: str
    kind: Literal["org", "major", "document", "place"]
    core: str  # the name without its kind word (电子商务 of 电子商务专业); "" when too short to stand alone
    forms: tuple[str, ...] = ()  # ``text`` and shorter forms without leading words that are no names
    weak: bool = False  # ends in a one-character kind word inside an everyday word: a name only if it resolves


@dataclass(frozen=True)
class Question:
    text: str
    query: str  # what retrieval searches for: the text with short names resolved, after any context
    weighed: str  # the text its term weights come from (names spelled out, the document it names left out)
    terms: tuple[str, ...]  # content terms (``STOPLIST`` removed)
    weights: dict[str, float]  # idf of each term
    years: tuple[str, ...] = ()
    kind: QuestionKind = "fact"
    quantity: bool = False  # asks for a figure (多少, 多久, 几个, 比例)
    measures: tuple[Measure, ...] = ()  # the kinds of figure it asks for (money, time, ratio, people)
    limit: tuple[int, bool] | None = None  # (characters, approximate) when the question states one
    enumerates: bool = False  # asks for several items (哪些, 三个阶段), whatever its kind
    head: str | None = None  # what the items of a list question are (材料 of 「要交哪几样材料」)
    when: bool = False  # asks for a time (什么时候, 何时)
    operation: Operation | None = None  # asks for a difference of figures
    followup: bool = False  # read in the context of the question it follows
    mentions: tuple[Mention, ...] = ()
    ordinals: tuple[str, ...] = ()  # 第十五条
    aliases: dict[str, str] = field(default_factory=dict)  # short form → the library's name for it
    documents: tuple[str, ...] = ()  # ids of the documents it names (every version of each)
    old_version: bool = False  # asks about an earlier version (旧版, 原来的)
    place_kind: str | None = None  # 市/省/县/区 when it asks which place
    parts: tuple[dict[str, float], ...] = ()  # term weights of each sub-question (split at ？；。)
    part_texts: tuple[str, ...] = ()  # the sub-questions themselves
    history: tuple[str, ...] = ()  # the earlier questions it was read after, oldest first

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
            # a sub-question is answered by its own words, not those it shares with another
            others = {t for j, part in enumerate(self.parts) if j != i for t in part}
            return {t: w for t, w in self.parts[i].items() if t not in others} or self.parts[i]

        return max((share(part, terms) for i, part in enumerate(self.parts) if share(own(i), answered) < 0.5), default=0.0)


@dataclass(frozen=True)
class Catalog:
    """What short forms resolve to, from the library's titles: each document's title without its
    version date (``families``), those titles once each, and the institutions they and the
    documents' file names name (a report's title may lack its school: 「届毕业生就业质量年度报告」
    in 「西安职业技术学院2023届毕业生就业质量年度报告.pdf」)."""

    families: dict[str, str]
    titles: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def of(cls, library: Mapping[str, str], sources: Mapping[str, str] | None = None) -> Catalog:
        families = {doc_id: family(title) for doc_id, title in library.items()}
        titles = tuple(dict.fromkeys(families.values()))
        files = [PurePath(source).stem for source in (sources or {}).values()]
        names = tuple(dict.fromkeys(m.group(0) for text in (*titles, *files) for m in NAME_IN_TEXT.finditer(text)))
        return cls(families, titles, names)

    def with_names(self, names: Iterable[str]) -> Catalog:
        return replace(self, names=tuple(dict.fromkeys((*self.names, *names))))


def names_in_context(question: Question, texts: Sequence[str]) -> list[str]:
    """Names in ``texts`` (the passages retrieved for ``question``) that a name of the question no
    title explains is the short form of, the way a reader finds 化环学院 spelled out as
    化学与环境工程学院 in the report itself. A table cell naming an item without its kind word
    (电子商务 in the 专业 column) stands for the name with the question's kind word (电子商务专业)."""
    said = re.sub(r"\s+", "", "".join(texts))
    open_names = [
        m for m in question.mentions
        if m.kind in ("org", "major") and m.text not in question.aliases and not any(f and f in said for f in (m.text, m.core))
    ]
    if not open_names:
        return []
    names = {n.group(0) for text in texts for n in NAME_IN_TEXT.finditer(text)}
    cells = {c.strip() for text in texts for line in text.split("\n") if "\t" in line for c in line.split("\t")}
    cells = {c for c in cells if re.fullmatch(r"[\u4e00-\u9fff]{2,16}", c)}
    found = []
    for mention in open_names:
        kind_word = mention.text[len(mention.core) :] if mention.core and mention.text.startswith(mention.core) else ""
        candidates = names | {c if not kind_word or c.endswith(kind_word) else c + kind_word for c in cells}
        found += [n for n in candidates if abbreviates(mention.text, n)]
    return sorted(set(found))


def content_terms(text: str, vocabulary: Vocabulary, writing: bool = True) -> tuple[str, ...]:
    """The index terms of ``text`` that say what it is about: no stoplist words, no bare small
    numbers; the names of genres only when ``text`` is no writing request."""
    stop = STOPLIST if writing else STOPLIST - GENRE_WORDS
    return tuple(
        t for t in vocabulary.terms(text) if t not in stop and not re.fullmatch(r"\d{1,3}", t) and not _is_stop_compound(t)
    )


def _is_stop_compound(term: str) -> bool:
    """A token made only of stoplist words (要不要 = 要 + 不要), a question or pointing word and
    its measure word (哪几条, 多少天, 那份, 这条), or a verb character and the question word it asks
    with (占多大, 有多少). 就业 (就 + 业) is no such token."""
    if len(term) < 2:
        return term in STOPLIST
    if any(term[:i] in STOPLIST and term[i:] in STOPLIST for i in range(1, len(term))):
        return True
    if any(term.endswith(q) and len(term) == len(q) + 1 for q in _HOW_MUCH):
        return True  # one verb character and the question word it asks with (占多大, 有多少)
    if len(term) == 2 and term[0] in _DISTRIBUTIVE:
        return True  # 各 spreads a verb over the items named before it (各办, 各有): no content of its own
    return (term[:-1] in _ASKING and term[-1] in _MEASURE_WORDS) or (term[:-1] in _POINTING and term[-1] in _ITEMS)


def analyse(
    text: str,
    vocabulary: Vocabulary,
    library: Catalog | Mapping[str, str] | None = None,
    history: Sequence[str] = (),
) -> Question:
    """The analysis of ``text``; ``library`` maps doc ids to titles (what short forms resolve to);
    ``history`` holds the earlier questions of the same conversation, oldest first."""
    text = text.strip()
    mentions = tuple(find_mentions(text))
    catalog = library if isinstance(library, Catalog) else Catalog.of(library or {})
    families, titles, named = catalog.families, catalog.titles, catalog.names
    aliases: dict[str, str] = {}
    documents: list[str] = []
    places = [m.text for m in mentions if m.kind == "place"]
    for m in mentions:
        if m.kind == "document":
            matches = resolve_all(m, titles, places)
            documents += [doc_id for doc_id, title in families.items() if title in matches]
            if matches:
                aliases[m.text] = min(matches, key=len)
        elif m.kind in ("org", "major") and (full := resolve(m, named)) is not None:
            aliases[m.text] = full
    mentions = tuple(m for m in mentions if not m.weak or m.text in aliases)
    aliases = {short: full for short, full in aliases.items() if full != short}
    query = spell_out(text, aliases)
    writing = bool(length_limit(text) or _WRITE.search(text))
    earlier = analyse(history[-1], vocabulary, library, history[:-1]) if history and is_followup(text, vocabulary) else None
    # what the answer is weighed against: the question with the names of institutions spelled out;
    # the document it names only scopes retrieval (its words are in every passage of it)
    weighed = spell_out(
        text, {m.text: aliases[m.text] for m in mentions if m.text in aliases and m.kind != "document"}, keep=False
    )
    if earlier is None and writing:
        # a writing request is weighed and retrieved for its topic, not its instructions (口吻, 短讯, 200字)
        weighed, query = topic_of(weighed), topic_of(query)
    if earlier is not None:
        query = f"{earlier.query} {query}"
        weighed = f"{earlier.weighed} {weighed}"
    # the document the question names scopes retrieval; its name is cut from what is weighed, while
    # the same words elsewhere in the question stay (「收养登记办法里，想收养孩子…」 keeps 收养)
    every = (*mentions, *(earlier.mentions if earlier else ()))
    resolved = {m.text for m in every if m.kind == "document" and (m.text in aliases or documents)}
    named_documents = sorted(resolved, key=len, reverse=True)
    bare = re.sub("|".join(map(re.escape, named_documents)), " ", weighed) if named_documents else weighed
    bare = _COMPARED_WITH.sub(" ", bare)
    terms = content_terms(bare, vocabulary, writing) or content_terms(weighed, vocabulary, writing)
    # a word the library never uses may be a short form of one it does (教资 → 教师资格, 年报 → 年度报告)
    short_words = {t: full for t in terms if (full := expand_short_word(t, vocabulary))}
    # the tokenizer cuts a short form it does not know into characters (年假 → 年 假): two single
    # characters in a row are tried as one
    words = words_of(bare)
    for first, second in itertools.pairwise(words):
        pair = first + second
        single = len(first) == len(second) == 1 and first in terms and second in terms
        if single and pair not in short_words and (full := expand_short_word(pair, vocabulary)):
            short_words[pair] = full
    if short_words:
        parts_of = {c for short in short_words if len(short) == 2 and short not in terms for c in short}
        terms = tuple(dict.fromkeys(short_words.get(t, t) for t in terms if t not in parts_of))
        terms += tuple(full for short, full in short_words.items() if short not in terms and full not in terms)
        query = f"{query} {' '.join(short_words.values())}"
        aliases = {**aliases, **short_words}
    weights = _weights(terms, vocabulary)
    if earlier is not None:
        # the follow-up's own words lead; the earlier question's words give the context, except
        # those naming the earlier item of the same kind (东校区 after 「那西校区呢？」: both …校区)
        own = set(content_terms(text, vocabulary, writing))
        replaced = {t for t in weights if t not in own and any(_same_kind(t, o) for o in own)}
        weights = {t: w * (1.0 if t in own else FOLLOWUP_CONTEXT_WEIGHT) for t, w in weights.items() if t not in replaced}
        terms = tuple(t for t in terms if t not in replaced)
    split = [part for part in re.split(r"[？?；;。！!]", text) if len(part.strip()) >= 4]
    raw_parts = [part for part in split if any(t in weights for t in content_terms(part, vocabulary, writing))]
    parts = tuple({t: weights[t] for t in content_terms(part, vocabulary, writing) if t in weights} for part in raw_parts)
    if _WHEN.search(text):
        # 「一年中什么时候考核」 asks for a time: a sentence stating one (每学年末, 3月) answers it
        top = max(weights.values(), default=1.0)
        weights = {**weights, TIME_TERM: top}
        parts = tuple(
            {**part, TIME_TERM: top} if _WHEN.search(raw) else part for part, raw in zip(parts, raw_parts, strict=False)
        )
    limit = length_limit(text)
    kind: QuestionKind = "write" if limit or _WRITE.search(text) else "list" if _LIST.search(text) else "fact"
    place = _PLACE_KIND.search(text)
    operation: Operation | None = "difference" if _DIFFERENCE.search(text) else None
    question = Question(
        text=text,
        query=query,
        weighed=weighed,
        terms=terms,
        weights=weights,
        years=tuple(dict.fromkeys(_YEAR.findall(text))),
        kind=kind,
        quantity=bool(_QUANTITY.search(text)),
        measures=tuple(
            measure for measure, pattern in _MEASURES if pattern.search(text) or (measure == "people" and _asks_people(text))
        ),
        limit=limit,
        enumerates=bool(_LIST.search(text)),
        head=list_head(text) if _LIST.search(text) else None,
        when=bool(_WHEN.search(text)),
        operation=operation,
        mentions=mentions,
        ordinals=tuple(dict.fromkeys(m.group(0) for m in _ORDINAL.finditer(text))),
        aliases=aliases,
        documents=tuple(dict.fromkeys(documents)),
        old_version=bool(_OLD_VERSION.search(text)) and not _CURRENT_VERSION.search(text),
        place_kind=place.group(1) if place else None,
        parts=parts,
        part_texts=tuple(raw.strip() for raw in raw_parts),
        history=tuple(history),
    )
    return question if earlier is None else replace(follow(question, earlier), followup=True)


_NUMERALS = frozenset("一二三四五六七八九十百千万零两")


def expand_short_word(term: str, vocabulary: Vocabulary) -> str | None:
    """The library's word that ``term`` is a short form of, when neither the library nor the
    general dictionary knows ``term`` (a word jieba knows, such as 招人, is a word of its own): the
    most used word, at most two characters longer, that ``term`` abbreviates by the rule names
    follow (``abbreviates``): 教资 → 教师资格, 年假 → 年休假. Numerals (五一) are no short forms."""
    if not 2 <= len(term) <= 4 or set(term) <= _NUMERALS or vocabulary.document_frequency(term) > 0:
        return None
    if _dictionary().get(term):
        return None
    found = [w for w in vocabulary.words_starting(term[0]) if len(term) < len(w) <= len(term) + 2 and abbreviates(term, w)]
    return max(found, key=lambda w: (vocabulary.document_frequency(w), w), default=None)


def _weights(terms: Sequence[str], vocabulary: Vocabulary) -> dict[str, float]:
    """Each term's idf; a term the library never uses weighs the median of the others: it cannot
    be matched, so it should lower every passage's coverage a little, not dominate the question."""
    idf = vocabulary.idf(terms)
    seen = sorted(w for t, w in idf.items() if vocabulary.document_frequency(t) > 0)
    median = seen[len(seen) // 2] if seen else 1.0
    weights = {t: (w if vocabulary.document_frequency(t) > 0 else median) for t, w in idf.items()}
    # one character alone says little in Chinese (办, 人, 交): it weighs half
    return {t: w * (SINGLE_CHARACTER_WEIGHT if len(t) == 1 and not t.isdigit() else 1.0) for t, w in weights.items()}


def _same_kind(earlier: str, new: str) -> bool:
    """Two different names of the same kind: they end in the same two characters (东校区, 西校区)."""
    return earlier != new and len(earlier) >= 3 and len(new) >= 3 and earlier[-2:] == new[-2:]


def follow(question: Question, earlier: Question) -> Question:
    """A follow-up keeps what the question it follows was about (its documents, names, years and
    the kind of figure it asked for) wherever it says nothing of its own (「第六条呢？」 after a
    question on 放假办法 asks about 放假办法's article 6; 「旧版呢？」 asks the same of the old one)."""
    return replace(
        question,
        documents=question.documents or earlier.documents,
        mentions=question.mentions + tuple(m for m in earlier.mentions if m not in question.mentions),
        aliases={**earlier.aliases, **question.aliases},
        years=question.years or earlier.years,
        ordinals=question.ordinals or (() if question.documents else earlier.ordinals),
        quantity=question.quantity or earlier.quantity,
        measures=question.measures or earlier.measures,
        kind=question.kind if question.kind != "fact" else earlier.kind if earlier.kind != "write" else "fact",
        enumerates=question.enumerates or earlier.enumerates,
        head=question.head or (earlier.head if not question.enumerates else None),
        when=question.when or earlier.when,
    )


_ASKS_ITEMS = re.compile(r"哪些|哪几[个条项种类样块件点]?|哪[个种类条项样]|有什么")


def list_head(text: str) -> str | None:
    """The noun a list question asks for items of: the noun phrase right after its asking word
    (「哪几样材料」「哪些条件」「有什么奖励」), else the last noun before the asking word in its clause
    (「要提交的材料有哪些」); of a phrase, its last noun (Chinese noun phrases end in their head:
    基本原则 → 原则). None when the noun it names is vague (哪几方面, 哪些内容) or there is none."""
    asking = _ASKS_ITEMS.search(text)
    if asking is None:
        return None
    vague = STOPLIST - GENRE_WORDS

    def nounish(word: str, flag: str, ends: bool) -> bool:
        # jieba tags some nouns as times, numerals or verbs (节日 t, 层次 m, 要求 v): a word the
        # clause ends on after an asking word is the thing asked for
        if len(word) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", word) or KIND_WORD.search(word) or flag.startswith("nr"):
            return False
        return flag.startswith(("n", "vn", "t")) or (ends and flag.startswith(("v", "m")))

    after = [(w, f) for w, f in _posseg().cut(text[asking.end() :])]
    run: list[str] = []
    for i, (word, flag) in enumerate(after):
        ends = i + 1 == len(after) or not re.search(r"[\u4e00-\u9fff]", after[i + 1][0])
        if word in vague and not run:
            return None
        if word in vague or not nounish(word, flag, ends):
            break
        run.append(word)
    if run:
        return run[-1]
    # 「材料有哪些」「原则包括哪几条」: the noun the asking word is said of, past only asking verbs
    for word, flag in reversed([(w, f) for w, f in _posseg().cut(text[: asking.start()])]):
        if word in vague or word in _LIST_VERBS:
            continue
        return word if nounish(word, flag, False) else None
    return None


_LIST_VERBS = frozenset(["包括", "分", "分为", "分成", "具体", "主要", "主要是", "一共", "共有"])


def _asks_people(text: str) -> bool:
    """多少 or 几 followed by an agent noun, a word ending in 人/生/员/师/工/者 (多少学生, 几位教师,
    多少职工), not any word starting so (多少工资)."""
    words = words_of(text)
    for asking, following in itertools.pairwise(words):
        if asking in ("多少", "几", "几个", "几位", "几名") and len(following) <= 4 and following[-1] in "人生员师工者":
            return True
    return False


def spell_out(text: str, aliases: Mapping[str, str], keep: bool = True) -> str:
    """``text`` with each short form followed by its library name, in one pass (a name put in
    never has another short form replaced inside it): 「清职院（清远职业技术学院）」; without
    ``keep``, the name in its place (the short form is no word of the documents)."""
    if not aliases:
        return text
    pattern = re.compile("|".join(re.escape(short) for short in sorted(aliases, key=len, reverse=True)))
    return pattern.sub(lambda m: f"{m.group(0)}（{aliases[m.group(0)]}）" if keep else aliases[m.group(0)], text)


def topic_of(request: str) -> str:
    """What a writing request is about: its words without the stoplist's (instructions, genres,
    lengths, question words), in order (「用宣传稿的口吻写一段…情况，150字左右」 → 「…情况」)."""
    bare = _FOR_WHOM.sub(" ", _GENRE.sub(" ", LENGTH_LIMIT.sub("", request)))
    kept = [w for w in words_of(bare) if w not in STOPLIST and re.search(r"[\w]", w)]
    return "".join(kept) or request


def family(title: str) -> str:
    """A title without its version date: the versions of one regulation share it."""
    return _VERSION_DATE.sub("", title).strip()


def is_followup(text: str, vocabulary: Vocabulary) -> bool:
    """A question that leans on an earlier one: short and naming nothing of its own (「那硕士呢？」
    「第六条呢？」「旧版呢？」「要公示多久？」), or opening with a word that points back (那, 这些, 它, 其中)."""
    words = words_of(text)
    if words and words[0] in _POINTING_BACK:
        return True
    own = [w for w in words_of(text) if len(w) >= 2 and w not in STOPLIST]
    if len(text) <= 12 and len(own) <= 2 and re.search(r"呢[？?]?$|吗[？?]?$", text):
        return True
    # too short to name its subject (「要公示多久？」): it asks about what the conversation is about
    return len(text.rstrip("？?。！!")) <= SHORT_QUESTION and not find_mentions(text) and not _YEAR.search(text)


def find_mentions(text: str) -> list[Mention]:
    """The names ``text`` mentions (see the module docstring).

    A name is a run of words ending in a kind word (学院, 专业, 条例 …), walked back from the kind
    word to the nearest stoplist word, punctuation, figure or adverb; an institution also stops
    at a verb (names of documents and majors hold verbs: 就业促进条例, 护理专业). Whatever stands in
    《》 is a document. Places jieba tags, alone as in context, are names too. A name's shorter
    ``forms`` drop leading words that are no names themselves (提醒老师们新版基金条例 → 基金条例).
    """
    mentions: list[Mention] = [
        Mention(m.group(1), "document", m.group(1), (m.group(1),)) for m in re.finditer(r"《([^《》]{2,40})》", text)
    ]
    words = _kind_words_apart([(w, f) for w, f in _posseg().cut(re.sub(r"《[^《》]*》", "，", text))])
    for i, (word, flag) in enumerate(words):
        match = _KIND.search(word)
        if not match or not (word == match.group(0) or flag.startswith(("n", "j", "l"))):
            continue
        kind_word = match.group(0)
        if word != kind_word and word[: len(word) - len(kind_word)] in STOPLIST:
            continue  # 按规定, 有办法: a kind word behind a function word names nothing
        kind: Literal["org", "major", "document"] = (
            "major" if kind_word in MAJOR_KINDS else "document" if kind_word in DOC_KINDS else "org"
        )
        parts: list[tuple[str, str]] = [(word, flag)]
        for before, before_flag in reversed(words[:i]):
            if _short_kind(parts) and before not in STOPLIST and re.fullmatch(r"[\u4e00-\u9fff]{1,4}", before):
                parts.insert(0, (before, before_flag))  # 南 职院, 示范 职院: a short name's first part
                continue
            if (
                before in STOPLIST
                or not re.fullmatch(r"[\u4e00-\u9fff（）()]+", before)
                or before_flag.startswith(("m", "p", "c", "u", "r", "x", "y", "e", "f", "q", "d"))
                or (kind == "org" and before_flag.startswith("v") and before_flag != "vn")
                or _KIND.search(before)
                or sum(len(w) for w, _ in parts) + len(before) > 16
            ):
                break
            parts.insert(0, (before, before_flag))
        while parts and _DEICTIC.fullmatch(parts[0][0]):
            parts.pop(0)
        name = _DEICTIC.sub("", "".join(w for w, _ in parts))
        core = name[: len(name) - len(kind_word)]
        if not core or name == kind_word or (kind == "document" and len(name) < 3):
            continue
        if kind_word == "规定" and len(core) < 4:
            continue  # 「规定」 is mostly a word (按规定, 有关规定); as a title it follows a long name
        # a one-character kind word inside an everyday word (方法, 布局) names a thing only when the
        # name resolves against the library (职教法); ``weak`` mentions are dropped when they do not
        weak = len(kind_word) == 1 and len(word) > 1
        forms = [name]
        if kind != "document" and len(name) > 3 and name[0] in _LEADING_FUNCTION_CHARS:
            forms.append(name[1:])  # 来西职院: jieba may glue a verb or preposition to a name
        for k in range(1, len(parts) - 1):
            dropped_word, dropped_flag = parts[k - 1]
            if dropped_flag in _PROPER_FLAGS or is_place(dropped_word):
                break  # a place or body in front of a name is part of it (广州市 职业教育条例)
            if kind != "document" and not dropped_flag.startswith("v"):
                break  # an institution's leading nouns are its name (电梯 产业学院); only a verb before it is not
            form = "".join(w for w, _ in parts[k:])
            if len(form) - len(kind_word) >= 2:
                forms.append(form)
        mentions.append(Mention(name, kind, core if len(core) >= 2 else "", tuple(forms), weak))
    for word, flag in words:
        if flag == "ns" and is_place(word) and not any(word in m.text for m in mentions):
            mentions.append(Mention(word, "place", word, (word,)))
    return list({m.text: m for m in mentions}.values())


_LEADING_KIND = re.compile("^(?:" + "|".join(sorted({*ORG_KINDS, *MAJOR_KINDS}, key=len, reverse=True)) + ")")


def _kind_words_apart(words: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """jieba's words with a kind word it glued to the next word split off (专业本科 → 专业 本科):
    the name before it ends there. Only when the rest is a dictionary word of two characters or more."""
    out: list[tuple[str, str]] = []
    for word, flag in words:
        match = _LEADING_KIND.match(word)
        rest = word[match.end() :] if match else ""
        if match and len(rest) >= 2 and _dictionary().get(rest):
            out += [(match.group(0), "n"), (rest, flag)]
        else:
            out.append((word, flag))
    return out


def _short_kind(parts: list[tuple[str, str]]) -> bool:
    """A name so far only a short kind word (职院): the word before it, whatever its part of speech,
    is the rest of the short name (示范 职院, 清 职院)."""
    return len(parts) == 1 and parts[0][0] in _SHORT_KINDS


def resolve(mention: Mention, names: Sequence[str]) -> str | None:
    """The library name that ``mention`` stands for, or None: the shortest name (the most
    specific) matching its first form that matches any (see ``matches``)."""
    for form in mention.forms or (mention.text,):
        found = [name for name in names if matches(form, name)]
        if found:
            return min(found, key=len)
    return None


def resolve_all(mention: Mention, titles: Sequence[str], places: Sequence[str] = ()) -> list[str]:
    """Every title a document mention may stand for. When a place the question names narrows
    them (上海 + 职教条例 → 上海市职业教育条例), only those."""
    for form in mention.forms or (mention.text,):
        found = [title for title in titles if matches(form, title)]
        if found:
            narrowed = [t for t in found if any(re.sub(r"(?<=..)[市省县区]$", "", p) in t for p in places)]
            return narrowed or found
    return []


def matches(short: str, name: str) -> bool:
    """``name`` holds ``short`` whole, or ``short``'s characters appear in it in order with the
    first one starting a word of it: the way Chinese short forms are made (清职院 from 清远职业
    技术学院, 职教法 from 职业教育法, 收养登记办法 from 中国公民收养子女登记办法)."""
    return len(short) >= 2 and (short in name or abbreviates(short, name))


def abbreviates(short: str, name: str) -> bool:
    if len(short) >= len(name) or len(short) < 2:
        return False
    starts = _word_starts(name)
    for first in (i for i, char in enumerate(name) if char == short[0] and i in starts):
        position = first + 1
        for char in short[1:]:
            position = name.find(char, position)
            if position < 0:
                break
            position += 1
        else:
            return True
    return False


@cache
def _word_starts(name: str) -> frozenset[int]:
    starts, position = set(), 0
    for word in words_of(name):
        starts.add(position)
        position += len(word)
    return frozenset(starts)


def words_of(text: str) -> list[str]:
    """jieba's words of ``text`` (its own dictionary, as the name rules read it)."""
    return [w for w, _ in _posseg().cut(text)]


@cache
def _dictionary() -> dict[str, int]:
    """jieba's dictionary: word → frequency."""
    tokenizer = _posseg().tokenizer
    tokenizer.check_initialized()
    return tokenizer.FREQ


@cache
def _posseg() -> Any:
    """jieba's part-of-speech tagger (its own dictionary, loaded on first use)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba.posseg.POSTokenizer(jieba.Tokenizer())


_ADMINISTRATIVE = ("省", "市", "县", "区", "州", "自治区", "特别行政区")


def is_place(word: str) -> bool:
    """An administrative place: a word that ends in 省/市/县/区/州, or that jieba's dictionary also
    lists, as a place, with such an ending (河南 → 河南省, 宜昌 → 宜昌市, 澳门 → 澳门特别行政区).
    jieba tags some everyday words as places (扎根, 上路); they have no such entry."""
    if len(word) < 2:
        return False
    tags = _posseg().word_tag_tab
    if word.endswith(_ADMINISTRATIVE) and len(word) >= 3:
        return tags.get(word) == "ns" or all(flag == "ns" for _, flag in _posseg().cut(word))
    return any(tags.get(word + suffix) == "ns" for suffix in _ADMINISTRATIVE)
