"""Retrieval quality on a question set: zhiku hybrid vs BM25 alone vs a vanilla LlamaIndex pipeline.

    .venv/bin/python bench/retrieval.py [QUESTIONS.jsonl] [--corpus corpus] [--top-k 10]

For every answerable question: do all (any) gold quotes fall in the first 1500 characters of
the retrieved text (whitespace-insensitive)? MRR of the first passage holding a gold quote,
recall of gold quotes in the top k. All three systems use the same bundled e5-small embedder
and run in the same process, so the columns compare.

- zhiku: our chunks, Chroma dense + jieba BM25, RRF fusion, fragment expansion.
- bm25: our chunks, the lexical index alone.
- llamaindex: the raw files, default ``SentenceSplitter`` (1024 tokens, overlap 200), dense top k.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.dataset import EvalItem, load_items  # noqa: E402
from eval.retrieval import BUDGET_CHARS, Passage, RetrievalScore, score_item  # noqa: E402
from index.embed import E5SmallEmbedder  # noqa: E402
from index.hybrid import HybridRetriever  # noqa: E402
from index.indexer import Index  # noqa: E402
from ingest.load import SUPPORTED_SUFFIXES  # noqa: E402

Retrieve = Callable[[str], list[Passage]]


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def zhiku_system(index: Index, top_k: int) -> Retrieve:
    retriever = HybridRetriever(index)

    def run(question: str) -> list[Passage]:
        return [Passage(h.chunk.text, h.source) for h in retriever.retrieve(question, top_k=top_k)]

    return run


def bm25_system(index: Index, top_k: int) -> Retrieve:
    sources = {d.doc_id: d.source for d in index.documents()}

    def run(question: str) -> list[Passage]:
        hits = index.lexical.search(question, top_k)
        chunks = index.docstore.chunks([h.chunk_id for h in hits])
        return [Passage(chunks[h.chunk_id].text, sources[chunks[h.chunk_id].doc_id]) for h in hits]

    return run


def llamaindex_system(files: Sequence[Path], embedder: E5SmallEmbedder, top_k: int, cache: Path) -> Retrieve:
    """Vanilla LlamaIndex: SimpleDirectoryReader → SentenceSplitter() → VectorStoreIndex → retriever."""
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter

    vectors = _VectorCache(cache, embedder)

    class E5Embedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in embedder.encode_query(query)]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in row] for row in vectors.passages(texts)]

    documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    nodes = SentenceSplitter().get_nodes_from_documents(documents)
    print(f"  llamaindex: {len(documents)} documents, {len(nodes)} nodes", flush=True)
    index = VectorStoreIndex(nodes, embed_model=E5Embedding(embed_batch_size=64))
    vectors.save()
    retriever = index.as_retriever(similarity_top_k=top_k)

    def run(question: str) -> list[Passage]:
        return [Passage(n.node.get_content(), str(n.node.metadata.get("file_path", ""))) for n in retriever.retrieve(question)]

    return run


class _VectorCache:
    """Passage vectors by text hash, so repeated bench runs do not re-embed the baseline."""

    def __init__(self, path: Path, embedder: E5SmallEmbedder) -> None:
        self.path = path
        self.embedder = embedder
        self.known: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self.known = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def passages(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self.known]
        if todo:
            fresh = self.embedder.encode_passages([texts[i] for i in todo])
            self.known.update({keys[i]: v for i, v in zip(todo, fresh, strict=True)})
        return np.stack([self.known[k] for k in keys])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.known)
        np.savez(self.path, keys=np.array(keys), vectors=np.stack([self.known[k] for k in keys]))


def evaluate(items: Sequence[EvalItem], retrieve: Retrieve) -> tuple[list[RetrievalScore], list[float]]:
    scores, seconds = [], []
    for item in items:
        started = time.perf_counter()
        passages = retrieve(item.question)
        seconds.append(time.perf_counter() - started)
        scores.append(score_item(item, passages))
    return scores, seconds


def summarize(scores: Sequence[RetrievalScore]) -> dict[str, float]:
    n = len(scores) or 1
    return {
        "all_quotes_hit": sum(s.all_in_budget for s in scores) / n,
        "any_quote_hit": sum(s.any_in_budget for s in scores) / n,
        "mrr": sum(s.reciprocal_rank for s in scores) / n,
        "recall@k": sum(s.recall for s in scores) / n,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", default=str(ROOT / "eval" / "dev.jsonl"))
    parser.add_argument("--corpus", default=str(ROOT / "corpus"), help="folder of documents (default: corpus/)")
    parser.add_argument("--home", default=str(ROOT / ".zhiku-bench" / "retrieval"), help="index folder (kept between runs)")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--systems", default="zhiku,bm25,llamaindex")
    parser.add_argument("--misses", action="store_true", help="print the questions zhiku misses")
    args = parser.parse_args(argv)

    items, problems = load_items(Path(args.questions))
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)
    answerable = [i for i in items if i.answerable]
    files = corpus_files(Path(args.corpus))
    embedder = E5SmallEmbedder()
    home = Path(args.home)
    index = Index(home, embedder)
    started = time.perf_counter()
    report = index.update(files)
    print(f"index: {len(index.documents())} documents, {index.docstore.chunk_count()} chunks "
          f"({report.embedded} embedded in {time.perf_counter() - started:.1f}s)", flush=True)

    systems: dict[str, Retrieve] = {}
    wanted = args.systems.split(",")
    if "zhiku" in wanted:
        systems["zhiku"] = zhiku_system(index, args.top_k)
    if "bm25" in wanted:
        systems["bm25"] = bm25_system(index, args.top_k)
    if "llamaindex" in wanted:
        systems["llamaindex"] = llamaindex_system(files, embedder, args.top_k, home / "llamaindex_vectors.npz")

    results: dict[str, list[RetrievalScore]] = {}
    latency: dict[str, list[float]] = {}
    for name, retrieve in systems.items():
        results[name], latency[name] = evaluate(answerable, retrieve)

    print(f"\n{len(answerable)} answerable questions from {args.questions}; "
          f"budget {BUDGET_CHARS} characters, top k {args.top_k}\n")
    names = list(results)
    print("| metric | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    table = {name: summarize(scores) for name, scores in results.items()}
    for metric in ("all_quotes_hit", "any_quote_hit", "mrr", "recall@k"):
        print(f"| {metric} | " + " | ".join(f"{table[n][metric]:.3f}" for n in names) + " |")
    print("| p50 ms | " + " | ".join(f"{1000 * float(np.median(latency[n])):.0f}" for n in names) + " |")

    by_type: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(answerable):
        by_type[item.type].append(i)
    print("\nall_quotes_hit by type:")
    print("| type | n | " + " | ".join(names) + " |")
    print("| --- | --- |" + " --- |" * len(names))
    for kind, positions in by_type.items():
        cells = [f"{summarize([results[n][p] for p in positions])['all_quotes_hit']:.2f}" for n in names]
        print(f"| {kind} | {len(positions)} | " + " | ".join(cells) + " |")

    if args.misses and "zhiku" in results:
        print("\nzhiku misses:")
        for item, score in zip(answerable, results["zhiku"], strict=True):
            if not score.all_in_budget or score.reciprocal_rank < 1:
                print(f"  {item.id} {item.type} all={score.all_in_budget} rr={score.reciprocal_rank:.2f} {item.question}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
