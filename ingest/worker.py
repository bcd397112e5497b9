"""Parsing in a worker process, bounded in time and memory.

Parsers are large C and Python libraries fed files from strangers: a page of 100 000 nested
elements, a .docx that unpacks to gigabytes, a PDF that makes pdfminer loop. Each file is
therefore parsed (``ingest.pipeline.ingest_file``) by a child process, ``python -m
ingest.worker``, which the writer keeps for many files. Requests and replies travel over its
pipes as length-prefixed pickles; before its reply the child reports each PDF page it finished
(``("page", number, total, ocr)``), which the parent passes on as progress. The parent waits at
most ``timeout_s`` for the reply or the next page and watches the child's resident memory; a
child over either limit, or cancelled, is killed, the file fails with a message that says which
limit it hit, and the next file gets a fresh child.
The child only returns records: whatever happens to it, nothing of the file is stored.

The child also limits its own data segment (``RLIMIT_DATA``) to the memory limit, so an
allocation too fast for the parent's watch fails inside it as ``MemoryError``, and it dies
with its parent (``PR_SET_PDEATHSIG``) so a killed server leaves no parser running.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, ClassVar

from ingest import errors
from ingest.chunk import Chunker
from ingest.errors import UnreadableDocumentError, ZhikuError
from ingest.pipeline import IngestResult
from ingest.records import PageProgress, ParseLimits

_HEADER = struct.Struct("!Q")
_POLL_S = 0.05  # how often the parent looks at the child's memory while it waits


class ParseLimitError(UnreadableDocumentError):
    """A file's parse went past a limit (time, memory) or was cancelled; nothing was stored."""


# The parent's pipes to the child are unbuffered: it waits for the child with select() on the
# pipe itself, and a buffered reader that read a page message could hold the reply sent right
# behind it where select() never sees it, so the parent would wait out the time limit.
PIPE_BUFFERING = 0


def _send(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:  # an unbuffered pipe may take part of a large message per write
        written = stream.write(data)
        data = data[written if written is not None else 0 :]
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes, or fewer at the end of the stream (an unbuffered read may return less)."""
    parts = []
    while size > 0:
        part = stream.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _receive(stream: IO[bytes]) -> Any:
    header = _read_exactly(stream, _HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    payload = _read_exactly(stream, size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)


def _resident_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory (``VmHWM``: its peak) in MB, 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


class ParseWorker:
    """A child process that parses files for this process's writers, one file at a time.

    ``parse`` is thread-safe (calls queue on a lock); ``cancel`` from another thread kills the
    parse in progress. ``peak_mb`` is the highest resident memory a child reached.
    """

    _shared: ClassVar[dict[ParseLimits, ParseWorker]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, limits: ParseLimits | None = None) -> None:
        self.limits = limits or ParseLimits()
        self.peak_mb = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    @classmethod
    def shared(cls, limits: ParseLimits | None = None) -> ParseWorker:
        """One worker per set of limits in this process (each Index that writes uses it)."""
        limits = limits or ParseLimits()
        with cls._shared_lock:
            if limits not in cls._shared:
                cls._shared[limits] = cls(limits)
            return cls._shared[limits]

    @property
    def pid(self) -> int | None:
        """The child's process id while one runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def parse(
        self,
        path: Path,
        chunker: Chunker,
        timings: dict[str, float] | None = None,
        on_page: PageProgress | None = None,
    ) -> IngestResult:
        """``ingest_file(path, chunker)`` in the child, ``on_page`` told of each PDF page it read.
        Raises the parse's own ``ZhikuError``, or ``ParseLimitError`` when it went past a limit or
        was cancelled."""
        with self._lock:
            self._cancelled.clear()
            process = self._start()
            assert process.stdin is not None and process.stdout is not None
            try:
                _send(process.stdin, (str(path), chunker, self.limits))
            except OSError:
                self._stop()
                process = self._start()
                assert process.stdin is not None
                _send(process.stdin, (str(path), chunker, self.limits))
            reply = self._wait(process, path, on_page)
        kind, *rest = reply
        if kind == "ok":
            result, spent = rest
            if timings is not None:
                for stage, seconds in spent.items():
                    timings[stage] = timings.get(stage, 0.0) + seconds
            return result
        error_type, message = rest
        if kind == "memory":
            self._stop()  # a child that ran out of memory may be left in any state
            raise ParseLimitError(self._memory_message(path))
        cls = getattr(errors, error_type, None)
        if isinstance(cls, type) and issubclass(cls, ZhikuError):
            raise cls(message)
        raise ZhikuError(message)

    def _wait(self, process: subprocess.Popen[bytes], path: Path, on_page: PageProgress | None) -> Any:
        assert process.stdout is not None
        deadline = time.monotonic() + self.limits.timeout_s
        while True:
            ready, _, _ = select.select([process.stdout], [], [], _POLL_S)
            resident = _resident_mb(process.pid)
            self.peak_mb = max(self.peak_mb, _resident_mb(process.pid, "VmHWM"), resident)
            if ready:
                reply = _receive(process.stdout)
                if reply is None:  # the child died (a crash in a C library, killed from outside)
                    code = process.wait()
                    self._stop()
                    if self._cancelled.is_set():
                        raise ParseLimitError(f"已取消解析：{path.name} (parsing was cancelled)")
                    raise ParseLimitError(
                        f"解析进程意外退出（退出码 {code}），文件可能已损坏：{path.name} (the parser died on this file)"
                    )
                if reply[0] == "page":  # progress, not the reply: the time limit starts again
                    deadline = time.monotonic() + self.limits.timeout_s
                    if on_page is not None:
                        on_page(*reply[1:])
                    continue
                if resident > self.limits.memory_mb / 2:
                    self._stop()  # memory a parse took is not given back: start the next file afresh
                return reply
            if self._cancelled.is_set():
                self._stop()
                raise ParseLimitError(f"已取消解析：{path.name} (parsing was cancelled)")
            if resident > self.limits.memory_mb:
                self._stop()
                raise ParseLimitError(self._memory_message(path))
            if time.monotonic() > deadline:
                self._stop()
                limit = self.limits.timeout_s
                raise ParseLimitError(
                    f"解析超时：{path.name} 超过 {limit:.0f} 秒没有进展，已停止（设置 parse_timeout_s） "
                    f"(parsing made no progress for {limit:.0f} s and was stopped; setting parse_timeout_s)"
                )

    def _memory_message(self, path: Path) -> str:
        limit = self.limits.memory_mb
        return (
            f"解析内存超限：{path.name} 需要超过 {limit} MB 内存，已停止（设置 parse_memory_mb） "
            f"(parsing needed over {limit} MB and was stopped; setting parse_memory_mb)"
        )

    def cancel(self) -> None:
        """Stop the parse in progress (from another thread); the next one gets a fresh child."""
        self._cancelled.set()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "ingest.worker", str(os.getpid()), str(self.limits.memory_mb)]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=PIPE_BUFFERING
        )
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies; elsewhere the pipe's end does."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        sys.exit(0)  # the parent died before the request was made


def _limit_memory(memory_mb: int) -> None:
    with contextlib.suppress(Exception):
        import resource

        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


_replies: IO[bytes] | None = None  # the child's reply pipe, for progress before the reply


def _reply_to(request: tuple[str, Chunker, ParseLimits]) -> tuple[Any, ...]:
    from ingest.pipeline import ingest_file

    path, chunker, limits = request
    timings: dict[str, float] = {}

    def tell(number: int, total: int, ocr: bool) -> None:
        if _replies is not None:
            _send(_replies, ("page", number, total, ocr))

    try:
        result = ingest_file(Path(path), chunker, timings=timings, limits=limits, on_page=tell)
    except MemoryError:
        return ("memory", "MemoryError", "")
    except ZhikuError as error:
        return ("error", type(error).__name__, str(error))
    except RecursionError:
        return ("error", "UnreadableDocumentError",
                f"文件结构嵌套过深，无法解析：{Path(path).name} (the file nests too deep to parse)")
    except Exception as error:  # a parser's own bug on a strange file: one file fails, not the writer
        return ("error", "ZhikuError", f"内部错误 internal error: {error!r}")
    return ("ok", result, timings)


def main(argv: list[str], serve: Callable[[tuple[str, Chunker, ParseLimits]], tuple[Any, ...]] = _reply_to) -> None:
    """The child's loop: read a request, parse, reply; end when the parent closes the pipe."""
    parent, memory_mb = int(argv[0]), int(argv[1])
    _die_with(parent)
    global _replies
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    _replies = replies
    sys.stdout = sys.stderr  # a library's stray print must not corrupt the reply pipe
    _limit_memory(memory_mb)
    while (request := _receive(requests)) is not None:
        _send(replies, serve(request))


if __name__ == "__main__":
    main(sys.argv[1:])
