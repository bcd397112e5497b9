"""The API's contract beyond its answers: one error shape on every failure, ``/api/search``,
``/api/generators``, response schemas in ``/api/openapi.json`` and docs pages that load nothing
from outside the server."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.server import build_app
from app.settings import Settings
from index.docstore import DocStore


@pytest.fixture(scope="module")
def served(reports_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    home = tmp_path_factory.mktemp("shape") / "home"
    shutil.copytree(reports_home, home)
    settings = Settings(home=home, max_upload_mb=1)
    app, service = build_app(settings)
    try:
        with TestClient(app) as client:
            yield client, settings
    finally:
        service.close()


def _error(response: Any, status: int, code: str) -> str:
    """The error's message, after checking the one error shape, its status and its code."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return str(error["message"])


def test_not_found_errors_have_the_one_shape(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    assert "nope" in _error(client.get("/api/documents/nope/file"), 404, "not_found")
    _error(client.delete("/api/documents/nope"), 404, "not_found")
    _error(client.get("/api/jobs/nope"), 404, "not_found")
    assert "/api/no-such-route" in _error(client.get("/api/no-such-route"), 404, "not_found")
    _error(client.post("/api/no/such/route", json={}), 404, "not_found")
    _error(client.get("/api/static/no-such-file.js"), 404, "not_found")
    wrong = client.put("/api/ask", json={"question": "报到率"})
    assert "PUT" in _error(wrong, 405, "method_not_allowed") and wrong.headers["allow"] == "POST"
    # a path outside /api/ is the web app's: its answer is not the API's
    outside = client.get("/no-such-page")
    assert "error" not in outside.text or not isinstance(outside.json().get("error"), dict)


def test_bad_requests_have_the_one_shape(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    message = _error(client.post("/api/ask", json={"text": "no question field"}), 422, "invalid_request")
    assert "请求参数无效：question 缺失" in message and "question: field required" in message
    assert "top_k" in _error(client.post("/api/search", json={"query": "报到率", "top_k": 0}), 422, "invalid_request")
    assert "问题为空" in _error(client.post("/api/ask", json={"question": "   "}), 400, "bad_request")
    assert "nope" in _error(client.post("/api/ask", json={"question": "报到率", "documents": ["nope"]}), 400, "bad_request")
    assert "案例" in _error(client.post("/api/draft", json={"topic": "产业学院", "template": "小说"}), 400, "bad_request")
    cross = client.post("/api/ask", json={"question": "报到率"}, headers={"Sec-Fetch-Site": "cross-site"})
    _error(cross, 403, "forbidden")


def test_refused_uploads_keep_their_files_and_add_the_error(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    old = client.post("/api/documents", files={"files": ("old.doc", b"\xd0\xcf\x11\xe0 not docx", "application/msword")})
    assert ".docx" in _error(old, 415, "unsupported_type")
    assert old.json()["files"][0]["outcome"] == "rejected" and old.json()["job"]["id"]
    big = b"x" * (int(settings.max_upload_mb * 2**20) + 10)
    oversized = client.post("/api/documents", files={"files": ("big.txt", big, "text/plain")})
    assert "过大" in _error(oversized, 413, "too_large") and oversized.json()["files"][0]["reason"] == "too_large"
    headers = {"Content-Length": str(int(settings.max_upload_mb * 2**20) * 21 + 2**20 + 1),
               "Content-Type": "multipart/form-data; boundary=x"}
    assert "过大" in _error(client.post("/api/documents", content=b"--x--", headers=headers), 413, "too_large")


def test_search_returns_scored_passages_where_they_are_in_their_documents(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    response = client.post("/api/search", json={"query": "2020年新生报到率", "top_k": 5})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["query"] == "2020年新生报到率" and 0 < len(data["passages"]) <= 5
    store = DocStore(settings.home / "docstore.sqlite3")
    for rank, passage in enumerate(data["passages"], start=1):
        assert passage["rank"] == rank and isinstance(passage["score"], float)
        assert passage["dense_rank"] is not None or passage["lexical_rank"] is not None
        assert passage["title"] and passage["source"] and passage["chunk_id"] in passage["covers"]
        text = store.text(passage["doc_id"])
        assert text is not None and text[passage["start"] : passage["end"]] == passage["text"]
    assert any("92.12" in p["text"] for p in data["passages"])
    scores = [p["score"] for p in data["passages"]]
    assert scores[0] == max(scores)

    report = next(p["doc_id"] for p in data["passages"] if "92.12" in p["text"])
    documents = client.get("/api/documents").json()
    other = next(d["doc_id"] for d in documents if d["doc_id"] != report)
    only = client.post("/api/search", json={"query": "2020年新生报到率", "documents": [other]}).json()["passages"]
    assert only and {p["doc_id"] for p in only} == {other}
    rows = client.post("/api/search", json={"query": "2020年新生报到率", "kinds": ["table_row"]}).json()["passages"]
    assert rows and {p["kind"] for p in rows} == {"table_row"} and any("92.12" in p["text"] for p in rows)
    assert "nope" in _error(client.post("/api/search", json={"query": "报到率", "documents": ["nope"]}), 400, "bad_request")
    assert "为空" in _error(client.post("/api/search", json={"query": " "}), 400, "bad_request")
    _error(client.post("/api/search", json={"query": "报到率", "kinds": ["image"]}), 422, "invalid_request")


def test_generators_say_which_can_answer_now(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    assert not settings.llm_base_url
    data = client.get("/api/generators").json()
    listed = {g["name"]: g for g in data["generators"]}
    assert data["default"] == "extractive" and listed["extractive"]["default"]
    assert listed["extractive"]["available"] and listed["extractive"]["reason"] is None and listed["extractive"]["description"]
    assert listed["quote"]["available"]
    assert not listed["openai"]["available"] and "ZHIKU_LLM_BASE_URL" in listed["openai"]["reason"]
    available = [name for name, g in listed.items() if g["available"]]
    message = _error(client.post("/api/ask", json={"question": "报到率", "generator": "openai"}), 400, "generator_unavailable")
    assert message.endswith(", ".join(available))
    message = _error(client.post("/api/ask", json={"question": "报到率", "generator": "gpt-9"}), 400, "unknown_generator")
    assert "gpt-9" in message and message.endswith(", ".join(available))


def test_openapi_has_response_schemas_and_the_error_shape(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    spec = client.get("/api/openapi.json").json()
    for path, method in (("/api/ask", "post"), ("/api/search", "post"), ("/api/documents", "get")):
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema, (path, method)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, (path, method)
            content = operation["responses"][min(success)]["content"]  # 200, or 201 for a creation
            assert all(media["schema"] for media in content.values()), (path, method)
    ask = spec["paths"]["/api/ask"]["post"]["responses"]
    assert ask["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/AnswerModel"}
    assert ask["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert "ErrorBody" in spec["components"]["schemas"] and "HTTPValidationError" not in spec["components"]["schemas"]


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_the_docs_pages_load_only_what_the_server_serves(served: tuple[TestClient, Settings], page: str) -> None:
    client, _ = served
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and "/api/openapi.json" in html
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for asset in assets:
        assert asset.startswith("/api/static/"), asset
        served_asset = client.get(asset)
        assert served_asset.status_code == 200 and served_asset.content, asset
        assert kinds[Path(asset).suffix] in served_asset.headers["content-type"], (asset, served_asset.headers)
