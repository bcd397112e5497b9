"""End to end in a real headless Chromium: the app as staff use it.

Start ``zhiku serve`` on loopback over a small real index; ask 「2020年新生报到率是多少？」 and see
92.12%; click the citation and see the highlighted source; draft a 案例 and download the DOCX;
upload a file and see it listed. A screenshot of each step goes to ``test-artifacts/browser/``
(or ``$ZHIKU_TEST_ARTIFACTS``).

Needs Debian ``chromium`` and the ``playwright`` package (never ``playwright install``):
``scripts/test.sh`` installs both. Without them the test is skipped here and fails in CI.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

from tests.servers import free_port, running

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
NOTE = "# 图书馆借阅管理办法\n\n第一条 学生每次最多借阅图书10册，借期30天。\n"

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Debian chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("ZHIKU_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _serve(source: Path, home: Path, **env: str) -> Iterator[str]:
    """``zhiku serve`` on loopback over a copy of the library in ``source``, stopped afterwards."""
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)
    shutil.copytree(source, home)
    environment = {**os.environ, "ZHIKU_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False", **env}
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-corpus"]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/api/health", home / "serve.log", timeout=180, env=environment, cwd=ROOT):
        yield url


@pytest.fixture(scope="module")
def server(reports_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # 000 and 001 of corpus/ indexed (tests/app/conftest.py)
    yield from _serve(reports_home, tmp_path_factory.mktemp("browser") / "home")


def test_ask_cite_draft_and_upload_in_a_real_browser(server: str, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(60_000)
        try:
            page.goto(server)

            # 问答: the answer streams in with its figure and a citation
            page.locator("#zk-question textarea").fill("2020年新生报到率是多少？")
            page.locator("#zk-question textarea").press("Enter")
            chat = page.locator("#zk-chat")
            expect(chat).to_contain_text("92.12%")
            expect(chat).to_contain_text("秒")  # the footer comes last: the stream has ended
            page.screenshot(path=str(artifacts / "1-answer.png"), full_page=True)

            # the citation opens its source, the quoted span highlighted
            links = chat.locator('a[href^="#zk-src-"]')
            targets = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
            # the citation whose quote holds the figure (the caption is cited too)
            target = next(t for t in targets if "92.12" in (page.locator(f"{t} mark").text_content() or ""))
            link = chat.locator(f'a[href="{target}"]')
            page.locator(target).evaluate("el => el.classList.remove('zk-active')")
            link.click()
            source = page.locator(target)
            expect(source).to_be_visible()
            expect(source.locator("mark")).to_contain_text("92.12")
            expect(source).to_contain_text("清远职业技术学院高等职业教育质量年度报告")
            page.screenshot(path=str(artifacts / "2-source.png"), full_page=True)

            # a second question; the first answer's citation still opens its source
            page.locator("#zk-question textarea").fill("合作企业投入不低于多少？")
            page.locator("#zk-question textarea").press("Enter")
            expect(chat).to_contain_text("300万元")
            expect(chat.locator(".zk-meta")).to_have_count(2)
            link.click()
            expect(source).to_be_visible()
            expect(source.locator("mark")).to_contain_text("92.12")

            # 写作: a 案例 with references, downloaded as Word
            page.get_by_role("tab", name="写作", exact=True).click()
            expect(page.locator("#zk-template input")).to_have_value("案例")
            page.locator("#zk-topic textarea").fill("医学美容技术产业学院")
            page.locator("#zk-draft-button").click()
            expect(page.locator("#zk-draft")).to_contain_text("医学美容")
            expect(page.locator(".pending")).to_have_count(0)
            download_link = page.locator("#zk-draft-docx a").first
            expect(download_link).to_be_visible()
            page.screenshot(path=str(artifacts / "3-draft.png"), full_page=True)
            with page.expect_download() as caught:
                download_link.click()
            saved = tmp_path / "draft.docx"
            caught.value.save_as(saved)
            document = docx.Document(str(saved))
            body = "\n".join(p.text for p in document.paragraphs)
            assert "医学美容" in body and "参考" in body and "《" in body

            # 资料库: upload a file, see it listed
            page.get_by_role("tab", name="资料库", exact=True).click()
            note = tmp_path / "图书馆借阅管理办法.md"
            note.write_text(NOTE, encoding="utf-8")
            page.locator("#zk-upload input[type=file]").set_input_files(str(note))
            page.locator("#zk-ingest").click()
            expect(page.locator("#zk-upload-result")).to_contain_text("已导入")
            expect(page.locator("#zk-documents")).to_contain_text("图书馆借阅管理办法")
            expect(page.locator(".pending")).to_have_count(0)  # every output updated
            page.screenshot(path=str(artifacts / "4-library.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(artifacts / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    for name in ("1-answer.png", "2-source.png", "3-draft.png", "4-library.png"):
        assert (artifacts / name).stat().st_size > 10_000


@pytest.fixture(scope="module")
def scanned_server(scanned_home: tuple[Path, list], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``zhiku serve`` with a login, over the scanned notice (read by OCR at ingest)."""
    yield from _serve(scanned_home[0], tmp_path_factory.mktemp("browser-scan") / "home", ZHIKU_USERS="staff:pw2")


def test_a_pdf_citation_shows_its_page_with_the_quote_marked(scanned_server: str, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            documents = context.request.get(f"{scanned_server}/api/documents")
            assert documents.status == 200  # loopback with no token: the API is open
            doc_id = documents.json()[0]["doc_id"]
            # the original file is refused without the app's login ...
            assert context.request.get(f"{scanned_server}/api/documents/{doc_id}/file").status == 401
            assert context.request.post(f"{scanned_server}/login", form={"username": "staff", "password": "pw2"}).ok
            page.goto(scanned_server)

            page.locator("#zk-question textarea").fill("单北斗辅助驾驶系统的补贴额测算比例最高可以提高到多少？")
            page.locator("#zk-question textarea").press("Enter")
            chat = page.locator("#zk-chat")
            expect(chat).to_contain_text("40%")
            expect(chat).to_contain_text("秒")
            links = chat.locator('a[href^="#zk-src-"]')
            targets = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
            target = next(t for t in targets if "40%" in (page.locator(f"{t} mark").text_content() or ""))
            page.locator(target).evaluate("el => el.classList.remove('zk-active')")
            chat.locator(f'a[href="{target}"]').click()
            source = page.locator(target)
            expect(source).to_contain_text("第 5 页（OCR）")
            image = source.locator(".zk-page img")
            expect(image).to_be_visible()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
            assert image.evaluate("img => img.naturalWidth") == 1000
            page.screenshot(path=str(artifacts / "5-page-view.png"), full_page=True)
            image.click()  # zoom in
            expect(image).to_have_class("zk-zoom")
            page.screenshot(path=str(artifacts / "6-page-zoomed.png"), full_page=True)

            # ... and opens, logged in, from the link beside the page
            href = source.locator(".zk-page a").get_attribute("href") or ""
            assert href.endswith("#page=5")
            original = context.request.get(scanned_server + href.split("#")[0])
            assert original.status == 200 and original.headers["content-type"] == "application/pdf"
            assert original.body().startswith(b"%PDF")
        except Exception:
            page.screenshot(path=str(artifacts / "failure-page-view.png"), full_page=True)
            raise
        finally:
            browser.close()
    for name in ("5-page-view.png", "6-page-zoomed.png"):
        assert (artifacts / name).stat().st_size > 10_000
