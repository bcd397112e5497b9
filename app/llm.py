"""Language-model backends behind llama-index's ``LLM`` interface: a local GGUF model run by
llama.cpp, or any OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, a cloud API).

Both answer ``chat(messages)`` and ``stream_chat(messages)``. Nothing is imported or loaded
until :func:`make_llm` is called; a local model is loaded once per process and path.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.llms.generic_utils import chat_to_completion_decorator, stream_chat_to_completion_decorator
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.llms import LLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

from app.models import local_model
from app.settings import Settings
from ingest.errors import SettingsError

if TYPE_CHECKING:
    from llama_cpp import Llama

LLMKind = Literal["llama-cpp", "openai"]
LLM_KINDS: tuple[LLMKind, ...] = ("llama-cpp", "openai")

LOCAL_CONTEXT_WINDOW = 2048  # enough for a question, a few passages and a short answer; more costs RAM and time
SERVED_CONTEXT_WINDOW = 4096  # what llama-index assumes of a served model; the server enforces the real limit

_INSTALL_HINT = (
    "本地模型需要安装可选依赖 (the local model needs the optional extra): "
    'pip install -e ".[local-llm]" 或 (or) bash scripts/setup.sh local-llm'
)


def make_llm(kind: str, settings: Settings) -> LLM:
    """The LLM named by ``kind`` ("llama-cpp" or "openai"), configured from ``settings``.

    Generation is greedy (temperature 0): answers should follow the sources, not vary.
    """
    if kind == "llama-cpp":
        return _make_llama_cpp(settings)
    if kind == "openai":
        return _make_openai(settings)
    raise SettingsError(f"未知的模型后端 (unknown LLM backend) {kind!r}; 可用 (valid): {', '.join(LLM_KINDS)}")


def _make_llama_cpp(settings: Settings) -> LlamaCppLLM:
    limit = LOCAL_CONTEXT_WINDOW // 2  # the rest of the context holds the question and the sources
    if settings.llm_max_tokens > limit:  # a settings error comes first, installed or not
        raise SettingsError(
            f"本地模型的 llm_max_tokens 最多 {limit} (at most {limit} for the local model, whose context of "
            f"{LOCAL_CONTEXT_WINDOW} tokens must also hold the question and sources), got {settings.llm_max_tokens}"
        )
    try:
        import llama_cpp  # noqa: F401  # only to fail early with the install hint
    except ImportError as error:
        raise SettingsError(_INSTALL_HINT) from error
    path = local_model(settings.local_model, settings.home)  # never downloads: `zhiku model fetch` does
    return LlamaCppLLM(model_path=str(path), context_window=LOCAL_CONTEXT_WINDOW, max_tokens=settings.llm_max_tokens)


def _make_openai(settings: Settings) -> LLM:
    required = {"ZHIKU_LLM_BASE_URL": settings.llm_base_url, "ZHIKU_LLM_MODEL": settings.llm_model}
    missing = [var for var, value in required.items() if not value]
    if missing:
        raise SettingsError(
            f"使用 OpenAI 兼容服务需要设置 (the OpenAI-compatible backend needs) {' 和 '.join(missing)}, "
            "例如 (e.g.) ZHIKU_LLM_BASE_URL=http://127.0.0.1:8000/v1 ZHIKU_LLM_MODEL=qwen2.5-7b-instruct"
        )
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        api_base=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key or "none",  # local servers ignore the key, but the client insists on one
        is_chat_model=True,
        temperature=0.0,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        max_retries=1,
        context_window=SERVED_CONTEXT_WINDOW,
    )


@dataclass
class _LoadedModel:
    llama: Llama
    # llama.cpp keeps one decoding state per model: concurrent requests (two UI users)
    # must take turns
    lock: threading.Lock


@functools.lru_cache(maxsize=2)
def _load(model_path: str, n_ctx: int) -> _LoadedModel:
    from llama_cpp import Llama

    cpus = os.cpu_count() or 1
    # Prompt reading is compute-bound and gains from every core. Decoding is memory-bound and
    # syncs its threads at every layer: measured on 2 cores with Qwen2.5-0.5B, 2 decode threads
    # give 42 tok/s idle but 0.3-12 tok/s as soon as another process (the embedder, a browser)
    # takes a core, while 1 thread keeps 25-28 tok/s either way.
    llama = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=max(1, cpus // 2), n_threads_batch=cpus, verbose=False)
    return _LoadedModel(llama, threading.Lock())


class LlamaCppLLM(CustomLLM):
    """A GGUF model run in-process by llama.cpp.

    Chat goes through ``Llama.create_chat_completion``, which formats the messages with the
    chat template stored in the GGUF file (Qwen's ``<|im_start|>`` turns), rather than a
    generic prompt format as llama-index's own ``LlamaCPP`` integration does.
    """

    model_path: str = Field(description="Path to the .gguf file.")
    context_window: int = Field(default=LOCAL_CONTEXT_WINDOW, gt=0)
    max_tokens: int = Field(default=320, gt=0)
    temperature: float = Field(default=0.0, ge=0.0)

    _model: _LoadedModel = PrivateAttr()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model = _load(self.model_path, self.context_window)

    @classmethod
    def class_name(cls) -> str:
        return "zhiku_llama_cpp"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    def _request(self, messages: Sequence[ChatMessage], stream: bool, **kwargs: Any) -> dict[str, Any]:
        return {
            "messages": [{"role": message.role.value, "content": message.content or ""} for message in messages],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": stream,
            **kwargs,
        }

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        with self._model.lock:
            response: Any = self._model.llama.create_chat_completion(**self._request(messages, stream=False, **kwargs))
        content = response["choices"][0]["message"]["content"] or ""
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=content), raw=response)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._request(messages, stream=True, **kwargs)

        def generate() -> ChatResponseGen:
            # The lock is held until the stream ends or the consumer closes the generator.
            with self._model.lock:
                text = ""
                chunks: Any = self._model.llama.create_chat_completion(**request)
                for chunk in chunks:
                    delta = chunk["choices"][0]["delta"].get("content") or ""
                    text += delta
                    yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta, raw=chunk)

        return generate()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        # An instruct model: a bare prompt is sent as one user turn, like a chat-only server does.
        return chat_to_completion_decorator(self.chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self.stream_chat)(prompt, **kwargs)
