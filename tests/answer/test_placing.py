"""Citations are placed on the page their quote starts on, and say when OCR read that page."""

from __future__ import annotations

from answer.compose import placed
from answer.records import Answer, Citation
from ingest.records import Page


def _cite(n: int, start: int, end: int, page: int | None) -> Citation:
    return Citation(n, f"c{n}", "d1", "某某通知", "/x/某某通知.pdf", ("一、总体要求",), page, "引文", start, end)


def test_a_quote_is_placed_on_the_page_it_starts_on() -> None:
    pages = (Page(1, 0, 100), Page(2, 100, 250, ocr=True), Page(3, 250, 400))
    # a chunk that began on page 1 holds a quote printed on page 2 (of a scan)
    answer = Answer("问题", "答案[1][2]", citations=(_cite(1, 120, 140, 1), _cite(2, 260, 270, 3)),
                    closest=(_cite(1, 10, 20, 1),))
    out = placed(answer, lambda doc_id: pages if doc_id == "d1" else ())
    assert [(c.page, c.ocr) for c in out.citations] == [(2, True), (3, False)]
    assert [c.page_label for c in out.citations] == ["第 2 页（OCR）", "第 3 页"]
    assert out.closest[0].page == 1 and not out.closest[0].ocr


def test_a_document_without_pages_keeps_its_citations() -> None:
    answer = Answer("问题", "答案[1]", citations=(_cite(1, 5, 9, None),))
    out = placed(answer, lambda doc_id: ())
    assert out.citations == answer.citations and out.citations[0].page_label == ""
