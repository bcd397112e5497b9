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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from answer.records import Answer, Citation
from app.api import Assistant, check_question
from app.export import export
from app.models import MODELS, TqdmProgress, ensure_model
from app.services import GENERATORS, make_chunker, make_retriever, open_index
from app.settings import Settings
from eval.dataset import EvalItem, load_items
from eval.harness import evaluate, summarize
from eval.report import compare, gate, read_run, summary_table, write_run
from eval.retrieval import Passage
from index.bases import UnknownBaseError
from index.docstore import KnowledgeBase, StoredDocument
from index.hybrid import Filters
from index.indexer import Index, UpdateReport
from ingest.errors import ZhikuError
from ingest.load import collect_files, load_file
from ingest.pipeline import IngestResult
from ingest.worker import ParseWorker


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


class _LogLines:
    """A stream for tqdm that is not a terminal (a pipe, a CI log): each refresh becomes one line of
    its own, instead of a run of carriage returns that a log shows as one endless line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def _bar(*, file: TextIO, **kwargs: Any) -> tqdm:
    """A tqdm progress bar on ``file``: live on a terminal; elsewhere a line every 30 s at most,
    so a log of a long ingest or eval still shows it moving."""
    isatty = getattr(file, "isatty", None)
    if isatty is not None and isatty():
        return tqdm(file=file, **kwargs)
    # position=0: no cursor moves between the bars (they mean nothing in a log)
    return tqdm(file=_LogLines(file), mininterval=30, ascii=True, position=0, **kwargs)


def _progress(items: Sequence[Path], stream: TextIO) -> Iterable[Path]:
    return _bar(iterable=items, desc="导入 ingest", unit="file", file=stream)


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



def _int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, else a clear error (the same
    bounds as the settings, so an option is never looser than the setting it overrides)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"应为整数 (must be a whole number): {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"应在 {low} 到 {high} 之间 (must be {low}..{high}), got {value}")
        return value

    return parse

def run_ingest(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if args.out:
        return _export_chunks(args, settings, out, err)
    started = time.perf_counter()
    files, bad, ignored = collect_files(Path(p) for p in args.paths)
    index = open_index(settings)
    try:
        bases = [_base_for_ingest(index, args.kb, err).base_id] if args.kb else []
        with (
            _bar(total=len(files), desc="解析 parse", unit="file", file=err) as files_bar,
            _bar(desc="嵌入 embed", unit="chunk", file=err) as embed_bar,
            _bar(desc="OCR 识别", unit="page", file=err) as ocr_bar,
        ):

            def on_page(number: int, total: int, ocr: bool) -> None:
                if ocr:  # pages read by OCR take seconds each: count them
                    ocr_bar.update(1)

            report = index.update(
                files, make_chunker(settings, args.max_chars), batch_chunks=args.batch_chunks,
                on_file=files_bar.update, on_embedded=embed_bar.update, on_page=on_page, bases=bases,
            )
        documents, chunks = len(index.documents()), index.docstore.chunk_count()
    finally:
        index.close()
    for path, reason in bad:
        report.failures.append((path, reason or _format_error(path)))
    summary = _update_summary(report, ignored, documents, chunks, time.perf_counter() - started)
    if args.json:
        out.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(_render_update(summary) + "\n")
    return 1 if report.failures else 0


def _format_error(path: Path) -> str:
    try:
        load_file(path)  # raises the format's own explanation
    except ZhikuError as error:
        return str(error)
    return "不支持的格式 (unsupported format)"


def _update_summary(report: UpdateReport, ignored: int, documents: int, chunks: int, seconds: float) -> dict[str, Any]:
    files = []
    for path, outcome, item in report.files:
        if isinstance(item, IngestResult):
            doc = item.document
            files.append({"path": str(path), "outcome": outcome, "doc_id": doc.doc_id, "title": doc.title,
                          "format": doc.format, "pages": len(doc.pages), "tables": len(doc.tables),
                          "chunks": len(item.chunks), "warnings": list(doc.warnings)})
        else:
            files.append({"path": str(path), "outcome": outcome, "doc_id": item.doc_id, "title": item.title,
                          "format": item.format, "pages": len(item.pages), "tables": item.tables,
                          "chunks": item.chunks, "warnings": list(item.warnings)})
    outcomes = ("added", "replaced", "unchanged", "moved")
    return {
        **{name: report.count(name) for name in outcomes},  # type: ignore[arg-type]
        "duplicate": len(report.duplicates),
        "failed": len(report.failures),
        "ignored": ignored,
        "embedded_chunks": report.embedded,
        "removed_documents": report.removed_docs,
        "index": {"documents": documents, "chunks": chunks},
        "seconds": round(seconds, 2),
        "stage_seconds": {k: round(v, 3) for k, v in report.times.as_dict().items()},
        "files": files,
        "failures": [{"path": str(p), "error": e} for p, e in report.failures],
        "duplicates": [{"path": str(p), "same_as": same} for p, same in report.duplicates],
    }


def _render_update(summary: dict[str, Any]) -> str:
    lines = [
        f"新增 added: {summary['added']}   更新 replaced: {summary['replaced']}   未变 unchanged: {summary['unchanged']}   "
        f"重复 duplicate: {summary['duplicate']}   失败 failed: {summary['failed']}   "
        f"嵌入片段 embedded: {summary['embedded_chunks']}   用时 time: {summary['seconds']:.1f}s",
        f"索引 index: {summary['index']['documents']} 个文档 documents, {summary['index']['chunks']} 个片段 chunks",
    ]
    marks = {"added": "+", "replaced": "~", "moved": ">"}
    for item in summary["files"]:
        if item["outcome"] == "unchanged":
            continue
        lines.append(f"  {marks[item['outcome']]} {item['path']}  《{item['title']}》 chunks={item['chunks']}")
        lines.extend(f"    ! {w}" for w in item["warnings"])
    for item in summary["duplicates"]:
        lines.append(f"  = {item['path']}  (与 {item['same_as']} 内容相同，已跳过 same content, skipped)")
    for failure in summary["failures"]:
        lines.append(f"  ✗ {failure['path']}: {failure['error']}")
    if summary["ignored"]:
        lines.append(f"  (忽略 {summary['ignored']} 个非文档文件 ignored non-document files)")
    return "\n".join(lines)


def _export_chunks(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    """``zhiku ingest --out FILE``: parse and chunk only, writing JSONL (no index)."""
    started = time.perf_counter()
    files, bad, ignored = collect_files(Path(p) for p in args.paths)
    summary = IngestSummary(ignored=ignored)
    chunker = make_chunker(settings, args.max_chars)
    parser = ParseWorker.shared(settings.parse_limits)  # bounded like an ingest into the index
    results: list[IngestResult] = []
    for path, reason in bad:
        summary.failures.append({"path": str(path), "error": reason or _format_error(path)})
    for path in _progress(files, err):
        try:
            result = parser.parse(path, chunker)
        except ZhikuError as error:
            summary.failures.append({"path": str(path), "error": str(error)})
            continue
        except Exception as error:  # a bug or an unforeseen file: report it, keep the batch going
            summary.failures.append({"path": str(path), "error": f"内部错误 internal error: {error!r}"})
            continue
        results.append(result)
        summary.add(path, result)
    summary.seconds = time.perf_counter() - started
    target = Path(args.out)
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


def _base_for_ingest(index: Index, ref: str, err: TextIO) -> KnowledgeBase:
    """The knowledge base ``zhiku ingest --kb`` files into, made when it does not exist yet."""
    try:
        return index.base(ref)
    except UnknownBaseError:
        base = index.create_base(ref)
        err.write(f"新建知识库 created knowledge base「{base.name}」({base.base_id})\n")
        return base


def run_search(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    query = sys.stdin.read() if args.query == "-" else args.query
    index = open_index(settings)
    try:
        filters = _filters(index, args.doc, args.kb)
        if args.kind:
            filters = Filters.of(filters.doc_ids if filters else None, args.kind)
        retriever = make_retriever(settings, index)
        started = time.perf_counter()
        hits = retriever.retrieve(query, top_k=args.top_k or settings.top_k, filters=filters)
        elapsed = time.perf_counter() - started
    finally:
        index.close()
    if args.json:
        out.write(json.dumps({"query": query, "seconds": round(elapsed, 4), "results": [h.to_dict() for h in hits]},
                             ensure_ascii=False, indent=2) + "\n")
        return 0
    if not hits:
        out.write("没有找到相关片段 (no matching passages)。索引为空时请先运行 `zhiku ingest corpus/`。\n")
        return 0
    for rank, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        where = " › ".join(chunk.section_path) or "（正文）"
        page = f"  第{chunk.page}页" if chunk.page else ""
        ranks = f"dense={hit.dense_rank or '-'} bm25={hit.lexical_rank or '-'}"
        out.write(f"[{rank}] 《{hit.title}》 {where}{page}  score={hit.score:.4f} ({ranks})\n")
        out.write(f"    {Path(hit.source).name}  {chunk.doc_id}  [{chunk.start}:{chunk.end}]\n")
        body = chunk.text.replace("\t", " | ")
        out.write("    " + body.replace("\n", "\n    ") + "\n\n")
    return 0


def _resolve_or_fail(index: Index, ref: str) -> list[StoredDocument]:
    found = index.resolve(ref)
    if not found:
        raise ZhikuError(f"索引中没有文档 {ref!r} (no such document); 用 `zhiku list` 查看 (see `zhiku list`)")
    return found


def run_list(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    index = open_index(settings)
    try:
        docs = index.documents()
        if args.kb:
            members = index.base_documents([args.kb])
            docs = [d for d in docs if d.doc_id in members]
    finally:
        index.close()
    if args.json:
        records = [{"doc_id": d.doc_id, "title": d.title, "source": d.source, "format": d.format, "chunks": d.chunks,
                    "pages": len(d.pages), "tables": d.tables, "warnings": list(d.warnings)} for d in docs]
        out.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return 0
    for doc in docs:
        out.write(f"{doc.doc_id}  {doc.format:<4} chunks={doc.chunks:<5} 《{doc.title}》  {doc.source}\n")
    out.write(f"共 {len(docs)} 个文档 documents, {sum(d.chunks for d in docs)} 个片段 chunks\n")
    return 0


def run_remove(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    index = open_index(settings)
    try:
        docs = {d.doc_id: d for ref in args.docs for d in _resolve_or_fail(index, ref)}
        removed = index.remove(docs)
    finally:
        index.close()
    for doc in docs.values():
        out.write(f"已删除 removed: {doc.doc_id} 《{doc.title}》 {doc.source}\n")
    out.write(f"共删除 {removed} 个文档 documents removed\n")
    return 0


def run_reindex(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    index = open_index(settings)
    try:
        with _bar(total=index.docstore.chunk_count(), desc="嵌入 embed", unit="chunk", file=err) as bar:
            report = index.reindex(on_embedded=bar.update, adopt=args.adopt)
        documents = len(index.documents())
    finally:
        index.close()
    out.write(f"已重建索引 reindexed: {documents} 个文档 documents, {report.embedded} 个片段 chunks "
              f"(嵌入模型 embedder: {settings.embed_model})\n")
    return 0


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


def run_eval(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if args.compare:
        before, after = (read_run(Path(p)) for p in args.compare)
        out.write(compare(before, after) + "\n")
        return 0
    if not args.questions:
        raise ZhikuError("请给出题目文件 (give a question set), e.g. `zhiku eval eval/dev.jsonl`")
    items, problems = load_items(Path(args.questions))
    for problem in problems:
        err.write(f"跳过 skipped {args.questions} {problem}\n")
    with Assistant(settings, args.generator) as assistant:
        index = assistant.index
        if not index.documents():
            raise ZhikuError("索引为空 (the index is empty): 请先运行 `zhiku ingest corpus/`")
        generator = assistant.composer()
        assistant.retriever.retrieve("职业教育", top_k=1)  # load the model now, not inside the first timing
        if args.without:
            items = [item for item in items if item.type not in set(args.without)]

        def texts(doc_ids: Iterable[str]) -> dict[str, str]:
            return {d: t for d in doc_ids if (t := index.docstore.text(d)) is not None}

        def passages(item: EvalItem) -> list[Passage]:
            query = assistant.pipeline.analyse(item.question, item.history).query
            return [Passage(h.chunk.text, h.source, h.chunk.page) for h in assistant.retriever.retrieve(query, top_k=10)]

        def answer(item: EvalItem) -> Answer:
            return assistant.ask(item.question, history=item.history)

        with _bar(total=len(items), desc="评测 eval", unit="q", file=err) as bar:
            records = evaluate(items, answer, texts, passages, bar.update)
    target = Path(args.out)
    meta = {"questions": args.questions, "generator": generator.name, "embedder": settings.embed_model,
            "items": len(items), "skipped_lines": len(problems)}
    write_run(target, records, meta)
    out.write(summary_table(records) + "\n\n")
    out.write(f"结果已写入 written to: {target}/ (results.jsonl, summary.json, report.md, report.png)\n")
    if args.gate:
        thresholds = json.loads(Path(args.gate).read_text(encoding="utf-8"))
        failures = gate(summarize(records), thresholds)
        for failure in failures:
            err.write(f"未达标 below threshold: {failure}\n")
        if failures:
            return 3
        out.write(f"质量门槛通过 quality gate passed ({args.gate})\n")
    return 1 if problems else 0


def _citation_lines(citations: Sequence[Citation]) -> list[str]:
    lines = []
    for c in citations:
        where = " › ".join(c.section_path)
        page = f" · {c.page_label}" if c.page is not None else ""
        quote = " ".join(c.quote.split())
        lines.append(f"[{c.n}] 《{c.title}》{(' › ' + where) if where else ''}{page}")
        lines.append(f"    「{quote if len(quote) <= 200 else quote[:200] + '…'}」")
    return lines


def print_answer(answer: Answer, out: TextIO) -> None:
    """An answer as a person reads it: the text, then each citation with its quote."""
    out.write(answer.text.rstrip() + "\n")
    if answer.citations:
        out.write("\n引用 citations:\n" + "\n".join(_citation_lines(answer.citations)) + "\n")
    if answer.refused and answer.closest:
        out.write("\n最接近的段落 closest passages:\n" + "\n".join(_citation_lines(answer.closest)) + "\n")
    flagged = [check for check in answer.verification if not check.ok]
    for check in flagged:
        out.write(f"⚠ 未通过核验 unverified: {check.text[:40]} ({'; '.join(check.problems)})\n")
    out.write(f"\n({answer.generator}, {answer.seconds:.2f}s)\n")


def _filters(index: Index, refs: Sequence[str] | None, base: str | None = None) -> Filters | None:
    """The documents ``refs`` name, within the knowledge base ``base``; None: the whole library."""
    scope: set[str] | None = None
    if base:
        scope = index.base_documents([base])
        if not scope:
            raise ZhikuError(f"知识库「{index.base(base).name}」中还没有文档 (the knowledge base has no documents yet)："
                             f"`zhiku ingest PATH --kb {base}`")
    if refs:
        named = {d.doc_id for ref in refs for d in _resolve_or_fail(index, ref)}
        scope = named if scope is None else scope & named
        if not scope:
            raise ZhikuError("所选文档都不在这个知识库中 (none of these documents is in the knowledge base)")
    return None if scope is None else Filters.of(doc_ids=scope)


def run_kb(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """``zhiku kb list|create|rename|delete|add|drop``: the library's knowledge bases."""
    index = open_index(settings)
    try:
        if args.action == "list":
            bases = index.bases()
            if args.json:
                out.write(json.dumps([asdict(b) for b in bases], ensure_ascii=False, indent=2) + "\n")
            for base in bases if not args.json else ():
                about = f"  {base.description}" if base.description else ""
                out.write(f"{base.base_id}  {base.name}  documents={base.documents}{about}\n")
            if not bases and not args.json:
                out.write("还没有知识库 (no knowledge bases yet): `zhiku kb create 名称`\n")
            return 0
        if not args.name:
            raise ZhikuError(f"请给出知识库名称 (give the knowledge base's name): zhiku kb {args.action} 名称")
        if args.action == "create":
            base = index.create_base(args.name, args.description or "")
            out.write(f"已新建知识库 created「{base.name}」({base.base_id})\n")
        elif args.action == "rename":
            if not args.items or len(args.items) != 1:
                raise ZhikuError("用法 usage: zhiku kb rename 旧名称 新名称")
            base = index.edit_base(args.name, name=args.items[0])
            out.write(f"已改名 renamed: {base.base_id} →「{base.name}」\n")
        elif args.action == "delete":
            removed = index.delete_base(args.name, with_documents=args.with_documents)
            for doc in removed:
                out.write(f"已删除文档 removed: {doc.doc_id} 《{doc.title}》\n")
            out.write(f"已删除知识库 deleted「{args.name}」；删除文档 {len(removed)} 个 (documents removed)\n")
        else:  # add | drop
            if not args.items:
                raise ZhikuError(f"请给出文档 (give documents: id, path or title): zhiku kb {args.action} 名称 文档…")
            doc_ids = [d.doc_id for ref in args.items for d in _resolve_or_fail(index, ref)]
            changes = {"add": doc_ids} if args.action == "add" else {"remove": doc_ids}
            base = index.file_documents(args.name, **changes)
            out.write(f"知识库「{base.name}」现有 {base.documents} 个文档 (documents in the knowledge base)\n")
        return 0
    finally:
        index.close()


def run_ask(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    question = sys.stdin.read() if args.question == "-" else args.question
    if not question.strip():
        raise ZhikuError("问题为空 (the question is empty)")
    check_question(question.strip(), args.history or ())
    with Assistant(settings, args.generator) as assistant:
        if not assistant.index.documents():
            raise ZhikuError("索引为空 (the index is empty): 请先运行 `zhiku ingest corpus/`")
        filters = _filters(assistant.index, args.doc, args.kb)
        answer = assistant.ask(question.strip(), filters=filters, history=args.history or ())
    _write_answer(answer, args.json, out)
    return 0


def _write_answer(answer: Answer, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_answer(answer, out)


def run_draft(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    with Assistant(settings) as assistant:
        if args.list_templates:
            for template in assistant.drafter.templates.values():
                out.write(f"{template.name}: {template.description}\n")
            return 0
        if not args.topic:
            raise ZhikuError("请用 --topic 给出写作主题 (give a topic with --topic)")
        if not assistant.index.documents():
            raise ZhikuError("索引为空 (the index is empty): 请先运行 `zhiku ingest corpus/`")
        draft = assistant.draft(args.topic, args.template, args.max_chars, _filters(assistant.index, args.doc, args.kb))
    if args.out:
        path = export(draft, Path(args.out), title=f"{args.topic}（{args.template}）")
        if not args.json:
            out.write(f"已导出 exported: {path}\n\n")
    _write_answer(draft, args.json, out)
    return 0


def run_model(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    if args.action == "list":
        for name, spec in MODELS.items():
            target = settings.home / "models" / f"{name}.gguf"
            state = "已就绪 ready" if target.exists() else "未下载 not fetched"
            out.write(f"{name:<22} {state:<16} {spec.description}\n")
        return 0
    name = args.name or settings.local_model
    path = ensure_model(name, settings.home, progress=TqdmProgress())
    out.write(f"模型已就绪 model ready: {path}\n")
    return 0


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.server import serve  # Gradio and uvicorn load only for `zhiku serve`, not every command

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    serve(replace(settings, **overrides) if overrides else settings, corpus=None if args.no_corpus else Path(args.corpus))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhiku", description="智库 zhiku: 职业院校政策文件与报告知识助手")
    parser.add_argument("--config", help="配置文件 path to zhiku.toml (default: ./zhiku.toml if present)")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="导入文件或文件夹并建立索引 ingest files or folders into the index")
    ingest.add_argument("paths", nargs="+", help="文件或文件夹 (PDF, DOCX, TXT, MD, HTML)")
    ingest.add_argument("--max-chars", type=_int_in(50, 4000), help="每个片段的最大字数 max characters per chunk (50–4000)")
    ingest.add_argument("--batch-chunks", type=_int_in(1, 100_000), default=512,
                        help="每批嵌入并提交的片段数 chunks per committed batch (1–100000)")
    ingest.add_argument("--kb", help="放入此知识库（没有则新建）put the documents into this knowledge base (made if missing)")
    ingest.add_argument("--out", help="只解析并把片段写入此 JSONL 文件，不建索引 (parse only, write chunks JSONL)")
    ingest.add_argument("--json", action="store_true", help="机器可读输出 machine-readable summary")

    search = sub.add_parser("search", help="检索相关片段 search the index")
    search.add_argument("query", help="问题或关键词；- 表示从标准输入读取 (question; - reads stdin)")
    search.add_argument("-k", "--top-k", type=_int_in(1, 100), help="返回条数 number of passages (1–100, default: top_k)")
    search.add_argument("--doc", action="append", help="只在此文档中检索 restrict to a document (id, path or title)")
    search.add_argument("--kb", help="只在此知识库中检索 restrict to a knowledge base (name or id)")
    search.add_argument("--kind", action="append", choices=["text", "table_row"], help="片段类型 chunk kind")
    search.add_argument("--json", action="store_true", help="机器可读输出 machine-readable results")

    listing = sub.add_parser("list", help="列出已索引的文档 list indexed documents")
    listing.add_argument("--json", action="store_true", help="机器可读输出 machine-readable list")
    listing.add_argument("--kb", help="只列出此知识库的文档 only the documents of a knowledge base")

    kb = sub.add_parser("kb", help="知识库 knowledge bases: list, create, rename, delete, add / drop documents")
    kb.add_argument("action", choices=["list", "create", "rename", "delete", "add", "drop"])
    kb.add_argument("name", nargs="?", help="知识库名称或 id knowledge base name or id")
    kb.add_argument("items", nargs="*", help="rename: 新名称 new name; add/drop: 文档 id、路径或标题 documents")
    kb.add_argument("--description", help="create: 说明 a description")
    kb.add_argument("--with-documents", action="store_true",
                    help="delete: 同时删除只属于它的文档 also remove the documents in no other knowledge base")
    kb.add_argument("--json", action="store_true", help="list: 机器可读输出 machine-readable")

    remove = sub.add_parser("remove", help="从索引中删除文档 remove documents from the index")
    remove.add_argument("docs", nargs="+", help="文档 id、路径或标题 document id, path or title")

    reindex = sub.add_parser("reindex", help="用当前嵌入模型重建索引 rebuild the index with the current embedder")
    reindex.add_argument(
        "--adopt", action="store_true",
        help="接管共用 Chroma 服务上属于另一个知识库的集合（删除其向量后按本库重建） "
             "take over a shared collection another library owns (its vectors are dropped)",
    )

    ask = sub.add_parser("ask", help="提问，回答附引文 ask a question; the answer cites its sources")
    ask.add_argument("question", help="问题；- 表示从标准输入读取 (question; - reads stdin)")
    ask.add_argument("--generator", choices=GENERATORS, help="生成器 generator (default: settings generator, extractive)")
    ask.add_argument("--doc", action="append", help="只依据此文档回答 restrict to a document (id, path or title)")
    ask.add_argument("--kb", help="只依据此知识库回答 answer from a knowledge base (name or id)")
    ask.add_argument("--json", action="store_true", help="输出完整的 Answer JSON (the full Answer as JSON)")
    ask.add_argument("--history", action="append", metavar="EARLIER",
                     help="同一对话中之前的问题，可重复，由早到晚 (an earlier question; repeat, oldest first)")

    draft = sub.add_parser("draft", help="按模板起草报告段落 draft a report section from a template")
    draft.add_argument("--template", default="案例", help="模板 template (see --list-templates)")
    draft.add_argument("--topic", help="主题 topic, e.g. 医学美容技术产业学院")
    draft.add_argument("--max-chars", type=_int_in(50, 5000), default=300,
                       help="篇幅上限（字） length limit in characters (50–5000, default 300)")
    draft.add_argument("--out", help="导出为 .docx 或 .md export to a .docx or .md file")
    draft.add_argument("--doc", action="append", help="只依据此文档 restrict to a document (id, path or title)")
    draft.add_argument("--kb", help="只依据此知识库 draft from a knowledge base (name or id)")
    draft.add_argument("--list-templates", action="store_true", help="列出可用模板 list the templates")
    draft.add_argument("--json", action="store_true", help="输出完整的 Answer JSON (the full Answer as JSON)")

    model = sub.add_parser("model", help="本地模型 local GGUF models for the llama-cpp generator")
    model.add_argument("action", choices=["fetch", "list"], help="fetch: 组装并校验模型 assemble and verify; list")
    model.add_argument("name", nargs="?", help="模型名或 .gguf 路径 (default: settings local_model)")

    serve = sub.add_parser("serve", help="启动网页应用和 JSON API start the web app and the JSON API")
    serve.add_argument("--host", help="监听地址 address (default: settings host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="端口 port (default: settings port, 7860)")
    serve.add_argument("--corpus", default="corpus", help="索引为空时先导入此文件夹 indexed first when the library is empty")
    serve.add_argument("--no-corpus", action="store_true", help="索引为空时也不导入 start with an empty library")

    evaluation = sub.add_parser("eval", help="在题目集上评测 evaluate on a question set (JSONL, see eval/README.md)")
    evaluation.add_argument("questions", nargs="?", help="题目文件 question set, e.g. eval/dev.jsonl")
    evaluation.add_argument("--generator", choices=GENERATORS, help="生成器 generator (default: settings generator)")
    evaluation.add_argument("--out", default="eval-results", help="输出目录 output folder (default: eval-results)")
    evaluation.add_argument("--gate", help="阈值文件；低于阈值时退出码为 3 (thresholds JSON; exit 3 when a metric falls below)")
    evaluation.add_argument("--without", nargs="+", metavar="TYPE", default=[],
                            help="不评这些题型 leave out item types, e.g. --without followup")
    evaluation.add_argument("--compare", nargs=2, metavar=("A", "B"), help="比较两次评测 compare two runs (folders)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(Path(args.config) if args.config else None)
        commands: dict[str, Callable[[], int]] = {
            "ingest": lambda: run_ingest(args, settings, out, err),
            "search": lambda: run_search(args, settings, out),
            "list": lambda: run_list(args, settings, out),
            "remove": lambda: run_remove(args, settings, out),
            "kb": lambda: run_kb(args, settings, out),
            "reindex": lambda: run_reindex(args, settings, out, err),
            "ask": lambda: run_ask(args, settings, out),
            "draft": lambda: run_draft(args, settings, out),
            "model": lambda: run_model(args, settings, out),
            "eval": lambda: run_eval(args, settings, out, err),
            "serve": lambda: run_serve(args, settings),
        }
        return commands[args.command]()
    except ZhikuError as error:
        err.write(f"错误 error: {error}\n")
        return 2
    except BrokenPipeError:  # `zhiku search ... | head`: the reader left, which is no error
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
