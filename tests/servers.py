"""Servers the tests start on loopback (zhiku serve, llama_cpp.server, chroma run): a free port,
start, wait until a URL answers, and always stop."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(
    command: Sequence[str],
    ready_url: str,
    log: Path,
    *,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[None]:
    """Run ``command`` (output to the file ``log``: a pipe nobody reads would fill) until
    ``ready_url`` answers; stop it on exit. A server that dies or stays silent fails with the end
    of its log."""
    with log.open("wb") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    state = f"exited with {process.returncode}" if process.poll() is not None else f"silent for {timeout:.0f} s"
                    output = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                    raise RuntimeError(f"{command[0]} … {state}; its output ends:\n{output}") from None
                time.sleep(0.3)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
