"""A scanned notice, read by OCR at ingest, answers with citations marked 「OCR」 on the right page."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.api import Assistant
from app.settings import Settings
from app.ui import source_html

pytestmark = pytest.mark.slow


def test_ingest_reports_each_scanned_page(scanned_home: tuple[Path, list[tuple[int, int, bool]]]) -> None:
    _, pages = scanned_home
    assert pages == [(n, 8, True) for n in range(1, 9)]  # from the parse worker, page by page


def test_a_question_on_a_scanned_notice_cites_its_ocr_page(scanned_home: tuple[Path, list]) -> None:
    home, _ = scanned_home
    with Assistant(Settings(home=home)) as assistant:
        answer = assistant.ask("单北斗辅助驾驶系统的补贴额测算比例最高可以提高到多少？")
        document = assistant.index.docstore.document(answer.citations[0].doc_id)
    assert not answer.refused
    assert "40%" in answer.text
    cited = next(c for c in answer.citations if "40%" in c.quote)
    assert cited.ocr and cited.page == 5  # the sentence is printed on page 5 of the scan
    assert cited.page_label == "第 5 页（OCR）"
    assert document is not None and all(page.ocr and page.boxes for page in document.pages)
    assert "第 5 页（OCR）" in source_html(cited, None, "t1", "g1")
    assert answer.to_dict()["citations"][0]["ocr"] is True
