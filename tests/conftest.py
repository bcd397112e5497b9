"""Shared fixtures: paths to the shipped corpus and the test fixtures, the index of two corpus
reports that the app tests serve, and the corpus index the tests can share with the eval gate."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_CORPUS_HOME = "ZHIKU_TEST_CORPUS_HOME"
HEARTBEAT_S = float(os.environ.get("ZHIKU_TEST_HEARTBEAT_S", "30"))


class _Heartbeat:
    """A line every ``HEARTBEAT_S`` seconds for as long as the suite runs: how many tests are done
    and which one runs (with its fixtures: an index built once, a browser walk), so a log read line
    by line never goes quiet for minutes (pytest's dots stay on one line until it is full)."""

    def __init__(self, config: pytest.Config) -> None:
        self.capture = config.pluginmanager.getplugin("capturemanager")
        self.total = 0
        self.done = 0
        self.current = ""
        self.since = time.monotonic()
        self.stop = threading.Event()
        threading.Thread(target=self.run, name="test-heartbeat", daemon=True).start()

    def run(self) -> None:
        while not self.stop.wait(HEARTBEAT_S):
            if not self.current:
                continue
            line = (f"\n  … [{self.done}/{self.total}] {self.current} 运行中 "
                    f"(running, {time.monotonic() - self.since:.0f} s)\n")
            # past pytest's capture of the tests' own output, to the terminal or the log
            with self.capture.global_and_fixture_disabled() if self.capture else contextlib.nullcontext():
                sys.stderr.write(line)
                sys.stderr.flush()


_heartbeat: _Heartbeat | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _heartbeat
    _heartbeat = _Heartbeat(session.config)


def pytest_collection_finish(session: pytest.Session) -> None:
    if _heartbeat is not None:
        _heartbeat.total = len(session.items)


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _heartbeat is not None:
        _heartbeat.current, _heartbeat.since = nodeid, time.monotonic()


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _heartbeat is not None:
        _heartbeat.done += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _heartbeat is not None:
        _heartbeat.stop.set()


REPORTS = [CORPUS / "000_1945969dfabc08b4.txt", CORPUS / "001_235bd42144b22a26.txt"]


@pytest.fixture(scope="session")
def reports_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with 000 (产业学院 report) and 001 (清远 quality report, the 92.12% row) indexed
    with the CLI's defaults, built once per run. Tests that change it work on a copy
    (tests/app/conftest.py::copy_home); the five seeds' index starts from it
    (tests/index/conftest.py::seed_index)."""
    from app.services import make_chunker, open_index
    from app.settings import Settings

    home = tmp_path_factory.mktemp("reports") / "home"
    settings = Settings(home=home)
    index = open_index(settings)
    try:
        index.update(REPORTS, make_chunker(settings))
    finally:
        index.close()
    return home


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


def shared_corpus_home() -> Path | None:
    """The folder named by ``$ZHIKU_TEST_CORPUS_HOME`` (relative to the project) when it holds no
    index yet, else None.

    scripts/test.sh sets it to the eval gate's ``.zhiku-ci``: a fixture that indexes files of
    corpus/ with the CLI's defaults (embedder, chunking) builds its index there instead of in a
    temporary folder, so the gate's ``zhiku ingest corpus/`` after pytest finds those files
    unchanged and embeds only the rest. A folder already holding an index (the full corpus, from
    an earlier gate) is left alone: the fixture's tests expect their own documents only.
    """
    value = os.environ.get(SHARED_CORPUS_HOME)
    if not value:
        return None
    home = ROOT / value  # an absolute value stays as it is
    if (home / "docstore.sqlite3").exists() or (home / "chroma").exists():
        return None
    home.mkdir(parents=True, exist_ok=True)
    return home
