#!/usr/bin/env python3
"""Check the held-out question sets (eval/holdout_*.jsonl) against the documents they cite.

Usage:
    .venv/bin/python eval/check_holdout.py                 # every eval/holdout_*.jsonl
    .venv/bin/python eval/check_holdout.py eval/holdout_laws.jsonl [--shared /path/to/shared]

The held-out sets use the schema of dev.jsonl / dev2.jsonl (see eval/DEV2.md):
{"id", "type", "question", "answer", "must_include", "sources": [{"doc", "quote", "page"?}]}
plus the optional "history" list on followup items.

Documents are looked up by file name under these roots, in this order:
  <repo>/corpus/, <repo>/tests/fixtures/, <shared>/corpus_extra/, <shared>/corpus/
where <shared> is --shared, else $ZHIKU_SHARED, else <repo>/shared or <repo>/../shared.

Checks, per item:
  * schema: id "h-<set>-NNN", unique, numbered 1..N within the file; a known type;
    non-empty question; "history" (non-empty list of strings) only on followup items;
    unanswerable items have answer "", must_include [] and sources [];
    answerable items have a non-empty answer, 1-4 must_include strings and >= 1 source.
  * every source doc exists; "page" (1-based, pdfplumber's page index) is present
    for .pdf sources and absent for all others.
  * every quote is 10-150 characters and is found in the document:
      - .md / .txt: an exact substring of the raw file text;
      - .html / .htm: a substring of BeautifulSoup(...).get_text() (the visible text)
        once all whitespace is removed from both;
      - .docx: a substring of the paragraphs' text joined, whitespace removed;
      - .pdf: a substring of that page's extract_text(), whitespace removed.
  * every must_include string (whitespace removed) is contained in one of the
    item's quotes (whitespace removed); an article number (第X条) is in
    must_include only when the question asks which article.

Prints the counts per type (and the expected counts, where a set has them) and every
failure; exits 1 when anything fails. Needs pdfplumber for PDF sources (the project's
.venv has it); bs4 and python-docx are used when present, with stdlib fallbacks.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

TYPES = ("rule", "version", "table", "fact", "list", "multi", "followup", "draft", "unanswerable")
# Expected counts per set, by file name; a set not listed here is only counted.
EXPECTED = {
    "holdout_laws.jsonl": {"rule": 14, "fact": 8, "list": 5, "multi": 4, "version": 4,
                           "draft": 4, "unanswerable": 6},
    "holdout_reports.jsonl": {"table": 14, "fact": 10, "list": 5, "multi": 5, "draft": 6,
                              "rule": 4, "unanswerable": 6},
}
ID_RE = re.compile(r"^h-([a-z0-9]+)-(\d{3})$")
ARTICLE_RE = re.compile(r"第[一二三四五六七八九十百零〇\d]+条")
ASKS_ARTICLE_RE = re.compile(r"哪[一几]?条|第几条|什么条|哪个条")
_WS = re.compile(r"\s+")

EVAL_DIR = Path(__file__).resolve().parent
REPO = EVAL_DIR.parent


def squeeze(text: str) -> str:
    """Remove all whitespace (incl. full-width and non-breaking spaces)."""
    return _WS.sub("", text)


def decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


class _TextParser(HTMLParser):
    """Fallback for BeautifulSoup: all text outside <script>/<style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(path: Path) -> str:
    raw = decode(path.read_bytes())
    try:
        from bs4 import BeautifulSoup
    except ImportError:
        parser = _TextParser()
        parser.feed(raw)
        return "".join(parser.parts)
    return BeautifulSoup(raw, "html.parser").get_text()


def docx_text(path: Path) -> str:
    try:
        import docx  # python-docx
    except ImportError:
        ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
        import xml.etree.ElementTree as ET
        with zipfile.ZipFile(path) as archive:
            root = ET.fromstring(archive.read("word/document.xml"))
        return "\n".join("".join(t.text or "" for t in p.iter(ns + "t")) for p in root.iter(ns + "p"))
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


class Corpus:
    """Finds documents by file name and caches their comparable text."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = [r for r in roots if r.is_dir()]
        self._paths: dict[str, Path] | None = None
        self._text: dict[Path, str] = {}
        self._pages: dict[Path, list[str]] = {}

    def find(self, name: str) -> Path | None:
        if self._paths is None:
            self._paths = {}
            for root in self.roots:
                for p in sorted(root.rglob("*")):
                    if p.is_file():
                        self._paths.setdefault(p.name, p)
        return self._paths.get(name)

    def text(self, path: Path) -> str:
        """Raw text for .md/.txt; squeezed visible text for .html/.docx."""
        if path not in self._text:
            suffix = path.suffix.lower()
            if suffix in (".html", ".htm"):
                self._text[path] = squeeze(html_text(path))
            elif suffix == ".docx":
                self._text[path] = squeeze(docx_text(path))
            else:
                self._text[path] = path.read_text(encoding="utf-8")
        return self._text[path]

    def pages(self, path: Path) -> list[str]:
        if path not in self._pages:
            try:
                import pdfplumber
            except ImportError:
                sys.exit("check_holdout.py needs pdfplumber for PDF sources; run it with the "
                         "project's .venv/bin/python or pip install pdfplumber")
            with pdfplumber.open(str(path)) as pdf:
                self._pages[path] = [squeeze(p.extract_text() or "") for p in pdf.pages]
        return self._pages[path]


def check_source(corpus: Corpus, where: str, src: object) -> tuple[list[str], str | None]:
    """Problems with one source, and its quote when usable for must_include."""
    if not isinstance(src, dict) or not isinstance(src.get("doc"), str) or not isinstance(src.get("quote"), str):
        return [f"{where}: needs string doc and quote"], None
    doc, quote = src["doc"], src["quote"]
    problems: list[str] = []
    if not 10 <= len(quote) <= 150:
        problems.append(f"{where}: quote is {len(quote)} characters (must be 10-150)")
    path = corpus.find(doc)
    if path is None:
        return [*problems, f"{where}: document not found: {doc}"], quote
    suffix = path.suffix.lower()
    page = src.get("page")
    if suffix == ".pdf":
        if not isinstance(page, int) or isinstance(page, bool):
            return [*problems, f"{where}: PDF source needs an integer page"], quote
        pages = corpus.pages(path)
        if not 1 <= page <= len(pages):
            return [*problems, f"{where}: page {page} outside 1..{len(pages)}"], quote
        if squeeze(quote) not in pages[page - 1]:
            hits = [i + 1 for i, text in enumerate(pages) if squeeze(quote) in text]
            hint = f" (found on page {hits})" if hits else ""
            problems.append(f"{where}: quote not on page {page}{hint}: {quote[:40]}")
    else:
        if "page" in src:
            problems.append(f"{where}: page is only for PDF sources")
        text = corpus.text(path)
        if suffix in (".html", ".htm", ".docx"):
            if squeeze(quote) not in text:
                problems.append(f"{where}: quote not in the visible text: {quote[:40]}")
        elif quote not in text:
            near = " (matches only with whitespace removed)" if squeeze(quote) in squeeze(text) else ""
            problems.append(f"{where}: quote not an exact substring{near}: {quote[:40]}")
    return problems, quote


def check_item(corpus: Corpus, item: object, line: int) -> tuple[list[str], str | None, str | None]:
    """Problems, the id and the type of one item."""
    if not isinstance(item, dict):
        return [f"line {line}: not a JSON object"], None, None
    iid = item.get("id")
    where = f"line {line} {iid}"
    problems: list[str] = []
    if not isinstance(iid, str) or not ID_RE.match(iid):
        problems.append(f"{where}: id must look like h-<set>-NNN")
    typ = item.get("type")
    if typ not in TYPES:
        problems.append(f"{where}: unknown type {typ!r}")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: empty question")
        question = ""
    answer, must, sources = item.get("answer"), item.get("must_include"), item.get("sources")
    if not isinstance(answer, str) or not isinstance(must, list) or not isinstance(sources, list):
        return [*problems, f"{where}: answer must be a string, must_include and sources lists"], iid, typ
    if "history" in item or typ == "followup":
        history = item.get("history")
        if typ != "followup":
            problems.append(f"{where}: history only on followup items")
        elif not (isinstance(history, list) and history and all(isinstance(h, str) and h.strip() for h in history)):
            problems.append(f"{where}: followup needs a non-empty history list of strings")
    if typ == "unanswerable":
        if answer or must or sources:
            problems.append(f"{where}: unanswerable items have answer \"\", must_include [] and sources []")
        return problems, iid, typ
    if not answer.strip():
        problems.append(f"{where}: empty answer")
    if not 1 <= len(must) <= 4 or not all(isinstance(m, str) and m.strip() for m in must):
        problems.append(f"{where}: must_include needs 1-4 non-empty strings")
        must = [m for m in must if isinstance(m, str) and m.strip()]
    if not sources:
        problems.append(f"{where}: answerable item without sources")
    quotes: list[str] = []
    for i, src in enumerate(sources):
        found, quote = check_source(corpus, f"{where} sources[{i}]", src)
        problems += found
        if quote:
            quotes.append(squeeze(quote))
    for m in must:
        if not any(squeeze(m) in q for q in quotes):
            problems.append(f"{where}: must_include not in any quote: {m}")
        if ARTICLE_RE.search(m) and not ASKS_ARTICLE_RE.search(question):
            problems.append(f"{where}: article number in must_include but the question does not ask which article: {m}")
    return problems, iid, typ


def check_file(corpus: Corpus, path: Path) -> list[str]:
    problems: list[str] = []
    counts: Counter[str] = Counter()
    ids: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as error:
                problems.append(f"line {line}: invalid JSON: {error.msg}")
                continue
            found, iid, typ = check_item(corpus, item, line)
            problems += found
            if typ:
                counts[typ] += 1
            if iid:
                ids.append(iid)
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        problems.append(f"duplicate ids: {', '.join(duplicates)}")
    matched = [ID_RE.match(i) for i in ids]
    prefixes = {m.group(1) for m in matched if m}
    if len(prefixes) > 1:
        problems.append(f"ids use several set names: {sorted(prefixes)}")
    numbers = [int(m.group(2)) for m in matched if m]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append("ids are not numbered 001..N in file order")
    expected = EXPECTED.get(path.name)
    print(f"{path.name}: {sum(counts.values())} items")
    for typ in TYPES:
        if counts[typ] or (expected and typ in expected):
            want = f" (expected {expected.get(typ, 0)})" if expected else ""
            print(f"  {typ:<13}{counts[typ]:>4}{want}")
    if expected:
        for typ in TYPES:
            if counts[typ] != expected.get(typ, 0):
                problems.append(f"{typ}: {counts[typ]} items, expected {expected.get(typ, 0)}")
    return problems


def shared_dir(arg: str | None) -> Path | None:
    candidates = [arg, os.environ.get("ZHIKU_SHARED"), REPO / "shared", REPO.parent / "shared"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="sets to check (default: eval/holdout_*.jsonl)")
    parser.add_argument("--shared", help="the shared/ folder (holds corpus_extra/)")
    args = parser.parse_args(argv)
    files = args.files or sorted(EVAL_DIR.glob("holdout_*.jsonl"))
    if not files:
        print("no eval/holdout_*.jsonl to check")
        return 1
    roots = [REPO / "corpus", REPO / "tests" / "fixtures"]
    shared = shared_dir(args.shared)
    if shared:
        roots += [shared / "corpus_extra", shared / "corpus"]
    corpus = Corpus(roots)
    failed = 0
    for path in files:
        problems = check_file(corpus, path)
        for p in problems:
            print(f"  FAIL {p}")
        print(f"  {'OK' if not problems else f'{len(problems)} problem(s)'}")
        failed += len(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
