"""The app's rendering of answers and sources: citations become links, the quote is marked in its
context, and nothing from a document (HTML, Markdown) takes effect in the page."""

from __future__ import annotations

from answer.records import Answer, Citation
from app.ui import answer_pieces, source_html, sources_html

TEXT = "第五条 合作企业原则上投入折合金额不低于300万元。第六条 <script>alert(1)</script> 见[通知](https://evil.example)。"
QUOTE = "合作企业原则上投入折合金额不低于300万元。"
START = TEXT.index(QUOTE)


def _citation(n: int, quote: str, start: int) -> Citation:
    return Citation(n, f"c{n}", "d", "管理办法", "/data/办法.md", ("第二章", "投入"), 3, quote, start, start + len(quote))


def test_markers_become_links_and_document_markup_stays_text() -> None:
    evil = TEXT[TEXT.index("第六条") :]
    answer = Answer("q", f"企业投入不低于300万元。[1]{evil}[2]",
                    (_citation(1, QUOTE, START), _citation(2, evil, TEXT.index(evil))))
    html = "".join(answer_pieces(answer, "7"))
    assert '<a class="zk-cite" href="#zk-src-7-1">[1]</a>' in html and 'href="#zk-src-7-2"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "](https" not in html and "&#91;通知&#93;" in html  # no Markdown link either



def test_quotes_in_an_answer_show_as_themselves() -> None:
    quote = "学校's \"双师型\"教师占比达到60%。"
    text = f"说明：{quote}"
    html = "".join(answer_pieces(Answer("q", f"{quote}[1]", (_citation(1, quote, text.index(quote)),)), "8"))
    assert "学校's \"双师型\"" in html and "&#x27;" not in html and "&quot;" not in html


def test_the_source_shows_the_quote_marked_in_its_context() -> None:
    html = source_html(_citation(1, QUOTE, START), TEXT, "3", "zk-chat-src", active=True)
    assert 'id="zk-src-3-1"' in html and "zk-active" in html
    assert f"<mark>{QUOTE}</mark>" in html
    assert "第五条 " in html and "第六条" in html  # the text around it
    assert "第二章 › 投入" in html and "第 3 页" in html and "办法.md" in html
    assert "<script>" not in html


def test_a_quote_that_does_not_match_its_document_is_shown_alone() -> None:
    html = source_html(_citation(1, QUOTE, START + 1), TEXT, "3", "zk-chat-src")
    assert f"<mark>{QUOTE}</mark>" in html and "第六条" not in html


def test_a_refusal_lists_its_closest_passages_as_sources() -> None:
    answer = Answer("q", "知识库中没有找到……", refused=True, closest=(_citation(1, QUOTE, START),))
    pieces = answer_pieces(answer, "9")
    assert 'href="#zk-src-9-1"' in pieces[-1] and "管理办法" in pieces[-1]
    panel = sources_html(answer, {"d": TEXT}, "9", "zk-chat-src")
    assert f"<mark>{QUOTE}</mark>" in panel
