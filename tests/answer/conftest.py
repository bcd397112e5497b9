"""A small library built from literal documents, answered without Chroma or the embedder.

``MemoryLibrary`` holds what the ingest pipeline made of the files (the ``Library`` contract),
``LexicalRetriever`` ranks chunks by BM25 alone (the ``Retriever`` contract). The answer pipeline
runs on them exactly as on the real index: that is what makes the answer core testable on
literal data. The documents are written for these tests; none comes from an eval set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from answer.compose import Composer
from answer.extractive import ExtractiveComposer
from answer.pipeline import AnswerPipeline
from answer.records import Answer
from index.hybrid import Filters, ScoredChunk
from index.lexical import LexicalIndex
from index.tokenize import ChineseTokenizer
from ingest.chunk import Chunker
from ingest.pipeline import IngestResult, ingest_file
from ingest.records import Chunk

REGULATION_2015 = """# 示例省职业教育条例

第一条 为了发展职业教育，提高劳动者素质，制定本条例。

第五条 职业学校应当每年组织专业教师到企业实践，每人累计不少于二十天。

第九条 企业接收职业学校学生实习的，按照每人每月200元的标准给予补贴。

第十二条 职业学校可以为企业开展职工培训，并收取培训费用，具体标准由省人民政府另行规定。

第十五条 本条例自2015年9月1日起施行。
"""

REGULATION_2023 = """# 示例省职业教育条例

第一条 为了发展职业教育，提高劳动者素质，制定本条例。

第五条 职业学校应当每年组织专业教师到企业实践，每人累计不少于一个月。

第九条 企业接收职业学校学生实习的，按照每人每月300元的标准给予补贴。

第十二条 职业学校可以为企业开展职工培训，并收取培训费用，具体标准由省人民政府另行规定。

第十五条 本条例自2023年5月1日起施行。
"""

REPORT = """示范职业技术学院2022年度质量报告

一、招生情况

表1：2022年分校区招生情况

校区\t招生计划（人）\t实际录取（人）\t报到率（%）
全校\t3000\t2900\t95.20
其中：东校区\t1800\t1750\t96.10
其中：西校区\t1200\t1150\t93.80

二、就业情况

表2：近两年就业指标

指标\t单位\t2021年\t2022年
就业率\t%\t93.50\t91.20
平均月薪\t元\t4100\t4350

三、产教融合

2022年，学校与本地企业共建智能制造产业学院，首批招收学生120人。
智能制造产业学院实行校企双主任制，企业工程师承担40%的专业课程。
学校坚持立德树人，推进课程思政建设。
"""

DOCUMENTS = {
    "示例省职业教育条例(2015-06-01).md": REGULATION_2015,
    "示例省职业教育条例(2023-03-01).md": REGULATION_2023,
    "示范职业技术学院2022年度质量报告.txt": REPORT,
}


@dataclass(frozen=True)
class Stored:
    title: str
    source: str
    chunking: str
    chunks: int


class MemoryLibrary:
    """The ``answer.pipeline.Library`` contract over ingested records kept in memory."""

    def __init__(self, results: list[IngestResult]) -> None:
        self.results = {r.document.doc_id: r for r in results}

    def titles(self) -> dict[str, str]:
        return {doc_id: r.document.title for doc_id, r in self.results.items()}

    def sources(self) -> dict[str, str]:
        return {doc_id: r.document.source for doc_id, r in self.results.items()}

    def document(self, doc_id: str) -> Stored | None:
        r = self.results.get(doc_id)
        return None if r is None else Stored(r.document.title, r.document.source, "test", len(r.chunks))

    def text(self, doc_id: str) -> str | None:
        return self.results[doc_id].document.text if doc_id in self.results else None

    def sections(self, doc_id: str) -> list[tuple[tuple[str, ...], int, int]]:
        return [(s.path, s.start, s.end) for s in self.results[doc_id].document.sections]

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        return list(self.results[doc_id].chunks)


class LexicalRetriever:
    """BM25 over chunk contexts; each hit is a passage of one chunk (no dense retriever)."""

    def __init__(self, library: MemoryLibrary, lexical: LexicalIndex) -> None:
        self.library = library
        self.lexical = lexical
        self.chunks = {c.chunk_id: c for r in library.results.values() for c in r.chunks}

    def retrieve(self, query: str, top_k: int = 8, filters: Filters | None = None) -> list[ScoredChunk]:
        doc_ids = filters.doc_ids if filters is not None else None
        hits = self.lexical.search(query, top_k, doc_ids=doc_ids)
        out = []
        for rank, hit in enumerate(hits, start=1):
            chunk = self.chunks[hit.chunk_id]
            doc = self.library.results[chunk.doc_id].document
            out.append(ScoredChunk(chunk, hit.score, doc.title, doc.source, lexical_rank=rank, covers=(chunk.chunk_id,)))
        return out


@dataclass
class Library:
    pipeline: AnswerPipeline
    composer: Composer

    def ask(self, question: str, history: tuple[str, ...] = ()) -> Answer:
        return self.pipeline.ask(question, self.composer, history=history)


def build(folder: Path, documents: dict[str, str]) -> Library:
    results = []
    for name, text in documents.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        results.append(ingest_file(path, Chunker()))
    library = MemoryLibrary(results)
    lexical = LexicalIndex(ChineseTokenizer())
    lexical.add_many((c.chunk_id, c.doc_id, c.kind, c.context) for r in results for c in r.chunks)
    return Library(AnswerPipeline(LexicalRetriever(library, lexical), library, lexical), ExtractiveComposer())


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    yield build(tmp_path_factory.mktemp("answer-library"), DOCUMENTS)
