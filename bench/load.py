"""Load on the JSON API: N clients posting questions to ``POST /api/ask`` for a fixed time.

    .venv/bin/python bench/load.py [--home .zhiku-bench/retrieval] [--clients 20] [--seconds 60]
                                   [--questions eval/dev.jsonl] [--url http://127.0.0.1:7860] [--token T] [--out load.json]
                                   [--hostile-writes]

Without ``--url`` it starts ``zhiku serve --host 127.0.0.1 --no-corpus`` on a free port with
``ZHIKU_HOME=--home`` (indexing corpus/ there first when the folder has no index), waits for
``/api/health`` and stops the server at the end, whatever happens. ``--url`` targets a server
that is already running; only loopback addresses are accepted.

After one warm-up request, ``--clients`` threads (at most 64) each post the questions of the set
round-robin (each thread starting at its own offset) until ``--seconds`` (at most 600) have
passed; a request under way at that moment is finished and counted. Every request is timed on
the wall clock. An error is a non-200 status, a connection error or timeout, or a 200 whose JSON
lacks ``text`` or ``citations``. Prints requests, throughput, latency p50/p95/max of the good
answers, refusals and errors (writes the same figures to ``--out`` as JSON); exits 1 when any
request failed.

``--hostile-writes`` loads the library's writer at the same time: one thread uploads the hostile
files of ``bench/hostile.py`` (a page of 100 000 nested elements, a .docx of 4 million paragraphs,
one unpacking to 1 GiB, a 2000-page blank PDF, a PDF of glyph codes) and asks for a re-index,
round after round until the load ends; each write is listed with its outcome and time. Use it on
a server started here or on a copy of a library: the re-index rewrites its vectors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import hostile, percentile  # noqa: E402
from eval.dataset import load_items  # noqa: E402

MAX_CLIENTS = 64
MAX_SECONDS = 600
REQUEST_TIMEOUT = 120.0
HEALTH_TIMEOUT = 180.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
KEPT_ERRORS = 5

# Loopback traffic must never go through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def loopback_url(url: str) -> str:
    """The base URL without a trailing slash; ValueError unless it is http(s) on a loopback host."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.hostname.lower() not in LOOPBACK_HOSTS:
        raise ValueError(f"only loopback servers may be loaded ({', '.join(LOOPBACK_HOSTS)}), not {parts.hostname!r}")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def zhiku_command() -> list[str]:
    script = Path(sys.executable).parent / "zhiku"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "app"]


@dataclass(frozen=True)
class Outcome:
    seconds: float
    status: int | None  # None: no HTTP answer (connection error, timeout)
    error: str | None = None
    refused: bool = False


def ask(base: str, question: str, token: str | None) -> Outcome:
    """One ``POST /api/ask``, timed on the wall clock from sending to the parsed answer."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"question": question}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(f"{base}/api/ask", data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
            status = response.status
            raw = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:200]
        return Outcome(time.perf_counter() - started, error.code, f"HTTP {error.code}: {detail}")
    except (OSError, http.client.HTTPException) as error:  # URLError, refused/reset connections, timeouts, bad answers
        return Outcome(time.perf_counter() - started, None, f"{type(error).__name__}: {error}")
    elapsed = time.perf_counter() - started
    return judge(status, raw, elapsed)


def judge(status: int, raw: bytes, seconds: float) -> Outcome:
    if status != 200:
        return Outcome(seconds, status, f"HTTP {status}: {raw[:200].decode('utf-8', 'replace')}")
    try:
        answer = json.loads(raw)
    except ValueError:
        return Outcome(seconds, status, f"HTTP 200 but not JSON: {raw[:200].decode('utf-8', 'replace')!r}")
    if not isinstance(answer, dict) or not isinstance(answer.get("text"), str) or not isinstance(answer.get("citations"), list):
        return Outcome(seconds, status, f"HTTP 200 but no text/citations: {str(answer)[:200]}")
    return Outcome(seconds, status, refused=answer.get("refused") is True)


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def client(base: str, questions: Sequence[str], offset: int, deadline: float, token: str | None, tally: Tally) -> None:
    i = offset
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            outcome = ask(base, questions[i % len(questions)], token)
        except Exception as error:  # never lose a client thread silently: count it as an error
            outcome = Outcome(time.perf_counter() - started, None, f"{type(error).__name__}: {error}")
        tally.add(outcome)
        i += 1


def run_load(base: str, questions: Sequence[str], clients: int, seconds: float, token: str | None) -> tuple[Tally, float]:
    """Run the clients; returns the outcomes and the wall time from start until the last one finished."""
    tally = Tally()
    step = max(1, len(questions) // clients)
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=client, args=(base, questions, n * step, deadline, token, tally), name=f"client-{n}", daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - started


def summarize(outcomes: Sequence[Outcome], clients: int, seconds: float, wall: float) -> dict[str, Any]:
    good = [o.seconds for o in outcomes if o.error is None]
    errors = [o.error for o in outcomes if o.error is not None]
    return {
        "clients": clients,
        "seconds": seconds,
        "wall_seconds": round(wall, 3),
        "requests": len(outcomes),
        "ok": len(good),
        "throughput_rps": round(len(outcomes) / wall, 3) if wall > 0 else 0.0,
        "ok_throughput_rps": round(len(good) / wall, 3) if wall > 0 else 0.0,
        "latency_p50_s": round(percentile(good, 0.5), 4) if good else None,
        "latency_p95_s": round(percentile(good, 0.95), 4) if good else None,
        "latency_max_s": round(max(good), 4) if good else None,
        "refused": sum(1 for o in outcomes if o.error is None and o.refused),
        "errors": len(errors),
        "first_errors": errors[:KEPT_ERRORS],
    }


def report(figures: dict[str, Any]) -> str:
    def ms(key: str) -> str:
        value = figures[key]
        return "-" if value is None else f"{1000 * value:.0f} ms"

    lines = [
        f"clients {figures['clients']}, {figures['seconds']:g} s ({figures['wall_seconds']:.1f} s wall until the last answer)",
        f"requests {figures['requests']} ({figures['ok']} ok)   throughput {figures['throughput_rps']:.2f} req/s",
        f"latency (ok answers): p50 {ms('latency_p50_s')}   p95 {ms('latency_p95_s')}   max {ms('latency_max_s')}",
        f"refused {figures['refused']}   errors {figures['errors']}",
    ]
    lines += [f"  error: {message}" for message in figures["first_errors"]]
    return "\n".join(lines)


# --- hostile writes beside the load ------------------------------------------------------------


HOSTILE = {
    "nested.html": hostile.nested_html,
    "paragraphs.docx": hostile.docx_paragraph_bomb,
    "text-node.docx": hostile.docx_text_bomb,
    "blank.pdf": hostile.blank_pdf,
    "glyphs.pdf": hostile.glyph_code_pdf,
}


def write(base: str, token: str | None, path: str, body: bytes = b"", content_type: str | None = None) -> dict[str, Any]:
    """One write request that answers with a job (``?wait=false``); the JSON answer."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(f"{base}{path}", data=body, headers=headers, method="POST")
    try:
        with OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return {"error": f"HTTP {error.code}: {error.read()[:200].decode('utf-8', 'replace')}"}


def job_state(base: str, token: str | None, job_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{base}/api/jobs/{job_id}", headers=headers)
    with OPENER.open(request, timeout=REQUEST_TIMEOUT) as response:
        return dict(json.loads(response.read()))


def hostile_writes(base: str, token: str | None, deadline: float, folder: Path) -> list[dict[str, Any]]:
    """Upload each hostile file, then re-index, one write at a time, until ``deadline``."""
    files = {name: make(folder / name).read_bytes() for name, make in HOSTILE.items()}
    done: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        for name, data in [*files.items(), ("re-index", b"")]:
            if time.monotonic() >= deadline:
                break
            started = time.monotonic()
            if name == "re-index":
                answer = write(base, token, "/api/reindex?wait=false")
            else:
                boundary = os.urandom(12).hex()
                body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                        "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
                answer = write(base, token, "/api/documents?wait=false", body, f"multipart/form-data; boundary={boundary}")
            if "job" not in answer:
                done.append({"write": name, "state": "refused", "seconds": round(time.monotonic() - started, 2),
                             "message": answer.get("error", "")})
                continue
            job = answer["job"]
            while job["state"] in ("queued", "running"):
                time.sleep(0.5)
                job = job_state(base, token, job["id"])
            files = job.get("files", [])
            messages = [f.get("message", "") for f in files] or [job.get("error") or ""]
            state = "/".join(f.get("outcome", "") for f in files) or job["state"]  # a file's own outcome
            done.append({"write": name, "state": state, "seconds": round(time.monotonic() - started, 2),
                         "message": "; ".join(messages)[:160]})
    return done


# --- the server under test -------------------------------------------------------------------


def ensure_index(home: Path) -> None:
    if (home / "docstore.sqlite3").exists():
        return
    print(f"no index in {home}: building it with `zhiku ingest corpus/` first ...", flush=True)
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ZHIKU_HOME": str(home)}
    subprocess.run([*zhiku_command(), "ingest", str(ROOT / "corpus")], cwd=ROOT, env=env, check=True)


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


class Server:
    """``zhiku serve`` as a child process in its own session; ``stop`` always ends it."""

    def __init__(self, home: Path, port: int, token: str | None) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = Path(tempfile.mkstemp(prefix="zhiku-load-server-", suffix=".log")[1])
        env = {**os.environ, "ZHIKU_HOME": str(home)}
        if token:
            env["ZHIKU_API_TOKEN"] = token
        command = [*zhiku_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-corpus"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}; its output ends:\n{tail(self.log)}")
            try:
                with OPENER.open(f"{self.base}/api/health", timeout=5) as response:
                    health = json.loads(response.read())
                if isinstance(health, dict) and health.get("ok"):
                    return health
                last = f"unexpected health answer: {health}"
            except (OSError, ValueError) as error:
                last = f"{type(error).__name__}: {error}"
            time.sleep(0.5)
        raise RuntimeError(f"the server was not healthy after {timeout:.0f} s ({last}); its output ends:\n{tail(self.log)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.unlink(missing_ok=True)

    def signal(self, number: int) -> None:
        try:
            os.killpg(self.process.pid, number)  # its own session: the server and anything it started
        except (ProcessLookupError, PermissionError):
            self.process.send_signal(number)


# --- main --------------------------------------------------------------------------------------


def interrupt(number: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {number}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=str(ROOT / ".zhiku-bench" / "retrieval"), help="ZHIKU_HOME of the server started")
    parser.add_argument("--clients", type=int, default=20, help=f"concurrent clients (1..{MAX_CLIENTS})")
    parser.add_argument("--seconds", type=float, default=60.0, help=f"how long to send requests (up to {MAX_SECONDS})")
    parser.add_argument("--questions", default=str(ROOT / "eval" / "dev.jsonl"), help="JSONL question set")
    parser.add_argument("--url", help="load this running server (loopback only) instead of starting one")
    parser.add_argument("--token", default=os.environ.get("ZHIKU_API_TOKEN"), help="API token (default: $ZHIKU_API_TOKEN)")
    parser.add_argument("--port", type=int, help="port of the server started (default: a free one)")
    parser.add_argument("--out", help="also write the figures to this JSON file")
    parser.add_argument("--hostile-writes", action="store_true",
                        help="upload hostile files and re-index throughout the load (see above)")
    args = parser.parse_args(argv)

    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be 1..{MAX_CLIENTS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be more than 0 and at most {MAX_SECONDS}")
    if args.url:
        try:
            base = loopback_url(args.url)
        except ValueError as error:
            parser.error(f"--url: {error}")
    items, problems = load_items(Path(args.questions))
    questions = [item.question for item in items]
    if problems:
        print(f"{args.questions}: {len(problems)} bad lines skipped", file=sys.stderr)
    if not questions:
        print(f"no questions in {args.questions}", file=sys.stderr)
        return 2

    server: Server | None = None
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, interrupt) if on_main_thread else None  # `kill` must still stop the server
    try:
        if not args.url:
            home = Path(args.home).resolve()
            ensure_index(home)
            server = Server(home, args.port or free_port(), args.token)
            print(f"starting zhiku serve on {server.base} (ZHIKU_HOME={home}) ...", flush=True)
            started = time.perf_counter()
            health = server.wait_healthy()
            print(f"healthy after {time.perf_counter() - started:.1f} s: {health}", flush=True)
            base = server.base

        warm = ask(base, questions[0], args.token)
        if warm.error:
            print(f"warm-up request failed after {warm.seconds:.1f} s: {warm.error}", file=sys.stderr)
            return 1
        print(f"warm-up answered in {1000 * warm.seconds:.0f} ms; {args.clients} clients for {args.seconds:g} s "
              f"over {len(questions)} questions ...", flush=True)

        writes: list[dict[str, Any]] = []
        writer = None
        if args.hostile_writes:
            scratch = Path(tempfile.mkdtemp(prefix="zhiku-hostile-"))
            deadline = time.monotonic() + args.seconds
            writer = threading.Thread(target=lambda: writes.extend(hostile_writes(base, args.token, deadline, scratch)),
                                      name="hostile-writes", daemon=True)
            writer.start()
        tally, wall = run_load(base, questions, args.clients, args.seconds, args.token)
        if writer is not None:
            writer.join(timeout=REQUEST_TIMEOUT * 5)
        figures = {"url": base, "questions": len(questions), **summarize(tally.outcomes, args.clients, args.seconds, wall)}
        if args.hostile_writes:
            figures["writes"] = writes
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(str(error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            server.stop()
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)

    print(report(figures))
    for entry in figures.get("writes", []):
        print(f"  write {entry['write']:<16} {entry['state']:<9} {entry['seconds']:>6.1f} s  {entry['message']}")
    if args.out:
        Path(args.out).write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
