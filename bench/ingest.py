"""Ingest throughput and memory at scale: corpus/ plus the 683 State Council regulations.

    .venv/bin/python bench/ingest.py [--limit N] [--home .zhiku-bench/scale] [--keep]

Prints documents, chunks, wall time per stage (load/clean/chunk/embed/store), chunks per
second, the embedder's raw throughput on a sample of the same chunk texts measured in the same
run, a second ingest of the unchanged corpus, and peak RSS. The index is left in ``--home`` for
``bench/query.py``. Without ``--keep`` an existing index there is deleted first.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embed import E5SmallEmbedder  # noqa: E402
from index.indexer import EMBED_BATCH, Index  # noqa: E402
from ingest.load import SUPPORTED_SUFFIXES  # noqa: E402

SCALE_SET = ROOT.parent / "shared" / "corpus_extra" / "policies" / "scale_lawrefbook_xingzhengfagui"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=str(ROOT / ".zhiku-bench" / "scale"))
    parser.add_argument("--limit", type=int, help="only the first N regulations (quick runs)")
    parser.add_argument("--sample", type=int, default=1000, help="chunks for the raw-throughput measurement")
    parser.add_argument("--keep", action="store_true", help="keep an existing index (measures an incremental run)")
    args = parser.parse_args(argv)

    home = Path(args.home)
    if home.exists() and not args.keep:
        shutil.rmtree(home)
    regulations = files_under(SCALE_SET)[: args.limit] if args.limit else files_under(SCALE_SET)
    files = files_under(ROOT / "corpus") + regulations
    embedder = E5SmallEmbedder()
    index = Index(home, embedder)

    print(f"ingesting {len(files)} files into {home} ...", flush=True)
    started = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] // 2048 > (done[0] - n) // 2048:
            elapsed = time.perf_counter() - started
            print(f"  {done[0]} chunks embedded, {elapsed:.0f}s, {done[0] / elapsed:.1f} chunks/s", flush=True)

    first = index.update(files, on_embedded=progress)
    first_seconds = time.perf_counter() - started
    documents, chunks = len(index.documents()), index.docstore.chunk_count()

    started = time.perf_counter()
    second = index.update(files)
    second_seconds = time.perf_counter() - started

    # raw model throughput on a random sample of the very texts the pipeline embedded
    contexts = [c.context for c in index.docstore.iter_chunks()]
    # batched like the pipeline does it: 64 at a time, sorted by length
    sample = sorted(random.Random(0).sample(contexts, min(args.sample, len(contexts))), key=len)
    started = time.perf_counter()
    for start in range(0, len(sample), EMBED_BATCH):
        embedder.encode_passages(sample[start : start + EMBED_BATCH])
    raw_rate = len(sample) / (time.perf_counter() - started)
    sample_chars = sum(map(len, sample)) / max(1, len(sample))
    all_chars = sum(map(len, contexts)) / max(1, len(contexts))

    times = first.times
    pipeline_rate = first.embedded / first_seconds
    embed_rate = first.embedded / times.embed if times.embed else 0.0
    print()
    print(f"documents: {documents}   chunks: {chunks}   failures: {len(first.failures)}")
    print(f"first ingest: {first_seconds:.1f}s wall, {pipeline_rate:.1f} chunks/s end to end")
    print("stages (s): " + "  ".join(f"{k}={v:.1f}" for k, v in times.as_dict().items()))
    print(f"embed stage: {embed_rate:.1f} chunks/s; raw model on {len(sample)} sampled chunks: {raw_rate:.1f} chunks/s")
    print(f"mean context: {sample_chars:.0f} chars in the sample, {all_chars:.0f} overall")
    print(f"pipeline / raw embedding throughput: {pipeline_rate / raw_rate:.1%} end to end, "
          f"{embed_rate / raw_rate:.1%} embed stage")
    print(f"second ingest (unchanged): {second_seconds:.2f}s, embedded {second.embedded}, "
          f"{second_seconds / first_seconds:.2%} of the first")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    for path, error in first.failures[:10]:
        print(f"  failed: {path}: {error}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
