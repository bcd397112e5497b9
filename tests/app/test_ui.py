"""The app's rendering of answers and sources: citations become links, the quote is marked in its
context, and nothing from a document (HTML, Markdown) takes effect in the page."""

from __future__ import annotations

from answer.records import Answer, Citation
from app.jobs import Job, JobState, WriteProgress
from app.library import UploadOutcome
from app.ui import answer_pieces, example_questions, job_outcome, progress_html, source_html, sources_html

TEXT = "第五条 合作企业原则上投入折合金额不低于300万元。第六条 <script>alert(1)</script> 见[通知](https://evil.example)。"
QUOTE = "合作企业原则上投入折合金额不低于300万元。"
START = TEXT.index(QUOTE)


def _citation(n: int, quote: str, start: int) -> Citation:
    return Citation(n, f"c{n}", "d", "管理办法", "/data/办法.md", ("第二章", "投入"), 3, quote, start, start + len(quote))


def test_markers_become_links_and_document_markup_stays_text() -> None:
    evil = TEXT[TEXT.index("第六条") :]
    answer = Answer("q", f"企业投入不低于300万元。[1]{evil}[2]",
                    (_citation(1, QUOTE, START), _citation(2, evil, TEXT.index(evil))))
    html = "".join(answer_pieces(answer, "7"))
    assert '<a class="zk-cite" href="#zk-src-7-1">[1]</a>' in html and 'href="#zk-src-7-2"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "](https" not in html and "&#91;通知&#93;" in html  # no Markdown link either



def test_quotes_in_an_answer_show_as_themselves() -> None:
    quote = "学校's \"双师型\"教师占比达到60%。"
    text = f"说明：{quote}"
    html = "".join(answer_pieces(Answer("q", f"{quote}[1]", (_citation(1, quote, text.index(quote)),)), "8"))
    assert "学校's \"双师型\"" in html and "&#x27;" not in html and "&quot;" not in html


def test_the_source_shows_the_quote_marked_in_its_context() -> None:
    html = source_html(_citation(1, QUOTE, START), TEXT, "3", "zk-chat-src", active=True)
    assert 'id="zk-src-3-1"' in html and "zk-active" in html
    assert f"<mark>{QUOTE}</mark>" in html
    assert "第五条 " in html and "第六条" in html  # the text around it
    assert "第二章 › 投入" in html and "第 3 页" in html and "办法.md" in html
    assert "<script>" not in html


def test_a_quote_that_does_not_match_its_document_is_shown_alone() -> None:
    html = source_html(_citation(1, QUOTE, START + 1), TEXT, "3", "zk-chat-src")
    assert f"<mark>{QUOTE}</mark>" in html and "第六条" not in html


def test_a_refusal_lists_its_closest_passages_as_sources() -> None:
    answer = Answer("q", "知识库中没有找到……", refused=True, closest=(_citation(1, QUOTE, START),))
    pieces = answer_pieces(answer, "9")
    assert 'href="#zk-src-9-1"' in pieces[-1] and "管理办法" in pieces[-1]
    panel = sources_html(answer, {"d": TEXT}, "9", "zk-chat-src")
    assert f"<mark>{QUOTE}</mark>" in panel


def test_example_questions_ask_each_title_a_different_way_and_stop_at_four() -> None:
    titles = ["管理办法", "质量年度报告", "实施方案", "工作要点", "第五份"]
    questions = example_questions(titles)
    assert len(questions) == 4 and all(f"《{t}》" in q for t, q in zip(titles, questions, strict=False))
    assert len(set(q.replace(t, "") for t, q in zip(titles, questions, strict=False))) == 4
    assert example_questions([]) == []


def _job(kind: str, state: JobState, result: object = None, progress: WriteProgress | None = None) -> Job:
    job = Job("j1", kind, "通知.doc、报告.txt", state=state, progress=progress or WriteProgress())
    if state == "done":
        job.future.set_result(result)
    return job


def test_progress_shows_the_chunks_embedded_as_a_bar_and_a_line() -> None:
    progress = WriteProgress(files_total=2, phase="embed", files_done=1, chunks_done=64, chunks_total=256)
    html = progress_html([_job("upload", "running", progress=progress)])
    assert 'style="width:25.0%"' in html and "嵌入 64/256 个片段" in html and "导入" in html
    assert "排队中" in progress_html([_job("remove", "queued")])
    assert progress_html([]) == ""


def test_an_upload_outcome_lists_each_file_with_the_servers_advice() -> None:
    outcomes = [
        UploadOutcome("通知.doc", "rejected", "通知.doc: 不支持 .doc，请用 Word 或 WPS 另存为 .docx", "unsupported"),
        UploadOutcome("报告_[1].txt", "added", "已导入 《报告》，3 个片段", doc_id="d", title="报告", chunks=3),
    ]
    text = job_outcome(_job("upload", "done", outcomes))
    first, second = text.split("\n")
    assert first.startswith("- ✗ **通知.doc**") and ".docx" in first
    assert second.startswith("- ✓") and "&#91;1&#93;" in second  # a file name is no Markdown link


def test_a_failed_job_says_why() -> None:
    job = _job("reindex", "failed")
    job.future.set_exception(RuntimeError("磁盘已满"))
    assert "磁盘已满" in job_outcome(job) and job_outcome(job).startswith("✗")
