"""The web UI's Stop button in a real page: it cancels the answer being generated, and the model stops."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator

import pytest

from assistant.engine import Engine
from assistant.llm import GenerationRequest
from assistant.local_servers import free_port

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (apt-get install chromium) for the browser test"),
]


STEMS, BRANCHES = "甲乙丙丁戊己庚辛壬癸", "子丑寅卯辰巳午未申酉戌亥"  # 60 distinct pairs


class SlowLLM:
    """Writes 60 different sentences, 0.2 s apart (a repeated one would end the answer as a model loop); records
    how many it wrote and whether it was closed early."""

    name = "slow"

    def __init__(self) -> None:
        self.written = 0
        self.closed = threading.Event()

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        try:
            for i in range(60):
                time.sleep(0.2)
                self.written += 1
                yield f"对{STEMS[i % 10]}{BRANCHES[i % 12]}类开源鸿蒙发行版企业给予补助。"
        finally:
            self.closed.set()

    def close(self) -> None:
        pass


def test_stop_button_cancels_generation(small_index) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    from assistant.web.app import launch

    settings = small_index.model_copy(deep=True)
    settings.llm.backend = "local"
    llm = SlowLLM()
    engine = Engine(settings, backend=llm)
    port = free_port()
    demo = launch(engine, host="127.0.0.1", port=port, quiet=True, block=False)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(locale="en-US")
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#question textarea", timeout=60_000)
            page.fill("#question textarea", "对主导发布开源鸿蒙发行版的企业给予多少补助？")
            page.keyboard.press("Enter")
            page.wait_for_selector('#chat-view .msg.bot[data-phase="streaming"]', timeout=60_000)
            page.click("#stop")
            assert llm.closed.wait(10), "the model kept generating after Stop"
            page.wait_for_selector('#chat-view .msg.bot[data-phase="error"]', timeout=10_000)
            assert "Stopped." in page.inner_text("#chat-view")
            browser.close()
        assert llm.written < 60
    finally:
        demo.close()
        engine.close()
