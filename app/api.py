"""The Python API: what outside programs (an eval harness of their own, scripts) call.

    from app.api import Assistant
    with Assistant() as assistant:                  # settings from zhiku.toml + ZHIKU_* env
        answer = assistant.ask("合作企业投入不低于多少？")
        answer.to_dict()                            # the Answer JSON the eval harness checks

``ask_json`` does the same in one call and returns the JSON-ready dict. The JSON HTTP API
serves the same records.
"""

from __future__ import annotations

from types import TracebackType

from app.generate import Generator
from app.records import Answer
from app.services import GENERATORS, make_generator, make_retriever, open_index
from app.settings import Settings


class Assistant:
    """The index, retriever and generators, built once and reused across questions."""

    def __init__(self, settings: Settings | None = None, generator: str = GENERATORS[0]) -> None:
        self.settings = settings or Settings.load()
        self.index = open_index(self.settings)
        self.retriever = make_retriever(self.settings, self.index)
        self.default_generator = generator
        self._generators: dict[str, Generator] = {}

    def generator(self, name: str | None = None) -> Generator:
        name = name or self.default_generator
        if name not in self._generators:
            self._generators[name] = make_generator(name, self.retriever, self.settings)
        return self._generators[name]

    def ask(self, question: str, generator: str | None = None) -> Answer:
        return self.generator(generator).answer(question)

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
