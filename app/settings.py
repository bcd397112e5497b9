"""zhiku's settings: one frozen object, built once from ``zhiku.toml`` and the environment.

Precedence: environment variables over ``zhiku.toml`` over defaults. The object is passed
down explicitly; nothing reads the environment anywhere else.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ingest.errors import SettingsError
from ingest.records import ParseLimits

# setting name -> environment variable
ENV_VARS = {
    "home": "ZHIKU_HOME",
    "chunk_max_chars": "ZHIKU_CHUNK_MAX_CHARS",
    "embed_model": "ZHIKU_EMBED_MODEL",
    "chroma_url": "ZHIKU_CHROMA_URL",
    "rerank_model": "ZHIKU_RERANK_MODEL",
    "top_k": "ZHIKU_TOP_K",
    "llm_base_url": "ZHIKU_LLM_BASE_URL",
    "llm_model": "ZHIKU_LLM_MODEL",
    "llm_api_key": "ZHIKU_LLM_API_KEY",
    "generator": "ZHIKU_GENERATOR",
    "local_model": "ZHIKU_LOCAL_MODEL",
    "llm_max_tokens": "ZHIKU_LLM_MAX_TOKENS",
    "llm_timeout": "ZHIKU_LLM_TIMEOUT",
    "host": "ZHIKU_HOST",
    "port": "ZHIKU_PORT",
    "users": "ZHIKU_USERS",
    "api_token": "ZHIKU_API_TOKEN",
    "max_upload_mb": "ZHIKU_MAX_UPLOAD_MB",
    "parse_timeout_s": "ZHIKU_PARSE_TIMEOUT_S",
    "parse_memory_mb": "ZHIKU_PARSE_MEMORY_MB",
    "max_pdf_pages": "ZHIKU_MAX_PDF_PAGES",
    "max_ocr_pages": "ZHIKU_MAX_OCR_PAGES",
    "max_text_chars": "ZHIKU_MAX_TEXT_CHARS",
    "write_queue": "ZHIKU_WRITE_QUEUE",
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable. See README "Settings" for each option."""

    home: Path = Path(".zhiku")
    chunk_max_chars: int = 300
    embed_model: str = "e5-small"
    chroma_url: str | None = None
    rerank_model: str | None = None
    top_k: int = 8
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    generator: str = "extractive"
    local_model: str = "qwen2.5-coder-1.5b"  # a name in app.models.MODELS or a path to a .gguf file
    llm_max_tokens: int = 320
    llm_timeout: float = 120.0
    host: str = "127.0.0.1"  # the app's address; anything beyond loopback needs users and api_token
    port: int = 7860
    users: str | None = None  # "name:password,name2:password2": the app's login (Gradio auth)
    api_token: str | None = None  # the JSON API's bearer token (required when bound beyond loopback)
    max_upload_mb: float = 50.0
    # what one file may cost to parse (in its worker process); a file past a limit fails alone
    parse_timeout_s: float = 600.0
    parse_memory_mb: int = 1536
    max_pdf_pages: int = 1000
    max_ocr_pages: int = 300  # pages of a file without a text layer read by OCR; 0 turns OCR off
    max_text_chars: int = 5_000_000
    write_queue: int = 64  # library writes (uploads, removals, re-index) waiting at most; more get 503

    def __post_init__(self) -> None:
        for name in ("host", "users", "api_token", "llm_base_url", "llm_model", "llm_api_key", "generator", "local_model"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise SettingsError(f"{name} 必须是字符串 (must be a string, quote it in zhiku.toml), got {value!r}")
        if not 50 <= self.chunk_max_chars <= 4000:
            raise SettingsError(f"chunk_max_chars 必须在 50 到 4000 之间 (must be 50..4000), got {self.chunk_max_chars}")
        if not 1 <= self.top_k <= 100:
            raise SettingsError(f"top_k 必须在 1 到 100 之间 (must be 1..100), got {self.top_k}")
        if not self.embed_model.strip():
            raise SettingsError("embed_model 不能为空 (must not be empty); 默认 default: e5-small")
        if not self.generator.strip():
            raise SettingsError("generator 不能为空 (must not be empty); 默认 default: extractive")
        if not self.local_model.strip():
            raise SettingsError("local_model 不能为空 (must not be empty); 默认 default: qwen2.5-coder-1.5b")
        if not 16 <= self.llm_max_tokens <= 4096:
            raise SettingsError(f"llm_max_tokens 必须在 16 到 4096 之间 (must be 16..4096), got {self.llm_max_tokens}")
        if not 0 < self.llm_timeout <= 3600:
            raise SettingsError(f"llm_timeout 必须在 0 到 3600 秒之间 (must be in (0, 3600] seconds), got {self.llm_timeout}")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port 必须在 1 到 65535 之间 (must be 1..65535), got {self.port}")
        if not 0 < self.max_upload_mb <= 2048:
            raise SettingsError(f"max_upload_mb 必须在 0 到 2048 之间 (must be in (0, 2048]), got {self.max_upload_mb}")
        if not 1 <= self.parse_timeout_s <= 86400:
            raise SettingsError(f"parse_timeout_s 必须在 1 到 86400 秒之间 (must be 1..86400), got {self.parse_timeout_s}")
        if not 128 <= self.parse_memory_mb <= 65536:
            raise SettingsError(f"parse_memory_mb 必须在 128 到 65536 之间 (must be 128..65536), got {self.parse_memory_mb}")
        if not 1 <= self.max_pdf_pages <= 100000:
            raise SettingsError(f"max_pdf_pages 必须在 1 到 100000 之间 (must be 1..100000), got {self.max_pdf_pages}")
        if not 0 <= self.max_ocr_pages <= 100000:
            raise SettingsError(f"max_ocr_pages 必须在 0 到 100000 之间 (must be 0..100000), got {self.max_ocr_pages}")
        if not 1000 <= self.max_text_chars <= 100_000_000:
            raise SettingsError(
                f"max_text_chars 必须在 1000 到 100000000 之间 (must be 1000..100000000), got {self.max_text_chars}"
            )
        if not 1 <= self.write_queue <= 10000:
            raise SettingsError(f"write_queue 必须在 1 到 10000 之间 (must be 1..10000), got {self.write_queue}")
        self.user_logins()  # a malformed users string fails at start, not at the first login

    def user_logins(self) -> list[tuple[str, str]]:
        """``users`` as (name, password) pairs for the app's login."""
        logins = []
        for entry in filter(None, (e.strip() for e in (self.users or "").split(","))):
            name, colon, password = entry.partition(":")
            if not colon or not name.strip() or not password:
                raise SettingsError(f"users 格式应为 name:password,name2:password2 (format name:password), got {entry!r}")
            logins.append((name.strip(), password))
        return logins

    @property
    def parse_limits(self) -> ParseLimits:
        return ParseLimits(
            self.parse_timeout_s, self.parse_memory_mb, self.max_pdf_pages, self.max_text_chars, self.max_ocr_pages
        )

    @property
    def loopback(self) -> bool:
        """Whether the app listens on this machine only."""
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    @classmethod
    def load(cls, config: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``config`` (default ``./zhiku.toml`` if present) and ``env``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = config or Path(env.get("ZHIKU_CONFIG", "zhiku.toml"))
        if path.is_file():
            with path.open("rb") as handle:
                try:
                    values.update(tomllib.load(handle))
                except tomllib.TOMLDecodeError as error:
                    raise SettingsError(f"配置文件 {path} 格式错误 (invalid TOML): {error}") from error
        elif config is not None:
            raise SettingsError(f"找不到配置文件 {config} (config file not found)")
        for name, var in ENV_VARS.items():
            if env.get(var):
                values[name] = env[var]
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SettingsError(f"未知的设置项 (unknown settings): {', '.join(unknown)}; 可用 (valid): {', '.join(known)}")
        return cls(**{name: _convert(name, value, cls) for name, value in values.items()})


def _convert(name: str, value: Any, cls: type[Settings]) -> Any:
    default = next(f.default for f in fields(cls) if f.name == name)
    try:
        if isinstance(default, Path):
            return Path(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"设置项 {name} 的值无效 (invalid value): {value!r}") from error
    return value
