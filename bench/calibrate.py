"""Calibrate the answer stage's scoring and refusal thresholds on several question sets at once.

    .venv/bin/python bench/calibrate.py eval/dev.jsonl=.zhiku-bench/dev eval/dev2.jsonl=.zhiku-bench/dev2

Each SET=HOME pair is a question set and the index it is asked against. Retrieval and evidence
are computed once per question; then every combination of the grid below is scored on all sets
together: the unit scoring (``answer.extractive.Scoring``: the weight of the retriever's rank
against shared words, and the prior of a unit lacking the kind of figure asked for) and the
refusal thresholds (``answer.answerability.Thresholds``). Follow-up items are left out. For each
combination it prints accuracy (share of must_include facts), unanswerable refused, and false
refusals per set, best first by the mean over sets of (accuracy + refused − 2 × false refusals).
A threshold that fits one set only shows up here as a loss on the other.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answer.answerability import Thresholds, judge  # noqa: E402
from answer.compose import assemble, refusal  # noqa: E402
from answer.evidence import Evidence  # noqa: E402
from answer.extractive import ExtractiveComposer, Scoring, select  # noqa: E402
from app.api import Assistant  # noqa: E402
from app.settings import Settings  # noqa: E402
from eval.dataset import EvalItem, load_items  # noqa: E402
from eval.grounding import check_answer  # noqa: E402

GRID = {
    "rank": (0.1, 0.25, 0.5),
    "unmeasured": (0.4,),
    "follow": (0.5,),
    "fact_chars": (500,),
    "tie": (0.6, 0.7, 0.8),
    "ties": (1, 2, 3),
    "min_coverage": (0.2, 0.3),
    "min_similarity": (0.86, 1.01),
}


@dataclass
class Case:
    item: EvalItem
    evidence: Evidence


def cases(path: Path, home: Path) -> tuple[list[Case], dict[str, str]]:
    items, _ = load_items(path)
    with Assistant(Settings(home=home)) as assistant:
        pipeline = assistant.pipeline
        out = [
            Case(item, pipeline.evidence(pipeline.analyse(item.question, item.history)))
            for item in items
            if item.type != "followup"
        ]
        texts = {doc_id: doc.text for case in out for doc_id, doc in case.evidence.docs.items()}
    return out, texts


def score(run: Sequence[Case], texts: dict[str, str], scoring: Scoring, thresholds: Thresholds) -> tuple[float, float, float]:
    composer = ExtractiveComposer()
    accuracy, answerable, refused, unanswerable, false_refusals = 0.0, 0, 0, 0, 0
    for case in run:
        chosen = select(case.evidence, scoring=scoring)
        verdict = judge(case.evidence, chosen, thresholds)
        started = time.perf_counter()
        if verdict.ok and chosen:
            claims = composer.compose(case.evidence, chosen).claims
            answer = assemble(case.item.question, claims, case.evidence.texts, generator="extractive", started=started)
        else:
            answer = refusal(case.item.question, case.evidence.passages, generator="extractive", started=started)
        check = check_answer(case.item, answer, texts)
        if case.item.answerable:
            answerable += 1
            accuracy += check.must_include or 0.0
            false_refusals += answer.refused
        else:
            unanswerable += 1
            refused += answer.refused
    return accuracy / max(answerable, 1), refused / max(unanswerable, 1), false_refusals / max(answerable, 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", help="QUESTIONS.jsonl=INDEX_HOME")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    runs = []
    for spec in args.sets:
        questions, _, home = spec.partition("=")
        runs.append((Path(questions).stem, *cases(Path(questions), Path(home))))
    rows = []
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values, strict=True))
        scoring = Scoring(rank=params["rank"], unmeasured=params["unmeasured"], follow=params["follow"],
                          fact_chars=int(params["fact_chars"]), tie=params["tie"], ties=int(params["ties"]))
        thresholds = Thresholds(params["min_coverage"], params["min_similarity"])
        figures = [score(run, texts, scoring, thresholds) for _, run, texts in runs]
        objective = sum(a + r - 2 * f for a, r, f in figures) / len(figures)
        rows.append((objective, values, figures))
    rows.sort(key=lambda row: -row[0])
    names = "  ".join(f"{name}: acc refused false" for name, _, _ in runs)
    print(f"objective  {' '.join(GRID)}   {names}")
    for objective, values, figures in rows[: args.top]:
        cells = "  ".join(f"{a:.3f} {r:.2f} {f:.3f}" for a, r, f in figures)
        print(f"{objective:.3f}      {' '.join(str(v) for v in values)}   {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
