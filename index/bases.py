"""Knowledge bases (知识库): named parts of one library, such as 政策法规、本校年报、兄弟院校材料.

A document belongs to any number of knowledge bases, and asking, drafting and searching within
some of them retrieves from their documents only. Membership lives in the docstore, by document
id; a filter becomes the set of those ids, which travels to Chroma (``where doc_id $in``) and to
BM25 (its document mask) before ranking, never as a cut of a ranked top-k. So putting a document
into a knowledge base or renaming one touches no vector.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from index.docstore import KnowledgeBase
from ingest.errors import ZhikuError

MAX_NAME_CHARS = 40
MAX_DESCRIPTION_CHARS = 200


class UnknownBaseError(ZhikuError):
    """No knowledge base by that name or id."""


class BaseNameError(ZhikuError):
    """A knowledge base name that is empty or too long."""


class BaseNameTakenError(BaseNameError):
    """Another knowledge base has that name."""


def clean_name(name: str) -> str:
    """A knowledge base's name as stored: NFC, whitespace runs made one space, no control
    characters; 1 to ``MAX_NAME_CHARS`` characters (``BaseNameError`` otherwise)."""
    cleaned = " ".join(unicodedata.normalize("NFC", name).split())
    cleaned = "".join(ch for ch in cleaned if unicodedata.category(ch)[0] != "C")
    if not 1 <= len(cleaned) <= MAX_NAME_CHARS:
        raise BaseNameError(
            f"知识库名称须为 1 到 {MAX_NAME_CHARS} 个字 (a knowledge base name has 1 to {MAX_NAME_CHARS} characters)"
        )
    return cleaned


def clean_description(description: str) -> str:
    cleaned = " ".join(description.split())
    if len(cleaned) > MAX_DESCRIPTION_CHARS:
        raise BaseNameError(
            f"知识库说明最多 {MAX_DESCRIPTION_CHARS} 个字 (a description has at most {MAX_DESCRIPTION_CHARS} characters)"
        )
    return cleaned


def find_base(bases: Sequence[KnowledgeBase], ref: str) -> KnowledgeBase:
    """The knowledge base ``ref`` names: its id, or its name (compared as stored)."""
    wanted = ref.strip()
    for base in bases:
        if wanted == base.base_id:
            return base
    try:
        name = clean_name(wanted)
    except BaseNameError:
        name = wanted
    for base in bases:
        if base.name == name:
            return base
    known = "、".join(b.name for b in bases) or "（还没有知识库 none yet）"
    raise UnknownBaseError(f"没有知识库「{ref}」(no such knowledge base)；现有 (existing): {known}")


def refuse_taken(bases: Sequence[KnowledgeBase], name: str, other_than: str | None = None) -> None:
    """Refuse ``name`` when another knowledge base has it."""
    if any(b.name == name and b.base_id != other_than for b in bases):
        raise BaseNameTakenError(f"已有名为「{name}」的知识库 (a knowledge base of that name exists)")
