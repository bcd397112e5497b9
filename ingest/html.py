"""Load an HTML page into blocks: the main text without the site around it.

Web pages saved from government and legal-database sites carry more chrome than text:
menus, share bars, metadata boxes, "related documents" link lists, login prompts. The
loader finds the element that holds the document text and reads only that:

1. Drop what is never content: script/style/noscript/iframe/form controls, hidden
   elements, nav/aside, page-level header/footer/form (kept when they wrap the page's text,
   as ASP.NET pages wrap everything in one ``<form>``), elements whose class/id says menu,
   share bar, breadcrumbs... (``_UNLIKELY``), and the pkulaw chrome (``PKULAW_CHROME_*``).
2. Score container elements like Mozilla's Readability: each run of running text adds its
   non-link length (plus a bonus per Chinese clause mark) to its container, half to the
   parent, a third to the grandparent; a container's score is scaled by ``1 - link
   density``. The best container is the main content; siblings that score well (an
   article split over several ``<div>``) join it.
3. Inside the main content, drop link lists (blocks whose text is mostly link text) and
   chrome lines (``_CHROME_LINES``: citation codes, toolbars, login prompts, copyright).

The two pkulaw (北大法宝) pages in tests/fixtures show the patterns.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from ingest.docx import join_lines
from ingest.errors import UnreadableDocumentError
from ingest.records import Block, LoadedFile

# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")

# GB2312 and GBK pages routinely contain characters outside their nominal charset;
# gb18030 is a superset of both, so decoding with it never loses them.
_ENCODING_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}


def decode_html(data: bytes) -> tuple[str, str]:
    """Decode page bytes: BOM, then ``<meta charset>``, then UTF-8, then GB18030.

    Returns ``(text, encoding)``; the encoding is ``"gb18030?"`` when even GB18030 needed
    replacement characters.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):  # fmt: skip
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace"), name
    head = data[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if match:
        declared = match.group(1).decode("ascii", errors="ignore").lower()
        declared = _ENCODING_ALIASES.get(declared, declared)
        try:
            return data.decode(declared), declared
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; fall through to detection
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", errors="replace"), "gb18030?"


# --------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------

_CJK = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break in the HTML source next to a Chinese character is only source wrapping
# (editors and Word's HTML export wrap Chinese anywhere): Chinese puts no space there,
# not even before a number (「不低于\n500万元」 is 「不低于500万元」).
_SOURCE_WRAP = re.compile(rf"(?:(?<=[{_CJK}])[ \t\r\f]*\n[ \t\r\n\f]*|[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_CJK}]))")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


def normalize_inline(raw: str, source_wrap: str = "") -> str:
    """Collapse HTML whitespace as a browser would, keeping full-width spaces (U+3000).

    ``source_wrap`` replaces a source line break between two Chinese characters.
    """
    text = _SOURCE_WRAP.sub(source_wrap, raw.replace("\xa0", " "))
    return _HTML_SPACE.sub(" ", text).strip()


def _visible_len(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def _is_text_node(node: object) -> bool:
    # Comments, CDATA, doctype and script/style strings are PreformattedString subclasses.
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


# --------------------------------------------------------------------------------------
# What to drop
# --------------------------------------------------------------------------------------

_ALWAYS_DROP = {
    "script", "style", "noscript", "iframe", "frame", "frameset", "object", "embed",
    "svg", "canvas", "template", "button", "input", "select", "textarea", "option",
    "label", "map", "audio", "video", "link", "meta", "base", "nav", "aside", "menu",
}  # fmt: skip
# Site chrome when it frames the page; but an article's own <header> holds its <h1>, and
# ASP.NET pages wrap the whole page in one <form>, so these go only when small (see below).
_CHROME_CONTAINERS = {"header", "footer", "form"}

_UNLIKELY = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|menu|menus|breadcrumbs?|crumbs?|location|position|share|"
    r"sharing|bdshare\w*|social|toolbar|tools|pager|pagination|page-?nav|footer|foot|"
    r"header|head|top-?bar|sidebar|side|aside|comments?|related|recommend|hot|login|"
    r"register|copyright|banner|ads?|advert\w*|popup|modal|cookie|search|print|qrcode)"
    r"(?:[-_\s\d]|$)",
    re.IGNORECASE,
)
_MAYBE = re.compile(r"article|body|content|main|text|post|entry|detail|zhengwen|正文", re.I)

# pkulaw (北大法宝) chrome, by class or id: the logo line with 【法宝引证码】, the metadata box
# (制定机关/发文字号/时效性...), the "本篇引用的法规 / 引用本篇的法规" link panels, the ad box
# and the empty citation anchors between articles.
PKULAW_CHROME_CLASSES = {"logo", "fields", "FullAssociationContainer", "lenovo"}
PKULAW_CHROME_IDS = {"ads_container", "hidFblxInFulltext"}
# pkulaw's stylesheet makes these empty spans display:block, so they are the only break
# between an article's last sentence and the next 「二、」 heading: read them as <br>.
PKULAW_BREAK_CLASSES = {"TiaoYinV2"}

_TOOLBAR_WORDS = {
    "分享", "分享到", "打印", "打印本页", "打印此页", "下载", "下载全文", "收藏", "纠错", "关闭",
    "关闭窗口", "关闭本页", "返回", "返回顶部", "返回首页", "回到顶部", "字号", "字体", "大", "中", "小",
    "默认", "复制", "复制链接", "引用", "全文", "对比", "微信", "微博", "QQ空间", "扫一扫", "发送",
    "邮件", "推荐", "浏览次数", "访问量", "编辑", "上一篇", "下一篇", "责任编辑", "来源", "点击",
}  # fmt: skip
_TOOLBAR_SPLIT = re.compile(r"[\s【】\[\]|｜/／·•:：,，、()（）>»]+")

# Whole lines that are chrome wherever they appear. Anchored and short, so a sentence
# of the document that merely mentions 登录 or 下载 is never hit.
_CHROME_LINES = [
    re.compile(r"^【?法宝引证码】?"),
    re.compile(r"^CLI\.\d+\.\d+$"),
    re.compile(r"^原文链接[:：]"),
    re.compile(r"^(本篇引用的法规|引用本篇的法规|法宝联想|相关(文章|链接|阅读|新闻|文件|法规))"),
    re.compile(r"^北大法宝$"),
    re.compile(r"^(请|您需要|需要)?先?登录(后|以)?(才能|方可)?(查看|阅读|下载|浏览)"),
    re.compile(r"^(您还没有|您尚未|尚未|未)登录"),
    re.compile(r"^(会员|用户)?(登录|注册)(\s*[|｜/]\s*(免费)?(登录|注册))*$"),
    re.compile(r"^(版权所有|Copyright|©)", re.IGNORECASE),
    re.compile(r"ICP备\s*\d+"),
    re.compile(r"^(发布时间|发布日期|来源|作者|浏览次数)[:：].{0,40}(来源|浏览|点击)[:：]"),
]
_CHROME_LINE_MAX = 80


def is_chrome_line(line: str) -> bool:
    """A line of site chrome: toolbar, citation code, login prompt, copyright."""
    text = line.strip()
    if not text or len(text) > _CHROME_LINE_MAX:
        return False
    if any(pattern.search(text) for pattern in _CHROME_LINES):
        return True
    tokens = [t for t in _TOOLBAR_SPLIT.split(text) if t]
    return bool(tokens) and all(token in _TOOLBAR_WORDS for token in tokens)


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else str(value).split()


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else str(value)


def _is_hidden(tag: Tag) -> bool:
    style = _attr(tag, "style").replace(" ", "").lower()
    return (
        "display:none" in style or "visibility:hidden" in style or tag.has_attr("hidden") or _attr(tag, "aria-hidden") == "true"
    )


def _is_pkulaw_chrome(tag: Tag) -> bool:
    return bool(PKULAW_CHROME_CLASSES.intersection(_classes(tag))) or (_attr(tag, "id") in PKULAW_CHROME_IDS)


# --------------------------------------------------------------------------------------
# Main-content scoring
# --------------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li",
    "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "thead", "tfoot", "tr", "td", "th", "caption", "ul", "br",
}  # fmt: skip
_CONTAINER_TAGS = {"div", "article", "section", "main", "td", "body", "blockquote", "center"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CLAUSE_MARKS = re.compile(r"[，。；、：,;]")


def _text_len(tag: Tag) -> int:
    return _visible_len(tag.get_text())


def _link_len(tag: Tag) -> int:
    return sum(_visible_len(a.get_text()) for a in tag.find_all("a"))


def link_density(tag: Tag) -> float:
    total = _text_len(tag)
    return _link_len(tag) / total if total else 0.0


def _inline_runs(tag: Tag) -> Iterator[tuple[Tag, str, int]]:
    """(holder, inline text, link chars) for each run of inline content under ``tag``.

    A run is the text between block boundaries; its holder is the nearest block element.
    """
    parts: list[str] = []
    link_chars = 0

    def visit(node: Tag, in_link: bool) -> Iterator[tuple[Tag, str, int]]:
        nonlocal parts, link_chars
        for child in node.children:
            if _is_text_node(child):
                parts.append(str(child))
                if in_link:
                    link_chars += _visible_len(str(child))
            elif isinstance(child, Tag):
                if child.name in _BLOCK_TAGS:
                    if parts:
                        yield tag, "".join(parts), link_chars
                    parts, link_chars = [], 0
                    yield from _inline_runs(child)
                else:
                    yield from visit(child, in_link or child.name == "a")

    yield from visit(tag, tag.name == "a")
    if parts:
        yield tag, "".join(parts), link_chars


def _score_candidates(root: Tag) -> dict[int, tuple[Tag, float]]:
    scores: dict[int, tuple[Tag, float]] = {}

    def add(tag: Tag, value: float) -> None:
        old = scores.get(id(tag))
        scores[id(tag)] = (tag, (old[1] if old else 0.0) + value)

    for holder, text, link_chars in _inline_runs(root):
        chars = _visible_len(text) - link_chars
        if chars < 10:
            continue
        value = chars + 5 * len(_CLAUSE_MARKS.findall(text))
        level = 0
        node: Tag | None = holder if holder.name in _CONTAINER_TAGS else holder.parent
        while node is not None and level < 4:
            if node.name in _CONTAINER_TAGS:
                add(node, value / (1, 2, 3, 4)[level])
                level += 1
            node = node.parent
    return scores


def find_main_content(root: Tag) -> list[Tag]:
    """The element(s) holding the page's text: the best-scored container plus siblings.

    Falls back to ``root`` when no container holds a meaningful amount of text.
    """
    scored = [(tag, score * (1.0 - link_density(tag))) for tag, score in _score_candidates(root).values()]
    if not scored:
        return [root]
    best, best_score = max(scored, key=lambda item: item[1])
    if best_score < 50:
        return [root]
    parent = best.parent
    if parent is None or best is root:
        return [best]
    by_id = {id(tag): score for tag, score in scored}
    threshold = max(20.0, best_score * 0.2)
    picked: list[Tag] = []
    siblings = [c for c in parent.children if isinstance(c, Tag)]
    for index, sibling in enumerate(siblings):
        if sibling is best:
            # The title heading often sits right before the text container.
            previous = _previous_heading(siblings[:index])
            if previous is not None and previous not in picked:
                picked.append(previous)
            picked.append(sibling)
            continue
        density = link_density(sibling)
        scored_well = by_id.get(id(sibling), 0.0) >= threshold and density < 0.3
        # A loose <p> beside the container is part of the article when it is real prose.
        long_paragraph = sibling.name == "p" and _text_len(sibling) > 80 and density < 0.25
        if scored_well or long_paragraph:
            picked.append(sibling)
    return picked


def _previous_heading(siblings: list[Tag]) -> Tag | None:
    """The h1-h3 just before the text container, looking past a short metadata line
    (「发布时间：… 来源：…」) or two; None when real text comes first."""
    short_seen = 0
    for sibling in reversed(siblings):
        if sibling.name in ("h1", "h2", "h3"):
            return sibling
        inner = sibling.find(["h1", "h2", "h3"])
        if isinstance(inner, Tag) and _text_len(inner) >= 0.8 * _text_len(sibling):
            return inner  # <div class="title"><h1>…</h1></div>
        length = _text_len(sibling)
        if sibling.name == "br" or length == 0:
            continue
        short_seen += 1
        if length > 100 or short_seen > 2:
            return None
    return None


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------


@dataclass
class _Emitter:
    """Turns a DOM subtree into blocks; ``<br>`` and block elements end a line."""

    blocks: list[Block] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    dropped_chrome: int = 0
    # In running text a source line break between Chinese characters is editor wrapping
    # (Word's HTML export does it) and vanishes; in a table cell it separates the items
    # of the cell (「学前教育\n幼儿在园人数」) and reads as a space, as in Chrome.
    source_wrap: str = ""

    def flush(self) -> None:
        text = normalize_inline("".join(self.parts), self.source_wrap)
        self.parts = []
        if not text:
            return
        if is_chrome_line(text):
            self.dropped_chrome += 1
            return
        self.blocks.append(Block(kind="text", text=text))

    def walk(self, node: Tag, root: bool = False) -> None:
        for child in node.children:
            if _is_text_node(child):
                self.parts.append(str(child))
            elif isinstance(child, Tag):
                self.element(child)

    def element(self, tag: Tag) -> None:
        name = tag.name
        if name == "br" or PKULAW_BREAK_CLASSES.intersection(_classes(tag)):
            # HTML has no soft wraps: a <br> is the author's line break. Each line becomes
            # its own block so that wrap repair downstream never glues a heading line
            # such as 「一、保险方案」 to the paragraph after it.
            self.flush()
            return
        if name not in _BLOCK_TAGS:
            self.walk(tag)
            return
        self.flush()
        if name in ("ul", "ol", "div", "section", "dl", "table") and _is_link_list(tag):
            return
        if name in _HEADINGS:
            text = normalize_inline(_text_with_breaks(tag, " "))
            if text and not is_chrome_line(text):
                self.blocks.append(Block(kind="heading", text=text, level=_HEADINGS[name]))
            return
        if name == "table":
            self.table(tag)
            return
        if name == "pre":
            text = tag.get_text().strip("\n")
            if text.strip():
                self.blocks.append(Block(kind="text", text=text))
            return
        if name == "hr":
            return
        self.walk(tag)
        self.flush()

    def table(self, table: Tag) -> None:
        rows = _table_rows(table)
        if _is_layout_table(table, rows):
            for row in rows:
                for cell in _row_cells(row):
                    self.walk(cell)
                    self.flush()
            return
        grid = table_grid(rows)
        grid = [row for row in grid if any(cell for cell in row)]
        if not grid:
            return
        caption_tag = table.find("caption")
        caption = normalize_inline(caption_tag.get_text()) if isinstance(caption_tag, Tag) else ""
        self.blocks.append(Block(kind="table", rows=tuple(tuple(r) for r in grid), caption=caption or None))


def _text_with_breaks(tag: Tag, br: str) -> str:
    parts: list[str] = []
    for node in tag.descendants:
        if _is_text_node(node):
            parts.append(str(node))
        elif isinstance(node, Tag) and node.name == "br":
            parts.append(br)
    return "".join(parts)


def _is_link_list(tag: Tag) -> bool:
    """A menu or "related links" block: at least two links and mostly link text."""
    links = [a for a in tag.find_all("a") if _visible_len(a.get_text()) > 0]
    if len(links) < 2:
        return False
    return link_density(tag) > 0.5


def _table_rows(table: Tag) -> list[Tag]:
    """The table's own rows (not those of nested tables), through thead/tbody/tfoot."""
    rows: list[Tag] = []
    for child in table.children:
        if not isinstance(child, Tag):
            continue
        if child.name == "tr":
            rows.append(child)
        elif child.name in ("thead", "tbody", "tfoot"):
            rows.extend(c for c in child.children if isinstance(c, Tag) and c.name == "tr")
    return rows


def _row_cells(row: Tag) -> list[Tag]:
    return [c for c in row.children if isinstance(c, Tag) and c.name in ("td", "th")]


def _span(cell: Tag, name: str) -> int:
    try:
        value = int(_attr(cell, name).strip() or "1")
    except ValueError:
        return 1
    # rowspan="0" means "to the end of the section"; clamp absurd values from bad markup.
    return min(max(value, 1), 1000)


def cell_text(cell: Tag) -> str:
    """A cell's text: its lines joined CJK-aware; nested tables flattened row by row."""
    emitter = _Emitter(source_wrap=" ")
    emitter.walk(cell)
    emitter.flush()
    lines: list[str] = []
    for block in emitter.blocks:
        if block.kind == "table":
            lines.extend(" ".join(c for c in row if c) for row in block.rows)
        else:
            lines.append(block.text)
    return join_lines(lines)


def table_grid(rows: list[Tag]) -> list[list[str]]:
    """A rectangular grid; a merged cell's value sits in its top-left slot, covered slots
    hold ""."""
    grid: dict[tuple[int, int], str] = {}
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in _row_cells(row):
            while (r, c) in grid:
                c += 1
            rowspan = min(_span(cell, "rowspan"), len(rows) - r)
            colspan = _span(cell, "colspan")
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = ""
            grid[(r, c)] = cell_text(cell)
            c += colspan
            width = max(width, c)
    return [[grid.get((r, c), "") for c in range(width)] for r in range(len(rows))]


def _is_layout_table(table: Tag, rows: list[Tag]) -> bool:
    """Tables used to lay out a page, not to hold data: read them as flowing text."""
    if _attr(table, "role") in ("presentation", "none"):
        return True
    widths = [len(_row_cells(row)) for row in rows]
    if not widths or max(widths) <= 1:
        return True
    total = _text_len(table)
    for row in rows:
        for cell in _row_cells(row):
            if cell.find("table") is not None and _text_len(cell) > 200:
                return True
            if total > 1500 and _text_len(cell) > 0.6 * total:
                return True
    return False


# --------------------------------------------------------------------------------------
# Title
# --------------------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s*[_|｜]\s*|\s+[-–—]\s+")


def clean_page_title(raw: str) -> str | None:
    """The document title from ``<title>``, without the site suffix (「…_中国政府网」)."""
    text = normalize_inline(raw)
    if not text:
        return None
    segments = [s.strip() for s in _TITLE_SEPARATORS.split(text) if s.strip()]
    if not segments:
        return None
    # Sites append their name after the title; a very short first part is a section
    # name ("首页") instead, and then the longest part is the title.
    return segments[0] if len(segments[0]) >= 4 else max(segments, key=len)


def _essence(text: str) -> str:
    return re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", text)


def _page_title(soup: BeautifulSoup) -> str | None:
    title_tag = soup.find("title")
    from_title = clean_page_title(title_tag.get_text()) if isinstance(title_tag, Tag) else None
    h1 = soup.find("h1")
    h1_text = normalize_inline(h1.get_text()) if isinstance(h1, Tag) else ""
    if h1_text and (from_title is None or _essence(h1_text) in _essence(from_title)):
        return h1_text
    if from_title:
        return from_title
    # pkulaw and many CMS pages mark the title with class="title" on an h2/h3 or a div.
    for tag in soup.find_all(["h2", "h3", "div", "p"]):
        if isinstance(tag, Tag) and "title" in [c.lower() for c in _classes(tag)]:
            text = normalize_inline(tag.get_text())
            if 4 <= len(text) <= 200:
                return text
    return None


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _prune(body: Tag) -> None:
    """Remove what is never content (step 1 of the module docstring)."""
    total = max(1, _text_len(body))
    doomed: list[Tag] = []
    for tag in body.find_all(True):
        if not isinstance(tag, Tag) or tag.decomposed:
            continue
        name = tag.name
        if name in _ALWAYS_DROP or _is_hidden(tag) or _is_pkulaw_chrome(tag):
            doomed.append(tag)
            continue
        if name in _CHROME_CONTAINERS:
            inside_article = tag.find_parent(["article", "main"]) is not None
            if not inside_article and _text_len(tag) < 0.4 * total:
                doomed.append(tag)
            continue
        marker = f"{_attr(tag, 'class')} {_attr(tag, 'id')}".strip()
        if (
            marker
            and _UNLIKELY.search(marker)
            and not _MAYBE.search(marker)
            and name not in ("body", "html", "article", "main")
            and _text_len(tag) < 0.4 * total
        ):
            doomed.append(tag)
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _iter_blocks(roots: Iterable[Tag]) -> tuple[list[Block], int]:
    emitter = _Emitter()
    for root in roots:
        emitter.element(root) if root.name in _BLOCK_TAGS else emitter.walk(root)
        emitter.flush()
    return emitter.blocks, emitter.dropped_chrome


def _drop_repeated_title(blocks: list[Block]) -> list[Block]:
    # The title heading picked up beside the text container is dropped when the text
    # repeats it in its first lines (pkulaw prints the title again, centred).
    if len(blocks) < 2 or blocks[0].kind != "heading":
        return blocks
    head = _essence(blocks[0].text)
    following = "".join(_essence(b.text) for b in blocks[1:4])
    return blocks[1:] if head and following.startswith(head) else blocks


# Real pages nest elements a few dozen deep (a pkulaw page: 22); the parser's cost grows with the
# square of the depth (8 000 nested <div> took 115 s) and its tree walk recurses, so a page nested
# past this is refused before it is parsed.
MAX_HTML_DEPTH = 400
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
# void elements, and those whose end tag HTML lets a page leave out (<p>, <li>, <td>…): neither is
# counted, so a page of unclosed paragraphs is not "deep"
_VOID = frozenset(
    [
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
        "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option", "optgroup", "tbody", "thead", "tfoot",
        "colgroup", "rt", "rp", "html", "head", "body",
    ]
)


def nesting_depth(text: str) -> int:
    """How deep the page's elements nest, counted in one pass over its tags (void and
    self-closed elements open nothing; an unmatched closing tag closes what it can)."""
    depth = deepest = 0
    for match in _TAG.finditer(text):
        closing, name, self_closed = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID:
            continue
        if closing:
            depth = max(0, depth - 1)
        elif not self_closed:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def load_html(path: Path) -> LoadedFile:
    """Read an HTML page into blocks of its main text, without the site chrome."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(f"无法读取文件 {path.name}：{exc}. Cannot read the file.") from exc
    text, encoding = decode_html(data)
    depth = nesting_depth(text)
    if depth > MAX_HTML_DEPTH:
        raise UnreadableDocumentError(
            f"网页嵌套层级过深（{depth} 层，上限 {MAX_HTML_DEPTH} 层），不像正常网页，已跳过：{path.name} "
            f"(elements nested {depth} deep, at most {MAX_HTML_DEPTH})"
        )
    warnings: list[str] = []
    if encoding.endswith("?"):
        warnings.append("page encoding not recognised; some characters were replaced")
    soup = BeautifulSoup(text, "lxml")
    title = _page_title(soup)
    body = soup.body if isinstance(soup.body, Tag) else soup
    _prune(body)
    roots = find_main_content(body)
    blocks, _dropped = _iter_blocks(roots)
    blocks = _drop_repeated_title(blocks)
    if not blocks:
        warnings.append("page has no text")
    return LoadedFile(
        source=str(path),
        format="html",
        blocks=tuple(blocks),
        title=title,
        warnings=tuple(warnings),
    )
