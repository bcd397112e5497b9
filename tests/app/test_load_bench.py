"""bench/load.py without a server: loopback-only URLs, bounds, answer checks, figures, and a real run on a stub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.load import Outcome, judge, loopback_url, main, percentile, run_load, summarize


def test_loopback_url_accepts_only_loopback_hosts() -> None:
    assert loopback_url("http://127.0.0.1:7860/") == "http://127.0.0.1:7860"
    assert loopback_url("http://localhost:8000") == "http://localhost:8000"
    assert loopback_url("http://[::1]:8000") == "http://[::1]:8000"
    remote = ("http://10.0.0.5:7860", "http://example.com", "http://127.0.0.1.example.com", "ftp://127.0.0.1", "127.0.0.1:7860")
    for bad in remote:
        with pytest.raises(ValueError):
            loopback_url(bad)


def test_main_refuses_remote_urls_and_unbounded_runs(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--url", "http://192.168.1.2:7860"], ["--clients", "65"], ["--clients", "0"], ["--seconds", "601"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
    assert "loopback" in capsys.readouterr().err


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51.0  # round(0.5 * 99) = 50 -> the 51st value
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.95) == 3.0


def test_judge_needs_text_and_citations() -> None:
    ok = judge(200, json.dumps({"text": "答", "citations": [], "refused": True}).encode(), 0.1)
    assert ok.error is None and ok.refused
    assert judge(200, b'{"text": "only text"}', 0.1).error
    assert judge(200, b"<html>", 0.1).error
    assert judge(500, b'{"error": "x"}', 0.1).error


def test_summarize_counts_errors_and_measures_only_good_answers() -> None:
    outcomes = [Outcome(0.1, 200), Outcome(0.3, 200, refused=True), Outcome(120.0, None, "TimeoutError: timed out")]
    figures = summarize(outcomes, clients=2, seconds=1, wall=1.5)
    assert figures["requests"] == 3 and figures["ok"] == 2 and figures["errors"] == 1 and figures["refused"] == 1
    assert figures["latency_max_s"] == 0.3 and figures["throughput_rps"] == 2.0
    assert figures["first_errors"] == ["TimeoutError: timed out"]


class StubApi(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        question = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["question"]
        if self.headers.get("Authorization") != "Bearer t0k":
            self.reply(401, {"error": "token"})
        elif question == "坏":
            self.reply(200, {"text": "no citations"})
        else:
            self.reply(200, {"question": question, "text": "答", "citations": [], "refused": question == "拒"})

    def reply(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubApi)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_run_load_against_a_stub_server(stub: str) -> None:
    tally, wall = run_load(stub, ["问", "拒", "坏"], clients=3, seconds=0.2, token="t0k")
    figures = summarize(tally.outcomes, 3, 0.2, wall)
    assert figures["requests"] >= 3 and wall >= 0.2
    assert figures["refused"] > 0 and figures["errors"] > 0
    assert all("no text/citations" in e for e in figures["first_errors"])

    unauthorised, _ = run_load(stub, ["问"], clients=1, seconds=0.05, token=None)
    assert unauthorised.outcomes and all(o.status == 401 and o.error for o in unauthorised.outcomes)
