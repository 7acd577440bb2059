"""End to end: `assistant serve` in a subprocess over a fresh index, driven in headless Chromium.

The server starts on an empty tmp index, so it first ingests the sample corpus itself.
Answers come from the extractive backend (no model), so the flow is quick and deterministic.
The screenshot goes to a temporary folder; `ASSISTANT_REFRESH_SCREENSHOT=1` (`make screenshot`)
also copies it over the README's docs/screenshot.png, on purpose only.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.local_servers import free_port, started

ROOT = Path(__file__).resolve().parent.parent
README_SCREENSHOT = ROOT / "docs" / "screenshot.png"
REFRESH_ENV = "ASSISTANT_REFRESH_SCREENSHOT"
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
STARTUP_TIMEOUT_S = 420  # ingesting the sample corpus on 2 cores takes about a minute

UPLOADED = """# 珠海市测试海洋软件扶持办法

珠测〔2025〕6号

珠海市测试局

2025年11月2日

第一条　对获评珠海市海洋软件标杆产品的企业，一次性奖励66万元。

第二条　标杆产品每年评选一次。
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (apt-get install chromium) for the browser test"),
]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback)
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of `assistant serve --llm extractive` on a free port over an empty tmp index."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {**os.environ, "ASSISTANT_UI__UPLOAD_DIR": str(tmp / "uploads"), "ASSISTANT_CORPUS": str(ROOT / "corpus")}
    env.pop("ASSISTANT_AUTH", None)
    command = [sys.executable, "-m", "assistant", "serve", "--index", str(tmp / "index"), "--llm", "extractive",
               "--port", str(port)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return _get(url + "/") == 200
        except OSError:
            return False

    try:
        with started(command, ready=ready, log=tmp / "server.log", what="assistant serve",
                     timeout_s=STARTUP_TIMEOUT_S, env=env, cwd=tmp):  # fmt: skip
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


def test_file_route_refuses_arbitrary_paths(server: str) -> None:
    for path in ("/etc/passwd", str(ROOT / "pyproject.toml")):
        assert _get(f"{server}/gradio_api/file={path}") in (403, 404)


def test_ask_click_citation_upload_and_ask_again(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    doc = tmp_path / "zh-marine-software.md"
    doc.write_text(UPLOADED, encoding="utf-8")
    readme_shot = README_SCREENSHOT.read_bytes() if README_SCREENSHOT.exists() else None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
        page.goto(server)
        page.wait_for_selector("#question textarea", timeout=30_000)

        # An example question about the sample corpus, answered with citation chips.
        page.get_by_role("button", name="深圳市单个主体每年累计使用算力券最高多少？").click()
        done = '#chat-view .msg.bot[data-turn="0"][data-phase="done"]'
        page.wait_for_selector(done, timeout=60_000)
        answer = page.inner_text(done)
        assert "2000万元" in answer

        # Clicking a citation focuses its passage in the source viewer, with the supporting span marked.
        page.click(f"{done} button.cite")
        mark = page.wait_for_selector("#source-viewer .src-card.focused mark", timeout=15_000)
        assert "2000万元" in mark.inner_text()
        assert "深工信规〔2025〕4号" in page.inner_text("#source-viewer .src-card.focused")

        # ... and opens the full document at that place.
        page.click("#source-viewer .src-card.focused .open-doc")
        hit = page.wait_for_selector("#doc-viewer mark#doc-hit", timeout=15_000)
        assert "2000万元" in hit.inner_text()
        page.wait_for_function(
            "() => document.querySelector('#doc-viewer .doc-body').scrollTop > 0", timeout=5_000
        )
        shot = tmp_path / "screenshot.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get(REFRESH_ENV) == "1":
            shutil.copyfile(shot, README_SCREENSHOT)

        # Upload a document, then ask about it: the answer cites it.
        page.get_by_role("tab", name="文档库").click()
        page.set_input_files("#upload input[type=file]", [str(doc)])
        page.click("#upload-btn")
        page.wait_for_selector("#upload-results li.ok", timeout=120_000)
        assert "珠海市测试海洋软件扶持办法" in page.inner_text("#upload-results")
        assert "zh-marine-software" in page.inner_text("#docs-table")
        page.get_by_role("tab", name="问答").click()
        # A new conversation, so the question is not read as a follow-up about the Shenzhen vouchers.
        page.click("#new-chat")
        page.wait_for_selector("#chat-view .chat-empty", timeout=15_000)
        page.fill("#question textarea", "获评珠海市海洋软件标杆产品的企业奖励多少？")
        page.keyboard.press("Enter")
        second = '#chat-view .msg.bot[data-turn="0"][data-phase="done"]'
        page.wait_for_selector(second, timeout=60_000)
        assert "66万元" in page.inner_text(second)
        page.click(f"{second} button.cite")
        page.wait_for_selector("#source-viewer .src-card.focused mark", timeout=15_000)
        assert "珠海市测试海洋软件扶持办法" in page.inner_text("#source-viewer .src-card.focused")

        # The language toggle relabels the page.
        page.get_by_text("English", exact=True).click()
        page.get_by_role("tab", name="Documents").wait_for(timeout=10_000)

        browser.close()
    assert not outside, f"the page requested outside resources: {outside[:5]}"
    if os.environ.get(REFRESH_ENV) != "1":  # the tracked screenshot changes only on purpose
        assert (README_SCREENSHOT.read_bytes() if README_SCREENSHOT.exists() else None) == readme_shot
