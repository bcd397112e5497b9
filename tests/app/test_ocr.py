"""A scanned notice, read by OCR at ingest, answers with citations marked 「OCR」 on the right page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from app.api import Assistant
from app.pages import PAGE_WIDTH_PX
from app.settings import Settings
from app.ui import source_html
from index.docstore import DocStore
from ingest.pipeline import file_hash

SCANNED = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "scanned_notice.pdf"

pytestmark = pytest.mark.slow


def test_ingest_reports_each_scanned_page(scanned_home: tuple[Path, list[tuple[int, int, bool]]]) -> None:
    _, pages = scanned_home
    # from the parse worker, page by page: each page read, then each page read by OCR
    assert pages == [(n, 8, False) for n in range(1, 9)] + [(n, 8, True) for n in range(1, 9)]


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


def _serving(settings: Settings) -> Any:
    from fastapi.testclient import TestClient

    from app.server import build_app

    app, service = build_app(settings)

    class Client(TestClient):
        def __exit__(self, *exc: Any) -> None:
            super().__exit__(*exc)
            service.close()

    return Client(app)


def _first_citation(client: Any) -> dict[str, Any]:
    answer = client.post("/api/ask", json={"question": "单北斗辅助驾驶系统的补贴额测算比例最高可以提高到多少？"},
                         headers=client.headers).json()
    return next(c for c in answer["citations"] if "40%" in c["quote"])


def test_the_cited_page_renders_with_the_quote_marked(scanned_home: tuple[Path, list], tmp_path: Path) -> None:
    home, _ = scanned_home
    with _serving(Settings(home=home)) as client:
        cited = _first_citation(client)
        url = f"/api/documents/{cited['doc_id']}/pages/{cited['page']}"
        marked = client.get(url, params={"start": cited["start"], "end": cited["end"]})
        plain = client.get(url)
        assert marked.status_code == plain.status_code == 200
        assert marked.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(marked.content)).convert("RGB")
        bare = Image.open(io.BytesIO(plain.content)).convert("RGB")
        assert image.size == bare.size and image.width == PAGE_WIDTH_PX
        # the mark is drawn where the quote is printed, and nowhere else
        changed = ImageChops.difference(image, bare).getbbox()
        assert changed is not None
        stored = DocStore(home / "docstore.sqlite3").document(cited["doc_id"])
        assert stored is not None
        page = next(p for p in stored.pages if p.number == cited["page"])
        line = next(b for b in page.boxes if "40%" in b.text)
        scale = PAGE_WIDTH_PX / 595.0
        _, top, _, bottom = changed
        assert top <= line.top * scale and line.bottom * scale <= bottom  # the quoted line is marked
        assert bottom - top < image.height / 2  # and not the whole page
        document = client.get("/api/documents").json()[0]
        assert document["doc_id"] == cited["doc_id"]
        original = client.get(f"/api/documents/{cited['doc_id']}/file")
        assert original.status_code == 200 and original.headers["content-type"] == "application/pdf"
        assert original.content.startswith(b"%PDF") and original.content == SCANNED.read_bytes()
        assert client.get(f"{url[:-1]}99").status_code == 404
        assert client.get(f"{url[:-1]}0").status_code == 404  # never the last page by a negative index
        assert client.get(url, params={"start": 0, "end": 10**9}).status_code == 400
        assert client.get("/api/documents/nope/file").status_code == 404


def test_the_original_file_and_its_pages_need_the_login_when_access_rules_apply(scanned_home: tuple[Path, list]) -> None:
    home, _ = scanned_home
    with _serving(Settings(home=home, users="staff:pw2", api_token="s3cret")) as client:
        client.headers["authorization"] = "Bearer s3cret"
        cited = _first_citation(client)
        del client.headers["authorization"]
        file_url = f"/api/documents/{cited['doc_id']}/file"
        page_url = f"/api/documents/{cited['doc_id']}/pages/{cited['page']}"
        assert client.get(file_url).status_code == 401
        assert client.get(page_url).status_code == 401
        assert client.get(file_url, headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert client.post("/login", data={"username": "staff", "password": "pw2"}).status_code == 200
        assert client.get(file_url).status_code == 200  # the app's login cookie opens it from a link
        assert client.get(page_url).status_code == 200


def test_a_file_changed_since_it_was_indexed_is_not_served_as_its_original(tmp_path: Path) -> None:
    from app.pages import SourceChangedError, stored_file

    path = tmp_path / "a.pdf"
    path.write_bytes(SCANNED.read_bytes())
    doc_id = file_hash(path.read_bytes())
    assert stored_file(str(path), doc_id) == path
    path.write_bytes(b"%PDF-1.4 something else")
    with pytest.raises(SourceChangedError, match="修改"):
        stored_file(str(path), doc_id)
    path.unlink()
    with pytest.raises(SourceChangedError, match="不在"):
        stored_file(str(path), doc_id)
