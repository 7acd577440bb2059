"""Memos: an answer, or a whole conversation, saved as Markdown or DOCX to file with a case.

Each entry holds the question, the answer, and each citation with its title, 文号, edition and validity
where known, section, page and quote, whether the check found it supported; then the verification result,
the time and the settings the answer was made with.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import AssistantError
from .types import Answer, Citation

FORMATS = {".md": "markdown", ".markdown": "markdown", ".docx": "docx"}


class ExportError(AssistantError):
    """A memo cannot be written: no answer yet, or an unknown file type."""


def memo_format(path: Path | str) -> str:
    """'markdown' or 'docx' by the file's suffix; ExportError for anything else."""
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise ExportError(f"Cannot export to {path}: use a .md or .docx file name.")
    return kind


def settings_summary(settings: Settings) -> dict[str, Any]:
    """The settings that decide an answer, as shown at the end of a memo."""
    model = settings.llm.local_model if settings.llm.backend == "local" else settings.llm.model
    return {
        "knowledge base": settings.kb or "default",
        "index": str(settings.store.path),
        "embedding model": settings.embedding.model,
        "answer backend": settings.llm.backend + ("" if settings.llm.backend == "extractive" else f" ({model})"),
        "passages (top_k)": settings.retrieval.top_k,
        "refusal threshold": settings.retrieval.refusal_threshold,
    }


def verification(answer: Answer) -> str:
    """One line: refused, or how many citations the check found supported."""
    if answer.error:
        return f"The answer failed: {answer.error}"
    if answer.refused:
        return "Refused: the documents do not answer this question (no statement made)."
    supported = sum(c.supported for c in answer.citations)
    line = f"{supported} of {len(answer.citations)} citations supported by their passages"
    if answer.quoted:
        line += "; the answer quotes the evidence"
    return line + "."


def _edition(c: Citation) -> str:
    meta = c.passage.meta
    parts = [str(meta[k]) for k in ("edition", "effective_date") if meta.get(k)]
    if meta.get("validity"):
        parts.append(f"validity: {meta['validity']}")
    return ", ".join(parts)


def _citation_fields(c: Citation) -> list[tuple[str, str]]:
    p = c.passage
    fields = [("title", p.title or p.doc_id), ("文号", str(p.meta.get("doc_number") or "")),
              ("edition", _edition(c)), ("section", p.section), ("page", str(p.page or "")),
              ("supported", "yes" if c.supported else "no")]  # fmt: skip
    return [(k, v) for k, v in fields if v]


def _header(settings: Settings, when: datetime.datetime, count: int) -> tuple[str, str]:
    title = "Policy assistant memo" + (f" — conversation of {count} questions" if count > 1 else "")
    return title, when.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def to_markdown(answers: Sequence[Answer], settings: Settings, when: datetime.datetime | None = None) -> str:
    """The memo of `answers` (one, or a conversation in order) as Markdown."""
    if not answers:
        raise ExportError("Nothing to export yet: ask a question first.")
    when = when or datetime.datetime.now().astimezone()
    title, stamp = _header(settings, when, len(answers))
    out = [f"# {title}", "", f"Time: {stamp}", ""]
    for i, a in enumerate(answers, 1):
        out += [f"## {i}. {a.question}" if len(answers) > 1 else f"## Question: {a.question}", ""]
        if a.standalone_question and a.standalone_question != a.question:
            out += [f"*Read as:* {a.standalone_question}", ""]
        out += ["**Answer**", "", a.text, ""]
        if a.citations:
            out += ["**Sources**", ""]
            for c in sorted(a.citations, key=lambda c: c.n):
                fields = "; ".join(f"{k}: {v}" for k, v in _citation_fields(c))
                out += [f"[{c.n}] {fields}", "", f"> {c.quote.strip()}", ""]
        out += [f"**Verification:** {verification(a)}", ""]
    out += ["## Settings", ""] + [f"- {k}: {v}" for k, v in settings_summary(settings).items()] + [""]
    return "\n".join(out)


def to_docx(answers: Sequence[Answer], settings: Settings, when: datetime.datetime | None = None) -> bytes:
    """The memo of `answers` as a DOCX file's bytes (python-docx)."""
    from docx import Document

    if not answers:
        raise ExportError("Nothing to export yet: ask a question first.")
    when = when or datetime.datetime.now().astimezone()
    title, stamp = _header(settings, when, len(answers))
    doc = Document()
    doc.add_heading(title, level=1)
    doc.add_paragraph(f"Time: {stamp}")
    for i, a in enumerate(answers, 1):
        doc.add_heading(f"{i}. {a.question}" if len(answers) > 1 else f"Question: {a.question}", level=2)
        doc.add_paragraph().add_run("Answer").bold = True
        doc.add_paragraph(a.text)
        for c in sorted(a.citations, key=lambda c: c.n):
            para = doc.add_paragraph()
            para.add_run(f"[{c.n}] ").bold = True
            para.add_run("; ".join(f"{k}: {v}" for k, v in _citation_fields(c)))
            doc.add_paragraph(c.quote.strip(), style="Intense Quote")
        para = doc.add_paragraph()
        para.add_run("Verification: ").bold = True
        para.add_run(verification(a))
    doc.add_heading("Settings", level=2)
    for k, v in settings_summary(settings).items():
        doc.add_paragraph(f"{k}: {v}", style="List Bullet")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render(answers: Sequence[Answer], settings: Settings, kind: str) -> bytes:
    """The memo as bytes: kind 'markdown' (UTF-8) or 'docx'."""
    if kind == "docx":
        return to_docx(answers, settings)
    if kind == "markdown":
        return to_markdown(answers, settings).encode("utf-8")
    raise ExportError(f"Unknown memo format {kind!r}: use 'markdown' or 'docx'.")


def save_memo(path: Path | str, answers: Sequence[Answer], settings: Settings) -> Path:
    """Write the memo to `path` (.md or .docx by its suffix); returns the path."""
    target = Path(path).expanduser()
    data = render(answers, settings, memo_format(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target
