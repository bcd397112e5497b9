"""Knowledge bases over the JSON API: managed, uploaded into, asked and searched within; and a
write's progress as `GET /api/jobs/{id}` shows it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.server import build_app
from app.settings import Settings

# Written for these tests: two rules of different offices.
LEAVE = "# 学院教职工请假管理规定\n\n第一条 教职工因病请假三天以内的，由所在部门负责人审批。\n"
LAB = "# 实训室安全管理办法\n\n第一条 实训室实行安全责任人制度，每间实训室确定一名安全责任人。\n"


@pytest.fixture
def client(copy_home: Path) -> Iterator[TestClient]:
    app, service = build_app(Settings(home=copy_home))
    try:
        with TestClient(app) as client:
            yield client
    finally:
        service.close()


def _upload(client: TestClient, name: str, text: str, **params: str) -> dict:
    response = client.post("/api/documents", params=params, files={"files": (name, text.encode(), "text/markdown")})
    assert response.status_code == 200, response.text
    return response.json()["files"][0]


def test_a_knowledge_base_is_made_filled_asked_within_and_deleted(client: TestClient) -> None:
    made = client.post("/api/kbs", json={"name": "人事", "description": "人事处的规定"})
    assert made.status_code == 201, made.text
    base = made.json()
    assert (base["name"], base["documents"]) == ("人事", 0)
    assert client.post("/api/kbs", json={"name": "人事"}).status_code == 409
    assert client.post("/api/kbs", json={"name": ""}).status_code == 400

    # asking in an empty base says so, rather than answering from elsewhere
    empty = client.post("/api/ask", json={"question": "请假由谁审批？", "kb": "人事"})
    assert empty.status_code == 409 and "还没有文档" in empty.json()["error"]["message"]

    leave = _upload(client, "leave.md", LEAVE, kb="人事")
    lab = _upload(client, "lab.md", LAB)
    listed = {d["doc_id"]: d for d in client.get("/api/documents").json()}
    assert listed[leave["doc_id"]]["bases"] == ["人事"] and listed[lab["doc_id"]]["bases"] == []
    assert [d["doc_id"] for d in client.get("/api/documents", params={"kb": "人事"}).json()] == [leave["doc_id"]]

    found = client.post("/api/search", json={"query": "实训室安全责任人", "kb": base["base_id"]}).json()
    assert found["passages"] and {p["doc_id"] for p in found["passages"]} == {leave["doc_id"]}
    answer = client.post("/api/ask", json={"question": "因病请假三天以内由谁审批？", "kb": "人事"}).json()
    assert "部门负责人" in answer["text"] and {c["doc_id"] for c in answer["citations"]} == {leave["doc_id"]}
    assert client.post("/api/ask", json={"question": "请假", "kb": "没有这个库"}).status_code == 404

    moved = client.post(f"/api/kbs/{base['base_id']}/documents", json={"add": [lab["doc_id"]], "remove": [leave["doc_id"]]})
    assert moved.status_code == 200 and moved.json()["documents"] == 1
    renamed = client.patch("/api/kbs/人事", json={"name": "安全"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "安全"
    assert [b["name"] for b in client.get("/api/kbs").json()] == ["安全"]

    deleted = client.delete("/api/kbs/安全", params={"with_documents": "true"})
    assert deleted.status_code == 200, deleted.text
    assert [d["doc_id"] for d in deleted.json()["removed"]] == [lab["doc_id"]]
    remaining = {d["doc_id"] for d in client.get("/api/documents").json()}
    assert leave["doc_id"] in remaining and lab["doc_id"] not in remaining
    assert client.get("/api/kbs").json() == []


def test_an_upload_s_job_shows_its_embedding_progress(client: TestClient) -> None:
    articles = [f"第{i}条 实训基地第{i}号设备的年度维护经费为{i * 7}万元，由设备处统一核算。" for i in range(1, 300)]
    text = "# 实训设备维护经费管理细则\n\n" + "\n\n".join(articles)
    response = client.post("/api/documents", params={"wait": "false"},
                           files={"files": ("细则.md", text.encode(), "text/markdown")})
    assert response.status_code == 202
    job_id = response.json()["job"]["id"]
    seen = []
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        seen.append(job["progress"])
        if job["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    assert job["state"] == "done", job
    final = seen[-1]
    assert final["chunks_done"] == final["chunks_total"] == job["files"][0]["chunks"] > 100
    counts = {p["chunks_done"] for p in seen if p["phase"] == "embed"}
    assert len(counts) >= 2, seen  # the count moved while it was embedding
    assert any("嵌入" in p["text"] and "个片段" in p["text"] for p in seen)
    listed = {j["id"]: j for j in client.get("/api/documents/jobs").json()}  # the same list as /api/jobs
    assert listed[job_id]["progress"] == final and listed.keys() == {j["id"] for j in client.get("/api/jobs").json()}
