"""The question-set format (see ``eval/README.md``): one JSON object per line.

``load_items`` validates every line and returns the good items with a list of problems
(line number and what is wrong); a bad line never stops a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ITEM_TYPES = ("fact", "table", "rule", "multi", "list", "version", "followup", "unanswerable", "draft")


@dataclass(frozen=True)
class GoldSource:
    doc: str  # file name of the source document, e.g. "001_235bd42144b22a26.txt"
    quote: str  # an exact passage of that file
    page: int | None = None  # PDF only: the 1-based page index holding the quote


@dataclass(frozen=True)
class EvalItem:
    id: str
    type: str
    question: str
    answer: str
    must_include: tuple[str, ...]
    sources: tuple[GoldSource, ...]
    line: int
    history: tuple[str, ...] = ()  # earlier user questions of the same chat, oldest first (follow-ups)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable" and bool(self.sources)


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行 line {self.line}: {self.message}"


def load_items(path: Path) -> tuple[list[EvalItem], list[LineProblem]]:
    items: list[EvalItem] = []
    problems: list[LineProblem] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = parse_item(json.loads(line), number)
            except json.JSONDecodeError as error:
                problems.append(LineProblem(number, f"不是合法的 JSON (invalid JSON): {error.msg}"))
                continue
            except ValueError as error:
                problems.append(LineProblem(number, str(error)))
                continue
            if item.id in seen:
                problems.append(LineProblem(number, f"id 重复 (duplicate id): {item.id}"))
                continue
            seen.add(item.id)
            items.append(item)
    return items, problems


def parse_item(record: Any, line: int = 0) -> EvalItem:
    """One validated item; ValueError says what is wrong."""
    if not isinstance(record, dict):
        raise ValueError("每行应是一个 JSON 对象 (each line must be a JSON object)")
    for key in ("id", "type", "question"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise ValueError(f"缺少字段或不是非空字符串 (missing or empty string): {key}")
    if record["type"] not in ITEM_TYPES:
        raise ValueError(f"type 无效 (invalid type) {record['type']!r}; 可用 valid: {', '.join(ITEM_TYPES)}")
    answer = record.get("answer", "")
    must = record.get("must_include", [])
    sources = record.get("sources", [])
    if not isinstance(answer, str):
        raise ValueError("answer 应为字符串 (answer must be a string)")
    if not isinstance(must, list) or not all(isinstance(m, str) and m for m in must):
        raise ValueError("must_include 应为非空字符串列表 (must_include must be a list of non-empty strings)")
    if not isinstance(sources, list):
        raise ValueError("sources 应为列表 (sources must be a list)")
    gold = []
    for i, source in enumerate(sources):
        if not isinstance(source, dict) or not isinstance(source.get("doc"), str) or not isinstance(source.get("quote"), str):
            raise ValueError(f"sources[{i}] 应含字符串 doc 和 quote (needs string doc and quote)")
        if not source["quote"].strip():
            raise ValueError(f"sources[{i}].quote 为空 (empty quote)")
        page = source.get("page")
        if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
            raise ValueError(f"sources[{i}].page 应为正整数 (page must be a positive integer)")
        gold.append(GoldSource(source["doc"], source["quote"], page))
    if record["type"] != "unanswerable" and not gold:
        raise ValueError("可回答的问题需要 sources (answerable items need sources)")
    history = record.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, str) and h.strip() for h in history):
        raise ValueError("history 应为非空字符串列表 (history must be a list of non-empty strings)")
    return EvalItem(
        record["id"], record["type"], record["question"], answer, tuple(must), tuple(gold), line, tuple(history)
    )
