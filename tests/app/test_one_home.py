"""The CLI and a running server on one ZHIKU_HOME: every write of either is seen by the other, a
re-index swaps its new collection in atomically, and a killed re-index leaves the old one serving.

Real processes throughout: ``zhiku serve`` as a server, ``zhiku ingest`` / ``zhiku reindex`` as
separate CLI processes, and questions over HTTP while they run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.services import open_index
from app.settings import Settings
from tests.servers import free_port, running

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# a document no shipped file resembles, so that its answer can only come from it
CANTEEN = "后勤服务公告\n\n学院第二食堂自下学期起每日早餐供应时间调整为六点四十分至八点十分，节假日照常供应。\n"
CANTEEN_QUESTION = "第二食堂早餐供应时间是几点到几点？"
REPORT_QUESTION = "清职院与哪家企业共建医学美容技术产业学院？"  # answered from 000 of corpus/
REPORT_ANSWER = "雅姬乐"


def _ask(url: str, question: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{url}/api/ask", data=json.dumps({"question": question}).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode("utf-8", "replace")}


def _cli(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZHIKU_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


class Asker:
    """Asks the same question over and over on a thread while something else runs."""

    def __init__(self, url: str, question: str) -> None:
        self.url, self.question = url, question
        self.results: list[tuple[int, dict[str, Any]]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.results.append(_ask(self.url, self.question))

    def __enter__(self) -> Asker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=120)


@pytest.fixture
def served(copy_home: Path) -> Iterator[tuple[str, Path]]:
    # 000 only (21 passages): the re-indexes below embed the whole library, and what they test
    # (the swap, the kill) does not grow with its size, so 001's 345 passages are removed first
    index = open_index(Settings(home=copy_home))
    try:
        assert index.remove(d.doc_id for d in index.resolve("001_235bd42144b22a26.txt")) == 1
    finally:
        index.close()
    env = {**os.environ, "ZHIKU_HOME": str(copy_home), "GRADIO_ANALYTICS_ENABLED": "False"}
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-corpus"]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/api/health", copy_home / "serve.log", timeout=180, env=env, cwd=ROOT):
        yield url, copy_home


def _collections(home: Path) -> set[str]:
    index = open_index(Settings(home=home))
    try:
        return {c.name for c in index.vectors._client.list_collections()}
    finally:
        index.close()


def test_cli_writes_beside_a_running_server_are_seen_and_never_break_it(served: tuple[str, Path], tmp_path: Path) -> None:
    url, home = served
    status, before = _ask(url, REPORT_QUESTION)
    assert status == 200 and REPORT_ANSWER in before["text"]
    canteen = tmp_path / "食堂公告.txt"
    canteen.write_text(CANTEEN, encoding="utf-8")

    # 1. `zhiku ingest` while the server answers: every ask answers, and the server sees the
    #    new document afterwards (dense and lexical), within seconds
    with Asker(url, REPORT_QUESTION) as asker:
        ingest = _cli(home, "ingest", str(canteen))
        output, _ = ingest.communicate(timeout=300)
        assert ingest.returncode == 0, output.decode()
    assert asker.results and all(s == 200 and REPORT_ANSWER in a["text"] for s, a in asker.results)
    status, answer = _ask(url, CANTEEN_QUESTION)
    assert status == 200, answer
    assert "六点四十分" in answer["text"]
    assert any(c["title"].startswith("后勤服务公告") or "食堂" in c["quote"] for c in answer["citations"])

    # 2. `zhiku reindex` while the server answers: the old collection serves until the new one
    #    is complete, then the server follows to it
    old = _collections(home)
    with Asker(url, CANTEEN_QUESTION) as asker:
        reindex = _cli(home, "reindex")
        output, _ = reindex.communicate(timeout=600)
        assert reindex.returncode == 0, output.decode()
    failures = [(s, a) for s, a in asker.results if s != 200 or "六点四十分" not in a["text"]]
    assert asker.results and not failures, failures[:2]
    new = _collections(home)
    assert len(new) == 1 and not new & old  # swapped in, the old one deleted
    status, answer = _ask(url, CANTEEN_QUESTION)
    assert status == 200 and "六点四十分" in answer["text"]

    # 3. a re-index killed midway: the collection in use keeps serving dense retrieval; the next
    #    write deletes what the killed one had built
    reindex = _cli(home, "reindex")
    deadline = time.monotonic() + 120
    while len(_collections(home)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_collections(home)) == 2, "the re-index never started building its collection"
    reindex.send_signal(signal.SIGKILL)
    reindex.wait()
    index = open_index(Settings(home=home))
    try:
        assert index.vectors.name in new
        assert index.vectors.count() == index.docstore.chunk_count()
        probe = index.embedder.encode_query(CANTEEN_QUESTION)
        hits = index.vectors.query(probe, 3)
        assert any(index.docstore.chunks([h.chunk_id])[h.chunk_id].doc_id in {d.doc_id for d in index.resolve("食堂公告.txt")}
                   for h in hits)
    finally:
        index.close()
    status, answer = _ask(url, CANTEEN_QUESTION)
    assert status == 200 and "六点四十分" in answer["text"]
    ingest = _cli(home, "ingest", str(canteen))  # unchanged: a write all the same, with its repair
    output, _ = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, output.decode()
    assert _collections(home) == new
