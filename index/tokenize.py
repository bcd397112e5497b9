"""The one Chinese tokenizer zhiku uses for lexical search, at index and at query time alike.

jieba's search mode (``cut_for_search``) emits a long word and its shorter parts, so
「产教融合实训基地」 matches both 「产教融合」 and 「实训基地」. A domain dictionary keeps the terms of
vocational education whole (「现代学徒制」 stays one token as well as 「学徒」). Text is folded
(NFKC, lower case) first, so full-width digits and letters match their ASCII forms.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

# Terms of vocational-education policy that jieba's general dictionary splits or misses.
DOMAIN_TERMS: tuple[str, ...] = (
    "产教融合", "校企合作", "工学结合", "知行合一", "现代学徒制", "产业学院", "现代产业学院",
    "双师型", "双师素质", "1+x", "1+x证书", "双高", "双高计划", "订单班", "职教集团", "职业教育集团",
    "实训基地", "产教融合实训基地", "市域产教联合体", "行业产教融合共同体", "高职扩招", "三教改革",
    "课程思政", "专业群", "中高本衔接", "三二分段", "顶岗实习", "岗课赛证", "技术技能人才",
    "高素质技术技能人才", "职业技能等级证书", "质量年度报告", "报到率", "就业率", "生师比",
    "校企双方", "协同育人", "产教研", "科技特派员", "乡村振兴", "粤港澳大湾区", "职业院校",
    "高职院校", "中职学校", "职业本科", "社会培训", "继续教育", "学历提升",
)
_TOKEN = re.compile(r"[\w+.%]+")


class ChineseTokenizer:
    """jieba search-mode tokens over folded text. Build once and pass it where it is needed.

    The jieba dictionary loads on first use (about a second), not on construction.
    """

    def __init__(self, extra_terms: Iterable[str] = ()) -> None:
        self._terms = tuple(dict.fromkeys((*DOMAIN_TERMS, *(fold(t) for t in extra_terms))))
        self._long_terms = tuple(t for t in self._terms if len(t) >= 4)
        self._jieba: Any = None
        # Answering tokenizes the same passages' sentences question after question: remember them.
        self._cached_tokens = functools.lru_cache(maxsize=8192)(self._tokens)

    def _tokenizer(self) -> Any:
        if self._jieba is None:
            import jieba

            jieba.setLogLevel(60)
            tokenizer = jieba.Tokenizer()
            for term in self._terms:
                tokenizer.add_word(term, freq=200000)
            self._jieba = tokenizer
        return self._jieba

    def tokens(self, text: str) -> list[str]:
        """Search-mode tokens of ``text``: words and their sub-words, no punctuation or spaces."""
        return list(self._cached_tokens(text))

    def _tokens(self, text: str) -> tuple[str, ...]:
        folded = fold(text)
        out: list[str] = []
        for token in self._tokenizer().cut_for_search(folded):
            if not _TOKEN.fullmatch(token) or token == ".":
                continue
            out.append(token)
            if len(token) > 4:
                # jieba's search mode adds only 2- and 3-character parts; add longer domain terms
                # inside a long word too (产教融合 and 实训基地 inside 产教融合实训基地).
                out.extend(term for term in self._long_terms if term in token and term != token)
        return tuple(out)


def fold(text: str) -> str:
    """NFKC and lower case: ｜２０２０年｜ and ｜2020年｜ give the same tokens."""
    return unicodedata.normalize("NFKC", text).lower()
