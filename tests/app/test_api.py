"""The Python API outside programs call: the same Answer JSON the eval harness checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from answer.records import Answer
from app.api import Assistant, ask_json
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "广东工程职教集团入选了教育部第几批示范性职教集团？"


@pytest.mark.slow
def test_ask_returns_a_cited_answer_and_its_json(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with Assistant(settings) as assistant:
        assistant.index.update([ROOT / "corpus" / "002_99f5ec69276c87e7.txt"])
        answer = assistant.ask(QUESTION)
        texts = {c.doc_id: assistant.index.docstore.text(c.doc_id) for c in answer.citations}
    assert not answer.refused and answer.citations and answer.generator == "extractive"
    assert "第二批示范性职教集团" in "".join(c.quote for c in answer.citations)
    for citation in answer.citations:
        text = texts[citation.doc_id]
        assert text is not None and text[citation.start : citation.end] == citation.quote

    data = ask_json(QUESTION, settings)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert {"question", "text", "citations", "refused", "verification"} <= data.keys()
    assert Answer.from_dict(data).citations == answer.citations


def test_an_empty_index_refuses(tmp_path: Path) -> None:
    with Assistant(Settings(home=tmp_path / "empty")) as assistant:
        answer = assistant.ask("校企合作")
    assert answer.refused and answer.citations == () and "没有找到" in answer.text
