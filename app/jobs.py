"""The library's write queue: uploads, removals and re-indexing run one at a time on their own
thread, so no write holds a server thread while it waits or works.

A request that writes submits a job and either waits for it without holding a thread (the API
awaits the job's future) or returns at once with the job's id. The queue is bounded: past
``capacity`` waiting jobs a submit is refused with ``QueueFullError`` (the API's 503), instead of
piling up requests until the server stops answering. A waiting job can be cancelled outright; a
running one is asked to stop (its parse is killed, nothing more is embedded, nothing it had not
committed stays).
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import ZhikuError

JobState = str  # queued | running | done | failed | cancelled
KEEP_FINISHED = 100  # finished jobs still listed


class QueueFullError(ZhikuError):
    """Too many library writes are waiting; try again later."""


class UnknownJobError(ZhikuError):
    """No job with that id."""


class JobCancelledError(ZhikuError):
    """The job was cancelled before it finished."""


@dataclass
class WriteProgress:
    """Where a running write is, for people: files read, the pages of the one being read, chunks
    embedded. ``chunks_total`` counts the chunks of the files read so far, so it grows while
    files are parsed; the rate and the time left are measured over the embedding itself."""

    phase: str = "queued"  # queued | parse | ocr | embed | done
    files_done: int = 0
    files_total: int = 0
    page: int = 0
    pages: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    embed_started: float | None = None
    embed_seconds: float = 0.0  # time spent embedding, summed over batches (parsing between them excluded)
    _batch_started: float | None = field(default=None, repr=False)

    def file_done(self) -> None:
        """One more file read (the index's ``on_file``); the next one is being read now."""
        self.files_done += 1
        self.page = self.pages = 0
        self.phase = "parse"

    def on_page(self, number: int, pages: int, ocr: bool) -> None:
        self.phase = "ocr" if ocr else "parse"
        self.page, self.pages = number, pages

    def stage(self, stage: str, count: int) -> None:
        """The index's ``on_stage``: a file read into ``count`` chunks (``parsed``), or a batch of
        ``count`` chunks starting to embed (``embed``)."""
        if stage == "parsed":
            self.chunks_total += count
        elif stage == "embed":
            self.phase = "embed"
            self._batch_started = time.monotonic()
            self.embed_started = self.embed_started or time.time()

    def embedded(self, count: int) -> None:
        """``count`` more chunks embedded (the index's ``on_embedded``)."""
        now = time.monotonic()
        if self._batch_started is not None:
            self.embed_seconds += now - self._batch_started
        self._batch_started = now
        self.chunks_done += count
        self.chunks_total = max(self.chunks_total, self.chunks_done)

    @property
    def rate(self) -> float | None:
        """Chunks embedded per second, once there is something to measure."""
        return self.chunks_done / self.embed_seconds if self.embed_seconds > 0.5 and self.chunks_done else None

    @property
    def seconds_left(self) -> float | None:
        """Time to embed the chunks read so far and not yet embedded, at the measured rate."""
        rate = self.rate
        return None if rate is None else max(0.0, (self.chunks_total - self.chunks_done) / rate)

    def describe(self) -> str:
        """One line in Chinese: 「文件 1/3 · OCR 识别第 2/8 页 · 嵌入 320/657 个片段（每秒 41 个，约剩 8 秒）」."""
        parts = [f"文件 {min(self.files_done + 1, self.files_total)}/{self.files_total}"] if self.files_total else []
        if self.phase in ("parse", "ocr") and self.pages:
            parts.append(f"{'OCR 识别' if self.phase == 'ocr' else '读取'}第 {self.page}/{self.pages} 页")
        if self.chunks_total:
            embed = f"嵌入 {self.chunks_done}/{self.chunks_total} 个片段"
            if self.rate is not None and self.seconds_left is not None:
                embed += f"（每秒 {self.rate:.0f} 个，约剩 {_duration(self.seconds_left)}）"
            parts.append(embed)
        return " · ".join(parts) or {"queued": "排队中", "done": "完成"}.get(self.phase, "处理中")

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase, "files_done": self.files_done, "files_total": self.files_total,
            "page": self.page, "pages": self.pages, "chunks_done": self.chunks_done, "chunks_total": self.chunks_total,
            "rate": None if self.rate is None else round(self.rate, 2),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
            "text": self.describe(),
        }


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} 秒" if seconds < 60 else f"{seconds // 60} 分 {seconds % 60} 秒"


@dataclass
class Job:
    """One library write as ``GET /api/jobs`` shows it."""

    job_id: str
    kind: str  # upload | remove | reindex
    label: str  # what it is about, for people: file names, a title
    state: JobState = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    future: Future[Any] = field(default_factory=Future, repr=False)
    stop: threading.Event = field(default_factory=threading.Event, repr=False)  # set to cancel it running
    on_cancel: Callable[[], None] | None = field(default=None, repr=False)  # cleanup of a job never run
    progress: WriteProgress = field(default_factory=WriteProgress)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.job_id, "kind": self.kind, "label": self.label, "state": self.state,
            "created": self.created, "started": self.started, "finished": self.finished, "error": self.error,
            "progress": self.progress.to_dict(),
        }


class WriteQueue:
    """Jobs run in submission order on one thread. A job's work gets the job's ``stop`` event,
    set when it is cancelled while running (it should then raise); ``stop_running`` is called
    too, to interrupt what the work may be blocked in (a parse)."""

    def __init__(self, capacity: int, stop_running: Callable[[], None]) -> None:
        self.capacity = capacity
        self._stop_running = stop_running
        self._waiting: collections.deque[tuple[Job, Callable[[threading.Event], Any]]] = collections.deque()
        self._jobs: dict[str, Job] = {}
        self._running: Job | None = None
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="zhiku-writer", daemon=True)
        self._thread.start()

    def submit(
        self,
        kind: str,
        label: str,
        work: Callable[[threading.Event], Any],
        on_cancel: Callable[[], None] | None = None,
        progress: WriteProgress | None = None,
    ) -> Job:
        """Queue ``work``; its result (or error) is the job's future's. ``progress`` is what the
        work reports its progress into (shown with the job)."""
        with self._condition:
            if self._closed:
                raise QueueFullError("服务正在关闭，暂不接受写入 (the server is shutting down)")
            if len(self._waiting) >= self.capacity:
                raise QueueFullError(
                    f"资料库写入排队已满（{self.capacity} 个任务在等待），请稍后再试 "
                    f"(the write queue is full: {self.capacity} jobs waiting; retry later)"
                )
            job = Job(secrets.token_hex(6), kind, label, on_cancel=on_cancel, progress=progress or WriteProgress())
            self._jobs[job.job_id] = job
            self._waiting.append((job, work))
            self._forget_old()
            self._condition.notify()
        return job

    def job(self, job_id: str) -> Job:
        with self._condition:
            if job_id not in self._jobs:
                raise UnknownJobError(f"没有这个任务 {job_id} (no such job)")
            return self._jobs[job_id]

    def jobs(self) -> list[Job]:
        with self._condition:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def cancel(self, job_id: str) -> Job:
        """Cancel a waiting job, or ask the running one to stop; a finished one stays as it is."""
        with self._condition:
            job = self.job(job_id)
            if job.state == "queued":
                self._waiting = collections.deque(entry for entry in self._waiting if entry[0] is not job)
                self._finish(job, "cancelled", error="已取消 (cancelled)")
                job.future.set_exception(JobCancelledError(f"任务已取消 (job cancelled): {job.label}"))
                cleanup = job.on_cancel
            elif job.state == "running":
                job.error = "正在取消 (cancelling)"
                job.stop.set()
                cleanup = None
                self._stop_running()
            else:
                return job
        if cleanup is not None:
            cleanup()
        return job

    def close(self) -> None:
        """Cancel what waits, stop what runs, and end the thread."""
        with self._condition:
            self._closed = True
            waiting = [job for job, _ in self._waiting]
        for job in waiting:
            self.cancel(job.job_id)
        with self._condition:
            if self._running is not None:
                self._running.stop.set()
                self._stop_running()
            self._condition.notify_all()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._waiting and not self._closed:
                    self._condition.wait()
                if not self._waiting:
                    return
                job, work = self._waiting.popleft()
                job.state, job.started, self._running = "running", time.time(), job
            try:
                result = work(job.stop)
            except BaseException as error:  # every outcome belongs to the job's waiter
                with self._condition:
                    cancelled = job.stop.is_set()
                    self._finish(job, "cancelled" if cancelled else "failed", error=str(error) or type(error).__name__)
                job.future.set_exception(error)
            else:
                with self._condition:
                    self._finish(job, "done")
                job.future.set_result(result)

    def _finish(self, job: Job, state: JobState, error: str | None = None) -> None:
        job.state, job.finished, job.error = state, time.time(), error
        if self._running is job:
            self._running = None

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished is not None]
        for job in sorted(finished, key=lambda j: j.finished or 0.0)[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.job_id]
