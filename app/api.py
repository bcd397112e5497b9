"""The Python API: what outside programs (an eval harness of their own, scripts) call.

    from app.api import Assistant
    with Assistant() as assistant:                  # settings from zhiku.toml + ZHIKU_* env
        answer = assistant.ask("合作企业投入不低于多少？")
        answer.to_dict()                            # the Answer JSON the eval harness checks
        draft = assistant.draft("医学美容技术产业学院", template="案例", max_chars=300)

``ask_json`` does the same in one call and returns the JSON-ready dict. The JSON HTTP API
serves the same records.
"""

from __future__ import annotations

import threading
from types import TracebackType

from answer.draft import Drafter, load_templates
from answer.extractive import ExtractiveGenerator
from answer.generate import Generator
from answer.records import Answer
from app.services import make_generator, make_retriever, open_index
from app.settings import Settings
from index.hybrid import Filters


class Assistant:
    """The index, retriever and generators, built once and reused across questions."""

    def __init__(self, settings: Settings | None = None, generator: str | None = None) -> None:
        self.settings = settings or Settings.load()
        self.index = open_index(self.settings)
        self.retriever = make_retriever(self.settings, self.index)
        self.default_generator = generator or self.settings.generator
        self._generators: dict[str, Generator] = {}
        self._making = threading.Lock()
        self.drafter = Drafter(ExtractiveGenerator(self.retriever, top_k=self.settings.top_k), load_templates(self.settings.home))
        self.generator(self.default_generator)  # an unknown name fails here, not at the first question

    def generator(self, name: str | None = None) -> Generator:
        name = name or self.default_generator
        with self._making:  # the app asks from several threads
            if name not in self._generators:
                self._generators[name] = make_generator(name, self.retriever, self.settings)
            return self._generators[name]

    def ask(self, question: str, generator: str | None = None, filters: Filters | None = None) -> Answer:
        return self.generator(generator).answer(question, filters)

    def draft(self, topic: str, template: str = "案例", max_chars: int = 300, filters: Filters | None = None) -> Answer:
        """A report section in the genre of ``template`` (see ``answer.draft``), every sentence cited."""
        return self.drafter.draft(topic, template, max_chars, filters)

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
