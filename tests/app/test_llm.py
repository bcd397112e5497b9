"""The LLM backends: settings checks (fast), then the real Qwen2.5-0.5B run in-process by
llama.cpp and served by ``llama_cpp.server`` behind the OpenAI-compatible client (slow).

The assembled model is cached in ``$ZHIKU_MODEL_CACHE`` (default ``<repo>/.zhiku-models``),
so only the first run downloads it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from app.llm import make_llm
from app.models import ModelError, ensure_model
from app.services import COMPOSERS
from app.settings import Settings
from ingest.errors import SettingsError
from tests.servers import free_port, running

ROOT = Path(__file__).resolve().parents[2]
MODEL = "qwen2.5-0.5b"
needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason='llama-cpp-python is not installed (pip install -e ".[local-llm]")',
)

MESSAGES = [
    ChatMessage(role=MessageRole.SYSTEM, content="你是职业院校的助手，用中文简短回答。"),
    ChatMessage(role=MessageRole.USER, content="请用一句话介绍产教融合。"),
]


def test_unknown_backend_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="llama-cpp, openai"):
        make_llm("gpt", Settings(home=tmp_path))


def test_openai_backend_needs_url_and_model(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        make_llm("openai", Settings(home=tmp_path, llm_model="qwen"))

    assert "needs) ZHIKU_LLM_BASE_URL," in str(error.value)


def test_llm_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {"ZHIKU_LLM_TIMEOUT": "30.5", "ZHIKU_LLM_MAX_TOKENS": "64", "ZHIKU_LOCAL_MODEL": MODEL, "ZHIKU_GENERATOR": "openai"}

    settings = Settings.load(config=None, env={"ZHIKU_CONFIG": str(tmp_path / "none.toml"), **env})

    assert (settings.llm_timeout, settings.llm_max_tokens) == (30.5, 64)
    assert (settings.local_model, settings.generator) == (MODEL, "openai")
    with pytest.raises(SettingsError, match="llm_timeout"):
        replace(settings, llm_timeout=0)


def test_local_answer_must_leave_room_for_the_sources(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="llm_max_tokens"):
        make_llm("llama-cpp", Settings(home=tmp_path, llm_max_tokens=2000))


@needs_llama_cpp
def test_a_local_model_not_fetched_is_refused_naming_the_fetch_command(tmp_path: Path) -> None:
    """A question never starts a download: the generator is not offered, and asking for it says what to run."""
    settings = Settings(home=tmp_path, local_model=MODEL)

    assert not COMPOSERS["llama-cpp"].available(settings)
    with pytest.raises(ModelError, match=f"zhiku model fetch {MODEL}"):
        make_llm("llama-cpp", settings)
    assert not (tmp_path / "models" / f"{MODEL}.gguf").exists()


@pytest.fixture(scope="session")
def model_home() -> Path:
    return Path(os.environ.get("ZHIKU_MODEL_CACHE", ROOT / ".zhiku-models"))


@pytest.fixture(scope="session")
def model_path(model_home: Path) -> Path:
    """The model fetched explicitly, as `zhiku model fetch` does (asking for it never fetches)."""
    return ensure_model(MODEL, model_home)


@pytest.mark.slow
@needs_llama_cpp
def test_local_model_answers_in_chinese(model_home: Path, model_path: Path) -> None:
    llm = make_llm("llama-cpp", Settings(home=model_home, local_model=MODEL, llm_max_tokens=48))

    answer = llm.chat(MESSAGES).message.content or ""
    streamed = list(llm.stream_chat(MESSAGES))

    assert any("\u4e00" <= char <= "\u9fff" for char in answer), answer
    assert len(streamed) > 1
    assert "".join(response.delta or "" for response in streamed) == streamed[-1].message.content
    assert llm.complete("1+1=?").text.strip()


@pytest.fixture(scope="module")
def served_model(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``llama_cpp.server`` serving the model; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", MODEL]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    base_url = f"http://127.0.0.1:{port}/v1"
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running(command, f"{base_url}/models", log, timeout=120):
        yield base_url


@pytest.mark.slow
@needs_llama_cpp
def test_served_model_through_openai_backend(tmp_path: Path, served_model: str) -> None:
    settings = Settings(home=tmp_path, llm_base_url=served_model, llm_model=MODEL, llm_max_tokens=48, llm_timeout=60)
    llm = make_llm("openai", settings)

    answer = llm.chat(MESSAGES).message.content or ""
    deltas = [response.delta or "" for response in llm.stream_chat(MESSAGES)]

    assert any("\u4e00" <= char <= "\u9fff" for char in answer), answer
    assert len([delta for delta in deltas if delta]) > 1
    assert "".join(deltas).strip()
