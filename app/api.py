"""The Python API: what outside programs (an eval harness of their own, scripts) call.

    from app.api import Assistant
    with Assistant() as assistant:                  # settings from zhiku.toml + ZHIKU_* env
        answer = assistant.ask("合作企业投入不低于多少？")
        answer.to_dict()                            # the Answer JSON the eval harness checks
        follow = assistant.ask("那2019年呢？", history=["2020年的报到率是多少？"])
        draft = assistant.draft("医学美容技术产业学院", template="案例", max_chars=300)

``ask_json`` does the same in one call and returns the JSON-ready dict. The JSON HTTP API
serves the same records.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

from answer.compose import Composer, placed
from answer.draft import Drafter, load_templates
from answer.records import Answer
from app.services import make_composer, make_pipeline, make_retriever, open_index
from app.settings import Settings
from index.hybrid import Filters
from ingest.errors import ZhikuError
from ingest.records import Page

MAX_QUESTION_CHARS = 1000  # the longest question (or earlier question of a conversation) answered


def check_question(question: str, history: Sequence[str] = ()) -> None:
    """A question (or an earlier one) over ``MAX_QUESTION_CHARS`` is refused with a clear error:
    nobody asks one that long, and its analysis and retrieval cost in proportion."""
    for text in (question, *history):
        if len(text) > MAX_QUESTION_CHARS:
            raise ZhikuError(
                f"问题过长：{len(text)} 字，上限 {MAX_QUESTION_CHARS} 字，请精简后再问 "
                f"(question too long: {len(text)} characters, at most {MAX_QUESTION_CHARS})"
            )

class Assistant:
    """The index, retriever, answer pipeline and composers, built once and reused across questions."""

    def __init__(self, settings: Settings | None = None, generator: str | None = None) -> None:
        self.settings = settings or Settings.load()
        self.index = open_index(self.settings)
        self.retriever = make_retriever(self.settings, self.index)
        self.pipeline = make_pipeline(self.settings, self.index, self.retriever)
        self.default_generator = generator or self.settings.generator
        self._composers: dict[str, Composer] = {}
        self._making = threading.Lock()
        self.drafter = Drafter(self.pipeline, load_templates(self.settings.home))
        self.composer(self.default_generator)  # an unknown name fails here, not at the first question

    def composer(self, name: str | None = None) -> Composer:
        name = name or self.default_generator
        with self._making:  # the app asks from several threads
            if name not in self._composers:
                self._composers[name] = make_composer(name, self.settings)
            return self._composers[name]

    def ask(
        self,
        question: str,
        generator: str | None = None,
        filters: Filters | None = None,
        history: Sequence[str] = (),
    ) -> Answer:
        """``history``: the earlier questions of the same conversation, oldest first (see
        ``check_question``)."""
        check_question(question, history)
        return self._placed(self.pipeline.ask(question, self.composer(generator), history=history, filters=filters))

    def draft(self, topic: str, template: str = "案例", max_chars: int = 300, filters: Filters | None = None) -> Answer:
        """A report section in the genre of ``template`` (see ``answer.draft``), every sentence cited."""
        return self._placed(self.drafter.draft(topic, template, max_chars, filters))

    def _placed(self, answer: Answer) -> Answer:
        def pages(doc_id: str) -> tuple[Page, ...]:
            document = self.index.docstore.document(doc_id)
            return document.pages if document is not None else ()

        return placed(answer, pages)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def ask_json(question: str, settings: Settings | None = None, generator: str | None = None) -> dict[str, object]:
    """One question, answered and returned as the Answer JSON (a plain dict)."""
    with Assistant(settings) as assistant:
        return assistant.ask(question, generator).to_dict()
