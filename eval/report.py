"""Write and read eval runs: ``results.jsonl``, ``summary.json``, ``report.md``; compare two runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from eval.harness import HEADLINES, ItemRecord, record_from_dict, summarize, summarize_by_type

# headline -> (label, higher is better)
LABELS: dict[str, tuple[str, bool]] = {
    "accuracy": ("must_include 覆盖 accuracy", True),
    "correct": ("全部命中 correct", True),
    "refusal_rate": ("拒答率(无答案题) refusal", True),
    "false_refusal_rate": ("误拒率 false refusal", False),
    "cited_sentences": ("有引用的句子 cited sentences", True),
    "valid_citations": ("引文准确 valid citations", True),
    "unverified_numbers": ("无出处数字 unverified numbers", False),
    "gold_agreement": ("引文与标准出处一致 gold agreement", True),
    "draft_length_ok": ("篇幅合规 draft length ok", True),
    "retrieval_all_quotes": ("检索 all quotes in 1500", True),
    "retrieval_any_quote": ("检索 any quote in 1500", True),
    "retrieval_all_pieces": ("检索 all quotes in 1500, cells in any layout", True),
    "retrieval_mrr": ("检索 MRR", True),
    "retrieval_recall": ("检索 recall@k", True),
    "latency_p50": ("耗时 p50 (s)", False),
    "latency_p95": ("耗时 p95 (s)", False),
}


def _cell(value: float | int | None, key: str) -> str:
    if value is None:
        return "–"
    if key == "unverified_numbers":
        return str(int(value))
    if key.startswith("latency"):
        return f"{value:.3f}"
    return f"{value:.3f}"


def summary_table(records: Sequence[ItemRecord]) -> str:
    """Markdown: one row per headline, a column for all items and one per question type."""
    overall = summarize(records)
    by_type = summarize_by_type(records)
    header = ["metric", f"all ({len(records)})", *(f"{t} ({by_type[t]['items']})" for t in by_type)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for key in HEADLINES:
        cells = [LABELS[key][0], _cell(overall[key], key), *(_cell(by_type[t][key], key) for t in by_type)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_run(out: Path, records: Sequence[ItemRecord], meta: Mapping[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
    summary = {"meta": dict(meta), "overall": summarize(records), "by_type": summarize_by_type(records)}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    problems = [
        f"- **{r.id}** ({r.type}) {r.question}\n" + "".join(f"  - {p}\n" for p in r.check["problems"])
        for r in records
        if r.check["problems"] or (r.answerable and not r.check["correct"]) or (not r.answerable and not r.check["refused"])
    ]
    write_chart(out / "report.png", records)
    meta_lines = "".join(f"- {k}: {v}\n" for k, v in meta.items())
    (out / "report.md").write_text(
        f"# zhiku eval\n\n{meta_lines}\n## Summary\n\n{summary_table(records)}\n\n![metrics by type](report.png)\n\n"
        f"## Items to look at ({len(problems)})\n\n" + "".join(problems),
        encoding="utf-8",
    )


CHART_METRICS = ("accuracy", "cited_sentences", "valid_citations", "gold_agreement", "retrieval_all_quotes", "refusal_rate")


def write_chart(path: Path, records: Sequence[ItemRecord]) -> None:
    """``report.png``: the main metrics (0–1) by question type, grouped bars.

    Labels are ASCII: the machines this runs on often have no CJK font.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    by_type = summarize_by_type(records)
    types = list(by_type)
    width = 0.8 / len(CHART_METRICS)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.4 * len(types) + 2), 4.5))
    for i, key in enumerate(CHART_METRICS):
        values = [by_type[t][key] for t in types]
        positions = [j + (i - (len(CHART_METRICS) - 1) / 2) * width for j in range(len(types))]
        axes.bar(positions, [v if v is not None else 0.0 for v in values], width, label=key)
    axes.set_xticks(range(len(types)), [f"{t}\n(n={by_type[t]['items']})" for t in types])
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share")
    axes.set_title("zhiku eval: metrics by question type")
    axes.legend(fontsize=7, ncol=len(CHART_METRICS), loc="upper center", bbox_to_anchor=(0.5, -0.16))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def gate(summary: Mapping[str, float | int | None], thresholds: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Headline metrics outside their committed bounds (``{"metric": {"min": x}}`` or ``{"max": y}``)."""
    failures = []
    for key, bound in thresholds.items():
        if key not in HEADLINES:
            failures.append(f"未知指标 unknown metric in thresholds: {key}")
            continue
        value = summary.get(key)
        if value is None:
            failures.append(f"{key}: 无数值 no value in this run")
        elif "min" in bound and value < bound["min"]:
            failures.append(f"{key} = {value:.3f} < {bound['min']} (min)")
        elif "max" in bound and value > bound["max"]:
            failures.append(f"{key} = {value:.3f} > {bound['max']} (max)")
    return failures


def read_run(path: Path) -> list[ItemRecord]:
    """Records from a run folder or its ``results.jsonl``."""
    file = path / "results.jsonl" if path.is_dir() else path
    with file.open(encoding="utf-8") as handle:
        return [record_from_dict(json.loads(line)) for line in handle if line.strip()]


def compare(before: Sequence[ItemRecord], after: Sequence[ItemRecord]) -> str:
    """Headline deltas, then the items that got better or worse (correct / refused / problems)."""
    a, b = summarize(before), summarize(after)
    lines = ["| metric | A | B | change |", "| --- | --- | --- | --- |"]
    for key in HEADLINES:
        x, y = a[key], b[key]
        if x is None or y is None:
            change = ""
        else:
            better = (y > x) == LABELS[key][1]
            change = "=" if y == x else ("better" if better else "worse")
        lines.append(f"| {LABELS[key][0]} | {_cell(x, key)} | {_cell(y, key)} | {change} |")
    old = {r.id: r for r in before}
    moves = []
    for record in after:
        prior = old.get(record.id)
        if prior is None:
            continue
        was, now = _item_ok(prior), _item_ok(record)
        if was != now:
            moves.append(f"{'+' if now else '-'} {record.id} ({record.type}) {record.question}")
    lines.append("")
    lines.append(f"items that changed ({len(moves)}):" if moves else "no item changed")
    lines.extend(moves)
    return "\n".join(lines)


def _item_ok(record: ItemRecord) -> bool:
    if not record.answerable:
        return bool(record.check["refused"])
    return bool(record.check["correct"]) and not record.check["problems"]
