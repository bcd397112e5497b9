"""OCR accuracy and speed: pages of a text PDF rendered to images, read by OCR, compared with
the PDF's own text layer.

    .venv/bin/python bench/ocr.py [PDF] [--dpi 110] [--engine rapidocr|tesseract]

The PDF (default: the Hainan notice in tests/fixtures, 11 pages of text and tables) has a text
layer, so each page's true text is known. Each page is rendered at ``--dpi`` and read by the
engine; the character error rate is the edit distance between the two texts with all
whitespace removed, over the length of the true text. Prints per page and in all, with seconds
per page. ``--engine tesseract`` runs Debian's ``tesseract`` with ``chi_sim`` (if installed) on
the same renders, for the comparison that chose RapidOCR (ingest/ocr.py).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402
import pypdfium2  # noqa: E402

from ingest.ocr import OCR_DPI, read_page  # noqa: E402

HAINAN = ROOT / "tests" / "fixtures" / "海南省农机购置与应用补贴实施方案的通知.pdf"
_SPACE = re.compile(r"\s+")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), one row at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def character_error_rate(truth: str, read: str) -> tuple[int, int]:
    """(errors, characters of the truth), whitespace ignored on both sides."""
    truth, read = _SPACE.sub("", truth), _SPACE.sub("", read)
    return edit_distance(truth, read), len(truth)


def _tesseract(page: pypdfium2.PdfPage, dpi: int) -> str:
    with tempfile.NamedTemporaryFile(suffix=".png") as image:
        page.render(scale=dpi / 72).to_pil().save(image.name)
        done = subprocess.run(["tesseract", image.name, "-", "-l", "chi_sim", "--psm", "6"],
                              capture_output=True, text=True, check=True)
    return done.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf", nargs="?", type=Path, default=HAINAN)
    parser.add_argument("--dpi", type=int, default=OCR_DPI)
    parser.add_argument("--engine", choices=("rapidocr", "tesseract"), default="rapidocr")
    args = parser.parse_args(argv)

    document = pypdfium2.PdfDocument(str(args.pdf))
    errors = characters = 0
    seconds = 0.0
    with pdfplumber.open(args.pdf) as pdf:
        read_page(document[0])  # load the models outside the timing
        for number, page in enumerate(pdf.pages, start=1):
            truth = page.extract_text() or ""
            started = time.perf_counter()
            if args.engine == "rapidocr":
                read = "".join(line.text for line in read_page(document[number - 1], dpi=args.dpi))
            else:
                read = _tesseract(document[number - 1], args.dpi)
            spent = time.perf_counter() - started
            wrong, total = character_error_rate(truth, read)
            errors, characters, seconds = errors + wrong, characters + total, seconds + spent
            print(f"page {number:3d}: {total:5d} chars  {wrong:4d} errors  CER {wrong / max(total, 1):6.2%}  {spent:5.1f} s")
    pages = len(document)
    print(f"{args.engine} at {args.dpi} dpi, {pages} pages: CER {errors / max(characters, 1):.2%} "
          f"({errors} of {characters} characters), {seconds / pages:.1f} s per page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
