"""PDF reading speed per page: text pages and pages read by OCR, apart.

    .venv/bin/python bench/pdf.py [PDF ...] [--rounds 2] [--no-ocr]

Default PDFs: the Hainan notice (tests/fixtures) and the four college reports in
``../shared/corpus_extra/reports`` (read from there, never copied). Each file is loaded
(``ingest.pdf.load_pdf``: text, tables, running lines, footnote marks, titles) ``--rounds`` times
and the best time kept; pages read by OCR are timed through the loader's page progress and
reported apart, so the text pages' figure compares with a version without OCR. ``--no-ocr``
reads no page by OCR (the text-layer work alone).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.pdf import load_pdf  # noqa: E402

REPORTS = ROOT.parent / "shared" / "corpus_extra" / "reports"
DEFAULT = [ROOT / "tests" / "fixtures" / "海南省农机购置与应用补贴实施方案的通知.pdf", *sorted(REPORTS.glob("*.pdf"))]


def _timed_load(path: Path, ocr: bool) -> tuple[float, float, int, int]:
    """(seconds in all, seconds on OCR pages, pages, OCR pages) of one load."""
    kwargs: dict = {}
    ocr_seconds = 0.0
    ocr_pages = 0
    last = time.perf_counter()

    def on_page(number: int, total: int, read_by_ocr: bool) -> None:
        nonlocal last, ocr_seconds, ocr_pages
        now = time.perf_counter()
        if read_by_ocr:
            ocr_seconds += now - last
            ocr_pages += 1
        last = now

    parameters = inspect.signature(load_pdf).parameters
    if "on_page" in parameters:  # a version with OCR
        kwargs = {"on_page": on_page} if ocr else {"ocr_pages": 0}
    started = last = time.perf_counter()
    loaded = load_pdf(path, **kwargs)
    return time.perf_counter() - started, ocr_seconds, loaded.page_count or 0, ocr_pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdfs", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args(argv)
    paths = args.pdfs or [p for p in DEFAULT if p.exists()]
    text_seconds = text_pages = 0.0
    ocr_seconds = ocr_pages = 0.0
    for path in paths:
        best = min((_timed_load(path, not args.no_ocr) for _ in range(args.rounds)), key=lambda r: r[0] - r[1])
        seconds, on_ocr, pages, read = best
        text_seconds += seconds - on_ocr
        text_pages += pages - read
        ocr_seconds += on_ocr
        ocr_pages += read
        per_page = 1000 * (seconds - on_ocr) / max(pages - read, 1)
        print(f"{path.name[:40]:40s} {pages:4d} pages  {seconds:6.1f} s  text {per_page:6.1f} ms/page"
              + (f"  OCR {read} pages {on_ocr / read:5.1f} s/page" if read else ""))
    print(f"text pages: {int(text_pages)} in {text_seconds:.1f} s = {1000 * text_seconds / max(text_pages, 1):.1f} ms/page"
          + (f"; OCR pages: {int(ocr_pages)}, {ocr_seconds / ocr_pages:.1f} s/page" if ocr_pages else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
