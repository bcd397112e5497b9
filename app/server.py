"""``zhiku serve``: the web app (Gradio, ``app.ui``) and the JSON API on one server.

    POST /api/ask        {"question": "...", "generator"?: "extractive", "documents"?: [doc ids]}
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

Library writes run one at a time on the write queue (``app.jobs``): a request waiting for its
write holds no server thread, so asking, health and the page answer whatever is being
indexed; past ``write_queue`` waiting writes a new one gets 503.

Answers and drafts come back as the ``Answer`` JSON (``answer.records``), the same record the
eval harness checks. Errors are ``{"error": "中文 (English)"}`` with a 4xx status.

Access: the server binds 127.0.0.1 by default. Binding any other address needs ``users``
(the app's login) and ``api_token`` (``Authorization: Bearer <token>`` on every API call);
without them it refuses to start. A token set while on loopback is required as well. The
original file and its pages open from links in the app, so they take the app's login cookie as
well as the token.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pypdfium2
import uvicorn
from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from app.api import Assistant
from app.jobs import JobCancelledError, QueueFullError, UnknownJobError
from app.library import Library, UnknownDocumentError, UploadOutcome, sweep, too_large
from app.pages import SourceChangedError, quote_boxes, render_page, stored_file
from app.service import ApiError, Service
from app.services import make_chunker, open_index
from app.settings import Settings
from app.ui import mount
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
    JobCancelledError: 409,
    ZhikuError: 400,
}


class AskRequest(BaseModel):
    question: str = Field(description="问题 the question")
    generator: str | None = Field(default=None, description="extractive | quote | llama-cpp | openai")
    documents: list[str] | None = Field(default=None, description="只依据这些文档 doc ids to answer from")
    history: list[str] | None = Field(
        default=None, description="同一对话中之前的问题（由早到晚）earlier questions of the conversation, oldest first"
    )


class TitleRequest(BaseModel):
    title: str = Field(description="新标题 the document's new title (1–200 characters)")


class DraftRequest(BaseModel):
    topic: str
    template: str = "案例"
    max_chars: int = 300
    documents: list[str] | None = None


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
    api = FastAPI(title="智库 zhiku API", docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)

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
        return JSONResponse({"error": str(error)}, status_code=error.status)

    def answer_with(status: int, retry: bool) -> Any:
        async def handler(_: Request, error: Exception) -> JSONResponse:
            headers = {"Retry-After": "10"} if retry else None
            return JSONResponse({"error": str(error)}, status_code=status, headers=headers)

        return handler

    # each error's status (Starlette picks the entry of the error's nearest class, so ZhikuError,
    # the base of them all, is a plain bad request); a component that is down says when to retry
    for kind, status in ERROR_STATUS.items():
        api.add_exception_handler(kind, answer_with(status, retry=status == 503))

    @api.exception_handler(sqlite3.OperationalError)
    async def docstore_unavailable(_: Request, error: sqlite3.OperationalError) -> JSONResponse:
        # a locked, full or vanished disk under the docstore: its writes roll back whole
        message = f"资料库数据库暂时无法访问，请稍后再试 (the docstore cannot be used, retry later): {error}"
        return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "10"})

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
                return JSONResponse({"error": "上传请求需要 Content-Length (uploads need a Content-Length)"}, status_code=411)
            if int(length) > service.library.max_bytes * MAX_UPLOAD_FILES + 2**20:
                limit = service.library.max_bytes / 2**20
                return JSONResponse({"error": f"上传内容过大：每个文件上限 {limit:.0f} MB，每次最多 {MAX_UPLOAD_FILES} 个文件 "
                                              f"(request too large: {limit:.0f} MB per file, {MAX_UPLOAD_FILES} files)"},
                                    status_code=413)
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

    @api.get("/api/health")
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

    @api.post("/api/ask", dependencies=guarded)
    def ask(body: AskRequest) -> dict[str, Any]:
        return service.ask(body.question, body.generator, body.documents, body.history or ())

    @api.post("/api/draft", dependencies=guarded)
    def draft(body: DraftRequest) -> dict[str, Any]:
        return service.draft(body.topic, body.template, body.max_chars, body.documents)

    @api.get("/api/documents", dependencies=guarded)
    def documents() -> list[dict[str, Any]]:
        return [row.to_dict() for row in service.library.documents()]

    @api.post("/api/documents", dependencies=guarded)
    async def upload(files: list[UploadFile] = File(...), wait: bool = True) -> JSONResponse:  # noqa: B008 - FastAPI's idiom
        """Store the files and queue their indexing. ``wait`` (default): answer with each file's
        outcome once indexed; ``wait=false``: answer 202 with the job at once (``GET /api/jobs/{id}``)."""
        if len(files) > MAX_UPLOAD_FILES:
            raise ApiError(400, f"每次最多上传 {MAX_UPLOAD_FILES} 个文件 (at most {MAX_UPLOAD_FILES} files per request)")
        with tempfile.TemporaryDirectory(prefix="zhiku-upload-") as folder:
            received, early = await run_in_threadpool(_spool, service.library, files, Path(folder))
            job = await run_in_threadpool(service.library.submit_add, received)
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        added = iter(await asyncio.wrap_future(job.future))
        outcomes = [early[i] if i in early else next(added) for i in range(len(files))]
        status = 200 if any(o.ok for o in outcomes) else _failure_status(outcomes)
        return JSONResponse({"files": [o.to_dict() for o in outcomes], "job": job.to_dict()}, status_code=status)

    @api.delete("/api/documents/{doc_id}", dependencies=guarded)
    async def remove(doc_id: str, wait: bool = True) -> JSONResponse:
        job = service.library.submit_remove(doc_id)
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        row = await asyncio.wrap_future(job.future)
        return JSONResponse({"removed": row.to_dict(), "job": job.to_dict()})

    @api.patch("/api/documents/{doc_id}", dependencies=guarded)
    async def retitle(doc_id: str, body: TitleRequest) -> dict[str, Any]:
        """Give a document its right title (a PDF whose cover says it in pictures only); every
        citation shows the new one."""
        job = service.library.submit_retitle(doc_id, body.title)
        return {"document": (await asyncio.wrap_future(job.future)).to_dict()}

    @api.get("/api/documents/{doc_id}/file", dependencies=[Depends(reader)])
    def original(doc_id: str) -> FileResponse:
        """The file the document was read from, as indexed (410 when it changed or is gone since)."""
        document = _document(service, doc_id)
        path = _stored(document.source, doc_id)
        media = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(path, media_type=media, filename=path.name, content_disposition_type="inline")

    @api.get("/api/documents/{doc_id}/pages/{number}", dependencies=[Depends(reader)])
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

    @api.post("/api/reindex", dependencies=guarded)
    async def reindex(wait: bool = True) -> JSONResponse:
        """Rebuild the vectors and the lexical index (into a new collection, swapped in when
        complete: asking goes on meanwhile). ``wait=false``: answer 202 with the job at once."""
        job = service.library.submit_reindex()
        if not wait:
            return JSONResponse({"job": job.to_dict()}, status_code=202)
        report = await asyncio.wrap_future(job.future)
        return JSONResponse({"embedded": report.embedded, "job": job.to_dict()})

    @api.get("/api/jobs", dependencies=guarded)
    def jobs() -> list[dict[str, Any]]:
        """The library's writes: waiting, running and the last finished ones."""
        return [job.to_dict() for job in service.library.queue.jobs()]

    @api.get("/api/jobs/{job_id}", dependencies=guarded)
    def job(job_id: str) -> dict[str, Any]:
        found = service.library.queue.job(job_id)
        record = found.to_dict()
        if found.state == "done" and found.kind == "upload":
            record["files"] = [o.to_dict() for o in found.future.result()]
        return record

    @api.delete("/api/jobs/{job_id}", dependencies=guarded)
    def cancel(job_id: str) -> dict[str, Any]:
        """Cancel a waiting write, or stop the running one (its file being parsed is dropped)."""
        return service.library.cancel(job_id).to_dict()

    return api


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


def build_app(settings: Settings, assistant: Assistant | None = None) -> tuple[FastAPI, Service]:
    """The whole server: API routes, then the Gradio UI at ``/``."""
    check_access(settings)
    service = Service(settings, assistant)
    app = mount(create_api(service), service)
    return app, service


def serve(settings: Settings, corpus: Path | None = None) -> None:
    """Index ``corpus`` when the library is empty, then serve until interrupted."""
    check_access(settings)
    # the browser's uploads are spooled under the library's home, not the system's temp folder,
    # and what a killed server left there is swept (the UI deletes each file once it is indexed)
    spool = settings.home / "tmp" / "gradio"
    os.environ["GRADIO_TEMP_DIR"] = str(spool.resolve())
    sweep(spool)
    if corpus is not None:
        ensure_corpus(settings, corpus)
    app, service = build_app(settings)
    service.warm_up()
    print(f"智库 zhiku: http://{settings.host}:{settings.port}/  (API: /api/ask, 文档 docs: /api/docs)", flush=True)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        service.close()


def ensure_corpus(settings: Settings, corpus: Path) -> None:
    """The first start: index the bundled corpus when nothing is indexed yet."""
    index = open_index(settings)
    try:
        if index.documents() or not corpus.is_dir():
            return
        files, _, _ = collect_files([corpus])
        print(f"首次启动：正在为 {corpus}/ 建立索引（{len(files)} 个文件）… (first start: indexing the corpus)", flush=True)
        index.update(files, make_chunker(settings))
    finally:
        index.close()
