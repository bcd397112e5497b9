"""The Gradio app: 问答 (chat with clickable citations), 写作 (drafting), 资料库 (library).

Each ``[n]`` in an answer is a link to ``#zk-src-<turn>-<n>``; a small script in the page
head catches the click and shows that source in the panel beside the chat: the document's
title, section path and page, and its text around the quoted span, highlighted. The panel is
rendered with the answer, so a click needs no round trip to the server.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr
from fastapi import FastAPI

from answer.records import Answer, Citation
from answer.verify import MARKER, answer_sentences
from app.export import export
from app.library import safe_name
from app.service import Service
from app.services import COMPOSERS
from app.settings import Settings
from ingest.errors import ZhikuError

CONTEXT_CHARS = 160  # document text shown either side of a quote in the source panel
MAX_TURNS_KEPT = 20  # earlier answers whose sources stay in the panel (hidden until clicked)
EXPORTS_KEPT_SECONDS = 86400  # drafts exported for download are removed after a day

CSS = """
.zk-src { display: none; border-left: 3px solid #c0392b; padding: 4px 10px; margin: 6px 0; }
.zk-src.zk-active { display: block; }
.zk-src h4 { margin: 0 0 4px 0; font-size: 0.95em; }
.zk-src .zk-where { color: #666; font-size: 0.85em; }
.zk-src .zk-context { white-space: pre-wrap; line-height: 1.6; }
.zk-src mark { background: #ffe58f; padding: 0 1px; }
.zk-page { margin-top: 6px; }
.zk-page .zk-page-view { max-height: 75vh; overflow: auto; border: 1px solid #ddd; }
.zk-page img { display: block; width: 100%; cursor: zoom-in; }
.zk-page img.zk-zoom { width: 200%; max-width: none; cursor: zoom-out; }
a.zk-cite, a[href^="#zk-src-"] { text-decoration: none; font-weight: 600; color: #c0392b; cursor: pointer; }
.zk-closest li { margin-bottom: 4px; }
"""

# Catches citation clicks anywhere on the page (chat or drafts) and shows that source.
HEAD = """
<script>
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href^="#zk-src-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const id = link.getAttribute("href").slice(1);
  const group = id.startsWith("zk-src-d") ? "zk-draft-src" : "zk-chat-src";
  document.querySelectorAll("." + group).forEach(function (el) {
    el.classList.toggle("zk-active", el.id === id);
  });
  const target = document.getElementById(id);
  if (target) target.scrollIntoView({block: "nearest"});
}, true);
document.addEventListener("click", function (event) {
  const page = event.target.closest && event.target.closest(".zk-page img");
  if (page) page.classList.toggle("zk-zoom");  // the page image: click to zoom in and out
});
</script>
"""


# ---------------------------------------------------------------------------- rendering


_MARKDOWN = str.maketrans({c: f"&#{ord(c)};" for c in "[]()!*_`#~|\\"})


def _escape(text: str) -> str:
    """Document text for the chat: neither HTML nor Markdown in it takes effect (a document line
    「[通知](https://…)」 stays text, never a link in someone's answer). Quotes are no markup in
    text: escaped they showed as 「&#x27;」, the chat's renderer escaping the entity again."""
    return html.escape(text, quote=False).translate(_MARKDOWN)


def _cite_links(text: str, turn: str) -> str:
    """Escaped answer text with each [n] as a link to its source."""
    out, last = [], 0
    for match in MARKER.finditer(text):
        out.append(_escape(text[last : match.start()]))
        out.append(_links(match.group(0), turn))
        last = match.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def _links(marker: str, turn: str) -> str:
    numbers = re.findall(r"\d+", marker)
    return "".join(f'<a class="zk-cite" href="#zk-src-{turn}-{n}">[{n}]</a>' for n in numbers)


def answer_pieces(answer: Answer, turn: str) -> list[str]:
    """The answer as HTML, one piece per sentence (the chat streams them in)."""
    if answer.refused:
        closest = "".join(
            f'<li><a href="#zk-src-{turn}-{c.n}">[{c.n}]</a> 《{_escape(c.title)}》'
            f"{_escape(' › '.join(c.section_path))}</li>"
            for c in answer.closest
        )
        tail = f'<ul class="zk-closest">{closest}</ul>' if closest else ""
        return [_escape(answer.text), tail]
    sentences = answer_sentences(answer.text) or [answer.text]
    return [_cite_links(sentence, turn) for sentence in sentences]


def source_html(citation: Citation, text: str | None, turn: str, group: str, active: bool = False) -> str:
    """One source in the panel: where it is, and the text around the quote with the quote marked."""
    where = " › ".join(citation.section_path)
    page = f" · {citation.page_label}" if citation.page is not None else ""
    if text is not None and text[citation.start : citation.end] == citation.quote:
        before = text[max(0, citation.start - CONTEXT_CHARS) : citation.start]
        after = text[citation.end : citation.end + CONTEXT_CHARS]
        context = (
            ("…" if citation.start > CONTEXT_CHARS else "") + html.escape(before)
            + f"<mark>{html.escape(citation.quote)}</mark>"
            + html.escape(after) + ("…" if citation.end + CONTEXT_CHARS < len(text) else "")
        )
    else:
        context = f"<mark>{html.escape(citation.quote)}</mark>"
    classes = f"zk-src {group}" + (" zk-active" if active else "")
    return (
        f'<div class="{classes}" id="zk-src-{turn}-{citation.n}">'
        f"<h4>[{citation.n}] 《{html.escape(citation.title)}》</h4>"
        f'<div class="zk-where">{html.escape(where)}{page} · {html.escape(Path(citation.source).name)}</div>'
        f'<div class="zk-context">{context}</div>{page_view(citation)}</div>'
    )


def page_view(citation: Citation) -> str:
    """For a citation from a PDF: its page as printed with the quote marked (loaded when the
    source is shown; click to zoom) and a link that opens the original file at that page."""
    if citation.page is None or Path(citation.source).suffix.lower() != ".pdf":
        return ""
    base = f"/api/documents/{quote(citation.doc_id)}"
    image = f"{base}/pages/{citation.page}?start={citation.start}&amp;end={citation.end}"
    label = html.escape(citation.page_label)
    return (
        f'<details class="zk-page" open><summary>原页 page {label} · '
        f'<a href="{base}/file#page={citation.page}" target="_blank" rel="noopener">打开原文件 open the PDF</a></summary>'
        f'<div class="zk-page-view"><img loading="lazy" src="{image}" alt="{label}，引文已标出 (the quote marked)"></div>'
        "</details>"
    )


def sources_html(answer: Answer, texts: dict[str, str], turn: str, group: str) -> str:
    cited = answer.closest if answer.refused else answer.citations
    return "".join(source_html(c, texts.get(c.doc_id), turn, group, active=i == 0) for i, c in enumerate(cited))


HINT = '<p class="zk-hint">点击答案中的 [n] 查看出处 (click a citation to see its source)</p>'


# ---------------------------------------------------------------------------- the app


def _doc_choices(service: Service) -> list[tuple[str, str]]:
    return [(f"{row.title}（{row.file}）", row.doc_id) for row in service.library.documents()]


def _documents_table(service: Service) -> list[list[Any]]:
    return [
        [row.title, row.file, row.format, row.pages or "–", row.chunks, row.tables, "；".join(row.warnings), row.doc_id]
        for row in service.library.documents()
    ]


def _generators(service: Service) -> list[tuple[str, str]]:
    """The composers these settings offer (``app.services.COMPOSERS``), the default first if missing."""
    settings = service.settings
    available = [name for name, spec in COMPOSERS.items() if spec.available(settings)]
    default = service.assistant.default_generator
    if default not in available:
        available.insert(0, default)
    return [(COMPOSERS[name].label if name in COMPOSERS else name, name) for name in available]


def build_ui(service: Service) -> gr.Blocks:
    turns = itertools.count(1)
    drafts = itertools.count(1)
    exports = service.exports
    texts_of = service.assistant.index.docstore.text

    def texts_for(answer: Answer) -> dict[str, str]:
        cited = answer.closest if answer.refused else answer.citations
        return {d: t for d in {c.doc_id for c in cited} if (t := texts_of(d)) is not None}

    # Gradio's own copies of uploads are deleted after a day (checked hourly); ours are in uploads/
    with gr.Blocks(title="智库 zhiku", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        gr.Markdown("## 智库 zhiku · 职业院校政策与报告知识助手\n每句回答都标注出处；点击 [n] 查看原文。")
        with gr.Tab("问答 Chat", id="chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="问答", elem_id="zk-chat", height=460, buttons=["copy"],
                                     feedback_options=None)
                question = gr.Textbox(label="问题", placeholder="例如：2020年新生报到率是多少？", elem_id="zk-question",
                                      lines=1, max_lines=4, submit_btn="提问")
                with gr.Row():
                    generator = gr.Dropdown(_generators(service), value=service.assistant.default_generator,
                                            label="生成方式 generator", elem_id="zk-generator")
                    documents = gr.Dropdown(_doc_choices(service), multiselect=True, label="只依据这些文档（可选）",
                                            elem_id="zk-doc-filter")
            with gr.Column(scale=2):
                sources = gr.HTML(HINT, label="出处 sources", elem_id="zk-sources")

        with gr.Tab("写作 Drafting", id="draft"), gr.Row():
            with gr.Column(scale=1):
                names = list(service.assistant.drafter.templates)
                template = gr.Dropdown(names, value="案例" if "案例" in names else names[0], label="模板 template",
                                       elem_id="zk-template")
                topic = gr.Textbox(label="主题 topic", placeholder="例如：医学美容技术产业学院", elem_id="zk-topic")
                max_chars = gr.Slider(100, 2000, value=300, step=50, label="篇幅上限（字）", elem_id="zk-max-chars")
                draft_docs = gr.Dropdown(_doc_choices(service), multiselect=True, label="只依据这些文档（可选）")
                draft_button = gr.Button("起草 Draft", variant="primary", elem_id="zk-draft-button")
            with gr.Column(scale=2):
                draft_view = gr.HTML(label="草稿", elem_id="zk-draft")
                with gr.Row():
                    docx_file = gr.File(label="Word (DOCX)", elem_id="zk-draft-docx")
                    md_file = gr.File(label="Markdown", elem_id="zk-draft-md")
                draft_sources = gr.HTML(label="出处", elem_id="zk-draft-sources")

        with gr.Tab("资料库 Library", id="library"):
            upload = gr.File(label="上传文件（PDF、DOCX、TXT、MD、HTML）", file_count="multiple", elem_id="zk-upload",
                             file_types=[".pdf", ".docx", ".txt", ".md", ".markdown", ".html", ".htm"])
            upload_button = gr.Button("导入 Ingest", variant="primary", elem_id="zk-ingest")
            upload_result = gr.Markdown(elem_id="zk-upload-result")
            table = gr.Dataframe(
                _documents_table(service), headers=["标题", "文件", "格式", "页数", "片段", "表格", "警告", "doc_id"],
                interactive=False, elem_id="zk-documents", wrap=True,
            )
            with gr.Row():
                remove_choice = gr.Dropdown(_doc_choices(service), label="删除文档 remove", elem_id="zk-remove-choice")
                remove_button = gr.Button("删除 Remove", variant="stop", elem_id="zk-remove")
                reindex_button = gr.Button("重建索引 Re-index", elem_id="zk-reindex")
            with gr.Row():
                retitle_choice = gr.Dropdown(_doc_choices(service), label="修改标题 document to retitle",
                                             elem_id="zk-retitle-choice")
                new_title = gr.Textbox(label="新标题 new title", elem_id="zk-new-title", max_length=200)
                retitle_button = gr.Button("保存标题 Save title", elem_id="zk-retitle")

        # ------------------------------------------------------------------ chat

        def respond(
            text: str, history: list[dict[str, Any]], name: str, doc_ids: list[str] | None, earlier: list[str]
        ) -> Iterator[tuple[Any, ...]]:
            text = (text or "").strip()
            if not text:
                yield history, "", gr.update(), earlier
                return
            waiting = "正在检索资料…" if name in ("extractive", "quote") else "正在检索资料并由模型作答（本地模型约需 10–30 秒）…"
            history = [*history, {"role": "user", "content": text}, {"role": "assistant", "content": waiting}]
            yield history, "", gr.update(), earlier
            turn = str(next(turns))
            asked = [m["content"] for m in history[:-2] if m.get("role") == "user" and isinstance(m.get("content"), str)]
            try:
                answer = Answer.from_dict(service.ask(text, name, doc_ids, history=asked))
            except Exception as error:  # shown to the user, never a broken chat
                history[-1] = {"role": "assistant", "content": f"出错了：{_escape(str(error))}"}
                yield history, "", gr.update(), earlier
                return
            current = sources_html(answer, texts_for(answer), turn, "zk-chat-src")
            earlier = [*earlier, current.replace(" zk-active", "")][-MAX_TURNS_KEPT:]
            panel = (current + "".join(reversed(earlier[:-1]))) or HINT
            shown = ""
            for piece in answer_pieces(answer, turn):
                shown += piece
                history[-1] = {"role": "assistant", "content": shown}
                yield history, "", panel, earlier
                time.sleep(0.02)
            footer = f'<div class="zk-meta">（{html.escape(answer.generator)}，{answer.seconds:.2f} 秒）</div>'
            history[-1] = {"role": "assistant", "content": shown + footer}
            yield history, "", panel, earlier

        earlier_sources = gr.State([])  # this session's earlier source panels, so old citations still open
        question.submit(respond, [question, chatbot, generator, documents, earlier_sources],
                        [chatbot, question, sources, earlier_sources], concurrency_limit=4, concurrency_id="answer")

        # ------------------------------------------------------------------ drafting

        def write_draft(name: str, subject: str, limit: float, doc_ids: list[str] | None) -> tuple[Any, ...]:
            if not (subject or "").strip():
                raise gr.Error("请填写写作主题 (please give a topic)")
            try:
                answer = Answer.from_dict(service.draft(subject, name, int(limit), doc_ids))
            except Exception as error:
                raise gr.Error(str(error)) from error
            turn = f"d{next(drafts)}"
            body = "".join(f"<p>{_cite_links(p, turn)}</p>" for p in answer.text.split("\n") if p.strip())
            panel = sources_html(answer, texts_for(answer), turn, "zk-draft-src")
            title = f"{subject.strip()}（{name}）"
            _prune(exports)
            folder = Path(tempfile.mkdtemp(prefix="draft-", dir=_ensure(exports)))
            stem = safe_name(f"{title}.docx").removesuffix(".docx")
            docx = export(answer, folder / f"{stem}.docx", title=title)
            markdown = export(answer, folder / f"{stem}.md", title=title)
            return body, str(docx), str(markdown), panel

        draft_button.click(write_draft, [template, topic, max_chars, draft_docs], [draft_view, docx_file, md_file,
                           draft_sources], concurrency_limit=2, concurrency_id="draft")

        # ------------------------------------------------------------------ library

        def refreshed() -> tuple[Any, ...]:
            choices = _doc_choices(service)
            return (_documents_table(service), gr.update(choices=choices), gr.update(choices=choices),
                    gr.update(choices=choices, value=None), gr.update(choices=choices, value=None))

        def ingest(files: Sequence[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            if not files:
                raise gr.Error("请先选择文件 (choose files first)")
            total = len(files)
            done = 0
            progress((0, total), desc="导入中 ingesting", unit="file")

            def step(n: int) -> None:
                nonlocal done
                done += n
                progress((done, total), desc="导入中 ingesting", unit="file")

            def page(number: int, pages: int, ocr: bool) -> None:
                # a long PDF, and above all a scan read by OCR (seconds a page), shows its pages
                what = "OCR 识别" if ocr else "读取"
                progress((number, pages), desc=f"第 {done + 1}/{total} 个文件：{what}第 {number}/{pages} 页", unit="page")

            # only files Gradio itself received: a client may name any path in the request
            received = [Path(f) for f in files if _is_upload(Path(f))]
            if len(received) != len(files):
                raise gr.Error("只能导入上传的文件 (only uploaded files can be ingested)")
            try:
                outcomes = service.library.add([(f.name, f) for f in received], on_file=step, on_page=page)
            finally:
                for spooled in received:  # the library keeps its own copy: Gradio's goes now
                    spooled.unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        spooled.parent.rmdir()
            lines = [("✓ " if o.ok else "✗ ") + f"**{html.escape(o.name)}**：{html.escape(o.message)}"
                     + ("".join(f"\n  - ⚠ {html.escape(w)}" for w in o.warnings)) for o in outcomes]
            return ("\n".join(f"- {line}" for line in lines), None, *refreshed())

        library_outputs = [table, documents, draft_docs, remove_choice, retitle_choice]
        upload_button.click(ingest, [upload], [upload_result, upload, *library_outputs],
                            concurrency_limit=1, concurrency_id="library", api_visibility="private")

        def remove(doc_id: str | None) -> tuple[Any, ...]:
            if not doc_id:
                raise gr.Error("请先选择要删除的文档 (choose a document)")
            row = service.library.remove(doc_id)
            return (f"已删除 removed 《{html.escape(row.title)}》", *refreshed())

        remove_button.click(remove, [remove_choice], [upload_result, *library_outputs],
                            concurrency_limit=1, concurrency_id="library", api_visibility="private")

        def reindex(progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            total = sum(row.chunks for row in service.library.documents())
            done = 0

            def step(n: int) -> None:
                nonlocal done
                done += n
                progress((done, total), desc="重建索引 re-indexing", unit="chunk")

            report = service.library.reindex(on_embedded=step)
            return (f"已重建索引：{report.embedded} 个片段 (re-indexed {report.embedded} chunks)", *refreshed())

        def retitle(doc_id: str | None, title: str | None) -> tuple[Any, ...]:
            if not doc_id:
                raise gr.Error("请先选择文档 (choose a document)")
            try:
                row = service.library.retitle(doc_id, title or "")
            except ZhikuError as error:
                raise gr.Error(str(error)) from error
            return (f"已修改标题 retitled 《{html.escape(row.title)}》", "", *refreshed())

        retitle_button.click(retitle, [retitle_choice, new_title], [upload_result, new_title, *library_outputs],
                             concurrency_limit=1, concurrency_id="library", api_visibility="private")

        reindex_button.click(reindex, None, [upload_result, *library_outputs], concurrency_limit=1,
                             concurrency_id="library", api_visibility="private")
        blocks.load(refreshed, None, library_outputs)
    return blocks


def _is_upload(path: Path) -> bool:
    """Whether ``path`` lies in Gradio's upload folder (where the files a browser sent are kept)."""
    from gradio.utils import get_upload_folder

    try:
        return path.resolve().is_relative_to(Path(get_upload_folder()).resolve())
    except OSError:
        return False


def _prune(exports: Path) -> None:
    """Remove exported drafts older than ``EXPORTS_KEPT_SECONDS``."""
    cutoff = time.time() - EXPORTS_KEPT_SECONDS
    for folder in exports.glob("draft-*") if exports.is_dir() else ():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(settings: Settings) -> list[tuple[str, str]] | Callable[[str, str], bool] | None:
    """Who may use the app. Its Gradio routes run ask, upload and remove like the API, so they
    follow the same rule: the ``users`` logins; with no users but an ``api_token``, a login whose
    password is the token (any user name); with neither (loopback only), none."""
    logins = settings.user_logins()
    if logins:
        return logins
    token = settings.api_token
    if token:
        return lambda _user, password: secrets.compare_digest(password.encode(), token.encode())
    return None


def _login_message(settings: Settings) -> str:
    if not settings.user_logins() and settings.api_token:
        return "智库 zhiku：请登录，用户名任意，密码为 API 令牌 (log in: any user name, the API token as password)"
    return "智库 zhiku：请登录 (please log in)"


def mount(api: FastAPI, service: Service) -> FastAPI:
    """Add the Gradio UI at ``/`` of the API's server, with the queue and limits set."""
    settings = service.settings
    blocks = build_ui(service)
    # Answers are fast and read-only: a few at once. Library writes run one at a time (their own
    # concurrency id), so an upload never blocks answering. The queue bounds waiting users.
    blocks.queue(default_concurrency_limit=2, max_size=64)
    theme = gr.themes.Default(font=["system-ui", "PingFang SC", "Microsoft YaHei", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])  # no web fonts: works offline
    mounted = gr.mount_gradio_app(
        api, blocks, path="", auth=_login(settings), auth_message=_login_message(settings),
        max_file_size=f"{int(settings.max_upload_mb)}mb", allowed_paths=[str(_ensure(service.exports))],
        footer_links=[], ssr_mode=False, theme=theme, css=CSS, head=HEAD, show_error=True,
    )
    # Gradio checks that a file input names a file a browser uploaded (not any path on the server)
    # only for apps it considers launched; a mounted app is never marked so. Mark it.
    blocks.has_launched = True
    return mounted
