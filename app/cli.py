"""The ``zhiku`` command line.

``main(argv)`` returns an exit code and never lets a ZhikuError escape as a traceback: errors
become one readable line (Chinese, with the English gist). ``--json`` prints machine output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from app.settings import Settings
from ingest.chunk import Chunker
from ingest.errors import ZhikuError
from ingest.load import SUPPORTED_SUFFIXES, load_file
from ingest.pipeline import IngestResult, ingest_file

# Office and image formats we recognise but cannot read: reported as failures in a folder walk,
# while unrelated files (NOTICE, .json, ...) are ignored.
_KNOWN_DOCUMENT_SUFFIXES = {
    ".doc", ".wps", ".rtf", ".xls", ".xlsx", ".et", ".ppt", ".pptx", ".dps", ".odt",
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".ofd", ".caj",
}


@dataclass
class IngestSummary:
    """What ``zhiku ingest`` did, for people (``render``) and machines (``--json``)."""

    documents: int = 0
    pages: int = 0
    tables: int = 0
    chunks: int = 0
    table_rows: int = 0
    ignored: int = 0
    seconds: float = 0.0
    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    def add(self, path: Path, result: IngestResult) -> None:
        doc = result.document
        rows = sum(1 for c in result.chunks if c.kind == "table_row")
        self.documents += 1
        self.pages += len(doc.pages)
        self.tables += len(doc.tables)
        self.chunks += len(result.chunks)
        self.table_rows += rows
        self.files.append(
            {
                "path": str(path),
                "doc_id": doc.doc_id,
                "title": doc.title,
                "format": doc.format,
                "pages": len(doc.pages),
                "tables": len(doc.tables),
                "chunks": len(result.chunks),
                "warnings": list(doc.warnings),
            }
        )
        self.warnings.extend({"path": str(path), "warning": w} for w in doc.warnings)

    def render(self) -> str:
        lines = [
            f"文档 documents: {self.documents}   页 pages: {self.pages}   表格 tables: {self.tables}   "
            f"片段 chunks: {self.chunks} (表格行 table rows: {self.table_rows})   "
            f"警告 warnings: {len(self.warnings)}   失败 failures: {len(self.failures)}   "
            f"用时 time: {self.seconds:.1f}s",
        ]
        for item in self.files:
            lines.append(
                f"  ✓ {item['path']}  《{item['title']}》 {item['format']}  "
                f"pages={item['pages']} tables={item['tables']} chunks={item['chunks']}"
            )
        for warning in self.warnings:
            lines.append(f"  ! {warning['path']}: {warning['warning']}")
        for failure in self.failures:
            lines.append(f"  ✗ {failure['path']}: {failure['error']}")
        if self.ignored:
            lines.append(f"  (忽略 {self.ignored} 个非文档文件 ignored non-document files)")
        return "\n".join(lines)


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path], int]:
    """Expand folders. Returns (readable files, unreadable document files, ignored count).

    A file named explicitly is always attempted, so its error is reported.
    """
    files: list[Path] = []
    bad: list[Path] = []
    ignored = 0
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        for child in sorted(path.rglob("*")):
            if not child.is_file() or any(part.startswith(".") for part in child.relative_to(path).parts):
                continue
            suffix = child.suffix.lower()
            if suffix in SUPPORTED_SUFFIXES:
                files.append(child)
            elif suffix in _KNOWN_DOCUMENT_SUFFIXES:
                bad.append(child)
            else:
                ignored += 1
    return files, bad, ignored


def _progress(items: Sequence[Path], stream: TextIO) -> Iterable[Path]:
    return tqdm(items, desc="导入 ingest", unit="file", file=stream, disable=None)


def _atomic_write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write a file so that readers see the old or the new version, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_ingest(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    started = time.perf_counter()
    files, bad, ignored = collect_files(Path(p) for p in args.paths)
    summary = IngestSummary(ignored=ignored)
    chunker = Chunker(max_chars=args.max_chars or settings.chunk_max_chars)
    results: list[IngestResult] = []
    for path in bad:
        try:
            load_file(path)  # raises the format's own explanation
        except ZhikuError as error:
            summary.failures.append({"path": str(path), "error": str(error)})
    for path in _progress(files, err):
        try:
            result = ingest_file(path, chunker)
        except ZhikuError as error:
            summary.failures.append({"path": str(path), "error": str(error)})
            continue
        except Exception as error:  # a bug or an unforeseen file: report it, keep the batch going
            summary.failures.append({"path": str(path), "error": f"内部错误 internal error: {error!r}"})
            continue
        results.append(result)
        summary.add(path, result)
    summary.seconds = time.perf_counter() - started
    target = Path(args.out) if args.out else settings.home / "chunks.jsonl"
    _atomic_write_lines(target, (json.dumps(_chunk_record(r, c), ensure_ascii=False) for r in results for c in r.chunks))
    _atomic_write_lines(
        target.with_name(target.stem + ".documents.jsonl"),
        (json.dumps(_document_record(r), ensure_ascii=False) for r in results),
    )
    if args.json:
        out.write(json.dumps({**asdict(summary), "output": str(target)}, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(summary.render() + f"\n片段已写入 chunks written to: {target}\n")
    return 1 if summary.failures else 0


def _chunk_record(result: IngestResult, chunk: Any) -> dict[str, Any]:
    record = asdict(chunk)
    record["section_path"] = list(chunk.section_path)
    record["title"] = result.document.title
    record["source"] = result.document.source
    return record


def _document_record(result: IngestResult) -> dict[str, Any]:
    doc = result.document
    return {
        "doc_id": doc.doc_id,
        "source": doc.source,
        "title": doc.title,
        "format": doc.format,
        "text": doc.text,
        "pages": [asdict(p) for p in doc.pages],
        "tables": len(doc.tables),
        "sections": [{"path": list(s.path), "start": s.start, "end": s.end} for s in doc.sections],
        "warnings": list(doc.warnings),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhiku", description="智库 zhiku: 职业院校政策文件与报告知识助手")
    parser.add_argument("--config", help="配置文件 path to zhiku.toml (default: ./zhiku.toml if present)")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="导入文件或文件夹 ingest files or folders")
    ingest.add_argument("paths", nargs="+", help="文件或文件夹 (PDF, DOCX, TXT, MD, HTML)")
    ingest.add_argument("--out", help="chunks JSONL output (default: $ZHIKU_HOME/chunks.jsonl)")
    ingest.add_argument("--max-chars", type=int, help="每个片段的最大字数 max characters per chunk")
    ingest.add_argument("--json", action="store_true", help="机器可读输出 machine-readable summary")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(Path(args.config) if args.config else None)
        if args.command == "ingest":
            return run_ingest(args, settings, out, err)
    except ZhikuError as error:
        err.write(f"错误 error: {error}\n")
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
