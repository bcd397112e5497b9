"""Latency of whole extractive answers over an index (the scale index by default).

    .venv/bin/python bench/answer.py [QUESTIONS.jsonl ...] [--home .zhiku-bench/scale] [--rounds 3]

Every question of the sets (follow-ups with their history) is answered ``--rounds`` times with
the default ``extractive`` composer after one warm-up answer, which loads the embedder and the
lexical index. Prints p50/p95 of ``Assistant.ask`` and of its stages: analysis, retrieval,
evidence (reading documents and building units), selection with the answerability decision,
and composition with verification. Figures, not a test: the machine is shared.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answer.extractive import ExtractiveComposer  # noqa: E402
from app.api import Assistant  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench import percentile  # noqa: E402
from eval.dataset import load_items  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="*", default=[str(ROOT / "eval" / "dev.jsonl"), str(ROOT / "eval" / "dev2.jsonl")])
    parser.add_argument("--home", default=str(ROOT / ".zhiku-bench" / "scale"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    items = [item for path in args.questions for item in load_items(Path(path))[0]]
    with Assistant(Settings(home=Path(args.home)), generator="extractive") as assistant:
        chunks = assistant.index.docstore.chunk_count()
        if not chunks:
            print(f"no index in {args.home}: run bench/ingest.py first", file=sys.stderr)
            return 1
        pipeline, composer = assistant.pipeline, ExtractiveComposer()
        assistant.ask("职业教育")  # warm-up
        total: list[float] = []
        stages: dict[str, list[float]] = {"analyse": [], "retrieve+evidence": [], "select+judge": [], "compose+verify": []}
        for _ in range(args.rounds):
            for item in items:
                started = time.perf_counter()
                assistant.ask(item.question, history=item.history)
                total.append(time.perf_counter() - started)

                assistant.retriever.forget_queries()  # the stages below embed the query anew, as ask did
                t0 = time.perf_counter()
                question = pipeline.analyse(item.question, item.history)
                t1 = time.perf_counter()
                evidence = pipeline.evidence(question)
                t2 = time.perf_counter()
                chosen = pipeline.focus(evidence)
                verdict = pipeline.judge(evidence, chosen)
                t3 = time.perf_counter()
                if verdict.ok:
                    pipeline.finish(item.question, composer.compose(evidence, chosen), evidence, composer.name, t3)
                t4 = time.perf_counter()
                for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    stages[name].append(seconds)
        documents = len(assistant.index.documents())
    print(f"index: {documents} documents, {chunks} chunks; {len(items)} questions x {args.rounds} rounds")
    print(f"extractive answer: p50 {1000 * percentile(total, 0.5):.1f} ms   p95 {1000 * percentile(total, 0.95):.1f} ms   "
          f"max {1000 * max(total):.1f} ms")
    for name, values in stages.items():
        print(f"  {name:<18} p50 {1000 * percentile(values, 0.5):6.1f} ms   p95 {1000 * percentile(values, 0.95):6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
