"""The library as staff use it day to day, in a real headless Chromium, on a desktop and a phone.

On a 1440x900 screen: make a knowledge base, upload into it two notes, a legacy .doc and a long
compilation of laws; the .doc gets the server's advice (save it as .docx) while the others are
added, and the progress line counts the chunks embedded while the table stays usable; a question
asked within the base cites its documents only; removing a document asks first; a validation
message leaves the page working. On a 390x844 phone: every tab is reachable, and a tapped
citation brings its source into view. Screenshots go to ``test-artifacts/browser/`` (7- to 14-).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.test_browser import CHROMIUM, FLAGS, ROOT, _serve

pytestmark = pytest.mark.slow

BASE = "校内制度"
REPORT_TITLES = ("清远职业技术学院高等职业教育质量年度报告", "2022年校企合作机制体制改革情况报告")
LIBRARY_NOTE = "图书馆借阅管理办法\n\n第一条 学生每次最多借阅图书10册，借期30天。\n第二条 逾期未还者暂停借阅资格。\n"
LAB_NOTE = "实训室安全管理规定\n\n第一条 学生进入实训室须穿戴防护用品。\n第二条 实训结束后须关闭电源并清点工具。\n"
LEGACY_DOC = ROOT / "tests" / "fixtures" / "海南省农机购置与应用补贴实施方案的通知.doc"
# two laws, about 150 passages: three embedding batches of 64, so the count takes several values
LAWS = ["中华人民共和国职业教育法(2022-04-20).md", "上海市职业教育条例(2018-11-22).md"]
EMBEDDED = re.compile(r"嵌入 (\d+)/(\d+)")


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("ZHIKU_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)  # shared with test_browser.py: its screenshots stay
    return folder


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("ZHIKU_BROWSER_URL"):  # a server already running over a copy of reports_home
        yield os.environ["ZHIKU_BROWSER_URL"]
        return
    # 000 and 001 of corpus/ indexed (tests/app/conftest.py)
    yield from _serve(request.getfixturevalue("reports_home"), tmp_path_factory.mktemp("browser-daily") / "home")


def _compilation(folder: Path, tag: str) -> Path:
    """A long text (about 150 passages) so that embedding it takes long enough to watch."""
    parts = [f"第{n}编 {Path(name).stem}\n\n" + (ROOT / "corpus" / "laws" / name).read_text(encoding="utf-8")
             for n, name in enumerate(LAWS, 1)]
    path = folder / f"职业教育法规汇编{tag}.txt"
    path.write_text(f"职业教育法规汇编{tag}\n\n" + "\n\n".join(parts), encoding="utf-8")
    return path


# The same walk on a desktop and on a phone, over one server: each run has its own base and files
# (「（手机）」 in their titles), so the phone's answer can only cite the phone's documents.
SCREENS = {"desktop": ({"width": 1440, "height": 900}, "", ""), "phone": ({"width": 390, "height": 844}, "（手机）", "phone-")}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_knowledge_base_upload_progress_ask_and_remove(server: str, artifacts: Path, tmp_path: Path, screen: str) -> None:
    from playwright.sync_api import Dialog, expect, sync_playwright

    viewport, tag, prefix = SCREENS[screen]
    base = BASE + tag
    notes = []
    for text in (LIBRARY_NOTE, LAB_NOTE):
        title, rest = text.split("\n", 1)
        note = tmp_path / f"{title}{tag}.txt"
        note.write_text(f"{title}{tag}\n{rest}", encoding="utf-8")
        notes.append(note)
    compilation = _compilation(tmp_path, tag)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport=viewport, is_mobile=screen == "phone", has_touch=screen == "phone")
        page.set_default_timeout(60_000)
        dialogs: list[str] = []

        def accept(dialog: Dialog) -> None:  # the confirm() before a removal
            dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        try:
            page.goto(server)
            # the three tabs, named in Chinese
            for name in ("问答", "写作", "资料库"):
                expect(page.get_by_role("tab", name=name, exact=True)).to_be_visible()
            page.get_by_role("tab", name="资料库", exact=True).click()
            table = page.locator("#zk-documents")
            expect(table).to_contain_text(REPORT_TITLES[0])

            # a validation message is a toast: no 「错误」 badge, the table keeps its rows
            page.locator("#zk-ingest").click()
            expect(page.get_by_text("请先选择要导入的文件")).to_be_visible()
            expect(page.get_by_text("错误", exact=True)).to_have_count(0)
            expect(table).to_contain_text(REPORT_TITLES[0])

            # a knowledge base, made here, is where the next upload goes
            page.locator("#zk-base-name input, #zk-base-name textarea").first.fill(base)
            page.locator("#zk-base-create").click()
            expect(page.locator("#zk-upload-result")).to_contain_text(f"已新建知识库「{base}」")
            expect(page.locator("#zk-upload-base input")).to_have_value(re.compile(re.escape(base)))
            page.screenshot(path=str(artifacts / f"{prefix}7-kb-created.png"), full_page=True)

            # upload: two notes, a .doc the server cannot read, and a long compilation
            files = [*notes, LEGACY_DOC, compilation]
            page.locator("#zk-upload input[type=file]").set_input_files([str(f) for f in files])
            page.locator("#zk-ingest").click()
            progress = page.locator("#zk-progress")
            result = page.locator("#zk-upload-result")
            seen: list[tuple[int, int]] = []
            shot = False
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                text = progress.text_content() or ""
                match = EMBEDDED.search(text)
                if match and (int(match[1]), int(match[2])) not in seen:
                    seen.append((int(match[1]), int(match[2])))
                    if not shot and int(match[1]) > 0:
                        # the table stays usable while the upload runs: no overlay over it
                        expect(table).to_contain_text(REPORT_TITLES[0], timeout=1_000)
                        page.screenshot(path=str(artifacts / f"{prefix}8-upload-progress.png"), full_page=True)
                        shot = True
                if "已导入" in (result.text_content() or ""):
                    break
                time.sleep(0.25)
            assert len({done for done, _ in seen}) >= 2, f"the embedded count never moved: {seen}"
            expect(result).to_contain_text(f"职业教育法规汇编{tag}")
            doc_line = result.locator("li").filter(has_text=LEGACY_DOC.name)
            expect(doc_line).to_contain_text(".docx")
            for note in notes:
                expect(result.locator("li").filter(has_text=note.name)).to_contain_text("已导入")
            expect(table).to_contain_text(f"图书馆借阅管理办法{tag}")
            expect(table).to_contain_text(base)
            expect(progress).not_to_contain_text("嵌入")
            page.screenshot(path=str(artifacts / f"{prefix}9-upload-done.png"), full_page=True)

            # the table filtered by the base shows its documents only
            page.locator("#zk-lib-filter input").click()
            page.get_by_role("option", name=re.compile(f"^{re.escape(base)}（")).click()
            expect(table).not_to_contain_text(REPORT_TITLES[0])
            expect(table).to_contain_text(f"实训室安全管理规定{tag}")

            # asked within the base, the answer cites its documents only
            page.get_by_role("tab", name="问答", exact=True).click()
            page.locator("#zk-chat-base input").click()
            page.get_by_role("option", name=re.compile(f"^{re.escape(base)}（")).click()
            page.locator("#zk-question textarea").fill("学生每次最多借阅图书多少册？")
            page.locator("#zk-question textarea").press("Enter")
            chat = page.locator("#zk-chat")
            expect(chat).to_contain_text("10册")
            expect(chat.locator(".zk-meta")).to_have_count(1)  # the stream has ended
            expect(chat).not_to_contain_text("（extractive")  # no debug footer
            cited = page.locator("#zk-sources .zk-src h4").all_text_contents()
            assert cited, "the answer cites nothing"
            allowed = [f"{title}{tag}》" for title in ("图书馆借阅管理办法", "实训室安全管理规定", "职业教育法规汇编")]
            assert all(any(title in c for title in allowed) for c in cited), cited
            page.screenshot(path=str(artifacts / f"{prefix}10-ask-in-kb.png"), full_page=True)

            # remove: pick the row, confirm the dialog, and the document is gone
            page.get_by_role("tab", name="资料库", exact=True).click()
            # the cell as shown (the table also keeps a hidden copy of its rows for measuring)
            table.get_by_text(f"实训室安全管理规定{tag}", exact=True).filter(visible=True).first.click()
            expect(page.locator("#zk-doc-choice input")).to_have_value(re.compile(re.escape(f"实训室安全管理规定{tag}")))
            page.locator("#zk-remove").click()
            expect(result).to_contain_text(f"已删除《实训室安全管理规定{tag}》")
            assert dialogs and "删除" in dialogs[-1]
            expect(table).not_to_contain_text(f"实训室安全管理规定{tag}")
            expect(page.get_by_text("错误", exact=True)).to_have_count(0)
            page.screenshot(path=str(artifacts / f"{prefix}11-remove-confirm.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(artifacts / f"failure-daily-{screen}.png"), full_page=True)
            raise
        finally:
            browser.close()
    for name in ("7-kb-created.png", "8-upload-progress.png", "9-upload-done.png", "10-ask-in-kb.png",
                 "11-remove-confirm.png"):
        assert (artifacts / f"{prefix}{name}").stat().st_size > 10_000


def test_on_a_phone_every_tab_is_reachable_and_a_citation_shows_its_source(server: str, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        # a phone set to Chinese, as staff's phones are: Gradio's own strings follow the browser's language
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      device_scale_factor=2, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            page.goto(server)
            for name in ("问答", "写作", "资料库"):  # none hidden in an overflow menu
                expect(page.get_by_role("tab", name=name, exact=True)).to_be_visible()
            page.locator("#zk-question textarea").fill("2020年新生报到率是多少？")
            page.locator("#zk-question textarea").press("Enter")
            chat = page.locator("#zk-chat")
            expect(chat).to_contain_text("92.12%")
            expect(chat.locator(".zk-meta")).to_have_count(1)
            page.screenshot(path=str(artifacts / "12-phone-chat.png"))

            link = chat.locator('a[href^="#zk-src-"]').first
            target = link.get_attribute("href") or ""
            link.tap()
            source = page.locator(target)
            expect(source).to_be_visible()
            expect(source).to_have_class(re.compile("zk-active"))
            box = source.bounding_box()
            assert box is not None and 0 <= box["y"] < 844, f"the source is out of view: {box}"
            page.screenshot(path=str(artifacts / "13-phone-source.png"))

            page.get_by_role("tab", name="资料库", exact=True).tap()
            expect(page.locator("#zk-documents")).to_contain_text(REPORT_TITLES[0])
            expect(page.locator("#zk-ingest")).to_be_visible()
            expect(page.locator("#zk-upload")).to_contain_text("将文件拖放到此处")  # not 「Drop File Here」
            page.screenshot(path=str(artifacts / "14-phone-library.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(artifacts / "failure-phone.png"), full_page=True)
            raise
        finally:
            browser.close()
    for name in ("12-phone-chat.png", "13-phone-source.png", "14-phone-library.png"):
        assert (artifacts / name).stat().st_size > 10_000


@pytest.mark.parametrize("page_path, rendered", [("/api/docs", ".swagger-ui .opblock"),
                                                 ("/api/redoc", "redoc-wrap, .api-content")])
def test_the_api_docs_render_with_the_network_cut_off(server: str, artifacts: Path, page_path: str, rendered: str) -> None:
    from playwright.sync_api import Route, sync_playwright

    origin = server.rstrip("/")
    refused: list[str] = []

    def only_the_server(route: Route) -> None:
        url = route.request.url
        if url.startswith(origin) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:  # anything beyond the server (a CDN, fonts) fails as on an offline intranet
            refused.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.route("**/*", only_the_server)
        page.goto(origin + page_path)
        page.wait_for_selector(rendered, timeout=30_000)
        assert "智库" in page.inner_text("body") and "/api/search" in page.inner_text("body")
        name = "15-api-docs.png" if page_path.endswith("docs") else "16-api-redoc.png"
        page.screenshot(path=str(artifacts / name))
        browser.close()
    assert refused == [], refused
