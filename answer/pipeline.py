"""The one path from a question to a verified ``Answer``, for every composer, ask and draft alike.

    question (+ history) → analyse → retrieve → evidence (documents read once) → focus (the units
    an answer would use) → answerability → compose (extractive | quote | LLM) → verify → Answer

The pipeline is the only part of the answer domain that reads storage, through two small
contracts: a ``Retriever`` and a read-only ``Library``. Composers get the evidence as an argument.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from answer.answerability import Verdict, judge, ordinal
from answer.compose import Claim, Composer, Composition, assemble, refusal
from answer.evidence import DocView, Evidence, Section, Unit, build_units, focus_weights, superseded, versions_of
from answer.extractive import Budget, select
from answer.question import Catalog, Question, Vocabulary, analyse, names_in_context
from answer.records import Answer
from index.hybrid import Filters, ScoredChunk
from ingest.records import Chunk

_ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇两\d]+条")
_INTRODUCES_TABLE = re.compile(r"(?:如下表|见下表|下表所示|如表\s*[\d一二三四五六七八九十\-－. ]{0,8}所示)")
INTRODUCED_ROWS = 80  # the most rows of a table a passage introducing it brings along
SUBJECT_PASSAGES = 4  # passages from the reports of the institution a question names, beside the best ones
ROW_PASSAGES = 4  # table rows a quantity question retrieves besides its passages


class Retriever(Protocol):
    def retrieve(self, query: str, top_k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]: ...


class StoredDoc(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def chunking(self) -> str: ...

    @property
    def chunks(self) -> int: ...


class Library(Protocol):
    """Read-only access to the indexed documents (``index.docstore.DocStore`` is one)."""

    def titles(self) -> dict[str, str]: ...

    def sources(self) -> dict[str, str]: ...

    def document(self, doc_id: str) -> StoredDoc | None: ...

    def text(self, doc_id: str) -> str | None: ...

    def sections(self, doc_id: str) -> list[Section]: ...

    def doc_chunks(self, doc_id: str) -> list[Chunk]: ...


class AnswerPipeline:
    """Answers questions over one library; safe to share between threads."""

    def __init__(
        self,
        retriever: Retriever,
        library: Library,
        vocabulary: Vocabulary,
        *,
        top_k: int = 8,
        strict: bool = True,
        cached_documents: int = 64,
    ) -> None:
        self.retriever = retriever
        self.library = library
        self.vocabulary = vocabulary
        self.top_k = top_k
        self.strict = strict
        self._docs: OrderedDict[tuple[str, str, int], DocView] = OrderedDict()
        self._catalog: tuple[int, Catalog, dict[str, list[str]]] | None = None
        self._cached = cached_documents
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ stages

    def analyse(self, question: str, history: Sequence[str] = ()) -> Question:
        return analyse(question, self.vocabulary, self.catalog(), history)

    def catalog(self) -> Catalog:
        """The library's titles as short forms resolve to them, rebuilt only when the titles change."""
        titles = self.library.titles()
        key = hash(frozenset(titles.items()))
        with self._lock:
            if self._catalog is None or self._catalog[0] != key:
                self._catalog = (key, Catalog.of(titles, self.library.sources()), versions_of(titles.values()))
            return self._catalog[1]

    def _versions(self) -> dict[str, list[str]]:
        """The versions each regulation of the current catalog's titles has."""
        self.catalog()
        assert self._catalog is not None
        return self._catalog[2]

    def evidence(
        self, question: Question, filters: Filters | None = None, top_k: int | None = None, *, in_context: bool = True
    ) -> Evidence:
        """Retrieve for ``question`` and read the passages' documents (each once).

        A question that names a document (年休假条例, 职教法) is answered from that document, all
        its versions; one that also points to an article (第九条) gets that article first. A
        question asking for a figure also gets the best table rows. A short name no title explains
        (化环学院) that the passages spell out is resolved to that name and the question asked again.
        """
        named = frozenset(question.documents)
        if named and filters is not None and filters.doc_ids is not None:
            named &= filters.doc_ids
        scoped = Filters(named, filters.kinds if filters else None) if named else filters
        passages = self.retriever.retrieve(question.query, top_k=top_k or self.top_k, filters=scoped)
        if named and not passages:
            passages = self.retriever.retrieve(question.query, top_k=top_k or self.top_k, filters=filters)
        subjects = self._subject_documents(question, passages) - named
        if subjects and filters is None:
            # an institution the question names is what its reports are about: every passage of them
            # says its name, so the name picks the report and the rest of the question the passage
            inside = self.retriever.retrieve(self._without_names(question), top_k=SUBJECT_PASSAGES,
                                             filters=Filters(frozenset(subjects)))
            held = {cid for p in passages for cid in p.covers}
            passages = passages + [p for p in inside if not set(p.covers) & held]
        if question.quantity and question.kind == "fact" and (filters is None or filters.kinds is None):
            # a figure often stands in a table: the best rows join the passages (「河南来的有多少」 is a row)
            only_rows = Filters(scoped.doc_ids if scoped else None, frozenset({"table_row"}))
            rows = self.retriever.retrieve(question.query, top_k=ROW_PASSAGES, filters=only_rows)
            held = {cid for p in passages for cid in p.covers}
            passages = passages + [r for r in rows if not set(r.covers) & held]
        docs = {d.doc_id: d for d in (self.document(doc_id) for doc_id in {*named, *(p.chunk.doc_id for p in passages)})
                if d is not None}
        pointed = [p for doc_id in sorted(named) if doc_id in docs for p in article_passages(docs[doc_id], question)]
        passages = pointed + [p for p in passages if not any(_inside(p, q) for q in pointed)]
        passages = with_introduced_tables(passages, docs)
        found = names_in_context(question, [p.chunk.text for p in passages]) if in_context else []
        if found:
            # a short name no title explains, spelled out in the passages: asked again by that name
            again = analyse(question.text, self.vocabulary, self.catalog().with_names(found), question.history)
            if again.aliases != question.aliases:
                return self.evidence(again, filters, top_k, in_context=False)
        docs = {doc_id: view for doc_id, view in docs.items() if any(p.chunk.doc_id == doc_id for p in passages)}
        units = build_units(question, passages, docs, self.vocabulary)
        focused = focus_weights(question, units)
        other_versions = superseded(list(docs.values()), self._versions(), earlier=question.old_version)
        return Evidence(focused, passages, units, docs, other_versions)

    def _subject_documents(self, question: Question, passages: Sequence[ScoredChunk]) -> set[str]:
        """The retrieved documents about an institution the question names: their title, file
        name, cover or recurring names say it (a report's title may not)."""
        names = {question.aliases.get(m.text, m.text) for m in question.mentions if m.kind == "org"}
        names = {n for n in names if len(n) >= 4}
        found: set[str] = set()
        for doc_id in dict.fromkeys(p.chunk.doc_id for p in passages) if names else ():
            view = self.document(doc_id)
            if view is not None and any(n in f"{view.title} {view.file_name} {view.cover} {view.subjects}" for n in names):
                found.add(doc_id)
        return found

    def _without_names(self, question: Question) -> str:
        """The question's query without the institutions it names (and their short forms)."""
        query = question.query
        for m in question.mentions:
            if m.kind == "org":
                for name in sorted({question.aliases.get(m.text, ""), m.text} - {""}, key=len, reverse=True):
                    query = query.replace(name, " ")
        return re.sub(r"[（(]\s*[)）]", " ", query).strip() or question.query

    def document(self, doc_id: str) -> DocView | None:
        """A document's view, cached by its content id and chunking (a re-chunked one is read anew)."""
        stored = self.library.document(doc_id)
        if stored is None:
            return None
        key = (doc_id, stored.chunking, stored.chunks)
        with self._lock:
            if key in self._docs:
                self._docs.move_to_end(key)
                return self._docs[key]
        view = DocView(
            doc_id,
            stored.title,
            stored.source,
            self.library.text(doc_id) or "",
            tuple(self.library.sections(doc_id)),
            tuple(self.library.doc_chunks(doc_id)),
        )
        with self._lock:
            self._docs[key] = view
            while len(self._docs) > self._cached:
                self._docs.popitem(last=False)
        return view

    def focus(self, evidence: Evidence, budget: Budget | None = None) -> list[Unit]:
        """The units an answer would use (see ``answer.extractive.select``)."""
        return select(evidence, budget)

    def judge(self, evidence: Evidence, chosen: Sequence[Unit]) -> Verdict:
        return judge(evidence, chosen)

    # ------------------------------------------------------------------ answers

    def ask(
        self,
        question: str,
        composer: Composer,
        *,
        history: Sequence[str] = (),
        filters: Filters | None = None,
    ) -> Answer:
        started = time.perf_counter()
        parsed = self.analyse(question, history)
        evidence = self.evidence(parsed, filters)
        chosen = self.focus(evidence)
        analysis = describe(parsed, history)
        if composer.judged:
            verdict = self.judge(evidence, chosen)
            if not verdict.ok:
                return _with(refusal(question, evidence.passages, generator=composer.name, started=started,
                                     reason=verdict.reason), analysis)
        composition = composer.compose(evidence, chosen)
        return self.finish(question, composition, evidence, composer.name, started, analysis)

    def finish(
        self,
        question: str,
        composition: Composition,
        evidence: Evidence,
        generator: str,
        started: float,
        analysis: dict[str, Any] | None = None,
    ) -> Answer:
        """Verify the composition into an ``Answer`` (a refusal when nothing survives)."""
        if not composition.claims:
            answer = refusal(question, evidence.passages, generator=generator, started=started, reason=composition.refusal)
        else:
            answer = assemble(question, composition.claims, evidence.texts, generator=generator, started=started,
                              strict=self.strict, closest=evidence.passages)
        return _with(answer, analysis or {})

    def assemble(self, request: str, claims: Sequence[Claim], texts: dict[str, str], closest: Sequence[ScoredChunk],
                 generator: str, started: float, reason: str) -> Answer:
        """Claims gathered from several evidences (a draft's parts) as one verified answer."""
        if not claims:
            return refusal(request, closest, generator=generator, started=started, reason=reason)
        return assemble(request, claims, texts, generator=generator, started=started, strict=self.strict, closest=closest)


def article_passages(doc: DocView, question: Question) -> list[ScoredChunk]:
    """The articles of ``doc`` that ``question`` points to (第九条), each as a whole passage."""
    wanted = {ordinal(o) for o in question.ordinals} - {None}
    out = []
    for path, start, end in doc.sections:
        if not path or ordinal(path[-1]) not in wanted or not _ARTICLE.match(path[-1]):
            continue
        covered = [c for c in doc.chunks if start <= c.start and c.end <= end]
        if not covered:
            continue
        first = covered[0]
        chunk = replace(first, start=first.start, end=covered[-1].end, text=doc.text[first.start : covered[-1].end])
        out.append(ScoredChunk(chunk, 1.0, doc.title, doc.source, covers=tuple(c.chunk_id for c in covered)))
    return out


def with_introduced_tables(passages: list[ScoredChunk], docs: dict[str, DocView]) -> list[ScoredChunk]:
    """A passage introducing a table (「…如下表所示」) comes with the table's rows: the sentence says
    what the table is about, the rows hold what it says."""
    out: list[ScoredChunk] = []
    for passage in passages:
        out.append(passage)
        doc = docs.get(passage.chunk.doc_id)
        if doc is None or not _INTRODUCES_TABLE.search(passage.chunk.text[-60:]):
            continue
        following = [c for c in doc.chunks if c.start >= passage.chunk.end]
        rows: list[Chunk] = []
        for chunk in following[: INTRODUCED_ROWS + 2]:
            if chunk.kind != "table_row":
                if rows:
                    break
                continue  # a caption line between the sentence and the table
            rows.append(chunk)
        covered = {cid for p in out for cid in p.covers}
        rows = [c for c in rows if c.chunk_id not in covered]
        if rows:
            first, last = rows[0], rows[-1]
            span = replace(first, start=first.start, end=last.end, text=doc.text[first.start : last.end])
            out.append(replace(passage, chunk=span, covers=tuple(c.chunk_id for c in rows)))
    return out


def _inside(passage: ScoredChunk, other: ScoredChunk) -> bool:
    a, b = passage.chunk, other.chunk
    return a.doc_id == b.doc_id and b.start <= a.start and a.end <= b.end


def describe(question: Question, history: Sequence[str] = ()) -> dict[str, Any]:
    """What the analysis found, shown with the answer (JSON-ready)."""
    return {
        "kind": question.kind,
        "mentions": [m.text for m in question.mentions],
        "aliases": dict(question.aliases),
        "years": list(question.years),
        "ordinals": list(question.ordinals),
        "followup": question.followup,
    }


def _with(answer: Answer, analysis: dict[str, Any]) -> Answer:
    return replace(answer, analysis=analysis)
