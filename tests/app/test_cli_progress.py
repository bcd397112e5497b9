"""zhiku's progress bars reach a log too: one line per refresh, at most every 30 s, when stderr is not a terminal."""

from __future__ import annotations

import io

from app.cli import _bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_bar_prints_whole_lines_without_cursor_moves() -> None:
    log = io.StringIO()
    with (
        _bar(total=3, desc="解析 parse", unit="file", file=log) as files,
        _bar(desc="嵌入 embed", unit="chunk", file=log) as chunks,
    ):
        assert files.mininterval == 30
        files.update(3)
        chunks.update(54)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert all(line.strip() for line in lines)
    assert lines[0].startswith("解析 parse:   0%") and any("3/3" in line for line in lines)
    assert any(line.startswith("嵌入 embed: 54chunk") for line in lines)


def test_on_a_terminal_a_bar_is_live() -> None:
    screen = _Terminal()
    with _bar(total=2, desc="评测 eval", unit="q", file=screen) as bar:
        assert bar.mininterval < 1
        bar.update(2)
    assert "\r" in screen.getvalue()
