"""Parsing in a worker process: a parse past its time limit, cancelled, or whose process dies is
stopped with a message saying so, and the next file parses in a fresh process."""

from __future__ import annotations

import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.chunk import Chunker
from ingest.records import ParseLimits
from ingest.worker import PIPE_BUFFERING, ParseLimitError, ParseWorker

TEXT = "学生资助管理办法\n\n第一条 为规范学生资助工作，制定本办法。\n第二条 资助对象为全日制在校学生。\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(TEXT, encoding="utf-8")
    second.write_text(TEXT.replace("学生资助", "校园安全"), encoding="utf-8")
    return first, second


@pytest.fixture
def worker() -> Iterator[ParseWorker]:
    parser = ParseWorker(ParseLimits(timeout_s=3))
    yield parser
    parser.close()


def _hang(worker: ParseWorker, path: Path) -> int:
    """Parse ``path`` once (the child starts), then stop the child as a hung parser would be."""
    worker.parse(path, Chunker())
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    return pid


def test_a_file_parses_in_a_child_process(worker: ParseWorker, files: tuple[Path, Path]) -> None:
    timings: dict[str, float] = {}
    result = worker.parse(files[0], Chunker(), timings)
    assert result.document.title == "学生资助管理办法"
    assert result.chunks and set(timings) == {"load", "clean", "chunk"}
    assert worker.pid not in (None, os.getpid())


def test_a_hung_parse_is_stopped_at_its_time_limit_and_the_next_file_parses(
    worker: ParseWorker, files: tuple[Path, Path]
) -> None:
    hung = _hang(worker, files[0])
    started = time.monotonic()
    with pytest.raises(ParseLimitError, match=r"解析超时.*parse_timeout_s"):
        worker.parse(files[1], Chunker())
    assert 3 <= time.monotonic() - started < 10
    assert worker.pid is None and not Path(f"/proc/{hung}").exists()  # killed and reaped
    assert worker.parse(files[1], Chunker()).document.title == "校园安全管理办法"


def test_a_parse_is_cancelled_from_another_thread(worker: ParseWorker, files: tuple[Path, Path]) -> None:
    _hang(worker, files[0])
    threading.Timer(0.5, worker.cancel).start()
    started = time.monotonic()
    with pytest.raises(ParseLimitError, match="已取消"):
        worker.parse(files[1], Chunker())
    assert time.monotonic() - started < 2.5
    assert worker.parse(files[1], Chunker()).chunks


def test_a_parser_that_dies_fails_its_file_only(worker: ParseWorker, files: tuple[Path, Path]) -> None:
    worker.parse(files[0], Chunker())
    pid = worker.pid
    assert pid is not None
    threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
    os.kill(pid, signal.SIGSTOP)
    with pytest.raises(ParseLimitError, match="解析进程意外退出"):
        worker.parse(files[1], Chunker())
    assert worker.parse(files[1], Chunker()).chunks


def test_a_parse_error_comes_back_as_its_own_kind(worker: ParseWorker, tmp_path: Path) -> None:
    from ingest.errors import UnsupportedFormatError

    sheet = tmp_path / "成绩.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormatError, match="Excel"):
        worker.parse(sheet, Chunker())



def test_a_reply_sent_right_behind_a_page_message_is_read_at_once(worker: ParseWorker) -> None:
    # A child that writes a page's progress and its reply in one write, as a one-page PDF's parse
    # can: both reach the parent's pipe together, and the reply must not wait out the time limit
    # (it once did, when a buffered reader took both and select() saw nothing more to read).
    page, reply = pickle.dumps(("page", 1, 1, False)), pickle.dumps(("error", "ZhikuError", "无法解码"))
    data = b"".join(struct.pack("!Q", len(p)) + p for p in (page, reply))
    child = subprocess.Popen(
        # and then waits for the next request, as the worker does (an exited child's pipe would end)
        [sys.executable, "-c", f"import os, time; os.write(1, {data!r}); time.sleep(30)"],
        stdout=subprocess.PIPE, bufsize=PIPE_BUFFERING,
    )
    pages: list[tuple[int, int, bool]] = []
    try:
        started = time.monotonic()
        answer = worker._wait(child, Path("one-page.pdf"), lambda *p: pages.append(p))
        waited = time.monotonic() - started
    finally:
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    assert answer == ("error", "ZhikuError", "无法解码")
    assert pages == [(1, 1, False)]
    assert waited < worker.limits.timeout_s / 2
