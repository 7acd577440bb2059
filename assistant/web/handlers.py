"""The web UI's event handlers as plain functions over one shared Engine and a per-session `Session`.

`app.py` wires these to Gradio components; tests call them directly. Handlers return
HTML strings and the updated session; they raise `gr.Error` (or call `gr.Warning`)
with a readable message, never let a stack trace reach the page.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from ..engine import Engine, Turn
from ..errors import AssistantError, DocumentNotFoundError, FilterError
from ..events import Sources, Token
from ..types import Answer, Filters
from . import views
from .i18n import t
from .session import ChatTurn, Session
from .uploads import UploadError, store_upload

log = logging.getLogger(__name__)

ProgressFn = Callable[..., Any]  # gr.Progress-compatible: progress(fraction, desc=...)
UploadItem = str | Path | tuple[str | Path, str]  # a path, or (path, original file name)
ChatOutputs = tuple[str, str, str, Session]  # (question box, chat html, sources html, session)


def _say(message: str, lang: str) -> None:
    """A warning toast. Gradio renders its text as HTML: escape, as messages may carry file names."""
    gr.Warning(views.esc(message), title=t("warning", lang))


def _error(message: str, lang: str) -> gr.Error:
    return gr.Error(views.esc(message), title=t("error_badge", lang), print_exception=False)


def build_filters(doc_ids: Sequence[str] | None, issuers: Sequence[str] | None,
                  date_from: str | None, date_to: str | None, lang: str) -> Filters:
    """Filters from the filter widgets (Filters.parse); raises gr.Error for a malformed date or an empty range."""
    try:
        return Filters.parse(doc_ids=doc_ids or [], issuers=issuers or [], date_from=date_from, date_to=date_to)
    except FilterError as exc:
        message = {"date": t("bad_date", lang, value=exc.value), "range": t("bad_range", lang)}.get(exc.reason, str(exc))
        raise _error(message, lang) from None


class Handlers:
    """Event handlers over one Engine (which serialises writes to the index: upload, remove)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.settings = engine.settings

    # ----- chat -----
    def _events(
        self, question: str, history: list[Turn], filters: Filters, lang: str
    ) -> Iterator[tuple[str, Any]]:
        """Run Engine.stream in a worker thread so sources can be shown the moment retrieval ends.

        Yields batches' worth of ("passages", list), ("text", str), ("answer", Answer), ("error", str).
        """
        inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                stream = self.engine.stream(question, history, filters)
                for event in stream:
                    if stop.is_set():  # the page went away: stop generating
                        stream.close()
                        break
                    if isinstance(event, Sources):
                        inbox.put(("passages", list(event.passages)))
                    elif isinstance(event, Token):
                        inbox.put(("text", event.text))
                    else:
                        inbox.put(("answer", event.answer))
            except AssistantError as exc:
                inbox.put(("error", str(exc)))
            except Exception:  # a bug must not kill the session: log it, tell the user in plain words
                log.exception("answering %r failed", question)
                inbox.put(("error", t("internal_error", lang)))
            finally:
                inbox.put(("end", None))

        threading.Thread(target=work, name="web-answer", daemon=True).start()
        try:
            while True:
                batch = [inbox.get()]
                while not inbox.empty():  # coalesce tokens that arrived meanwhile into one page update
                    batch.append(inbox.get_nowait())
                merged: list[tuple[str, Any]] = []
                for kind, payload in batch:
                    if kind == "text" and merged and merged[-1][0] == "text":
                        merged[-1] = ("text", merged[-1][1] + payload)
                    else:
                        merged.append((kind, payload))
                for kind, payload in merged:
                    if kind == "end":
                        return
                    yield kind, payload
        finally:
            stop.set()

    def ask(
        self,
        question: str,
        session: Session,
        doc_ids: Sequence[str] | None = None,
        issuers: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Iterator[ChatOutputs]:
        """Answer `question` in this session: sources first, then streamed text, then the verified answer."""
        lang = session.lang
        question = (question or "").strip()
        if not question:
            _say(t("empty_question", lang), lang)
            yield "", views.chat_html(session), views.sources_html(session), session
            return
        session.filters = build_filters(doc_ids, issuers, date_from, date_to, lang)
        turn = ChatTurn(question=question)
        events = self._events(question, session.history(), session.filters, lang)
        session.turns.append(turn)
        session.selected_turn, session.selected_n = len(session.turns) - 1, None
        yield "", views.chat_html(session), views.sources_html(session), session
        for kind, payload in events:
            if turn.finished:  # stopped meanwhile (the Stop button): leave it as Stop marked it
                return
            if kind == "passages":
                turn.passages, turn.phase = payload, "sources"
            elif kind == "text":
                turn.text += payload
                turn.phase = "streaming"
            elif kind == "answer":
                self._finish(turn, payload, session)
            elif kind == "error":
                turn.phase, turn.error = "error", payload
                _say(payload, lang)
            yield "", views.chat_html(session), views.sources_html(session), session

    def _finish(self, turn: ChatTurn, answer: Answer, session: Session) -> None:
        turn.answer, turn.passages = answer, answer.passages
        if answer.error and not answer.text:
            turn.phase, turn.error = "error", t("answer_failed", session.lang, error=answer.error)
            _say(turn.error, session.lang)
            return
        turn.text = answer.text  # the verified text replaces what was streamed
        turn.phase = "refused" if answer.refused else "done"
        cited = sorted(turn.citations())
        session.selected_n = cited[0] if cited else None

    def new_chat(self, session: Session) -> tuple[str, str, Session]:
        """Forget the conversation (history, answers, selection) of this session only."""
        session.reset()
        return views.chat_html(session), views.sources_html(session), session

    def select_citation(self, session: Session, turn_index: int, n: int) -> tuple[str, Session]:
        """Show the sources of answer `turn_index` with citation `n` in focus."""
        if session.turn(turn_index) is not None:
            session.selected_turn, session.selected_n = turn_index, n
        return views.sources_html(session), session

    def open_document(self, session: Session, turn_index: int, n: int) -> str:
        """The full text of the document of passage `n` of answer `turn_index`, at that passage."""
        turn = session.turn(turn_index)
        if turn is None or not 1 <= n <= len(turn.passages):
            return ""
        passage = turn.passages[n - 1]
        citation = turn.citations().get(n)
        doc = self.engine.document_text(passage.doc_id)
        return views.document_html(doc, passage, citation.span if citation else None, session.lang)

    # ----- documents -----
    def documents(self, lang: str) -> str:
        """The documents table, then every work with its editions, dates and validity (collapsed)."""
        from ..versions import library_for
        from ..versions.html import works_html

        works = works_html(library_for(self.engine.index.catalog))
        label = "版本与效力" if lang == "zh" else "Editions and validity"
        return views.documents_html(self.engine.documents(), lang) + f"<details><summary>{label}</summary>{works}</details>"

    def compare(self, old_id: str | None, new_id: str | None, lang: str) -> str:
        """Two editions side by side, article by article, changed words marked."""
        from ..versions import compare_documents, library_for
        from ..versions.html import diff_html

        old = self.engine.document_text(old_id) if old_id else None
        new = self.engine.document_text(new_id) if new_id else None
        if old is None or new is None:
            raise _error(t("choose_doc", lang), lang)
        try:
            return diff_html(compare_documents(old, new, library_for(self.engine.index.catalog)))
        except AssistantError as exc:  # different works: no diff between them
            raise _error(str(exc), lang) from exc

    def doc_choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) for the document pickers."""
        return [(f"{d.title} ({d.doc_id})", d.doc_id) for d in self.engine.documents()]

    def issuer_choices(self) -> list[tuple[str, str]]:
        issuers = {d.meta.get("issuer", "") for d in self.engine.documents()} - {""}
        return [(re.sub(r"[\u3000\s]+", "、", i), i) for i in sorted(issuers)]

    def upload(self, files: Sequence[UploadItem] | None, lang: str, progress: ProgressFn | None = None) -> str:
        """Check, store and index uploaded files; returns the per-file results as HTML."""
        if not files:
            _say(t("no_files", lang), lang)
            return ""
        ui = self.settings.ui
        rows: list[tuple[str, str, str]] = []
        stored: dict[str, tuple[Path, str]] = {}  # stored path -> (path, shown name)
        for item in files:
            src, name = (Path(item[0]), item[1]) if isinstance(item, tuple) else (Path(item), Path(item).name)
            try:
                target = store_upload(src, Path(ui.upload_dir), ui.max_upload_mb * 2**20, name)
                stored[str(target)] = (target, name)
            except UploadError as exc:
                rows.append((name, "result_failed", t(exc.key, lang, **exc.values)))
        if stored:
            try:
                rows += self._index_files(list(stored.values()), lang, progress)
            except AssistantError as exc:  # the index itself failed (store down, damaged catalog)
                raise _error(str(exc), lang) from exc
            except Exception as exc:
                log.exception("indexing uploads failed")
                raise _error(t("internal_error", lang), lang) from exc
        for name, status, reason in rows:
            if status == "result_failed":
                _say(f"{name}: {reason}", lang)
        return views.results_html(rows, lang)

    def _index_files(
        self, files: list[tuple[Path, str]], lang: str, progress: ProgressFn | None
    ) -> list[tuple[str, str, str]]:
        names = {str(p.resolve()): shown for p, shown in files}

        def on_progress(done: int, total: int, name: str) -> None:
            if progress is not None:
                progress(done / max(total, 1), desc=t("ingesting", lang, name=name) if name else None)

        report = self.engine.ingest([p for p, _ in files], progress=on_progress, prune=False)
        rows: list[tuple[str, str, str]] = []
        by_id = {d.doc_id: d for d in self.engine.documents()}
        for key, ids in (("result_added", report.added), ("result_updated", report.updated),
                         ("result_unchanged", report.unchanged)):
            for doc_id in ids:
                record = by_id.get(doc_id)
                shown = names.get(str(Path(record.path).resolve()), doc_id) if record else doc_id
                rows.append((shown, key, record.title if record else ""))
        for path, reason in report.failed:
            rows.append((names.get(str(Path(path).resolve()), Path(path).name), "result_failed", reason))
        return rows

    def remove(self, doc_id: str | None, lang: str) -> str:
        """Remove a document from the index (and its stored upload, if it was uploaded here)."""
        if not doc_id:
            raise _error(t("choose_doc", lang), lang)
        try:
            record = self.engine.remove(doc_id)
        except DocumentNotFoundError:
            raise _error(t("unknown_doc", lang, doc_id=doc_id), lang) from None
        except AssistantError as exc:
            raise _error(str(exc), lang) from exc
        upload_root = Path(self.settings.ui.upload_dir).resolve()
        source = Path(record.path)
        if source.is_relative_to(upload_root) and source.is_file():
            source.unlink()
        gr.Info(views.esc(t("removed", lang, title=record.title)), title=t("info", lang))
        return t("removed", lang, title=record.title)

    # ----- settings -----
    def settings_info(self) -> dict[str, Any]:
        """What the Settings panel shows, keyed by i18n labels."""
        s = self.settings
        status = self.engine.status()
        backend = s.llm.backend
        if backend == "local":
            model = s.llm.local_model
        elif backend == "openai":
            model = f"{s.llm.model} @ {s.llm.base_url}"
        else:
            model = "—"
        return {
            "set_embedding": f"{status['embedding_model']} ({status['embedding_dim']}d)",
            "set_backend": backend,
            "set_model": model,
            "set_docs": status["documents"],
            "set_chunks": status["chunks"],
            "set_vectors": status["vectors"],
            "set_topk": s.retrieval.top_k,
            "set_collection": status["collection"],
            "set_store": status["store_location"],
            "set_last": status["last_ingest"] or "—",
            "set_uploads": f"{Path(s.ui.upload_dir).resolve()} (≤ {s.ui.max_upload_mb} MB)",
        }

    def settings_view(self, lang: str) -> str:
        info = self.settings_info()
        if info["set_backend"] == "extractive":
            info["set_model"] = t("extractive_model", lang)
        return views.settings_html(info, lang)
