"""Drafting report sections in the genres of the corpus, every sentence cited and verified.

A template (``answer/templates/*.toml``, and any ``*.toml`` in ``$ZHIKU_HOME/templates`` a user
adds) names its parts: what to retrieve for each (``query`` with ``{topic}``), its share of the
length, whether its sentences are steps (一是…二是…三是…) and whether figures are preferred::

    name = "案例"
    description = "典型案例：背景与依据 → 主要做法 → 成效"
    [[parts]]
    label = "主要做法"
    query = "{topic} 做法 举措 共建 合作"
    share = 0.45
    style = "steps"        # or "plain" (the default)
    figures = false        # true: among equally good sentences, those with figures first

Each part retrieves on its own and takes sentences (``answer.extractive.select``) within its share of
``max_chars``; what one part leaves unused goes to the next. The draft is one paragraph per part.
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from answer.compose import Claim
from answer.evidence import Unit
from answer.extractive import Budget, order, render
from answer.pipeline import AnswerPipeline
from answer.question import Question
from answer.records import Answer
from answer.verify import answer_length
from index.hybrid import Filters, ScoredChunk
from ingest.errors import SettingsError

BUILTIN = Path(__file__).with_name("templates")
_STEP = re.compile(r"^(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．])\s*")
STEP_WORDS = ("一是", "二是", "三是", "四是", "五是", "六是", "七是", "八是")


@dataclass(frozen=True)
class Part:
    label: str
    query: str
    share: float
    style: str = "plain"
    figures: bool = False


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    parts: tuple[Part, ...]
    path: Path | None = None


def parse_template(path: Path) -> Template:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        parts = tuple(
            Part(
                label=str(p.get("label", "")),
                query=str(p["query"]),
                share=float(p.get("share", 1.0)),
                style=str(p.get("style", "plain")),
                figures=bool(p.get("figures", False)),
            )
            for p in data["parts"]
        )
        name = str(data.get("name") or path.stem)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise SettingsError(f"写作模板 {path} 无效 (invalid template): {error}") from error
    if not parts or any(p.style not in ("plain", "steps") or p.share <= 0 for p in parts):
        raise SettingsError(f"写作模板 {path} 无效 (invalid template): 需要 parts，style 为 plain 或 steps，share > 0")
    return Template(name, str(data.get("description", "")), parts, path)


def load_templates(home: Path | None = None) -> dict[str, Template]:
    """Built-in templates, then the user's in ``home/templates`` (a same-named one replaces a built-in)."""
    folders = [BUILTIN] + ([home / "templates"] if home is not None else [])
    templates: dict[str, Template] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            template = parse_template(path)
            templates[template.name] = template
    return templates


class Drafter:
    """Drafts a report section through the answer pipeline, one retrieval and selection per part."""

    name = "extractive"

    def __init__(self, pipeline: AnswerPipeline, templates: dict[str, Template]) -> None:
        self.pipeline = pipeline
        self.templates = templates

    def template(self, name: str) -> Template:
        if name not in self.templates:
            raise SettingsError(f"没有写作模板 (no template) {name!r}; 可用 (available): {'、'.join(self.templates)}")
        return self.templates[name]

    def draft(self, topic: str, template: str = "案例", max_chars: int = 300, filters: Filters | None = None) -> Answer:
        started = time.perf_counter()
        topic = topic.strip()
        if not topic:
            raise SettingsError("请给出写作主题 (topic is empty)")
        if not 50 <= max_chars <= 5000:
            raise SettingsError(f"篇幅应在 50 到 5000 字之间 (max_chars must be 50..5000), got {max_chars}")
        chosen = self.template(template)
        request = f"{topic}（{chosen.name}，{max_chars}字以内）"
        total_share = sum(p.share for p in chosen.parts)
        claims: list[Claim] = []
        used: list[Unit] = []
        closest: list[ScoredChunk] = []
        texts: dict[str, str] = {}
        carried = 0
        # the topic's own terms weigh double: a part must stay on topic
        topic_terms = set(self.pipeline.vocabulary.terms(topic))
        for part in chosen.parts:
            question = self.pipeline.analyse(part.query.format(topic=topic))
            weights = {t: w * (2.0 if t in topic_terms else 1.0) for t, w in question.weights.items()}
            evidence = self.pipeline.evidence(_as_draft(question, weights), filters)
            texts.update(evidence.texts)
            closest.extend(evidence.passages[:1])
            evidence.units = [u for u in evidence.units if not any(_same(u, v) for v in used)]
            if part.figures:
                evidence.units = sorted(evidence.units, key=lambda u: (u.numbers == 0, u.passage))
            budget_chars = int(max_chars * part.share / total_share) + carried
            units = self.pipeline.focus(evidence, Budget(units=6, chars=budget_chars, min_gain=0.02))
            # on topic: the sentence itself says at least half of the topic's weight
            topic_weight = sum(weights.get(t, 0.0) for t in topic_terms) or 1.0
            units = [u for u in units if sum(weights.get(t, 0.0) for t in topic_terms & u.own) >= 0.5 * topic_weight]
            part_claims = [claim for u in order(units, evidence.question) for claim in render(u, evidence)]
            size = sum(answer_length(c.text) for c in part_claims)
            while part_claims and size > budget_chars:
                size -= answer_length(part_claims.pop().text)
            carried = max(0, budget_chars - size)
            if part.style == "steps":
                part_claims = [
                    replace(c, text=STEP_WORDS[i % len(STEP_WORDS)] + _STEP.sub("", c.text)) for i, c in enumerate(part_claims)
                ]
            if part_claims:
                part_claims[0] = replace(part_claims[0], joiner="\n")
            claims.extend(part_claims)
            used.extend(units)
        return self.pipeline.assemble(request, claims, texts, closest, self.name, started,
                                      reason="资料中没有找到与主题相关的内容")


def _as_draft(question: Question, weights: dict[str, float]) -> Question:
    return replace(question, weights=weights, kind="write", enumerates=False, limit=None)


def _same(a: Unit, b: Unit) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end
