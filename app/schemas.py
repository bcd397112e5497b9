"""The JSON API's bodies as pydantic models: what ``/api/openapi.json`` (and the docs pages) show.

Record models mirror the dataclasses they are made from (``Answer.to_dict()``, ``DocumentRow``,
``Job``, ``UploadOutcome``) and allow extra fields, so a field added to a record reaches clients
before its model is updated. Every error is one ``ErrorBody``: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# the default error code of each HTTP status (an error may name a more precise one)
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    411: "length_required",
    413: "too_large",
    415: "unsupported_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def status_code_name(status: int) -> str:
    """The snake_case error code of an HTTP status: ``404 -> "not_found"``."""
    return STATUS_CODES.get(status, "server_error" if status >= 500 else "bad_request")


class ErrorDetail(BaseModel):
    code: str = Field(description="机器可读的错误代码 snake_case error code, e.g. not_found, too_large, invalid_request")
    message: str = Field(description="给人看的说明 the message for people: 中文 (English)")


class ErrorBody(BaseModel):
    """Every error of the API, whatever its status."""

    error: ErrorDetail


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class CitationModel(_Record):
    n: int = Field(description="答案中 [n] 标记的编号 the number of the answer's [n] markers")
    chunk_id: str
    doc_id: str
    title: str
    source: str
    section_path: list[str]
    page: int | None
    quote: str = Field(description="原文，恰为 document.text[start:end] exact text of the document")
    start: int
    end: int
    ocr: bool = False


class SentenceCheckModel(_Record):
    text: str
    citations: list[int]
    ok: bool
    problems: list[str] = []


class AnswerModel(_Record):
    """The ``Answer`` JSON (``answer.records.Answer.to_dict``), the record the eval harness checks."""

    question: str
    text: str = Field(description="答案，带 [n] 引用标记 the answer with [n] citation markers")
    citations: list[CitationModel] = []
    refused: bool = False
    verification: list[SentenceCheckModel] = []
    generator: str = ""
    seconds: float = 0.0
    closest: list[CitationModel] = Field(default=[], description="拒答时给出的最接近的原文 shown with a refusal")
    analysis: dict[str, Any] = {}


class DocumentModel(_Record):
    """One document of the library (``app.library.DocumentRow``)."""

    doc_id: str
    title: str
    file: str
    format: str
    pages: int
    tables: int
    chunks: int
    warnings: list[str]
    uploaded: bool
    bases: list[str] = Field(default=[], description="所属知识库 the names of the knowledge bases it is in")


class UploadOutcomeModel(_Record):
    name: str
    outcome: str = Field(description="added | replaced | unchanged | moved | duplicate | rejected | failed")
    message: str
    reason: str = Field(default="", description="unsupported | too_large | empty | unreadable")
    doc_id: str | None = None
    title: str | None = None
    chunks: int = 0
    warnings: list[str] = []


class JobModel(_Record):
    """One library write on the write queue (``app.jobs.Job``)."""

    id: str
    kind: str = Field(description="upload | remove | reindex | retitle")
    label: str
    state: str = Field(description="queued | running | done | failed | cancelled")
    created: float
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    progress: ProgressModel | None = None
    files: list[UploadOutcomeModel] | None = Field(default=None, description="a finished upload's outcomes")


class ProgressModel(_Record):
    """Where a write is (``app.jobs.WriteProgress``): files, pages of the file being read, chunks embedded."""

    phase: str = Field(description="queued | parse | ocr | embed | done")
    files_done: int
    files_total: int
    page: int
    pages: int
    chunks_done: int
    chunks_total: int = Field(description="chunks of the files read so far: grows while files are read")
    rate: float | None = Field(description="chunks embedded per second, measured over embedding")
    seconds_left: float | None = Field(description="time to embed the chunks read so far, at that rate")
    text: str = Field(description="the same in one Chinese line")


class KnowledgeBaseModel(_Record):
    """A knowledge base (知识库): a named part of the library; a document may be in several."""

    base_id: str
    name: str
    description: str
    documents: int = Field(description="文档数 documents in it")
    created_at: float


class KnowledgeBaseRequest(BaseModel):
    name: str = Field(description="名称 1–40 characters, unique")
    description: str = Field(default="", description="说明 at most 200 characters")


class KnowledgeBaseEdit(BaseModel):
    name: str | None = Field(default=None, description="新名称 new name")
    description: str | None = Field(default=None, description="新说明 new description")


class MembersRequest(BaseModel):
    add: list[str] = Field(default=[], description="放入的文档 doc ids to put in")
    remove: list[str] = Field(default=[], description="移出的文档 doc ids to take out (they stay in the library)")


class BaseDeleted(BaseModel):
    removed: list[DocumentModel] = Field(description="随知识库删除的文档 documents removed with it (with_documents)")
    job: JobModel


class JobAccepted(BaseModel):
    """``wait=false``: the queued job, to follow at ``GET /api/jobs/{id}``."""

    job: JobModel


class UploadResult(BaseModel):
    """Each file's outcome; when no file got in, the status says why and ``error`` sums it up."""

    files: list[UploadOutcomeModel]
    job: JobModel
    error: ErrorDetail | None = None


class RemoveResult(BaseModel):
    removed: DocumentModel
    job: JobModel


class RetitleResult(BaseModel):
    document: DocumentModel


class ReindexResult(BaseModel):
    embedded: int
    job: JobModel


class HealthModel(BaseModel):
    ok: bool
    documents: int | None = Field(description="文档数；资料库无法访问时为 null the number of documents")
    generator: str = Field(description="默认生成器 the default generator")
    components: dict[str, str] = Field(description="each component: ok, or why it cannot be reached")


class AskRequest(BaseModel):
    question: str = Field(description="问题 the question")
    generator: str | None = Field(default=None, description="extractive | quote | llama-cpp | openai (GET /api/generators)")
    documents: list[str] | None = Field(default=None, description="只依据这些文档 doc ids to answer from")
    history: list[str] | None = Field(
        default=None, description="同一对话中之前的问题（由早到晚）earlier questions of the conversation, oldest first"
    )
    kb: str | None = Field(default=None, description="只依据此知识库（名称或 id）a knowledge base to work within, by name or id")


class TitleRequest(BaseModel):
    title: str = Field(description="新标题 the document's new title (1–200 characters)")


class DraftRequest(BaseModel):
    topic: str
    template: str = "案例"
    max_chars: int = 300
    documents: list[str] | None = None
    kb: str | None = Field(default=None, description="只依据此知识库（名称或 id）a knowledge base to work within, by name or id")


ChunkKindName = Literal["text", "table_row"]


class SearchRequest(BaseModel):
    query: str = Field(description="检索词或问题 what to search for")
    top_k: int = Field(default=8, ge=1, le=50, description="返回的段落数 passages to return")
    documents: list[str] | None = Field(default=None, description="只检索这些文档 doc ids to search in")
    kinds: list[ChunkKindName] | None = Field(default=None, description="只检索这些类型 text | table_row")
    kb: str | None = Field(default=None, description="只依据此知识库（名称或 id）a knowledge base to work within, by name or id")


class PassageModel(_Record):
    """A retrieved passage (``index.hybrid.ScoredChunk``): ``text == document.text[start:end]``."""

    rank: int = Field(description="1-based")
    doc_id: str
    title: str
    source: str
    chunk_id: str = Field(description="the best-ranked indexed chunk of the passage")
    covers: list[str] = Field(description="ids of the indexed chunks the passage spans")
    text: str
    section_path: list[str]
    page: int | None
    start: int
    end: int
    kind: str = Field(description="text | table_row")
    score: float = Field(description="the fused (or reranked) score; higher is better")
    dense_rank: int | None = Field(description="rank among the dense hits (null: not among them)")
    lexical_rank: int | None = Field(description="rank among the lexical (BM25) hits (null: not among them)")
    similarity: float | None = Field(description="cosine similarity of the dense hit (null: lexical only)")
    rerank_score: float | None = None


class SearchResponse(BaseModel):
    query: str
    passages: list[PassageModel]


class GeneratorModel(BaseModel):
    name: str
    description: str
    available: bool = Field(description="installed and configured: can answer now")
    reason: str | None = Field(default=None, description="why it is not available (null when it is)")
    default: bool


class GeneratorsResponse(BaseModel):
    default: str
    generators: list[GeneratorModel]
