"""Knowledge-base filters at scale: retrieval quality and latency with and without them.

    .venv/bin/python bench/bases.py [QUESTIONS.jsonl] [--home .zhiku-bench/scale] [--rounds 3]

Over the scale index (``bench/ingest.py``: corpus/ plus the 683 State Council regulations,
about 30k chunks), the dev questions (whose gold quotes are in corpus/) are retrieved three ways:

- whole library: no filter, the 683 regulations as distractors;
- small base: a knowledge base of corpus/'s documents only (about 20 documents);
- large base: a knowledge base of every document but ten regulations (about 690 documents),
  the longest ``doc_id $in [...]`` list Chroma and BM25 get from a base of this library.

The bases are made for the run and deleted after it (the index's documents are not touched).
Quality as in ``bench/retrieval.py``; latency of the whole ``retrieve`` call after one warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import percentile  # noqa: E402
from bench.retrieval import summarize  # noqa: E402
from eval.dataset import load_items  # noqa: E402
from eval.retrieval import Passage, RetrievalScore, score_item  # noqa: E402
from index.embed import E5SmallEmbedder  # noqa: E402
from index.hybrid import Filters, HybridRetriever  # noqa: E402
from index.indexer import Index  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", default=str(ROOT / "eval" / "dev.jsonl"))
    parser.add_argument("--home", default=str(ROOT / ".zhiku-bench" / "scale"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args(argv)

    items, _ = load_items(Path(args.questions))
    answerable = [i for i in items if i.answerable]
    index = Index(Path(args.home), E5SmallEmbedder())
    documents = index.documents()
    if not documents:
        print(f"no index in {args.home}: run bench/ingest.py first", file=sys.stderr)
        return 1
    corpus = str((ROOT / "corpus").resolve())
    # sources as stored (an earlier version kept them relative to the working folder)
    samples = {d.doc_id for d in documents if str((ROOT / d.source).resolve()).startswith(corpus)}
    others = sorted(d.doc_id for d in documents if d.doc_id not in samples)
    small = index.create_base(f"bench-small-{time.time_ns()}")
    large = index.create_base(f"bench-large-{time.time_ns()}")
    try:
        index.file_documents(small.base_id, add=samples)
        index.file_documents(large.base_id, add=[*samples, *others[10:]])
        print(f"index: {len(documents)} documents, {index.docstore.chunk_count()} chunks; small base "
              f"{len(samples)} documents, large base {len(samples) + len(others[10:])}", flush=True)
        retriever = HybridRetriever(index)
        scopes: dict[str, Filters | None] = {
            "whole library": None,
            "small base": Filters.of(doc_ids=index.base_documents([small.base_id])),
            "large base": Filters.of(doc_ids=index.base_documents([large.base_id])),
        }
        retriever.retrieve("职业教育", top_k=args.top_k)  # warm-up: model, lexical matrix, Chroma segments
        print(f"\n{len(answerable)} answerable questions from {args.questions}, top k {args.top_k}, "
              f"{args.rounds} rounds\n")
        print("| scope | all quotes | any quote | MRR | recall@k | p50 ms | p95 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, filters in scopes.items():
            scores: list[RetrievalScore] = []
            seconds: list[float] = []
            for round_ in range(args.rounds):
                for item in answerable:
                    retriever.forget_queries()  # every retrieval embeds its question, as a new one would
                    started = time.perf_counter()
                    hits = retriever.retrieve(item.question, top_k=args.top_k, filters=filters)
                    seconds.append(time.perf_counter() - started)
                    if round_ == 0:
                        scores.append(score_item(item, [Passage(h.chunk.text, h.source) for h in hits]))
            figures = summarize(scores)
            print(f"| {name} | {figures['all_quotes_hit']:.3f} | {figures['any_quote_hit']:.3f} | {figures['mrr']:.3f} "
                  f"| {figures['recall@k']:.3f} | {1000 * percentile(seconds, 0.5):.0f} "
                  f"| {1000 * percentile(seconds, 0.95):.0f} |", flush=True)
    finally:
        index.delete_base(small.base_id)
        index.delete_base(large.base_id)
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
