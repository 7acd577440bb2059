"""Web UI actions beyond asking: stop an answer, 👍/👎 with a reason, download a memo, manage knowledge bases.

Plain functions over the Engine, a `Session` and the knowledge-base `Library` (shared with the HTTP API);
`app.py` wires them to buttons, tests call them directly.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from ..api.library import Library
from ..errors import AssistantError
from ..export import render
from ..feedback import record
from ..kb import DEFAULT_KB
from . import views
from .session import Session

TEXT: dict[str, tuple[str, str]] = {
    "stop": ("停止", "Stop"),
    "stopped": ("已停止生成。", "Stopped."),
    "good": ("👍 有用", "👍 Good"),
    "bad": ("👎 有误", "👎 Bad"),
    "reason_ph": ("原因或正确答案（可选）", "What was wrong, or the right answer (optional)"),
    "thanks": ("感谢反馈，已保存。", "Thanks — feedback saved."),
    "no_answer": ("还没有回答。", "No answer yet."),
    "memo": ("下载备忘录", "Download memo"),
    "memo_format": ("格式", "Format"),
    "kb_title": ("知识库", "Knowledge bases"),
    "kb_new": ("新知识库名称", "New knowledge base name"),
    "kb_create": ("创建", "Create"),
    "kb_remove": ("删除知识库", "Remove knowledge base"),
    "kb_created": ("已创建知识库 {name}（上传文件：API 或 `assistant ingest --kb {name}`）。",
                   "Created knowledge base {name} (add files through the API or `assistant ingest --kb {name}`)."),
    "kb_removed": ("已删除知识库 {name}。", "Removed knowledge base {name}."),
}  # fmt: skip


def tx(key: str, lang: str, **values: object) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**values)


def stopped(session: Session) -> tuple[str, Session]:
    """After Stop: an answer still on its way is marked stopped (and kept out of the conversation's history)."""
    for turn in session.turns:
        if not turn.finished:
            turn.phase, turn.error = "error", tx("stopped", session.lang)
            turn.answer = None
    return views.chat_html(session), session


def _last_answer(session: Session):  # type: ignore[no-untyped-def]
    for turn in reversed(session.turns):
        if turn.answer is not None and turn.phase != "error":
            return turn.answer
    return None


def feedback(library: Library, session: Session, rating: str, reason: str | None) -> str:
    """Record 👍/👎 on the session's last answer; returns the reason box's new value (cleared)."""
    answer = _last_answer(session)
    if answer is None:
        gr.Warning(tx("no_answer", session.lang))
        return reason or ""
    engine = library.engine(library.served)
    record(answer, "good" if rating == "good" else "bad", engine.settings, reason or "", source="web")
    gr.Info(tx("thanks", session.lang))
    return ""


def memo(library: Library, session: Session, kind: str | None) -> str | None:
    """A memo of the conversation's answers as a file for download (Markdown or DOCX); None without answers."""
    answers = [t.answer for t in session.turns if t.answer is not None and t.phase != "error"]
    if not answers:
        gr.Warning(tx("no_answer", session.lang))
        return None
    fmt = "docx" if (kind or "").lower() == "docx" else "markdown"
    data = render(answers, library.engine(library.served).settings, fmt)
    folder = Path(tempfile.mkdtemp(prefix="memo-"))
    path = folder / f"memo.{'docx' if fmt == 'docx' else 'md'}"
    path.write_bytes(data)
    return str(path)


def kb_names(library: Library) -> list[str]:
    return library.names()


def kb_html(library: Library, lang: str) -> str:
    items = "".join(
        f"<li>{views.esc(n)}{' ✓' if n == library.served else ''}</li>" for n in library.names()
    )
    return f'<div class="kb-list"><b>{views.esc(tx("kb_title", lang))}</b><ul>{items}</ul></div>'


def kb_create(library: Library, name: str | None, lang: str) -> str:
    try:
        kb = library.create((name or "").strip())
    except AssistantError as exc:
        raise gr.Error(views.esc(str(exc)), print_exception=False) from None
    gr.Info(tx("kb_created", lang, name=kb.name))
    return kb_html(library, lang)


def kb_remove(library: Library, name: str | None, lang: str) -> str:
    if not name or name == DEFAULT_KB:
        raise gr.Error(views.esc(f"Choose a knowledge base other than '{DEFAULT_KB}'."), print_exception=False)
    try:
        library.remove(name)
    except AssistantError as exc:
        raise gr.Error(views.esc(str(exc)), print_exception=False) from None
    gr.Info(tx("kb_removed", lang, name=name))
    return kb_html(library, lang)
