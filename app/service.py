"""What the web UI and the JSON API share: one ``Assistant`` for answers, one ``Library`` for writes.

The UI (``app.ui``) and the API (``app.server``) both talk to a ``Service``; neither imports the
other's module for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.api import Assistant, check_question
from app.library import Library
from app.schemas import status_code_name
from app.services import COMPOSERS
from app.settings import Settings
from index.hybrid import Filters

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 8  # earlier questions of a conversation kept as context


CHUNK_KINDS = ("text", "table_row")


class ApiError(Exception):
    """An error the API answers with ``status`` and ``{"error": {"code", "message"}}``; ``code``
    defaults to the status's (``404 -> "not_found"``)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or status_code_name(status)


class Service:
    """What the UI and the API share: one Assistant (answers) and one Library (writes)."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.library = Library(settings, self.assistant.index)
        self.exports = settings.home / "exports"

    def warm_up(self) -> None:
        """Load the embedder and the tokenizers before the first user waits for them."""
        self.assistant.ask("职业教育")

    def filters(self, doc_ids: Sequence[str] | None, base: str | None = None) -> Filters | None:
        """What an ask, draft or search may use: the documents ``doc_ids``, within the knowledge
        base ``base`` (its name or id) when one is given; None for the whole library."""
        scope: set[str] | None = None
        if base:
            scope = self.library.base_documents(base)
            if not scope:
                name = self.library.base(base).name
                raise ApiError(409, f"知识库「{name}」中还没有文档，请先上传或加入文档 (the knowledge base has no documents yet)",
                               "empty_base")
        if doc_ids:
            known = {d.doc_id for d in self.library.documents()}
            unknown = [d for d in doc_ids if d not in known]
            if unknown:
                raise ApiError(400, f"资料库中没有这些文档 (unknown documents): {', '.join(unknown)}")
            scope = set(doc_ids) if scope is None else scope & set(doc_ids)
            if not scope:
                raise ApiError(400, "所选文档都不在这个知识库中 (none of these documents is in the knowledge base)")
        return None if scope is None else Filters.of(doc_ids=scope)

    def ask(
        self,
        question: str,
        generator: str | None = None,
        documents: Sequence[str] | None = None,
        history: Sequence[str] = (),
        base: str | None = None,
    ) -> dict[str, Any]:
        """``history``: the conversation's earlier questions, oldest first (the last ``MAX_HISTORY``
        count); ``base``: a knowledge base to answer from (its name or id)."""
        question = question.strip()
        if not question:
            raise ApiError(400, "问题为空 (the question is empty)")
        if len(question) > MAX_QUESTION_CHARS:
            raise ApiError(400, f"问题过长，上限 {MAX_QUESTION_CHARS} 字 (question too long)")
        earlier = [h.strip()[:MAX_QUESTION_CHARS] for h in list(history)[-MAX_HISTORY:] if h.strip()]
        return self.assistant.ask(question, generator, self.filters(documents, base), history=earlier).to_dict()

    def draft(
        self, topic: str, template: str, max_chars: int, documents: Sequence[str] | None = None, base: str | None = None
    ) -> dict[str, Any]:
        if not topic.strip():
            raise ApiError(400, "写作主题为空 (the topic is empty)")
        if template not in self.assistant.drafter.templates:
            names = "、".join(self.assistant.drafter.templates)
            raise ApiError(400, f"没有模板 {template} (unknown template); 可用 (available): {names}")
        if not 50 <= max_chars <= 5000:
            raise ApiError(400, f"篇幅应在 50 到 5000 字之间 (max_chars must be 50..5000), got {max_chars}")
        return self.assistant.draft(topic.strip(), template, max_chars, self.filters(documents, base)).to_dict()

    def search(
        self,
        query: str,
        top_k: int = 8,
        documents: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        base: str | None = None,
    ) -> dict[str, Any]:
        """The passages the answers are made from, best first, without an answer: the hybrid
        retriever's own ranking, each passage with its scores and where it is in its document."""
        query = query.strip()
        if not query:
            raise ApiError(400, "检索内容为空 (the query is empty)")
        check_question(query)  # the same length limit as a question: retrieval costs in proportion
        if not 1 <= top_k <= 50:
            raise ApiError(400, f"top_k 应在 1 到 50 之间 (top_k must be 1..50), got {top_k}")
        unknown = [k for k in kinds or () if k not in CHUNK_KINDS]
        if unknown:
            raise ApiError(400, f"未知的段落类型 (unknown kinds): {', '.join(unknown)}; 可用 (valid): {', '.join(CHUNK_KINDS)}")
        filters = self.filters(documents, base)
        if kinds:
            filters = replace(filters or Filters(), kinds=frozenset(kinds))
        hits = self.assistant.retriever.retrieve(query, top_k, filters)
        passages = [{"rank": rank, **hit.to_dict()} for rank, hit in enumerate(hits, start=1)]
        return {"query": query, "passages": passages}

    def generators(self) -> list[dict[str, Any]]:
        """Every answer composer (``app.services.COMPOSERS``): whether it can answer now and, if
        not, why (a model that is not installed, a server that is not configured)."""
        default = self.assistant.default_generator
        listed = []
        for name, spec in COMPOSERS.items():
            reason = self.generator_problem(name)
            listed.append({"name": name, "description": spec.label, "available": reason is None, "reason": reason,
                           "default": name == default})
        return listed

    def generator_problem(self, name: str) -> str | None:
        """Why generator ``name`` cannot answer with these settings (None: it can). Only presence
        is checked: a model file is verified when it is loaded."""
        if name not in COMPOSERS:
            return "未知的生成器 (unknown generator)"
        return COMPOSERS[name].problem(self.settings)

    def check_generator(self, name: str | None) -> None:
        """Refuse a generator that cannot answer now, naming the ones that can."""
        if name is None:
            return
        problem = self.generator_problem(name)
        if problem is None:
            return
        ready = ", ".join(n for n in COMPOSERS if self.generator_problem(n) is None)
        if name not in COMPOSERS:
            raise ApiError(400, f"未知的生成器 (unknown generator) {name!r}; 可用 (available): {ready}", "unknown_generator")
        raise ApiError(
            400, f"生成器 {name} 当前不可用 (generator {name!r} is not available): {problem}; 可用 (available): {ready}",
            "generator_unavailable",
        )

    def close(self) -> None:
        self.library.close()
        self.assistant.close()
