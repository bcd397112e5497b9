"""The LLM and quote composers run inside the same pipeline: same evidence, same answerability
decision, same verification. A fake model stands in for llama.cpp / an OpenAI-compatible server."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from answer.composers import LLMComposer, QuoteComposer
from tests.answer.conftest import Library


class FakeModel:
    """Replies with a fixed text and records what it was asked."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.asked: list[Any] = []

    def chat(self, messages: Any) -> SimpleNamespace:
        self.asked.append(messages)
        return SimpleNamespace(message=SimpleNamespace(content=self.reply))


def test_an_unanswerable_question_never_reaches_the_model(library: Library) -> None:
    model = FakeModel("深圳的就业率是99%。[1]")
    composer = LLMComposer("fake", lambda: model)  # type: ignore[arg-type, return-value]
    answer = library.pipeline.ask("深圳某某职业学院的就业率是多少？", composer)
    assert answer.refused and model.asked == []


def test_the_model_s_sentences_are_cited_and_verified(library: Library) -> None:
    model = FakeModel("企业接收实习学生的补贴标准为每人每月300元。[1]另外每月还有999元交通补贴。[1]")
    composer = LLMComposer("fake", lambda: model)  # type: ignore[arg-type, return-value]
    answer = library.pipeline.ask("企业接收实习学生，每月补贴多少钱？", composer)
    assert not answer.refused and "300元" in answer.text
    assert "999" not in answer.text  # a figure in no quote is dropped in strict mode
    assert all(check.ok for check in answer.verification)
    prompt = model.asked[0][1].content
    assert "300元" in prompt and "问题：企业接收实习学生" in prompt  # the evidence, numbered, then the question


def test_a_model_that_finds_the_evidence_insufficient_refuses(library: Library) -> None:
    composer = LLMComposer("fake", lambda: FakeModel("知识库中没有找到。"))  # type: ignore[arg-type, return-value]
    answer = library.pipeline.ask("企业接收实习学生，每月补贴多少钱？", composer)
    assert answer.refused and "模型认为资料不足" in answer.text


def test_the_quote_composer_gives_the_best_passages_verbatim(library: Library) -> None:
    answer = library.pipeline.ask("企业接收实习学生，每月补贴多少钱？", QuoteComposer(passages=1))
    assert not answer.refused and len({c.chunk_id for c in answer.citations}) == 1
    assert all(c.quote in answer.text for c in answer.citations)


def test_every_sentence_of_a_quoted_passage_is_cited(library: Library) -> None:
    from answer.verify import answer_sentences, markers

    answer = library.pipeline.ask("学校一共实际录取了多少人？", QuoteComposer(passages=2))
    assert all(markers(sentence) for sentence in answer_sentences(answer.text))
