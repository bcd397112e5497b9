"""Query latency of ``retrieve`` over the full scale index (run ``bench/ingest.py`` first).

    .venv/bin/python bench/query.py [QUESTIONS.jsonl] [--home .zhiku-bench/scale] [--rounds 3]

Every question of the set (answerable or not) is asked ``--rounds`` times after one warm-up
query (which loads the model and the lexical index). Prints p50/p95 of the whole ``retrieve``
call and of its parts: query embedding, Chroma search, BM25 search, fusion and passages.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import percentile  # noqa: E402
from eval.dataset import load_items  # noqa: E402
from index.embed import E5SmallEmbedder  # noqa: E402
from index.hybrid import HybridRetriever  # noqa: E402
from index.indexer import Index  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", default=str(ROOT / "eval" / "dev.jsonl"))
    parser.add_argument("--home", default=str(ROOT / ".zhiku-bench" / "scale"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top-k", type=int, default=8)
    args = parser.parse_args(argv)

    items, _ = load_items(Path(args.questions))
    index = Index(Path(args.home), E5SmallEmbedder())
    chunks = index.docstore.chunk_count()
    if not chunks:
        print(f"no index in {args.home}: run bench/ingest.py first", file=sys.stderr)
        return 1
    retriever = HybridRetriever(index)
    retriever.retrieve("职业教育", top_k=args.top_k)  # warm-up: model, lexical matrix, Chroma segments

    total: list[float] = []
    parts: dict[str, list[float]] = {"embed": [], "dense": [], "bm25": [], "fuse+passages": []}
    for _ in range(args.rounds):
        for item in items:
            started = time.perf_counter()
            retriever.retrieve(item.question, top_k=args.top_k)
            total.append(time.perf_counter() - started)

            # the same steps, timed one by one
            t0 = time.perf_counter()
            vector = index.embedder.encode_query(item.question)
            t1 = time.perf_counter()
            dense = index.vectors.query(vector, retriever.candidates)
            t2 = time.perf_counter()
            lexical = index.lexical.search(item.question, retriever.candidates)
            t3 = time.perf_counter()
            retriever.rank(item.question, dense, lexical, args.top_k)
            t4 = time.perf_counter()
            for name, seconds in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                parts[name].append(seconds)

    print(f"index: {len(index.documents())} documents, {chunks} chunks; {len(items)} questions x {args.rounds} rounds")
    print(f"retrieve: p50 {1000 * percentile(total, 0.5):.1f} ms   p95 {1000 * percentile(total, 0.95):.1f} ms   "
          f"mean {1000 * statistics.fmean(total):.1f} ms   max {1000 * max(total):.1f} ms")
    for name, values in parts.items():
        print(f"  {name:<14} p50 {1000 * percentile(values, 0.5):6.1f} ms   p95 {1000 * percentile(values, 0.95):6.1f} ms")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
