"""The JSON API beside the web app: the Answer schema, drafts, the library, upload limits and
access rules, against the real app (FastAPI + Gradio) over a real index."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from answer.records import Answer
from app.library import safe_name
from app.server import build_app, check_access
from app.settings import Settings
from ingest.errors import SettingsError

ROOT = Path(__file__).resolve().parents[2]
NOTE = "# 实训室安全管理规定\n\n第一条 实训室钥匙由实训管理员统一保管，借用须登记。\n\n第二条 实训结束后须关闭水电。\n"


@pytest.fixture(scope="module")
def served(reports_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    home = tmp_path_factory.mktemp("served") / "home"
    shutil.copytree(reports_home, home)
    settings = Settings(home=home, max_upload_mb=1)
    with _serving(settings) as client:
        yield client, settings


@contextmanager
def _serving(settings: Settings) -> Iterator[TestClient]:
    """A client of the whole app (API + Gradio) on ``settings``, closed afterwards."""
    app, service = build_app(settings)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        service.close()


def _texts(settings: Settings) -> Any:
    from index.docstore import DocStore

    return DocStore(settings.home / "docstore.sqlite3")


def test_ask_returns_the_answer_json_with_exact_quotes(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    response = client.post("/api/ask", json={"question": "2020年新生报到率是多少？"})
    assert response.status_code == 200
    data = response.json()
    assert {"question", "text", "citations", "refused", "verification", "generator", "seconds", "closest"} <= data.keys()
    answer = Answer.from_dict(data)
    assert not answer.refused and "92.12%" in answer.text and "[1]" in answer.text
    store = _texts(settings)
    for citation in answer.citations:
        text = store.text(citation.doc_id)
        assert text is not None and text[citation.start : citation.end] == citation.quote
    assert all(check.ok for check in answer.verification)


def test_ask_with_a_document_filter_and_bad_input(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    documents = client.get("/api/documents").json()
    report = next(d for d in documents if "质量年度报告" in d["title"])
    other = next(d for d in documents if d["doc_id"] != report["doc_id"])
    answer = client.post("/api/ask", json={"question": "2020年新生报到率是多少？", "documents": [other["doc_id"]]}).json()
    assert "92.12" not in answer["text"]
    assert all(c["doc_id"] == other["doc_id"] for c in answer["citations"] + answer["closest"])

    empty = client.post("/api/ask", json={"question": "   "})
    assert empty.status_code == 400 and "问题为空" in empty.json()["error"]["message"]
    unknown = client.post("/api/ask", json={"question": "报到率", "documents": ["nope"]})
    assert unknown.status_code == 400 and "nope" in unknown.json()["error"]["message"]
    assert client.post("/api/ask", json={"question": "报到率", "generator": "gpt-9"}).status_code == 400
    assert client.post("/api/ask", json={"text": "no question field"}).status_code == 422


def test_draft_returns_a_cited_case(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    response = client.post("/api/draft", json={"topic": "医学美容技术产业学院", "template": "案例", "max_chars": 300})
    assert response.status_code == 200
    draft = Answer.from_dict(response.json())
    assert not draft.refused and draft.citations and "医学美容" in draft.text
    bad = client.post("/api/draft", json={"topic": "产业学院", "template": "小说"})
    assert bad.status_code == 400 and "案例" in bad.json()["error"]["message"]


def test_upload_list_and_remove(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    before = {d["doc_id"] for d in client.get("/api/documents").json()}
    response = client.post("/api/documents", files={"files": ("../../etc/实训室安全管理规定.md", NOTE.encode(), "text/markdown")})
    assert response.status_code == 200, response.text
    [outcome] = response.json()["files"]
    assert outcome["outcome"] == "added" and outcome["chunks"] > 0
    listed = {d["doc_id"]: d for d in client.get("/api/documents").json()}
    assert set(listed) == before | {outcome["doc_id"]}
    row = listed[outcome["doc_id"]]
    assert row["uploaded"] and row["file"] == "实训室安全管理规定.md"
    stored = list((settings.home / "uploads").rglob("*.md"))
    assert len(stored) == 1 and stored[0].parent.parent == settings.home / "uploads"  # a generated folder, no client path
    answer = client.post("/api/ask", json={"question": "实训室钥匙由谁保管？"}).json()
    assert "实训管理员" in answer["text"]

    again = client.post("/api/documents", files={"files": ("copy.md", NOTE.encode(), "text/markdown")})
    assert again.status_code == 409 and again.json()["files"][0]["outcome"] == "duplicate"
    assert len(list((settings.home / "uploads").rglob("*.md"))) == 1  # the duplicate's copy is not kept

    removed = client.delete(f"/api/documents/{outcome['doc_id']}")
    assert removed.status_code == 200 and removed.json()["removed"]["title"]
    assert {d["doc_id"] for d in client.get("/api/documents").json()} == before
    assert not list((settings.home / "uploads").rglob("*.md"))
    assert client.delete(f"/api/documents/{outcome['doc_id']}").status_code == 404


def test_unsupported_and_oversized_uploads_are_refused_and_nothing_is_lost(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    before = client.get("/api/documents").json()
    exe = client.post("/api/documents", files={"files": ("setup.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert exe.status_code == 415 and "不支持" in exe.json()["files"][0]["message"]
    big = b"x" * (int(settings.max_upload_mb * 2**20) + 10)
    oversized = client.post("/api/documents", files={"files": ("big.txt", big, "text/plain")})
    assert oversized.status_code == 413 and "过大" in oversized.json()["files"][0]["message"]
    broken = client.post("/api/documents", files={"files": ("broken.pdf", b"%PDF-1.4 not really", "application/pdf")})
    assert broken.status_code == 422 and broken.json()["files"][0]["outcome"] == "failed"
    mixed = client.post("/api/documents", files=[("files", ("a.exe", b"MZ", "application/octet-stream")),
                                                  ("files", ("note.txt", "第一条 图书馆周日闭馆。".encode(), "text/plain"))])
    outcomes = [f["outcome"] for f in mixed.json()["files"]]
    assert mixed.status_code == 200 and outcomes == ["rejected", "added"]
    after = client.get("/api/documents").json()
    assert {d["doc_id"] for d in before} < {d["doc_id"] for d in after}
    client.delete(f"/api/documents/{mixed.json()['files'][1]['doc_id']}")
    assert not [p for p in (settings.home / "uploads").rglob("*") if p.is_file()]  # nothing refused or removed stays


def test_answers_keep_coming_while_a_file_is_ingested(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    # a long regulation: about 150 articles to parse and embed while questions keep coming
    articles = [f"第{i}条 实训基地第{i}号设备的年度维护经费为{i * 7}万元，由设备处统一核算。" for i in range(1, 150)]
    text = "# 实训设备维护经费管理细则\n\n" + "\n\n".join(articles)
    upload: dict[str, Any] = {}

    def ingest() -> None:
        files = {"files": ("实训设备维护经费管理细则.md", text.encode(), "text/markdown")}
        upload["response"] = client.post("/api/documents", files=files)

    writer = threading.Thread(target=ingest)
    writer.start()
    statuses = []
    while writer.is_alive() or len(statuses) < 5:
        response = client.post("/api/ask", json={"question": "合作企业投入不低于多少？"})
        statuses.append((response.status_code, "300万元" in response.json().get("text", "")))
    writer.join()
    assert upload["response"].status_code == 200
    assert set(statuses) == {(200, True)}
    doc_id = upload["response"].json()["files"][0]["doc_id"]
    assert client.delete(f"/api/documents/{doc_id}").status_code == 200


def test_api_token_is_required_when_set(tmp_path: Path) -> None:
    with _serving(Settings(home=tmp_path / "home", api_token="s3cret")) as client:
        assert client.get("/api/health").status_code == 200
        denied = client.post("/api/ask", json={"question": "报到率"})
        assert denied.status_code == 401 and "令牌" in denied.json()["error"]["message"]
        wrong = client.get("/api/documents", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert client.get("/api/documents", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_binding_beyond_loopback_needs_users_and_a_token(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", host="0.0.0.0")
    with pytest.raises(SettingsError, match="users, api_token"):
        check_access(settings)
    with pytest.raises(SettingsError, match="api_token"):
        check_access(replace(settings, users="admin:pw"))
    check_access(replace(settings, users="admin:pw", api_token="t"))
    check_access(Settings(home=tmp_path / "home"))  # loopback: open
    with pytest.raises(SettingsError, match="name:password"):
        Settings(home=tmp_path / "home", users="admin")


def test_client_file_names_never_become_paths() -> None:
    assert safe_name("../../etc/passwd.md") == "passwd.md"
    assert safe_name("C:\\Users\\x\\报告 2023.PDF") == "报告_2023.pdf"
    assert safe_name("...") == "upload"
    assert "/" not in safe_name("a/b/../c<>|.txt")


def test_the_app_asks_for_a_login_when_users_are_set(tmp_path: Path) -> None:
    with _serving(Settings(home=tmp_path / "home", users="admin:pw1,staff:pw2")) as client:
        assert client.get("/gradio_api/login_check").status_code == 401
        assert client.get("/config").status_code == 401
        assert client.post("/login", data={"username": "admin", "password": "wrong"}).status_code == 400
        assert client.post("/login", data={"username": "staff", "password": "pw2"}).status_code == 200
        assert client.get("/gradio_api/login_check").status_code == 200
        assert client.get("/config").status_code == 200


def test_with_a_token_and_no_users_the_app_s_own_routes_need_the_token_too(tmp_path: Path) -> None:
    """Gradio's routes run ask, upload and remove like the API: without users they log in with the token."""
    with _serving(Settings(home=tmp_path / "home", api_token="s3cret")) as client:
        assert client.get("/config").status_code == 401
        assert client.get("/gradio_api/login_check").status_code == 401
        called = client.post("/gradio_api/call/ask", json={"data": ["报到率是多少？"]})
        assert called.status_code in (401, 403, 404)  # no session: the call is never taken
        assert client.post("/login", data={"username": "任何人", "password": "nope"}).status_code == 400
        assert client.post("/login", data={"username": "任何人", "password": "s3cret"}).status_code == 200
        assert client.get("/config").status_code == 200


def test_the_first_start_serves_at_once_while_the_corpus_is_indexed_once(tmp_path: Path) -> None:
    from app.server import start_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "规定.md").write_text(NOTE, encoding="utf-8")
    # a long regulation, so that indexing lasts while the app is asked
    articles = [f"第{i}条 实训基地第{i}号设备的年度维护经费为{i * 7}万元，由设备处统一核算。" for i in range(1, 300)]
    (corpus / "细则.md").write_text("# 实训设备维护经费管理细则\n\n" + "\n\n".join(articles), encoding="utf-8")
    app, service = build_app(Settings(home=tmp_path / "home"))
    with TestClient(app) as client:
        job = start_corpus(service, corpus)
        assert job is not None
        started = time.monotonic()
        assert client.get("/api/health").status_code == 200
        listed = client.get("/api/jobs").json()
        assert time.monotonic() - started < 5
        [running] = [j for j in listed if j["id"] == job.job_id]
        assert running["kind"] == "ingest" and running["state"] in ("queued", "running") and "首次启动" in running["label"]
        job.future.result(timeout=300)
        assert client.get(f"/api/jobs/{job.job_id}").json()["progress"]["chunks_done"] > 100
        titles = sorted(d["title"] for d in client.get("/api/documents").json())
        assert titles == ["实训室安全管理规定", "实训设备维护经费管理细则"]
        (corpus / "later.md").write_text("# 后来的文件\n\n第一条 这份文件在首次启动之后才放入。\n", encoding="utf-8")
        assert start_corpus(service, corpus) is None  # not empty any more: left to `zhiku ingest`
    service.close()


def test_login_and_token_settings_must_be_strings(tmp_path: Path) -> None:
    config = tmp_path / "zhiku.toml"
    config.write_text("api_token = 12345678\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="api_token"):
        Settings.load(config, env={})
    config.write_text('users = ["admin:pw"]\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="users"):
        Settings.load(config, env={})


def test_the_app_ingests_only_files_it_received(served: tuple[TestClient, Settings], tmp_path: Path) -> None:
    """A client may name any path in a Gradio request: only files in Gradio's upload folder are taken."""

    from app.service import Service
    from app.ui import build_ui

    client, settings = served
    before = client.get("/api/documents").json()
    payload = {"data": [[{"path": str(ROOT / "README.md"), "meta": {"_type": "gradio.FileData"}}]]}
    called = client.post("/gradio_api/call/ingest", json=payload)
    if called.status_code == 200:  # the request is taken, then refused: wait for its end
        with client.stream("GET", f"/gradio_api/call/ingest/{called.json()['event_id']}") as stream:
            events = [line for line in stream.iter_lines() if line.startswith("event:")]
        assert "event: error" in events
    service = Service(settings)
    try:
        blocks = build_ui(service)
        ingest = next(f for f in blocks.fns.values() if f.name == "ingest")
        outside = tmp_path / "secret.md"
        outside.write_text("# 机密\n\n第一条 不应被导入。\n", encoding="utf-8")
        with pytest.warns(UserWarning, match="只能导入上传的文件"):  # a toast, the page left as it was
            outputs = ingest.fn([str(outside)], None, [])
        assert all(isinstance(o, dict) and o.get("__type__") == "update" for o in outputs), outputs
    finally:
        service.close()
    assert client.get("/api/documents").json() == before


def test_cross_site_writes_are_refused(served: tuple[TestClient, Settings]) -> None:
    client, _ = served
    files = {"files": ("note.md", NOTE.encode(), "text/markdown")}
    evil = client.post("/api/documents", files=files, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "其他网站" in evil.json()["error"]["message"]
    marked = client.post("/api/ask", json={"question": "报到率"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert marked.status_code == 403
    same = client.post("/api/ask", json={"question": "报到率"}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200


def test_an_oversized_request_is_refused_before_it_is_read(served: tuple[TestClient, Settings]) -> None:
    client, settings = served
    headers = {"Content-Length": str(int(settings.max_upload_mb * 2**20) * 21 + 2**20 + 1),
               "Content-Type": "multipart/form-data; boundary=x"}
    response = client.post("/api/documents", content=b"--x--", headers=headers)
    assert response.status_code == 413 and "过大" in response.json()["error"]["message"]


def test_a_failed_ingest_leaves_no_stored_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.library import Library
    from app.services import open_index

    settings = Settings(home=tmp_path / "home")
    index = open_index(settings)
    library = Library(settings, index)
    note = tmp_path / "note.md"
    note.write_text(NOTE, encoding="utf-8")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("vector store down")

    monkeypatch.setattr(library._index, "update", broken)
    try:
        with pytest.raises(RuntimeError):
            library.add([("note.md", note)])
        assert not [p for p in (settings.home / "uploads").rglob("*") if p.is_file()]
    finally:
        library.close()
        index.close()


@pytest.mark.slow
def test_a_chroma_outage_is_a_503_on_every_route_and_heals_on_its_own(tmp_path: Path) -> None:
    import sys

    from app.services import open_index
    from tests.servers import free_port, running

    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma
    port, data = free_port(), tmp_path / "chroma"
    url = f"http://127.0.0.1:{port}"
    command = [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    settings = Settings(home=tmp_path / "home", chroma_url=url)
    notice = tmp_path / "通知.txt"
    notice.write_text("放假通知\n国庆节放假七天，10月8日上班。\n", encoding="utf-8")
    with running(command, f"{url}/api/v2/heartbeat", tmp_path / "chroma-1.log", timeout=60):
        index = open_index(settings)
        index.update([notice])
        index.close()
        with _serving(settings) as client:
            assert client.post("/api/ask", json={"question": "国庆节放假几天？"}).status_code == 200
            assert client.get("/api/health").json()["ok"] is True
    # the Chroma server is stopped now
    [doc] = _texts(settings).documents()
    with _serving(settings) as down:
        stopped = {"ask": down.post("/api/ask", json={"question": "国庆节放假几天？"}), "health": down.get("/api/health"),
                   "delete": down.delete(f"/api/documents/{doc.doc_id}")}
    documents = _texts(settings).documents()
    assert stopped["delete"].status_code == 503 and [d.doc_id for d in documents] == [doc.doc_id]  # still listed
    assert stopped["ask"].status_code == 503 and "向量库" in stopped["ask"].json()["error"]["message"], stopped["ask"].json()
    assert stopped["health"].status_code == 503
    assert stopped["health"].json()["ok"] is False and stopped["health"].json()["components"]["docstore"] == "ok"
    assert len(documents) == 1  # nothing half-written or lost
    with running(command, f"{url}/api/v2/heartbeat", tmp_path / "chroma-2.log", timeout=60), _serving(settings) as client:
        answer = client.post("/api/ask", json={"question": "国庆节放假几天？"})
        assert answer.status_code == 200 and "七天" in answer.json()["text"]
        assert client.get("/api/health").status_code == 200


def test_upload_folders_a_killed_server_left_are_swept_at_start(tmp_path: Path) -> None:
    import os
    import time

    from app.library import ABANDONED_AFTER_S, Library
    from app.services import open_index

    settings = Settings(home=tmp_path / "home")
    uploads = settings.home / "uploads"
    kept = uploads / "a1" / "通知.txt"
    kept.parent.mkdir(parents=True)
    kept.write_text("放假通知\n国庆节放假七天。\n", encoding="utf-8")
    index = open_index(settings)
    index.update([kept])
    abandoned, recent = uploads / "b2" / "半截.txt", uploads / "c3" / "上传中.txt"
    for path in (abandoned, recent):
        path.parent.mkdir()
        path.write_text("未完成的上传", encoding="utf-8")
    old = time.time() - ABANDONED_AFTER_S - 60
    for folder in (kept.parent, abandoned.parent):
        os.utime(folder, (old, old))
    library = Library(settings, index)
    try:
        assert kept.exists()  # a document was read from it
        assert not abandoned.parent.exists()  # left by a killed upload
        assert recent.exists()  # may be another instance's upload in progress
    finally:
        library.close()
        index.close()


def test_the_browser_s_spooled_upload_goes_once_indexed_and_a_killed_server_s_is_swept(
    served: tuple[TestClient, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from app.library import ABANDONED_AFTER_S, sweep
    from app.service import Service
    from app.ui import build_ui, job_outcome

    _, settings = served
    spool = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(spool))
    spooled = spool / "3f2a9c" / "宿舍管理规定.md"
    spooled.parent.mkdir(parents=True)
    spooled.write_text("# 宿舍管理规定\n\n第一条 学生宿舍晚上十一点熄灯。\n", encoding="utf-8")
    service = Service(settings)
    try:
        ingest = next(f for f in build_ui(service).fns.values() if f.name == "ingest")
        [job_id] = ingest.fn([str(spooled)], None, [])[2]  # queued: the page follows the job
        job = service.library.queue.job(job_id)
        job.future.result(timeout=120)
        report = job_outcome(job)
        assert "宿舍管理规定" in report and "✓" in report
        assert not spooled.exists() and not spooled.parent.exists()
        assert any(row.title == "宿舍管理规定" for row in service.library.documents())
    finally:
        service.close()

    old, young = spool / "old", spool / "young"
    for folder in (old, young):
        folder.mkdir()
        (folder / "x.pdf").write_bytes(b"%PDF")
    os.utime(old, (time.time() - ABANDONED_AFTER_S - 60,) * 2)
    assert sweep(spool) == 1 and not old.exists() and young.exists()


def test_a_docstore_that_cannot_be_written_is_a_503_and_nothing_is_half_done(copy_home: Path) -> None:
    """Another process holds the docstore's write lock past the busy timeout (a stuck tool, a full
    disk): a removal answers 503 with a Chinese message, the document stays listed and cited,
    and the same removal works once the lock is gone."""
    import sqlite3

    settings = Settings(home=copy_home)
    with _serving(settings) as client:
        doc_id = client.get("/api/documents").json()[0]["doc_id"]
        blocker = sqlite3.connect(copy_home / "docstore.sqlite3", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            refused = client.delete(f"/api/documents/{doc_id}")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert refused.status_code == 503 and "暂时无法访问" in refused.json()["error"]["message"]
        assert doc_id in {row["doc_id"] for row in client.get("/api/documents").json()}
        assert client.delete(f"/api/documents/{doc_id}").status_code == 200
        assert doc_id not in {row["doc_id"] for row in client.get("/api/documents").json()}


# Answered from 000 of corpus/ (21 passages): a new title re-embeds every passage of its document,
# so the edit is tried on the home's small report rather than on 001 (345 passages).
TITLE_QUESTION = "清职院与哪家企业共建医学美容技术产业学院？"


def test_a_document_s_title_is_edited_and_every_citation_shows_it(copy_home: Path) -> None:
    settings = Settings(home=copy_home)
    with _serving(settings) as client:
        before = client.post("/api/ask", json={"question": TITLE_QUESTION}).json()
        assert before["citations"][0]["title"] == "2022年校企合作机制体制改革情况报告"  # 000
        doc_id = before["citations"][0]["doc_id"]
        renamed = client.patch(f"/api/documents/{doc_id}", json={"title": "  清远职业技术学院\n校企合作报告（2022）  "})
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["document"]["title"] == "清远职业技术学院 校企合作报告（2022）"
        after = client.post("/api/ask", json={"question": TITLE_QUESTION}).json()
        assert {c["title"] for c in after["citations"] if c["doc_id"] == doc_id} == {"清远职业技术学院 校企合作报告（2022）"}
        listed = {row["doc_id"]: row["title"] for row in client.get("/api/documents").json()}
        assert listed[doc_id] == "清远职业技术学院 校企合作报告（2022）"
        assert client.patch(f"/api/documents/{doc_id}", json={"title": "   "}).status_code == 400
        assert client.patch("/api/documents/0000000000000000", json={"title": "x"}).status_code == 404

    # the library tab's own form does the same through the same queue
    import gradio as gr

    from app.service import Service
    from app.ui import build_ui, job_outcome

    service = Service(settings)
    try:
        retitle = next(f for f in build_ui(service).fns.values() if f.name == "retitle")
        [job_id] = retitle.fn(doc_id, "清职院校企合作报告", [])[2]
        job = service.library.queue.job(job_id)
        job.future.result(timeout=120)
        assert "清职院校企合作报告" in job_outcome(job)
        assert any(row.title == "清职院校企合作报告" for row in service.library.documents())
        with pytest.warns(UserWarning, match="请填写新标题"):
            assert retitle.fn(doc_id, "", [])[2] == gr.skip()
    finally:
        service.close()
