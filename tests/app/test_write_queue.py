"""Library writes queue without holding server threads: with a hung upload and 50 more waiting,
health, asking and the page still answer at once; the hung job can be cancelled and the rest
then go through. The queue itself: order, bound, cancelling waiting and running jobs."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app.jobs import JobCancelledError, QueueFullError, WriteQueue
from app.services import open_index
from app.settings import Settings
from tests.servers import free_port, running

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ the queue itself


def test_jobs_run_one_at_a_time_in_order() -> None:
    queue = WriteQueue(10, lambda: None)
    ran: list[int] = []
    overlap = threading.Lock()

    def work(n: int) -> int:
        assert overlap.acquire(blocking=False), "two jobs ran at once"
        time.sleep(0.01)
        ran.append(n)
        overlap.release()
        return n * n

    jobs = [queue.submit("upload", str(n), lambda stop, n=n: work(n)) for n in range(5)]
    assert [job.future.result(timeout=10) for job in jobs] == [0, 1, 4, 9, 16]
    assert ran == [0, 1, 2, 3, 4] and {job.state for job in jobs} == {"done"}
    queue.close()


def test_a_full_queue_refuses_and_waiting_jobs_are_cancelled_without_running() -> None:
    release = threading.Event()
    queue = WriteQueue(2, lambda: None)
    blocker = queue.submit("upload", "blocker", lambda stop: release.wait(10))
    while blocker.state != "running":
        time.sleep(0.01)
    cleaned: list[str] = []
    waiting = [queue.submit("upload", f"w{n}", lambda stop: pytest.fail("a cancelled job ran"),
                            on_cancel=lambda n=n: cleaned.append(f"w{n}")) for n in range(2)]
    with pytest.raises(QueueFullError, match="排队已满"):
        queue.submit("upload", "one too many", lambda stop: None)
    queue.cancel(waiting[0].job_id)
    assert waiting[0].state == "cancelled" and cleaned == ["w0"]
    with pytest.raises(JobCancelledError):
        waiting[0].future.result(timeout=1)
    queue.submit("upload", "room again", lambda stop: "ok")  # a cancelled job frees its place
    queue.cancel(waiting[1].job_id)
    release.set()
    assert blocker.future.result(timeout=10) is True
    queue.close()


def test_a_running_job_is_asked_to_stop() -> None:
    interrupted = threading.Event()
    queue = WriteQueue(4, interrupted.set)

    def work(stop: threading.Event) -> None:
        assert stop.wait(10)
        raise RuntimeError("stopped")

    job = queue.submit("reindex", "re-index", work)
    while job.state != "running":
        time.sleep(0.01)
    queue.cancel(job.job_id)
    with pytest.raises(RuntimeError):
        job.future.result(timeout=10)
    assert job.state == "cancelled" and interrupted.is_set()
    queue.close()


# ------------------------------------------------------------------ a real server


def _request(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 120) -> tuple[int, Any, float]:
    started = time.monotonic()
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    elapsed = time.monotonic() - started
    try:
        return status, json.loads(raw), elapsed
    except ValueError:
        return status, raw.decode("utf-8", "replace"), elapsed


def _upload(url: str, name: str, text: str, wait: bool = True) -> tuple[int, Any, float]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ).encode()
    return _request(f"{url}/api/documents?wait={str(wait).lower()}", "POST", body,
                    {"Content-Type": f"multipart/form-data; boundary={boundary}"}, timeout=300)


def _parse_worker_of(port: int) -> int:
    """The pid of the parse worker the server on ``port`` started."""
    server = next(pid for pid in _pids() if f"--port\0{port}\0" in _cmdline(pid))
    return next(pid for pid in _pids() if "ingest.worker" in _cmdline(pid) and f"\0{server}\0" in _cmdline(pid))


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""


@pytest.fixture
def server(copy_home: Path) -> Iterator[tuple[str, int, Path]]:
    env = {**os.environ, "ZHIKU_HOME": str(copy_home), "GRADIO_ANALYTICS_ENABLED": "False"}
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-corpus"]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/api/health", copy_home / "serve.log", timeout=180, env=env, cwd=ROOT):
        yield url, port, copy_home


@pytest.mark.slow
def test_a_hung_upload_and_fifty_queued_writes_never_stop_answering(server: tuple[str, int, Path]) -> None:
    url, port, home = server
    status, first, _ = _upload(url, "校历.txt", "2024学年校历\n\n第一学期九月二日开学，一月十七日放假。\n")
    assert status == 200, first
    worker = _parse_worker_of(port)
    os.kill(worker, signal.SIGSTOP)  # the parser hangs, as on a file that makes it loop
    try:
        status, hung, _ = _upload(url, "挂起.txt", "这份文件的解析不会结束。\n", wait=False)
        assert status == 202 and hung["job"]["state"] in ("queued", "running")
        hung_id = hung["job"]["id"]
        with ThreadPoolExecutor(50) as pool:
            waiting = [
                pool.submit(_upload, url, f"通知{n}.txt", f"第{n}号通知\n\n第{n}号通知要求各部门于{n}日前报送材料。\n")
                for n in range(50)
            ]
            deadline = time.monotonic() + 60
            while True:
                _, jobs, _ = _request(f"{url}/api/jobs")
                states = [job["state"] for job in jobs]
                if states.count("queued") == 50 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert states.count("running") == 1 and states.count("queued") == 50, states

            status, health, health_s = _request(f"{url}/api/health")
            assert status == 200 and health["ok"], health
            question = json.dumps({"question": "2020年新生报到率是多少？"}).encode()
            status, answer, ask_s = _request(f"{url}/api/ask", "POST", question, {"Content-Type": "application/json"})
            assert status == 200 and "92.12%" in answer["text"]
            status, page, page_s = _request(f"{url}/")
            assert status == 200 and "<html" in str(page).lower()
            assert max(health_s, ask_s, page_s) < 2.0, (health_s, ask_s, page_s)

            status, cancelling, _ = _request(f"{url}/api/jobs/{hung_id}", "DELETE")
            assert status == 200 and cancelling["id"] == hung_id
            results = [future.result(timeout=600) for future in waiting]
        assert all(status == 200 for status, _, _ in results), [r for r in results if r[0] != 200][:2]
        _, hung_job, _ = _request(f"{url}/api/jobs/{hung_id}")
        assert hung_job["state"] == "cancelled" and "已取消" in (hung_job["error"] or "")
    finally:
        if Path(f"/proc/{worker}").exists():
            os.kill(worker, signal.SIGKILL)
    _, documents, _ = _request(f"{url}/api/documents")
    names = {row["file"] for row in documents}
    assert {f"通知{n}.txt" for n in range(50)} <= names and "挂起.txt" not in names
    index = open_index(Settings(home=home))
    try:
        assert index.check() == []
    finally:
        index.close()
