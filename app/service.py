"""What the web UI and the JSON API share: one ``Assistant`` for answers, one ``Library`` for writes.

The UI (``app.ui``) and the API (``app.server``) both talk to a ``Service``; neither imports the
other's module for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.api import Assistant
from app.library import Library
from app.settings import Settings
from index.hybrid import Filters

MAX_QUESTION_CHARS = 2000
MAX_HISTORY = 8  # earlier questions of a conversation kept as context


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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

    def filters(self, doc_ids: Sequence[str] | None) -> Filters | None:
        if not doc_ids:
            return None
        known = {d.doc_id for d in self.library.documents()}
        unknown = [d for d in doc_ids if d not in known]
        if unknown:
            raise ApiError(400, f"资料库中没有这些文档 (unknown documents): {', '.join(unknown)}")
        return Filters.of(doc_ids=set(doc_ids))

    def ask(
        self,
        question: str,
        generator: str | None = None,
        documents: Sequence[str] | None = None,
        history: Sequence[str] = (),
    ) -> dict[str, Any]:
        """``history``: the conversation's earlier questions, oldest first (the last ``MAX_HISTORY`` count)."""
        question = question.strip()
        if not question:
            raise ApiError(400, "问题为空 (the question is empty)")
        if len(question) > MAX_QUESTION_CHARS:
            raise ApiError(400, f"问题过长，上限 {MAX_QUESTION_CHARS} 字 (question too long)")
        earlier = [h.strip()[:MAX_QUESTION_CHARS] for h in list(history)[-MAX_HISTORY:] if h.strip()]
        return self.assistant.ask(question, generator, self.filters(documents), history=earlier).to_dict()

    def draft(self, topic: str, template: str, max_chars: int, documents: Sequence[str] | None = None) -> dict[str, Any]:
        if not topic.strip():
            raise ApiError(400, "写作主题为空 (the topic is empty)")
        if template not in self.assistant.drafter.templates:
            names = "、".join(self.assistant.drafter.templates)
            raise ApiError(400, f"没有模板 {template} (unknown template); 可用 (available): {names}")
        if not 50 <= max_chars <= 5000:
            raise ApiError(400, f"篇幅应在 50 到 5000 字之间 (max_chars must be 50..5000), got {max_chars}")
        return self.assistant.draft(topic.strip(), template, max_chars, self.filters(documents)).to_dict()

    def close(self) -> None:
        self.library.close()
        self.assistant.close()
