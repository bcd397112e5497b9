"""Shared fixtures: paths to the shipped corpus and the test fixtures, and the corpus index the
tests can share with the eval gate."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_CORPUS_HOME = "ZHIKU_TEST_CORPUS_HOME"
HEARTBEAT_S = float(os.environ.get("ZHIKU_TEST_HEARTBEAT_S", "30"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """A line every ``HEARTBEAT_S`` seconds while one test (its fixtures included: an index built
    once, a browser run) runs long, so a log never goes quiet for minutes."""
    done = threading.Event()
    started = time.monotonic()

    capture = item.config.pluginmanager.getplugin("capturemanager")

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            line = f"\n  … {item.nodeid} 仍在运行 (still running, {time.monotonic() - started:.0f} s)\n"
            # past pytest's capture of the test's own output, to the terminal or the log
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                sys.stderr.write(line)
                sys.stderr.flush()

    ticker = threading.Thread(target=beat, name="test-heartbeat", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()


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
