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
from gradio.components.chatbot import ExampleMessage

from answer.records import Answer, Citation
from answer.verify import MARKER, answer_sentences
from app.export import export
from app.jobs import Job, UnknownJobError
from app.library import safe_name
from app.service import ApiError, Service
from app.services import COMPOSERS
from app.settings import Settings
from ingest.errors import ZhikuError

CONTEXT_CHARS = 160  # document text shown either side of a quote in the source panel
MAX_TURNS_KEPT = 20  # earlier answers whose sources stay in the panel (hidden until clicked)
EXPORTS_KEPT_SECONDS = 86400  # drafts exported for download are removed after a day

CSS = """
footer { display: none !important; }
.progress-text, .eta-bar { display: none !important; }
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
.zk-meta { color: #888; font-size: 0.8em; margin-top: 4px; }
.zk-meta summary { cursor: pointer; list-style: none; }
#zk-chat { min-height: 320px; }
.zk-progress .zk-bar { height: 8px; background: #eee; border-radius: 4px; overflow: hidden; margin: 4px 0; }
.zk-progress .zk-bar span { display: block; height: 100%; background: #c0392b; transition: width 0.4s; }
.zk-progress .zk-line { font-size: 0.9em; color: #444; }
#zk-sources { scroll-margin-top: 8px; }
@media (max-width: 640px) {
  .tab-wrapper .tab-container, [role="tablist"] { flex-wrap: wrap; }
  #zk-sources { border-top: 2px solid #c0392b; padding-top: 6px; }
}
"""

# Catches citation clicks anywhere on the page (chat or drafts) and shows that source; on a narrow
# screen the panel lies below the answer, so it is brought into view (and a link leads back).
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
  if (!target) return;
  const narrow = window.matchMedia("(max-width: 800px)").matches;
  target.scrollIntoView({block: narrow ? "start" : "nearest"});
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
        f'<details class="zk-page" open><summary>原页 {label} · '
        f'<a href="{base}/file#page={citation.page}" target="_blank" rel="noopener">打开原文件</a></summary>'
        f'<div class="zk-page-view"><img loading="lazy" src="{image}" alt="{label}，引文已标出"></div>'
        "</details>"
    )


def sources_html(answer: Answer, texts: dict[str, str], turn: str, group: str) -> str:
    cited = answer.closest if answer.refused else answer.citations
    return "".join(source_html(c, texts.get(c.doc_id), turn, group, active=i == 0) for i, c in enumerate(cited))


HINT = '<p class="zk-hint">点击答案中的 [n] 查看出处</p>'


# ---------------------------------------------------------------------------- the app

ALL = "__all__"  # the 知识库 choice 「全部资料」: the whole library
NO_BASE = "__none__"  # an upload that joins no knowledge base
POLL_SECONDS = 1.0  # how often a page asks how its library jobs are doing
MAX_EXAMPLES = 4
QUESTION_TEMPLATES = ("《{}》的主要内容是什么？", "《{}》提出了哪些主要措施？", "《{}》有哪些关键数据？", "《{}》的目标是什么？")
TABLE_HEADERS = ["标题", "文件", "知识库", "格式", "页数", "片段", "表格", "警告", "doc_id"]
FINISHED = ("done", "failed", "cancelled")


def example_questions(titles: Sequence[str], limit: int = MAX_EXAMPLES) -> list[str]:
    """Short questions an empty chat offers, one per document title (the first ``limit``), each
    asked a different way, so a new user sees what the library can answer."""
    return [QUESTION_TEMPLATES[i % len(QUESTION_TEMPLATES)].format(title) for i, title in enumerate(titles[:limit])]


def progress_html(jobs: Sequence[Job]) -> str:
    """The library's running and waiting jobs: a bar of chunks embedded for the first that has
    chunks to embed, and one line each saying where it is (``WriteProgress.describe``)."""
    if not jobs:
        return ""
    bar = ""
    lines = []
    for job in jobs:
        progress = job.progress
        if not bar and progress.chunks_total:
            share = 100 * progress.chunks_done / progress.chunks_total
            bar = f'<div class="zk-bar"><span style="width:{share:.1f}%"></span></div>'
        if job.state == "queued":
            where = "排队中，等待前面的写入完成"
        elif job.kind in ("upload", "ingest", "reindex"):
            where = progress.describe()
        else:
            where = "进行中"
        lines.append(f'<div class="zk-line">{html.escape(_KINDS.get(job.kind, job.kind))} {html.escape(job.label)}：'
                     f"{html.escape(where)}</div>")
    return f'<div class="zk-progress">{bar}{"".join(lines)}</div>'


_KINDS = {"upload": "导入", "ingest": "", "reindex": "重建索引", "remove": "删除", "retitle": "修改标题", "delete-base": ""}


def job_outcome(job: Job) -> str:
    """What a finished job did, as Markdown for the library's result line; one line per file
    for an upload, the server's advice for a file it cannot read among them."""
    if job.state == "cancelled":
        return f"已取消：{_md(job.label)}"
    error = job.future.exception() if job.future.done() else None
    if job.state == "failed" or error is not None:
        return f"✗ {_md(job.label)}：{_md(str(error or job.error or '失败'))}"
    result = job.future.result()
    if job.kind == "upload":
        lines = []
        for outcome in result:
            mark = "✓" if outcome.ok else "✗"
            lines.append(f"- {mark} **{_md(outcome.name)}**：{_md(outcome.message)}"
                         + "".join(f"\n  - ⚠ {_md(w)}" for w in outcome.warnings))
        return "\n".join(lines)
    if job.kind == "reindex":
        return f"已重建索引：{result.embedded} 个片段"
    if job.kind == "ingest":
        return f"{_md(job.label)}：完成，{len(result.files)} 个文件，{result.embedded} 个片段"
    if job.kind == "remove":
        return f"已删除《{_md(result.title)}》"
    if job.kind == "retitle":
        return f"已修改标题：《{_md(result.title)}》"
    if job.kind == "delete-base":
        removed = f"，并删除了 {len(result)} 个只属于它的文档" if result else ""
        return f"已{_md(job.label)}{removed}"
    return f"已完成：{_md(job.label)}"


def _md(text: str) -> str:
    """Text from a file name or a document shown as itself in Markdown."""
    return html.escape(text, quote=False).translate(_MARKDOWN)


def _doc_choices(service: Service) -> list[tuple[str, str]]:
    return [(f"{row.title}（{row.file}）", row.doc_id) for row in service.library.documents()]


def _base_choices(service: Service, first: tuple[str, str] | None = ("全部资料", ALL)) -> list[tuple[str, str]]:
    bases = [(f"{b.name}（{b.documents} 篇）", b.base_id) for b in service.library.bases()]
    return [first, *bases] if first else bases


def _documents_table(service: Service, base: str | None = None) -> list[list[Any]]:
    return [
        [row.title, row.file, "、".join(row.bases) or "–", row.format, row.pages or "–", row.chunks, row.tables,
         "；".join(row.warnings), row.doc_id]
        for row in service.library.documents(None if base in (None, ALL) else base)
    ]


def _generators(service: Service) -> list[tuple[str, str]]:
    """The composers these settings offer (``app.services.COMPOSERS``), the default first if missing."""
    settings = service.settings
    available = [name for name, spec in COMPOSERS.items() if spec.available(settings)]
    default = service.assistant.default_generator
    if default not in available:
        available.insert(0, default)
    return [(COMPOSERS[name].label if name in COMPOSERS else name, name) for name in available]


def _warn(message: str) -> None:
    """A toast that leaves every output as it was (``gr.Error`` would mark them all 「错误」)."""
    gr.Warning(message, title="提示")


def _scope(base: str | None) -> str | None:
    return None if base in (None, "", ALL, NO_BASE) else base


def build_ui(service: Service) -> gr.Blocks:
    turns = itertools.count(1)
    drafts = itertools.count(1)
    exports = service.exports
    texts_of = service.assistant.index.docstore.text
    library = service.library

    def texts_for(answer: Answer) -> dict[str, str]:
        cited = answer.closest if answer.refused else answer.citations
        return {d: t for d in {c.doc_id for c in cited} if (t := texts_of(d)) is not None}

    def examples(base: str | None) -> list[ExampleMessage]:
        try:
            titles = [row.title for row in library.documents(_scope(base))]
        except ZhikuError:
            titles = []
        return [ExampleMessage(text=q) for q in example_questions(titles)]

    base_choices = _base_choices(service)
    # Gradio's own copies of uploads are deleted after a day (checked hourly); ours are in uploads/
    with gr.Blocks(title="智库 zhiku", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        gr.Markdown("## 智库 · 职业院校政策与报告知识助手\n每句回答都标注出处；点击 [n] 查看原文。")
        # the library's writes in progress, seen from every tab (the first start's corpus indexing above all)
        progress = gr.HTML("", elem_id="zk-progress")
        with gr.Tab("问答", id="chat"), gr.Row():
            with gr.Column(scale=3, min_width=300):
                chatbot = gr.Chatbot(label="问答", elem_id="zk-chat", height="max(320px, calc(100vh - 320px))",
                                     buttons=["copy"], feedback_options=None, examples=examples(None))
                question = gr.Textbox(label="问题", placeholder="例如：2020年新生报到率是多少？", elem_id="zk-question",
                                      lines=1, max_lines=4, submit_btn="提问")
                with gr.Row():
                    chat_base = gr.Dropdown(base_choices, value=ALL, label="知识库", elem_id="zk-chat-base")
                    generator = gr.Dropdown(_generators(service), value=service.assistant.default_generator,
                                            label="生成方式", elem_id="zk-generator")
                    documents = gr.Dropdown(_doc_choices(service), multiselect=True, label="只依据这些文档（可选）",
                                            elem_id="zk-doc-filter")
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(HINT, label="出处", elem_id="zk-sources")

        with gr.Tab("写作", id="draft"), gr.Row():
            with gr.Column(scale=1, min_width=300):
                names = list(service.assistant.drafter.templates)
                template = gr.Dropdown(names, value="案例" if "案例" in names else names[0], label="模板",
                                       elem_id="zk-template")
                topic = gr.Textbox(label="主题", placeholder="例如：医学美容技术产业学院", elem_id="zk-topic")
                max_chars = gr.Slider(100, 2000, value=300, step=50, label="篇幅上限（字）", elem_id="zk-max-chars")
                draft_base = gr.Dropdown(base_choices, value=ALL, label="知识库", elem_id="zk-draft-base")
                draft_docs = gr.Dropdown(_doc_choices(service), multiselect=True, label="只依据这些文档（可选）")
                draft_button = gr.Button("起草", variant="primary", elem_id="zk-draft-button")
            with gr.Column(scale=2, min_width=300):
                draft_view = gr.HTML(label="草稿", elem_id="zk-draft")
                with gr.Row():
                    docx_file = gr.File(label="Word 文档（.docx）", elem_id="zk-draft-docx")
                    md_file = gr.File(label="Markdown 文本（.md）", elem_id="zk-draft-md")
                draft_sources = gr.HTML(label="出处", elem_id="zk-draft-sources")

        with gr.Tab("资料库", id="library"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=300):
                    # no file_types: Gradio would drop a .doc with an English toast; the server
                    # says per file what to do with it instead
                    upload = gr.File(label="上传文件（PDF、DOCX、TXT、MD、HTML；.doc 等请先另存为 .docx）",
                                     file_count="multiple", elem_id="zk-upload")
                    with gr.Row():
                        upload_base = gr.Dropdown(_base_choices(service, ("不放入知识库", NO_BASE)), value=NO_BASE,
                                                  label="导入到知识库", elem_id="zk-upload-base")
                        upload_button = gr.Button("导入", variant="primary", elem_id="zk-ingest")
                    upload_result = gr.Markdown(elem_id="zk-upload-result")
                with gr.Column(scale=2, min_width=300), gr.Accordion("知识库管理", open=True, elem_id="zk-bases"):
                    manage_base = gr.Dropdown(_base_choices(service, None), value=None, label="知识库",
                                              elem_id="zk-manage-base")
                    base_name = gr.Textbox(label="名称", placeholder="例如：政策法规", elem_id="zk-base-name", max_length=40)
                    base_description = gr.Textbox(label="说明（可选）", elem_id="zk-base-description", max_length=200)
                    with gr.Row():
                        create_button = gr.Button("新建", variant="primary", elem_id="zk-base-create", min_width=60)
                        rename_button = gr.Button("保存名称", elem_id="zk-base-rename", min_width=60)
                        delete_base_button = gr.Button("删除知识库", variant="stop", elem_id="zk-base-delete",
                                                       min_width=60)
                    with gr.Group(visible=False, elem_id="zk-base-confirm") as confirm_group:
                        confirm_text = gr.Markdown()
                        with_documents = gr.Checkbox(False, label="同时删除只属于它的文档", elem_id="zk-base-with-docs")
                        with gr.Row():
                            confirm_delete = gr.Button("确认删除", variant="stop", elem_id="zk-base-confirm-delete")
                            cancel_delete = gr.Button("取消", elem_id="zk-base-cancel")
            with gr.Row():
                lib_filter = gr.Dropdown(base_choices, value=ALL, label="按知识库筛选", elem_id="zk-lib-filter",
                                         scale=1)
                reindex_button = gr.Button("重建索引", elem_id="zk-reindex", scale=0, min_width=120)
            table = gr.Dataframe(
                _documents_table(service), headers=TABLE_HEADERS, interactive=False, elem_id="zk-documents", wrap=True,
            )
            gr.Markdown("点击表格中的一行选中文档，再删除、改标题或加入知识库。", elem_classes="zk-tip")
            with gr.Row():
                doc_choice = gr.Dropdown(_doc_choices(service), value=None, label="所选文档", elem_id="zk-doc-choice", scale=2)
                remove_button = gr.Button("删除文档", variant="stop", elem_id="zk-remove", scale=0, min_width=120)
            with gr.Row():
                new_title = gr.Textbox(label="新标题", elem_id="zk-new-title", max_length=200, scale=2)
                retitle_button = gr.Button("保存标题", elem_id="zk-retitle", scale=0, min_width=120)
            with gr.Row():
                member_base = gr.Dropdown(_base_choices(service, None), value=None, label="知识库",
                                          elem_id="zk-member-base", scale=2)
                file_button = gr.Button("加入知识库", elem_id="zk-file", scale=0, min_width=120)
                unfile_button = gr.Button("移出知识库", elem_id="zk-unfile", scale=0, min_width=120)
            confirmed = gr.Checkbox(False, visible=False)  # what a confirm() dialog answered
            jobs_state = gr.State([])  # this page's library jobs still running: their ids
            timer = gr.Timer(POLL_SECONDS, active=False)

        # ------------------------------------------------------------------ chat

        def respond(
            text: str, history: list[dict[str, Any]], name: str, doc_ids: list[str] | None, base: str | None,
            earlier: list[str],
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
                answer = Answer.from_dict(service.ask(text, name, doc_ids, history=asked, base=_scope(base)))
            except (ApiError, ZhikuError) as error:  # a message for the user: an empty knowledge base
                history[-1] = {"role": "assistant", "content": _escape(str(error))}
                yield history, "", gr.update(), earlier
                return
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
            label = COMPOSERS[answer.generator].label if answer.generator in COMPOSERS else answer.generator
            meta = (f'<details class="zk-meta"><summary>···</summary>{html.escape(label)} · '
                    f"{answer.seconds:.1f} 秒</details>")
            history[-1] = {"role": "assistant", "content": shown + meta}
            yield history, "", panel, earlier

        earlier_sources = gr.State([])  # this session's earlier source panels, so old citations still open
        chat_inputs = [question, chatbot, generator, documents, chat_base, earlier_sources]
        chat_outputs = [chatbot, question, sources, earlier_sources]
        question.submit(respond, chat_inputs, chat_outputs, concurrency_limit=4, concurrency_id="answer",
                        show_progress="minimal")

        def pick_example(chosen: gr.SelectData) -> str:
            value = chosen.value
            return str(value.get("text", "")) if isinstance(value, dict) else str(value)

        chatbot.example_select(pick_example, None, question, show_progress="hidden").then(
            respond, chat_inputs, chat_outputs, concurrency_limit=4, concurrency_id="answer", show_progress="minimal"
        )
        chat_base.change(lambda base: gr.update(examples=examples(base)), [chat_base], [chatbot],
                         show_progress="hidden")

        # ------------------------------------------------------------------ drafting

        def write_draft(
            name: str, subject: str, limit: float, doc_ids: list[str] | None, base: str | None
        ) -> tuple[Any, ...]:
            unchanged = (gr.skip(),) * 4
            if not (subject or "").strip():
                _warn("请填写写作主题")
                return unchanged
            try:
                answer = Answer.from_dict(service.draft(subject, name, int(limit), doc_ids, base=_scope(base)))
            except (ApiError, ZhikuError) as error:
                _warn(str(error))
                return unchanged
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

        draft_button.click(write_draft, [template, topic, max_chars, draft_docs, draft_base],
                           [draft_view, docx_file, md_file, draft_sources], concurrency_limit=2,
                           concurrency_id="draft")

        # ------------------------------------------------------------------ library
        # Writes are submitted as jobs and return at once; the timer polls this page's jobs, so
        # the table stays usable while a file is read and embedded (no progress overlay on it).

        refresh_inputs = [lib_filter, chat_base, draft_base, upload_base, manage_base, member_base, doc_choice]
        library_outputs = [table, documents, draft_docs, lib_filter, chat_base, draft_base, upload_base, manage_base,
                           member_base, doc_choice]
        quiet: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "library", "api_visibility": "private",
                                 "show_progress": "hidden"}

        def refreshed(
            shown: str | None, chat: str | None, draft: str | None, into: str | None, managed: str | None,
            member: str | None, chosen: str | None,
        ) -> tuple[Any, ...]:
            """The table and every document and knowledge base choice, as the library is now; a
            choice whose base or document is gone falls back to its default."""
            choices = _doc_choices(service)
            doc_ids = {value for _, value in choices}
            with_all = _base_choices(service)
            base_ids = {value for _, value in with_all}
            bases = with_all[1:]

            def keep(value: str | None, default: str | None) -> str | None:
                return value if value in base_ids or value in (ALL, NO_BASE) else default

            shown = keep(shown, ALL)
            return (
                _documents_table(service, shown),
                gr.update(choices=choices), gr.update(choices=choices),
                gr.update(choices=with_all, value=shown),
                gr.update(choices=with_all, value=keep(chat, ALL)),
                gr.update(choices=with_all, value=keep(draft, ALL)),
                gr.update(choices=[("不放入知识库", NO_BASE), *bases], value=keep(into, NO_BASE)),
                gr.update(choices=bases, value=keep(managed, None)),
                gr.update(choices=bases, value=keep(member, None)),
                gr.update(choices=choices, value=chosen if chosen in doc_ids else None),
            )

        def started(jobs: list[str], job: Job, message: str) -> tuple[Any, ...]:
            """A job submitted: the progress line, the result line, the jobs, the timer on."""
            running = [*jobs, job.job_id]
            return progress_html(_jobs(running)), message, running, gr.Timer(active=True)

        def _jobs(ids: Sequence[str]) -> list[Job]:
            found = []
            for job_id in ids:
                with contextlib.suppress(UnknownJobError):
                    found.append(library.queue.job(job_id))
            return found

        def poll(jobs: list[str], *current: Any) -> tuple[Any, ...]:
            """Where this page's jobs are; when some finish, what they did, and the library as now."""
            found = _jobs(jobs)
            finished = [job for job in found if job.state in FINISHED]
            running = [job for job in found if job.state not in FINISHED]
            ids = [job.job_id for job in running]
            timer_update = gr.Timer(active=bool(running))
            if not finished and len(found) == len(jobs):
                return (progress_html(running), gr.skip(), ids, timer_update, *(gr.skip(),) * len(library_outputs))
            message = "\n\n".join(job_outcome(job) for job in finished) if finished else gr.skip()
            return (progress_html(running), message, ids, timer_update, *refreshed(*current))

        poll_outputs = [progress, upload_result, jobs_state, timer, *library_outputs]
        timer.tick(poll, [jobs_state, *refresh_inputs], poll_outputs, concurrency_limit=None,
                   api_visibility="private", show_progress="hidden")
        job_outputs = [progress, upload_result, jobs_state, timer]
        nothing = (gr.skip(),) * len(job_outputs)

        def ingest(files: Sequence[str] | None, into: str | None, jobs: list[str]) -> tuple[Any, ...]:
            if not files:
                _warn("请先选择要导入的文件")
                return (*nothing, gr.skip())
            # only files Gradio itself received: a client may name any path in the request
            received = [Path(f) for f in files if _is_upload(Path(f))]
            if len(received) != len(files):
                _warn("只能导入上传的文件")
                return (*nothing, gr.skip())
            try:
                job = library.submit_add([(f.name, f) for f in received], base=_scope(into))
            except ZhikuError as error:
                _warn(str(error))
                return (*nothing, gr.skip())
            finally:
                for spooled in received:  # the library keeps its own copy: Gradio's goes now
                    spooled.unlink(missing_ok=True)
                    with contextlib.suppress(OSError):
                        spooled.parent.rmdir()
            return (*started(jobs, job, f"正在导入 {len(received)} 个文件…"), None)

        upload_button.click(ingest, [upload, upload_base, jobs_state], [*job_outputs, upload], **quiet)

        def submit(make: Callable[[], Job], jobs: list[str], message: str) -> tuple[Any, ...]:
            try:
                job = make()
            except ZhikuError as error:
                _warn(str(error))
                return nothing
            return started(jobs, job, message)

        def remove(doc_id: str | None, yes: bool, jobs: list[str]) -> tuple[Any, ...]:
            if not doc_id:
                _warn("请先在表格中点选要删除的文档")
                return nothing
            if not yes:
                return nothing
            return submit(lambda: library.submit_remove(doc_id), jobs, "正在删除…")

        remove_button.click(
            remove, [doc_choice, confirmed, jobs_state], job_outputs, **quiet,
            js="(d, yes, jobs) => [d, d ? confirm('确认删除所选文档？删除后不能恢复。') : false, jobs]",
        )

        def reindex(yes: bool, jobs: list[str]) -> tuple[Any, ...]:
            if not yes:
                return nothing
            return submit(library.submit_reindex, jobs, "正在重建索引…")

        reindex_button.click(reindex, [confirmed, jobs_state], job_outputs, **quiet,
                             js="(yes, jobs) => [confirm('确认重建全部索引？文档较多时需要几分钟。'), jobs]")

        def retitle(doc_id: str | None, title: str | None, jobs: list[str]) -> tuple[Any, ...]:
            if not doc_id:
                _warn("请先在表格中点选文档")
                return (*nothing, gr.skip())
            if not (title or "").strip():
                _warn("请填写新标题")
                return (*nothing, gr.skip())
            return (*submit(lambda: library.submit_retitle(doc_id, title or ""), jobs, "正在修改标题…"), "")

        retitle_button.click(retitle, [doc_choice, new_title, jobs_state], [*job_outputs, new_title], **quiet)

        def select_row(rows: Any, chosen: gr.SelectData) -> tuple[Any, Any]:
            row = chosen.row_value
            if not row:
                return gr.skip(), gr.skip()
            return gr.update(value=row[-1]), row[0]

        table.select(select_row, [table], [doc_choice, new_title], show_progress="hidden", api_visibility="private")
        lib_filter.change(lambda base: _documents_table(service, base), [lib_filter], [table], show_progress="hidden",
                          api_visibility="private")

        # knowledge bases: names and members are quick docstore writes, done here and now

        def membership(add: bool) -> Callable[..., tuple[Any, ...]]:
            def change(doc_id: str | None, base: str | None, *current: Any) -> tuple[Any, ...]:
                unchanged = (gr.skip(), *(gr.skip(),) * len(library_outputs))
                if not doc_id:
                    _warn("请先在表格中点选文档")
                    return unchanged
                if not base:
                    _warn("请先选择知识库")
                    return unchanged
                try:
                    changed = library.file_documents(base, **{"add" if add else "remove": [doc_id]})
                except ZhikuError as error:
                    _warn(str(error))
                    return unchanged
                verb = "已加入" if add else "已移出"
                return (f"{verb}知识库「{_md(changed.name)}」", *refreshed(*current))

            return change

        file_button.click(membership(True), [doc_choice, member_base, *refresh_inputs],
                          [upload_result, *library_outputs], **quiet)
        unfile_button.click(membership(False), [doc_choice, member_base, *refresh_inputs],
                            [upload_result, *library_outputs], **quiet)

        def pick_base(ref: str | None) -> tuple[Any, ...]:
            if not ref:
                return "", "", gr.Group(visible=False)
            try:
                base = library.base(ref)
            except ZhikuError:
                return gr.skip(), gr.skip(), gr.Group(visible=False)
            return base.name, base.description, gr.Group(visible=False)

        manage_base.change(pick_base, [manage_base], [base_name, base_description, confirm_group],
                           show_progress="hidden", api_visibility="private")

        def create_base(name: str | None, description: str | None, *current: Any) -> tuple[Any, ...]:
            try:
                base = library.create_base(name or "", description or "")
            except ZhikuError as error:
                _warn(str(error))
                return (gr.skip(),) * (1 + len(library_outputs))
            values = list(current)
            values[refresh_inputs.index(manage_base)] = base.base_id
            values[refresh_inputs.index(upload_base)] = base.base_id  # the next upload goes into it
            return (f"已新建知识库「{_md(base.name)}」", *refreshed(*values))

        create_button.click(create_base, [base_name, base_description, *refresh_inputs],
                            [upload_result, *library_outputs], **quiet)

        def rename_base(ref: str | None, name: str | None, description: str | None, *current: Any) -> tuple[Any, ...]:
            if not ref:
                _warn("请先选择要修改的知识库")
                return (gr.skip(),) * (1 + len(library_outputs))
            try:
                base = library.edit_base(ref, name=name or "", description=description or "")
            except ZhikuError as error:
                _warn(str(error))
                return (gr.skip(),) * (1 + len(library_outputs))
            return (f"已保存知识库「{_md(base.name)}」", *refreshed(*current))

        rename_button.click(rename_base, [manage_base, base_name, base_description, *refresh_inputs],
                            [upload_result, *library_outputs], **quiet)

        def ask_delete(ref: str | None) -> tuple[Any, ...]:
            if not ref:
                _warn("请先选择要删除的知识库")
                return gr.skip(), gr.skip()
            try:
                base = library.base(ref)
            except ZhikuError as error:
                _warn(str(error))
                return gr.skip(), gr.skip()
            return (gr.Group(visible=True),
                    f"确认删除知识库「{_md(base.name)}」（{base.documents} 篇文档）？文档本身默认保留。")

        delete_base_button.click(ask_delete, [manage_base], [confirm_group, confirm_text], **quiet)
        cancel_delete.click(lambda: gr.Group(visible=False), None, [confirm_group], show_progress="hidden")

        def delete_base(ref: str | None, documents_too: bool, jobs: list[str]) -> tuple[Any, ...]:
            if not ref:
                _warn("请先选择要删除的知识库")
                return (*nothing, gr.skip(), gr.skip())
            return (*submit(lambda: library.submit_delete_base(ref, with_documents=documents_too), jobs,
                            "正在删除知识库…"), gr.Group(visible=False), False)

        confirm_delete.click(delete_base, [manage_base, with_documents, jobs_state],
                             [*job_outputs, confirm_group, with_documents], **quiet)

        blocks.load(refreshed, refresh_inputs, library_outputs, show_progress="hidden")

        def following() -> tuple[Any, ...]:
            """Writes already running when the page opens (the first start's corpus, another
            user's upload) are followed like the page's own."""
            running = [job.job_id for job in library.queue.jobs() if job.state not in FINISHED]
            return progress_html(_jobs(running)), running, gr.Timer(active=bool(running))

        blocks.load(following, None, [progress, jobs_state, timer], show_progress="hidden")
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
