"""Copies of the reports' index (tests/conftest.py::reports_home) for tests that change it, and an
index of the scanned notice read by OCR."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.services import make_chunker, open_index
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ROOT / "tests" / "fixtures" / "scanned_notice.pdf"


@pytest.fixture
def copy_home(reports_home: Path, tmp_path: Path) -> Path:
    """A private copy of ``reports_home`` a test may change."""
    target = tmp_path / "home"
    shutil.copytree(reports_home, target)
    return target


@pytest.fixture(scope="session")
def scanned_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, int, bool]]]:
    """A data folder with the scanned notice indexed (eight pages read by OCR), and the page
    progress its update reported."""
    home = tmp_path_factory.mktemp("scanned") / "home"
    settings = Settings(home=home)
    pages: list[tuple[int, int, bool]] = []
    index = open_index(settings)
    try:
        report = index.update([SCANNED], make_chunker(settings), on_page=lambda *page: pages.append(page))
    finally:
        index.close()
    assert not report.failures, report.failures
    return home, pages
