"""``zhiku serve``: the web app (Gradio, ``app.ui``) and the JSON API on one server.

    POST /api/ask        {"question": "...", "generator"?: "extractive", "documents"?: [doc ids]}
    POST /api/search     {"query": "...", "top_k"?: 8, "documents"?: [...], "kinds"?: ["text", "table_row"]}: passages, scored
    GET  /api/generators the answer generators, each with whether it can answer now
    POST /api/draft      {"topic": "...", "template"?: "案例", "max_chars"?: 300, "documents"?: [...]}
    GET  /api/documents  the library
    POST /api/documents  multipart upload (field "files"), size- and type-checked; ?wait=false: 202 + job
    DELETE /api/documents/{doc_id}                                                  ?wait=false: 202 + job
    PATCH /api/documents/{doc_id}  {"title": "..."}: the document's title, in every citation from now on
    POST /api/reindex    rebuild vectors and the lexical index                      ?wait=false: 202 + job
    GET  /api/jobs, GET /api/jobs/{id}, DELETE /api/jobs/{id}   the write queue; DELETE cancels a job
    GET  /api/documents/{doc_id}/file            the original file, as indexed (410 if it changed since)
    GET  /api/documents/{doc_id}/pages/{n}?start=&end=   a PDF page as PNG, the text [start, end) marked
    GET  /api/health
    GET  /api/docs, /api/redoc, /api/openapi.json   the API's documentation, served from local files

Library writes run one at a time on the write queue (``app.jobs``): a request waiting for its
write holds no server thread, so asking, health and the page answer whatever is being
indexed; past ``write_queue`` waiting writes a new one gets 503.

Answers and drafts come back as the ``Answer`` JSON (``answer.records``), the same record the
eval harness checks. Every error, whatever raised it (a route, validation, an unknown ``/api/``
path), is ``{"error": {"code": "not_found", "message": "中文 (English)"}}`` with its HTTP status
(``app.schemas.ErrorBody``); an upload where no file got in keeps its ``files`` beside ``error``.

Access: the server binds 127.0.0.1 by default. Binding any other address needs ``users``
(the app's login) and ``api_token`` (``Authorization: Bearer <token>`` on every API call);
without them it refuses to start. A token set while on loopback is required as well. The
original file and its pages open from links in the app, so they take the app's login cookie as
well as the token.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pypdfium2
import uvicorn
from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.api import Assistant
from app.jobs import Job, JobCancelledError, QueueFullError, UnknownJobError
from app.library import Library, UnknownDocumentError, UploadOutcome, sweep, too_large
from app.pages import SourceChangedError, quote_boxes, render_page, stored_file
from app.schemas import (
    AnswerModel,
    AskRequest,
    BaseDeleted,
    DocumentModel,
    DraftRequest,
    ErrorBody,
    GeneratorsResponse,
    HealthModel,
    JobAccepted,
    JobModel,
    KnowledgeBaseEdit,
    KnowledgeBaseModel,
    KnowledgeBaseRequest,
    MembersRequest,
    ReindexResult,
    RemoveResult,
    RetitleResult,
    SearchRequest,
    SearchResponse,
    TitleRequest,
    UploadResult,
    status_code_name,
)
from app.service import ApiError, Service
from app.settings import Settings
from app.ui import mount
from index.bases import BaseNameTakenError, UnknownBaseError
from index.docstore import StoredDocument
from index.store import StoreUnavailableError
from ingest.errors import SettingsError, ZhikuError
from ingest.load import collect_files

MAX_UPLOAD_FILES = 20  # per request
ERROR_STATUS: dict[type[Exception], int] = {
    QueueFullError: 503,
    StoreUnavailableError: 503,
    UnknownJobError: 404,
    UnknownDocumentError: 404,
    UnknownBaseError: 404,
    BaseNameTakenError: 409,
    JobCancelledError: 409,
    ZhikuError: 400,
}
# the error code of an exception whose status alone says too little
ERROR_CODES: dict[type[Exception], str] = {QueueFullError: "queue_full", JobCancelledError: "cancelled"}
# the error code of an upload where no file got in, by its status (``_failure_status``)
UPLOAD_CODES = {413: "too_large", 415: "unsupported_type", 409: "duplicate", 422: "not_indexed", 400: "rejected"}
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:")
DOCS_ASSETS = "/api/static"  # Swagger UI and ReDoc, from the fastapi-offline package: the docs work offline


def error_response(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's one error shape: ``{"error": {"code", "message"}}`` with ``status``."""
    body = {"error": {"code": code or status_code_name(status), "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route declares in the OpenAPI document."""
    return {status: {"model": ErrorBody} for status in statuses}


_GUARD_ERRORS = (401, 403)
_VALIDATION_PROBLEMS = {
    "missing": "缺失",
    "json_invalid": "不是有效的 JSON",
    "extra_forbidden": "不允许",
    "literal_error": "取值无效",
    "enum": "取值无效",
}


def validation_message(problems: Sequence[Any]) -> str:
    """「请求参数无效：question 缺失 (invalid request: question: field required)」: each problem
    with the field it is about, in Chinese and in pydantic's English."""
    chinese: list[str] = []
    english: list[str] = []
    for problem in problems:
        kind = str(problem.get("type", ""))
        # a JSON syntax error's location is a character position, not a field
        location = [] if kind == "json_invalid" else problem.get("loc", ())
        field = ".".join(str(part) for part in location if part not in ("body", "query", "path", "header"))
        if kind in _VALIDATION_PROBLEMS:
            what = _VALIDATION_PROBLEMS[kind]
        elif kind.endswith(("_type", "_parsing")):
            what = "类型不对"
        elif kind.startswith(("greater_than", "less_than")):
            what = "超出范围"
        elif "too_short" in kind or "too_long" in kind:
            what = "长度不对"
        else:
            what = "无效"
        message = str(problem.get("msg", "invalid"))
        if message[1:2].islower():  # "Field required" -> "field required", "JSON ..." stays
            message = message[:1].lower() + message[1:]
        chinese.append(f"{field or '请求体'} {what}")
        english.append(f"{field or 'body'}: {message}")
    return f"请求参数无效：{'；'.join(chinese)} (invalid request: {'; '.join(english)})"


def check_access(settings: Settings) -> None:
    """Refuse to listen beyond loopback without a login and an API token."""
    if settings.loopback:
        return
    missing = [name for name, value in (("users", settings.users), ("api_token", settings.api_token)) if not value]
    if missing:
        raise SettingsError(
            f"绑定到 {settings.host} 时必须配置登录用户和 API 令牌：缺少 {', '.join(missing)}"
            f"（ZHIKU_USERS=name:password, ZHIKU_API_TOKEN=...）。"
            f" (binding beyond loopback requires users and api_token; missing: {', '.join(missing)})"
        )


def create_api(service: Service) -> FastAPI:
    """The JSON API as a FastAPI app; ``app.ui.mount`` adds the Gradio UI to it."""
    settings = service.settings
    api = FastAPI(title="智库 zhiku API", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")

    def has_token(request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return bool(settings.api_token) and scheme.lower() == "bearer" and secrets.compare_digest(
            value.strip(), settings.api_token or ""
        )

    def token(request: Request) -> None:
        if settings.api_token and not has_token(request):
            raise ApiError(401, "需要有效的 API 令牌：Authorization: Bearer <token> (a valid API token is required)")

    @api.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, str(error), error.code)

    def answer_with(status: int, code: str | None, retry: bool) -> Any:
        async def handler(_: Request, error: Exception) -> JSONResponse:
            headers = {"Retry-After": "10"} if retry else None
            return error_response(status, str(error), code, headers)

        return handler

    # each error's status (Starlette picks the entry of the error's nearest class, so ZhikuError,
    # the base of them all, is a plain bad request); a component that is down says when to retry
    for kind, status in ERROR_STATUS.items():
        api.add_exception_handler(kind, answer_with(status, ERROR_CODES.get(kind), retry=status == 503))

    @api.exception_handler(sqlite3.OperationalError)
    async def docstore_unavailable(_: Request, error: sqlite3.OperationalError) -> JSONResponse:
        # a locked, full or vanished disk under the docstore: its writes roll back whole
        message = f"资料库数据库暂时无法访问，请稍后再试 (the docstore cannot be used, retry later): {error}"
        return error_response(503, message, headers={"Retry-After": "10"})

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(error.errors()))

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/api/"):
            return await http_exception_handler(request, error)  # FastAPI's own answer, as before
        headers = dict(error.headers or {})
        if error.status_code == 404:
            message = f"没有这个 API 路径 (no such API route): {request.url.path}"
        elif error.status_code == 405:
            message = f"此路径不支持 {request.method} 方法 (method not allowed): {request.method} {request.url.path}"
        else:
            message = str(error.detail)
        return error_response(error.status_code, message, headers=headers or None)

    def same_site(request: Request) -> None:
        # A page on another site can make a staff member's browser post to this server (a form
        # needs no CORS preflight): refuse writes that a browser marks as coming from elsewhere.
        origin = request.headers.get("origin")
        fetch_site = request.headers.get("sec-fetch-site")
        foreign = fetch_site in ("cross-site", "same-site") or (
            origin is not None and urlparse(origin).netloc != request.headers.get("host", "")
        )
        if foreign:
            raise ApiError(403, "拒绝来自其他网站的请求 (cross-site requests are refused)")

    @api.middleware("http")
    async def body_limit(request: Request, call_next: Any) -> Any:
        # checked on the headers, before the multipart body is spooled to disk
        if request.method == "POST" and request.url.path.rstrip("/") == "/api/documents":
            length = request.headers.get("content-length", "")
            if not length.isdigit():
                return error_response(411, "上传请求需要 Content-Length (uploads need a Content-Length)")
            if int(length) > service.library.max_bytes * MAX_UPLOAD_FILES + 2**20:
                limit = service.library.max_bytes / 2**20
                return error_response(413, f"上传内容过大：每个文件上限 {limit:.0f} MB，每次最多 {MAX_UPLOAD_FILES} 个文件 "
                                           f"(request too large: {limit:.0f} MB per file, {MAX_UPLOAD_FILES} files)")
        return await call_next(request)

    guarded = [Depends(token), Depends(same_site)]

    def reader(request: Request) -> None:
        # The original file and its pages open from links in the app, where a browser sends its
        # login cookie and no token: either one will do, under the same rules as everything else.
        if not settings.user_logins() and not settings.api_token:
            return
        if has_token(request) or logged_in(api, request):
            return
        raise ApiError(401, "需要登录或有效的 API 令牌 (log in to the app, or send the API token)")

    @api.get("/api/health", response_model=HealthModel, responses={503: {"model": HealthModel}})
    def health() -> JSONResponse:
        """ok, or 503 naming the component that cannot be reached (the docstore, the vector store)."""
        components: dict[str, str] = {}
        documents = None
        try:
            documents = len(service.library.documents())
            components["docstore"] = "ok"
        except Exception as error:
            components["docstore"] = f"无法访问 (unavailable): {type(error).__name__}"
        try:
            service.assistant.index.refresh()
            service.assistant.index.vectors.count()
            components["vectors"] = "ok"
        except Exception as error:
            components["vectors"] = f"无法访问 (unavailable): {error}"
        ok = all(state == "ok" for state in components.values())
        body = {"ok": ok, "documents": documents, "generator": service.assistant.default_generator, "components": components}
        return JSONResponse(body, status_code=200 if ok else 503)

    @api.post("/api/ask", dependencies=guarded, response_model=AnswerModel, responses=errors(400, *_GUARD_ERRORS, 422, 503))
    def ask(body: AskRequest) -> dict[str, Any]:
        """The answer, every sentence cited (``generator``: one of ``GET /api/generators`` that is available)."""
        service.check_generator(body.generator)
        return service.ask(body.question, body.generator, body.documents, body.history or (), base=body.kb)

    @api.post("/api/search", dependencies=guarded, response_model=SearchResponse,
              responses=errors(400, *_GUARD_ERRORS, 422, 503))
    def search(body: SearchRequest) -> dict[str, Any]:
        """The passages answers are made from, best first, with their scores and where each is in
        its document (``text == document.text[start:end]``); no answer is composed."""
        return service.search(body.query, body.top_k, body.documents, body.kinds, base=body.kb)

    @api.get("/api/generators", dependencies=guarded, response_model=GeneratorsResponse, responses=errors(*_GUARD_ERRORS))
    def generators() -> dict[str, Any]:
        """The answer generators, each with whether it can answer now (installed and configured)."""
        return {"default": service.assistant.default_generator, "generators": service.generators()}

    @api.post("/api/draft", dependencies=guarded, response_model=AnswerModel, responses=errors(400, *_GUARD_ERRORS, 422, 503))
    def draft(body: DraftRequest) -> dict[str, Any]:
        return service.draft(body.topic, body.template, body.max_chars, body.documents, base=body.kb)

    @api.get("/api/documents", dependencies=guarded, response_model=list[DocumentModel],
             responses=errors(*_GUARD_ERRORS, 404, 422, 503))
    def documents(kb: str | None = None) -> list[dict[str, Any]]:
        """The library, or the documents of the knowledge base ``kb`` (its name or id)."""
        return [row.to_dict() for row in service.library.documents(kb)]

    @api.get("/api/kbs", dependencies=guarded, response_model=list[KnowledgeBaseModel], responses=errors(*_GUARD_ERRORS))
    def knowledge_bases() -> list[dict[str, Any]]:
        """The knowledge bases (知识库), by name, each with its number of documents."""
        return [asdict(base) for base in service.library.bases()]

    @api.post("/api/kbs", dependencies=guarded, response_model=KnowledgeBaseModel, status_code=201,
              responses=errors(400, *_GUARD_ERRORS, 409, 422))
    def create_base(body: KnowledgeBaseRequest) -> dict[str, Any]:
        """A new, empty knowledge base; upload into it with ``POST /api/documents?kb=``."""
        return asdict(service.library.create_base(body.name, body.description))

    @api.patch("/api/kbs/{kb}", dependencies=guarded, response_model=KnowledgeBaseModel,
               responses=errors(400, *_GUARD_ERRORS, 404, 409, 422))
    def edit_base(kb: str, body: KnowledgeBaseEdit) -> dict[str, Any]:
        """Rename a knowledge base or change its description (``kb``: its name or id)."""
        return asdict(service.library.edit_base(kb, name=body.name, description=body.description))

    @api.post("/api/kbs/{kb}/documents", dependencies=guarded, response_model=KnowledgeBaseModel,
              responses=errors(400, *_GUARD_ERRORS, 404, 422))
    def file_documents(kb: str, body: MembersRequest) -> dict[str, Any]:
        """Put documents into a knowledge base and take others out (they stay in the library)."""
        return asdict(service.library.file_documents(kb, add=body.add, remove=body.remove))

    @api.delete("/api/kbs/{kb}", dependencies=guarded, response_model=BaseDeleted,
                responses={202: {"model": JobAccepted}, **errors(*_GUARD_ERRORS, 404, 422, 503)})
    async def delete_base(kb: str, with_documents: bool = False, wait: bool = True) -> JSONResponse:
        """Delete a knowledge base; its documents stay in the library unless ``with_documents``,
        which removes those in no other knowledge base."""
        job = service.library.submit_delete_base(kb, with_documents=with_documents)
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        rows = await asyncio.wrap_future(job.future)
        return JSONResponse({"removed": [row.to_dict() for row in rows], "job": job.to_dict()})

    @api.post("/api/documents", dependencies=guarded, response_model=UploadResult,
              responses={202: {"model": JobAccepted}, **errors(400, *_GUARD_ERRORS, 411, 503),
                         **{status: {"model": UploadResult, "description": f"no file got in: error.code {code}"}
                            for status, code in UPLOAD_CODES.items() if status != 400}})
    async def upload(
        files: list[UploadFile] = File(...), wait: bool = True, kb: str | None = None  # noqa: B008 - FastAPI's idiom
    ) -> JSONResponse:
        """Store the files and queue their indexing, into the knowledge base ``kb`` when given.
        ``wait`` (default): answer with each file's outcome once indexed; ``wait=false``: answer
        202 with the job at once (``GET /api/jobs/{id}``, with its progress)."""
        if kb:
            service.library.base(kb)  # an unknown knowledge base is refused before anything is read
        if len(files) > MAX_UPLOAD_FILES:
            raise ApiError(400, f"每次最多上传 {MAX_UPLOAD_FILES} 个文件 (at most {MAX_UPLOAD_FILES} files per request)")
        with tempfile.TemporaryDirectory(prefix="zhiku-upload-") as folder:
            received, early = await run_in_threadpool(_spool, service.library, files, Path(folder))
            job = await run_in_threadpool(lambda: service.library.submit_add(received, base=kb))
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        added = iter(await asyncio.wrap_future(job.future))
        outcomes = [early[i] if i in early else next(added) for i in range(len(files))]
        body: dict[str, Any] = {"files": [o.to_dict() for o in outcomes], "job": job.to_dict()}
        if any(o.ok for o in outcomes):
            return JSONResponse(body, status_code=200)
        status = _failure_status(outcomes)
        body["error"] = {"code": UPLOAD_CODES.get(status, status_code_name(status)), "message": _failure_message(outcomes)}
        return JSONResponse(body, status_code=status)

    @api.delete("/api/documents/{doc_id}", dependencies=guarded, response_model=RemoveResult,
                responses={202: {"model": JobAccepted}, **errors(*_GUARD_ERRORS, 404, 422, 503)})
    async def remove(doc_id: str, wait: bool = True) -> JSONResponse:
        job = service.library.submit_remove(doc_id)
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        row = await asyncio.wrap_future(job.future)
        return JSONResponse({"removed": row.to_dict(), "job": job.to_dict()})

    @api.patch("/api/documents/{doc_id}", dependencies=guarded, response_model=RetitleResult,
               responses=errors(400, *_GUARD_ERRORS, 404, 422, 503))
    async def retitle(doc_id: str, body: TitleRequest) -> dict[str, Any]:
        """Give a document its right title (a PDF whose cover says it in pictures only); every
        citation shows the new one."""
        job = service.library.submit_retitle(doc_id, body.title)
        return {"document": (await asyncio.wrap_future(job.future)).to_dict()}

    @api.get("/api/documents/{doc_id}/file", dependencies=[Depends(reader)], response_class=FileResponse,
             responses={200: {"description": "the original file", "content": {
                 media: {"schema": {"type": "string", "format": "binary"}} for media in sorted(set(_MEDIA_TYPES.values()))}},
                 **errors(401, 404, 410, 422)})
    def original(doc_id: str) -> FileResponse:
        """The file the document was read from, as indexed (410 when it changed or is gone since)."""
        document = _document(service, doc_id)
        path = _stored(document.source, doc_id)
        media = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")

    @api.get("/api/documents/{doc_id}/pages/{number}", dependencies=[Depends(reader)], response_class=Response,
             responses={200: {"description": "the page as a PNG", "content": {
                 "image/png": {"schema": {"type": "string", "format": "binary"}}}}, **errors(400, 401, 404, 410, 422)})
    def page_image(doc_id: str, number: int, start: int | None = None, end: int | None = None) -> Response:
        """Page ``number`` of a PDF as a PNG, the document's text ``[start, end)`` (a citation's
        span) marked where it is printed."""
        document = _document(service, doc_id)
        if document.format != "pdf":
            raise ApiError(400, f"只有 PDF 文档有页面 (only PDF documents have pages): {document.title}")
        if number < 1:
            raise ApiError(404, f"没有第 {number} 页 (no such page)")
        path = _stored(document.source, doc_id)
        known = {page.number: page for page in document.pages}
        quote = ""
        if start is not None and end is not None:
            text = service.assistant.index.docstore.text(doc_id) or ""
            if not 0 <= start < end <= len(text):
                raise ApiError(400, f"引文位置超出文档范围 (span out of range): {start}-{end}")
            quote = text[start:end]
        try:
            page = known.get(number)
            marks = quote_boxes(path, number, quote, page.boxes if page is not None else ()) if quote else []
            image = render_page(path, number, marks)
        except (IndexError, pypdfium2.PdfiumError):
            raise ApiError(404, f"没有第 {number} 页 (no such page)") from None
        return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @api.post("/api/reindex", dependencies=guarded, response_model=ReindexResult,
              responses={202: {"model": JobAccepted}, **errors(*_GUARD_ERRORS, 422, 503)})
    async def reindex(wait: bool = True) -> JSONResponse:
        """Rebuild the vectors and the lexical index (into a new collection, swapped in when
        complete: asking goes on meanwhile). ``wait=false``: answer 202 with the job at once."""
        job = service.library.submit_reindex()
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        report = await asyncio.wrap_future(job.future)
        return JSONResponse({"embedded": report.embedded, "job": job.to_dict()})

    @api.get("/api/jobs", dependencies=guarded, response_model=list[JobModel], response_model_exclude_unset=True,
             responses=errors(*_GUARD_ERRORS))
    @api.get("/api/documents/jobs", dependencies=guarded, response_model=list[JobModel],
             response_model_exclude_unset=True, responses=errors(*_GUARD_ERRORS))
    def jobs() -> list[dict[str, Any]]:
        """The library's writes: waiting, running and the last finished ones, each with its
        progress (also at ``/api/documents/jobs``, beside the library it writes)."""
        return [job.to_dict() for job in service.library.queue.jobs()]

    @api.get("/api/jobs/{job_id}", dependencies=guarded, response_model=JobModel, response_model_exclude_unset=True,
             responses=errors(*_GUARD_ERRORS, 404, 422))
    def job(job_id: str) -> dict[str, Any]:
        found = service.library.queue.job(job_id)
        record = found.to_dict()
        if found.state == "done" and found.kind == "upload":
            record["files"] = [o.to_dict() for o in found.future.result()]
        return record

    @api.delete("/api/jobs/{job_id}", dependencies=guarded, response_model=JobModel, response_model_exclude_unset=True,
                responses=errors(*_GUARD_ERRORS, 404, 409, 422))
    def cancel(job_id: str) -> dict[str, Any]:
        """Cancel a waiting write, or stop the running one (its file being parsed is dropped)."""
        return service.library.cancel(job_id).to_dict()

    _add_docs(api)

    @api.api_route("/api/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                   include_in_schema=False)
    def unknown_route(request: Request, path: str) -> None:
        """Every other path under /api/ (registered last, before the Gradio app takes all the
        rest): a 405 where the path is a route with other methods, else a 404, in the error shape."""
        # a route that matches the path but not the method is a partial match (this one matches in full)
        allowed = sorted({method for route in api.routes if isinstance(route, APIRoute)
                          and route.matches(request.scope)[0] is Match.PARTIAL for method in route.methods or ()})
        if allowed:
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(allowed)})
        raise StarletteHTTPException(404)

    return api


def _add_docs(api: FastAPI) -> None:
    """Swagger UI at /api/docs and ReDoc at /api/redoc, their scripts and styles served from the
    fastapi-offline package (no CDN, no web fonts): the docs open on a network without internet."""
    assets = importlib.resources.files("fastapi_offline") / "static"
    api.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="api-static")
    openapi_url = api.openapi_url or "/api/openapi.json"

    def local_only(page: HTMLResponse) -> HTMLResponse:
        # the pages' own scripts may still name an outside address (ReDoc's footer logo): the
        # browser is told to load nothing from beyond this server, so nothing waits on a network
        page.headers["Content-Security-Policy"] = DOCS_POLICY
        return page

    @api.get("/api/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return local_only(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{api.title} - Swagger UI", oauth2_redirect_url=None,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # the default validator is an outside site
        ))

    @api.get("/api/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return local_only(get_redoc_html(
            openapi_url=openapi_url, title=f"{api.title} - ReDoc", redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png", with_google_fonts=False,
        ))


_MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


def _document(service: Service, doc_id: str) -> StoredDocument:
    document = service.assistant.index.docstore.document(doc_id)
    if document is None or document.status != "complete":
        raise UnknownDocumentError(f"资料库中没有文档 {doc_id} (no such document)")
    return document


def _stored(source: str, doc_id: str) -> Path:
    try:
        return stored_file(source, doc_id)
    except SourceChangedError as error:
        raise ApiError(410, str(error)) from None


def logged_in(api: FastAPI, request: Request) -> bool:
    """Whether the request carries the login cookie of the Gradio app mounted on ``api``."""
    for route in api.routes:
        app = getattr(route, "app", None)
        tokens = getattr(app, "tokens", None)
        cookie_id = getattr(app, "cookie_id", None)
        if isinstance(tokens, dict) and cookie_id:
            cookie = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
                f"access-token-unsecure-{cookie_id}"
            )
            return cookie is not None and tokens.get(cookie) is not None
    return False


def _spool(
    library: Library, files: Sequence[UploadFile], folder: Path
) -> tuple[list[tuple[str, Path]], dict[int, UploadOutcome]]:
    """Copy each upload to a file in ``folder`` (stopping at the size limit)."""
    received: list[tuple[str, Path]] = []
    early: dict[int, UploadOutcome] = {}
    for i, upload in enumerate(files):
        name = upload.filename or "upload"
        path = folder / f"{i}.bin"
        size = 0
        with path.open("wb") as handle:
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > library.max_bytes:
                    break
                handle.write(chunk)
        if size > library.max_bytes:
            early[i] = UploadOutcome(name, "rejected", str(too_large(name, library.max_bytes)), "too_large")
            continue
        received.append((name, path))
    return received, early


def _failure_status(outcomes: Sequence[UploadOutcome]) -> int:
    """The status of an upload where no file got in: what all of them have in common."""
    reasons = {o.reason for o in outcomes}
    kinds = {o.outcome for o in outcomes}
    if not outcomes:
        return 400
    if reasons == {"too_large"}:
        return 413
    if kinds == {"rejected"}:
        return 415 if "unsupported" in reasons else 400
    return 409 if kinds == {"duplicate"} else 422


def _failure_message(outcomes: Sequence[UploadOutcome]) -> str:
    """The ``error`` message of an upload where no file got in: each file's own message."""
    if len(outcomes) == 1:
        return outcomes[0].message
    messages = "; ".join(o.message for o in outcomes)
    return f"没有文件被加入 (no file was added): {messages}" if outcomes else "没有收到文件 (no files received)"


def build_app(settings: Settings, assistant: Assistant | None = None) -> tuple[FastAPI, Service]:
    """The whole server: API routes, then the Gradio UI at ``/``."""
    check_access(settings)
    service = Service(settings, assistant)
    app = mount(create_api(service), service)
    return app, service


def serve(settings: Settings, corpus: Path | None = None) -> None:
    """Serve until interrupted; when the library is empty, ``corpus`` is indexed meanwhile, on
    the write queue, its progress in the app, at ``GET /api/jobs`` and on the console."""
    check_access(settings)
    # the browser's uploads are spooled under the library's home, not the system's temp folder,
    # and what a killed server left there is swept (the UI deletes each file once it is indexed)
    spool = settings.home / "tmp" / "gradio"
    os.environ["GRADIO_TEMP_DIR"] = str(spool.resolve())
    sweep(spool)
    app, service = build_app(settings)
    job = start_corpus(service, corpus) if corpus is not None else None
    if job is None:
        service.warm_up()
    else:
        threading.Thread(target=_report, args=(job,), name="zhiku-first-start", daemon=True).start()
    print(f"智库 zhiku: http://{settings.host}:{settings.port}/  (API: /api/ask, 文档 docs: /api/docs)", flush=True)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        service.close()


def start_corpus(service: Service, corpus: Path) -> Job | None:
    """The first start: queue the indexing of the bundled corpus when nothing is indexed yet (the
    app serves meanwhile and answers from what is indexed so far). None when there is nothing to do."""
    if service.library.documents() or not corpus.is_dir():
        return None
    files, _, _ = collect_files([corpus])
    if not files:
        return None
    return service.library.submit_ingest(files, f"首次启动：为 {corpus.name}/ 建立索引（{len(files)} 个文件）")


def _report(job: Job, every_s: float = 10.0) -> None:
    """The job's progress on the console now and then, until it ends."""
    print(f"{job.label}… (first start: indexing the corpus; the app is already serving)", flush=True)
    while job.state in ("queued", "running"):
        time.sleep(every_s)
        if job.state == "running":
            print(f"  {job.progress.describe()}", flush=True)
    ending = "完成 done" if job.state == "done" else f"{job.state}: {job.error}"
    print(f"{job.label}：{ending}", flush=True)
