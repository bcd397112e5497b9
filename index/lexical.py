"""BM25 lexical search over jieba tokens, kept in one ``.npz`` file beside the vector store.

Dense retrieval misses exact policy terms and figures (「现代学徒制」, 「5897人」); BM25 over the
shared ``ChineseTokenizer`` catches them. Rows are chunks and columns are terms of a sparse matrix
of raw counts, so a query reads only the columns of its own terms instead of scoring every chunk
in Python. Adds are buffered and merged in one ``vstack`` when the index is next searched or saved,
so adding 100k chunks one by one stays linear; BM25 weights are derived from the counts on demand
and cached until the next change, which keeps the stored file independent of ``k1`` and ``b``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from index.tokenize import ChineseTokenizer
from ingest.errors import SettingsError, ZhikuError

FORMAT_VERSION = 1

# Function words that occur in nearly every chunk. BM25's idf already makes them cheap, but
# search mode repeats them inside longer words' parts and they inflate document lengths, so they are
# dropped at index and at query time alike. Single characters only where they are almost never
# content on their own (「中」 alone is 「在…中」; 中职/中高本 are tokens of their own).
STOP_TOKENS: frozenset[str] = frozenset(
    {
        "的", "地", "得", "了", "着", "过", "和", "与", "及", "以及", "或", "或者", "是", "在", "对", "于",
        "等", "为", "中", "其", "之", "并", "而", "也", "把", "被", "将", "从", "向", "这", "那", "所",
    }
)
# The tokenizer keeps runs of [\w+.%]; a run with no word character (「%」, 「+」, 「..」) is punctuation.
_WORD_CHAR = re.compile(r"\w")


class LexicalIndexError(ZhikuError):
    """The lexical index file cannot be read; rebuilding it with ``zhiku reindex`` fixes it."""


@dataclass(frozen=True)
class LexicalHit:
    """One chunk matched by a lexical query; higher ``score`` is better (BM25, unbounded)."""

    chunk_id: str
    score: float


def bm25_weights(tf: sp.csr_matrix, k1: float = 1.2, b: float = 0.75) -> sp.csc_matrix:
    """BM25 weight of every (chunk, term) entry of a raw term-count matrix.

    ``tf`` has one row per chunk and one column per term. A chunk's length is its row sum and
    ``avglen`` the mean over rows. For each stored entry::

        w = idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))
        idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))

    where ``N`` is the number of rows and ``df`` the number of rows containing the term. This idf
    (Lucene's) is always positive, so a term in every chunk still counts a little instead of
    subtracting. The result has the same sparsity as ``tf`` and is column-major, since a query
    reads whole term columns. Pure: ``tf`` is not modified.
    """
    counts = sp.csr_matrix(tf, dtype=np.float64, copy=True)
    counts.sum_duplicates()
    counts.eliminate_zeros()
    n_rows, n_terms = counts.shape
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    avglen = float(lengths.mean()) if n_rows else 0.0
    if avglen <= 0:
        avglen = 1.0  # every row empty: there are no entries to weigh, but avoid 0/0
    df = np.bincount(counts.indices, minlength=n_terms)
    idf = np.log1p((n_rows - df + 0.5) / (df + 0.5))
    entry_rows = np.repeat(np.arange(n_rows), np.diff(counts.indptr))
    data = counts.data
    norm = k1 * (1.0 - b + b * lengths[entry_rows] / avglen)
    weights = idf[counts.indices] * data * (k1 + 1.0) / (data + norm)
    return sp.csr_matrix((weights, counts.indices, counts.indptr), shape=counts.shape).tocsc()


@dataclass(frozen=True)
class _Scoring:
    """What a search needs, derived from the merged counts; rebuilt after any change."""

    weights: sp.csc_matrix
    doc_codes: np.ndarray
    doc_code_of: dict[str, int]
    kind_codes: np.ndarray
    kind_code_of: dict[str, int]
    df: np.ndarray  # rows containing each term


class LexicalIndex:
    """A BM25 index of chunks, searchable by query text and filterable by document and kind.

    Build it empty, or with ``open`` from a file written by ``save``. Not thread-safe: the app
    serialises writes, and a search may merge buffered adds.
    """

    def __init__(self, tokenizer: ChineseTokenizer, path: Path | None = None, *, k1: float = 1.2, b: float = 0.75) -> None:
        if not k1 >= 0:
            raise SettingsError(f"BM25 参数 k1 必须 ≥ 0，收到 {k1!r} / BM25 k1 must be >= 0 (usual: 1.2), got {k1!r}")
        if not 0 <= b <= 1:
            raise SettingsError(f"BM25 参数 b 必须在 0 到 1 之间，收到 {b!r} / BM25 b must be in [0, 1] (usual: 0.75), got {b!r}")
        self.tokenizer = tokenizer
        self.path = path
        self.k1 = k1
        self.b = b
        # One entry per row, merged and buffered alike; rows listed in _dead were replaced or
        # removed and disappear at the next merge.
        self._chunk_ids: list[str] = []
        self._doc_ids: list[str] = []
        self._kinds: list[str] = []
        self._row_of: dict[str, int] = {}
        self._dead: list[int] = []
        self._vocab: dict[str, int] = {}
        self._by_first: tuple[int, dict[str, list[str]]] | None = None
        self._tf = sp.csr_matrix((0, 0), dtype=np.int32)
        # Buffered rows in CSR parts (flat lists, so an add costs no numpy allocation).
        self._pending_indices: list[int] = []
        self._pending_counts: list[int] = []
        self._pending_indptr: list[int] = [0]
        self._scoring: _Scoring | None = None

    @classmethod
    def open(cls, path: Path, tokenizer: ChineseTokenizer, *, k1: float | None = None, b: float | None = None) -> LexicalIndex:
        """The index saved at ``path``, or an empty one bound to ``path`` if there is no file yet.

        ``k1``/``b`` default to the values saved with the file; passing them overrides those (the
        file keeps raw counts, so any values apply).
        """
        if not path.exists():
            return cls(tokenizer, path, k1=1.2 if k1 is None else k1, b=0.75 if b is None else b)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
            version = int(arrays["format_version"])
            if version != FORMAT_VERSION:
                raise ValueError(f"format version {version}, expected {FORMAT_VERSION}")
            shape = tuple(int(n) for n in arrays["shape"])
            tf = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
            tf.check_format(full_check=True)
            vocab = _unpack(arrays["vocab_utf8"], arrays["vocab_offsets"])
            chunk_ids = _unpack(arrays["chunk_ids_utf8"], arrays["chunk_ids_offsets"])
            doc_ids = _unpack(arrays["doc_ids_utf8"], arrays["doc_ids_offsets"])
            kinds = _unpack(arrays["kinds_utf8"], arrays["kinds_offsets"])
            if not (len(chunk_ids) == len(doc_ids) == len(kinds) == shape[0]) or len(vocab) != shape[1]:
                raise ValueError("row or column counts disagree")
            if len(set(chunk_ids)) != len(chunk_ids) or len(set(vocab)) != len(vocab):
                raise ValueError("duplicate chunk ids or terms")
            saved_k1, saved_b = float(arrays["k1"]), float(arrays["b"])
        except (OSError, ValueError, KeyError, EOFError, IndexError, TypeError, zipfile.BadZipFile) as error:
            raise LexicalIndexError(
                f"词法索引文件损坏或无法读取：{path}（{error}）。请运行 `zhiku reindex` 重建索引。"
                f" / The lexical index file {path} is corrupt or unreadable ({error}); run `zhiku reindex` to rebuild it."
            ) from error
        index = cls(tokenizer, path, k1=saved_k1 if k1 is None else k1, b=saved_b if b is None else b)
        index._tf = sp.csr_matrix(tf, dtype=np.int32)
        index._vocab = {term: col for col, term in enumerate(vocab)}
        index._chunk_ids, index._doc_ids, index._kinds = chunk_ids, doc_ids, kinds
        index._row_of = {chunk_id: row for row, chunk_id in enumerate(chunk_ids)}
        return index

    def add(self, chunk_id: str, doc_id: str, kind: str, text: str) -> None:
        """Index ``text`` (tokenized here) as ``chunk_id``; an existing row of that id is replaced."""
        old = self._row_of.get(chunk_id)
        if old is not None:
            self._dead.append(old)
        counts = Counter(self._index_terms(text))
        for term, count in counts.items():
            col = self._vocab.setdefault(term, len(self._vocab))
            self._pending_indices.append(col)
            self._pending_counts.append(count)
        self._pending_indptr.append(len(self._pending_indices))
        self._row_of[chunk_id] = len(self._chunk_ids)
        self._chunk_ids.append(chunk_id)
        self._doc_ids.append(doc_id)
        self._kinds.append(kind)
        self._scoring = None

    def add_many(self, items: Iterable[tuple[str, str, str, str]]) -> int:
        """``add`` each ``(chunk_id, doc_id, kind, text)``; returns how many were added."""
        added = 0
        for chunk_id, doc_id, kind, text in items:
            self.add(chunk_id, doc_id, kind, text)
            added += 1
        return added

    def remove_docs(self, doc_ids: Iterable[str]) -> int:
        """Remove every chunk of the given documents; returns how many chunks were removed."""
        wanted = set(doc_ids)
        gone = [chunk_id for chunk_id, row in self._row_of.items() if self._doc_ids[row] in wanted]
        for chunk_id in gone:
            self._dead.append(self._row_of.pop(chunk_id))
        if gone:
            self._scoring = None
        return len(gone)

    def doc_ids(self) -> set[str]:
        return {self._doc_ids[row] for row in self._row_of.values()}

    def chunk_ids(self) -> set[str]:
        return set(self._row_of)

    def __len__(self) -> int:
        return len(self._row_of)

    def search(
        self,
        query: str,
        top_k: int = 10,
        *,
        doc_ids: Collection[str] | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[LexicalHit]:
        """The ``top_k`` best chunks for ``query``, best first; only chunks sharing a term with it.

        Each distinct query term counts once: search mode already repeats a long word's parts, so
        counting repeats would double-weight them. ``doc_ids``/``kinds`` keep only matching chunks.
        Equal scores keep the order in which chunks were added.
        """
        if top_k < 1:
            return []
        terms = dict.fromkeys(self._index_terms(query))
        cols = [self._vocab[term] for term in terms if term in self._vocab]
        if not cols:
            return []
        scoring = self._ready()
        weights = scoring.weights
        scores = np.zeros(weights.shape[0])
        for col in cols:
            # Row indices within one CSC column are unique, so a fancy-index += adds correctly.
            start, end = weights.indptr[col], weights.indptr[col + 1]
            scores[weights.indices[start:end]] += weights.data[start:end]
        rows = np.flatnonzero(scores > 0)
        if doc_ids is not None:
            rows = rows[np.isin(scoring.doc_codes[rows], [scoring.doc_code_of[d] for d in doc_ids if d in scoring.doc_code_of])]
        if kinds is not None:
            rows = rows[np.isin(scoring.kind_codes[rows], [scoring.kind_code_of[k] for k in kinds if k in scoring.kind_code_of])]
        row_scores = scores[rows]
        if len(rows) > top_k:
            # Keep everything tied with the k-th best too, so which tie wins does not depend on
            # argpartition's internal order; the sort below breaks ties by row.
            best = np.argpartition(-row_scores, top_k - 1)[:top_k]
            keep = row_scores >= row_scores[best].min()
            rows, row_scores = rows[keep], row_scores[keep]
        order = np.lexsort((rows, -row_scores))[:top_k]
        return [LexicalHit(self._chunk_ids[row], float(row_scores[i])) for i, row in zip(order, rows[order], strict=True)]

    def save(self) -> None:
        """Write the index to ``path`` atomically: readers see the old file or the new, never half."""
        if self.path is None:
            raise ValueError("LexicalIndex.save() needs a path: build it with a path or LexicalIndex.open()")
        self._merge()
        vocab = sorted(self._vocab, key=self._vocab.__getitem__)
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "k1": np.array(self.k1, dtype=np.float64),
            "b": np.array(self.b, dtype=np.float64),
            "data": self._tf.data.astype(np.int32, copy=False),
            "indices": self._tf.indices,
            "indptr": self._tf.indptr,
            "shape": np.array(self._tf.shape, dtype=np.int64),
        }
        columns = {"vocab": vocab, "chunk_ids": self._chunk_ids, "doc_ids": self._doc_ids, "kinds": self._kinds}
        for name, strings in columns.items():
            arrays[f"{name}_utf8"], arrays[f"{name}_offsets"] = _pack(strings)
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(file, **arrays)  # type: ignore[arg-type]
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_folder(folder)

    def terms(self, text: str) -> list[str]:
        """The distinct index terms of ``text``, in order: what a query with this text searches for."""
        return list(dict.fromkeys(self._index_terms(text)))

    def idf(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25 idf of each term, as ``search`` weighs it; a term in no chunk gets the highest idf."""
        scoring = self._ready()
        n_rows = len(self._chunk_ids)
        out = {}
        for term in terms:
            col = self._vocab.get(term)
            df = int(scoring.df[col]) if col is not None and col < len(scoring.df) else 0
            out[term] = float(np.log1p((n_rows - df + 0.5) / (df + 0.5)))
        return out

    def document_frequency(self, term: str) -> int:
        """How many chunks contain ``term`` (0 for a term the index has never seen)."""
        col = self._vocab.get(term)
        scoring = self._ready()
        return int(scoring.df[col]) if col is not None and col < len(scoring.df) else 0

    def words_starting(self, char: str) -> list[str]:
        """The index's words that start with ``char`` and some chunk still holds (what a short
        form starting so may stand for)."""
        if self._by_first is None or self._by_first[0] != len(self._vocab):
            grouped: dict[str, list[str]] = {}
            for term in self._vocab:
                grouped.setdefault(term[0], []).append(term)
            self._by_first = (len(self._vocab), grouped)
        return [w for w in self._by_first[1].get(char, []) if self.document_frequency(w) > 0]

    def _index_terms(self, text: str) -> list[str]:
        return [t for t in self.tokenizer.tokens(text) if t not in STOP_TOKENS and _WORD_CHAR.search(t)]

    def _merge(self) -> None:
        """Fold buffered rows into the count matrix, widen it to the vocabulary, drop dead rows."""
        n_buffered = len(self._pending_indptr) - 1
        n_terms = len(self._vocab)
        if not n_buffered and not self._dead and self._tf.shape[1] == n_terms:
            return
        old = self._tf
        # New terms only append columns, so the old CSR parts stay valid under a wider shape.
        widened = sp.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], n_terms))
        buffered = sp.csr_matrix(
            (
                np.array(self._pending_counts, dtype=np.int32),
                np.array(self._pending_indices, dtype=np.int32),
                np.array(self._pending_indptr, dtype=np.int64),
            ),
            shape=(n_buffered, n_terms),
        )
        tf = sp.vstack([widened, buffered], format="csr", dtype=np.int32)
        if self._dead:
            keep = np.ones(tf.shape[0], dtype=bool)
            keep[self._dead] = False
            tf = tf[keep]
            kept = np.flatnonzero(keep).tolist()
            self._chunk_ids = [self._chunk_ids[row] for row in kept]
            self._doc_ids = [self._doc_ids[row] for row in kept]
            self._kinds = [self._kinds[row] for row in kept]
            self._row_of = {chunk_id: row for row, chunk_id in enumerate(self._chunk_ids)}
            self._dead = []
        self._tf = sp.csr_matrix(tf, dtype=np.int32)
        self._pending_indices, self._pending_counts, self._pending_indptr = [], [], [0]
        self._scoring = None

    def _ready(self) -> _Scoring:
        self._merge()
        if self._scoring is None:
            doc_code_of: dict[str, int] = {}
            kind_code_of: dict[str, int] = {}
            n_rows = len(self._chunk_ids)
            self._scoring = _Scoring(
                weights=bm25_weights(self._tf, self.k1, self.b),
                doc_codes=np.fromiter((doc_code_of.setdefault(d, len(doc_code_of)) for d in self._doc_ids), np.int64, n_rows),
                doc_code_of=doc_code_of,
                kind_codes=np.fromiter((kind_code_of.setdefault(k, len(kind_code_of)) for k in self._kinds), np.int64, n_rows),
                kind_code_of=kind_code_of,
                df=np.bincount(self._tf.indices, minlength=self._tf.shape[1]),
            )
        return self._scoring


def _pack(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as UTF-8 bytes plus offsets: storable without pickle and without padding every
    string to the longest (fixed-width unicode arrays take 4 bytes a character at the max length)."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unpack(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = data.astype(np.uint8, copy=False).tobytes()
    bounds = offsets.astype(np.int64, copy=False).tolist()
    if not bounds or bounds[0] != 0 or bounds[-1] != len(raw) or any(a > b for a, b in itertools.pairwise(bounds)):
        raise ValueError("string offsets out of range")
    return [raw[start:end].decode("utf-8") for start, end in itertools.pairwise(bounds)]


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder, and os.replace is
    # already atomic there, so a failure here is not an error.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
