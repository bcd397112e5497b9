"""What the assistant answers: ``Answer`` with numbered ``Citation``s, JSON-serialisable.

This is what the CLI prints, the JSON API returns and the eval harness checks. A citation's
``quote`` is always an exact substring of its document's canonical text, at ``start:end``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


@dataclass(frozen=True)
class Citation:
    n: int  # the number used in the answer's [n] markers
    chunk_id: str
    doc_id: str
    title: str
    source: str
    section_path: tuple[str, ...]
    page: int | None
    quote: str  # exact: document.text[start:end]
    start: int
    end: int
    ocr: bool = False  # the quote's page had no text layer and was read by OCR: check it against the page

    @property
    def page_label(self) -> str:
        """「第 3 页」, 「第 3 页（OCR）」 for a page read by OCR, "" without a page."""
        if self.page is None:
            return ""
        return f"第 {self.page} 页" + ("（OCR）" if self.ocr else "")


@dataclass(frozen=True)
class SentenceCheck:
    """The verification of one sentence of an answer."""

    text: str
    citations: tuple[int, ...]
    ok: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with [n] markers
    citations: tuple[Citation, ...] = ()
    refused: bool = False
    verification: tuple[SentenceCheck, ...] = ()
    generator: str = ""
    seconds: float = 0.0
    closest: tuple[Citation, ...] = field(default=())  # shown with a refusal instead of an answer
    analysis: dict[str, Any] = field(default_factory=dict)  # what the question was read as (names, aliases, years)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native: lists, not tuples, so a JSON round trip gives the same dict."""
        result: dict[str, Any] = _lists(asdict(self))
        return result

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        def citation(item: dict[str, Any]) -> Citation:
            return Citation(**{**item, "section_path": tuple(item["section_path"])})

        return cls(
            question=data["question"],
            text=data["text"],
            citations=tuple(citation(c) for c in data.get("citations", ())),
            refused=bool(data.get("refused", False)),
            verification=tuple(
                SentenceCheck(s["text"], tuple(s["citations"]), bool(s["ok"]), tuple(s.get("problems", ())))
                for s in data.get("verification", ())
            ),
            generator=data.get("generator", ""),
            seconds=float(data.get("seconds", 0.0)),
            closest=tuple(citation(c) for c in data.get("closest", ())),
            analysis=dict(data.get("analysis", {})),
        )
