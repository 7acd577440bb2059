"""The Gradio Blocks app: layout, wiring of events to `Handlers`, and launching it safely.

One Engine serves every visitor; everything a visitor does lives in their `gr.State`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..api.library import Library
from ..engine import Engine
from . import actions, views
from .examples import MAX_EXAMPLES, example_questions, shows_sample_notice
from .handlers import Handlers
from .i18n import pick_language, t
from .session import Session
from .theme import CHAT_JS, CSS, DOC_JS, SOURCES_JS, make_theme
from .uploads import ALLOWED_SUFFIXES

log = logging.getLogger(__name__)

ANSWER_CONCURRENCY = 4  # answers in flight; the local LLM serialises generation itself
VIEW_CONCURRENCY = 8  # quick clicks (citations, language) must not wait behind long answers


def header_html(lang: str) -> str:
    return f'<div class="brand"><h1>{views.esc(t("title", lang))}</h1><p>{views.esc(t("subtitle", lang))}</p></div>'


def _event_data(evt: gr.EventData) -> tuple[int, int]:
    data = getattr(evt, "_data", None) or {}
    try:
        return int(data.get("turn", -1)), int(data.get("n", 0))
    except (TypeError, ValueError):
        return -1, 0


def _same(text: str) -> str:
    """An example button's own label, put into the question box."""
    return text


@dataclass
class _Widgets:
    """The components language switching relabels, in the order `relabel` returns updates."""

    items: list[tuple[Any, Any]]  # (component, fn(lang) -> update)

    def outputs(self) -> list[Any]:
        return [c for c, _ in self.items]

    def updates(self, lang: str) -> list[Any]:
        return [fn(lang) for _, fn in self.items]


def build_app(engine: Engine, library: Library | None = None) -> gr.Blocks:
    """The web UI over `engine`. Call `.queue(...)` and `.launch(...)` (see `launch`) to serve it.
    `library`: the knowledge bases (shared with the HTTP API)."""
    h = Handlers(engine)
    library = library or Library(engine)
    lang0 = "zh"
    indexed = engine.documents()
    examples0 = example_questions(indexed, engine.settings.ui.examples)
    blank = Session()
    with gr.Blocks(title=t("title", lang0), delete_cache=(3600, 86400)) as demo:
        session = gr.State(Session())
        with gr.Row(elem_id="topbar"):
            header = gr.HTML(header_html(lang0), apply_default_css=False, js_on_load=None, scale=8)
            lang_radio = gr.Radio(
                [("中文", "zh"), ("English", "en")], value=lang0, show_label=False, container=False, elem_id="lang"
            )
        with gr.Tabs():
            with gr.Tab(t("tab_chat", lang0), id="chat") as tab_chat:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=7):
                        chat = gr.HTML(
                            views.chat_html(blank), js_on_load=CHAT_JS, apply_default_css=False, elem_id="chat-view"
                        )
                        with gr.Row(equal_height=True, elem_id="ask-row"):
                            question = gr.Textbox(
                                show_label=False, placeholder=t("question_ph", lang0), lines=1, max_lines=4,
                                container=False, scale=8, autofocus=True, submit_btn=t("send", lang0),
                                elem_id="question",
                            )
                            new = gr.Button(t("new_chat", lang0), scale=1, min_width=110, elem_id="new-chat")
                            stop = gr.Button(actions.tx("stop", lang0), scale=1, min_width=80, variant="stop",
                                             elem_id="stop")  # fmt: skip
                        with gr.Row(equal_height=True, elem_id="answer-actions"):
                            good = gr.Button(actions.tx("good", lang0), size="sm", min_width=80, elem_id="good")
                            bad = gr.Button(actions.tx("bad", lang0), size="sm", min_width=80, elem_id="bad")
                            reason = gr.Textbox(show_label=False, placeholder=actions.tx("reason_ph", lang0),
                                                container=False, scale=4, elem_id="reason")  # fmt: skip
                            memo_kind = gr.Radio(["Markdown", "DOCX"], value="Markdown", show_label=False,
                                                 container=False, scale=2, elem_id="memo-kind")  # fmt: skip
                            memo_btn = gr.Button(actions.tx("memo", lang0), size="sm", min_width=110, elem_id="memo")
                        memo_file = gr.File(label=actions.tx("memo", lang0), interactive=False, visible=False,
                                            elem_id="memo-file")  # fmt: skip
                        examples_label = gr.HTML(
                            f'<div class="examples-label">{t("examples", lang0)}</div>', apply_default_css=False,
                            js_on_load=None,
                        )
                        with gr.Row():
                            example_buttons = [  # follow the index: see examples.py
                                gr.Button(
                                    examples0[i] if i < len(examples0) else "", size="sm",
                                    elem_classes=["example-btn"], visible=i < len(examples0),
                                )
                                for i in range(MAX_EXAMPLES)
                            ]
                        with gr.Accordion(t("filters", lang0), open=False) as filters_box:
                            with gr.Row():
                                f_docs = gr.Dropdown(
                                    h.doc_choices(), multiselect=True, label=t("filter_docs", lang0), scale=3,
                                    allow_custom_value=True,  # choices change as documents come and go
                                )
                                f_issuers = gr.Dropdown(
                                    h.issuer_choices(), multiselect=True, label=t("filter_issuers", lang0), scale=2,
                                    allow_custom_value=True,
                                )
                            with gr.Row():
                                f_from = gr.DateTime(label=t("date_from", lang0), include_time=False, type="string")
                                f_to = gr.DateTime(label=t("date_to", lang0), include_time=False, type="string")
                    with gr.Column(scale=5):
                        sources = gr.HTML(
                            views.sources_html(blank), js_on_load=SOURCES_JS, apply_default_css=False,
                            elem_id="source-viewer",
                        )
                        with gr.Accordion(t("full_text", lang0), open=False) as doc_box:
                            doc_view = gr.HTML(
                                f'<div class="placeholder">{t("doc_empty", lang0)}</div>', js_on_load=DOC_JS,
                                apply_default_css=False, elem_id="doc-viewer",
                            )
            with gr.Tab(t("tab_docs", lang0), id="docs") as tab_docs:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        docs_table = gr.HTML(h.documents(lang0), apply_default_css=False, js_on_load=None,
                                             elem_id="docs-table")
                    with gr.Column(scale=2):
                        files = gr.File(
                            label=t("upload", lang0), file_count="multiple", type="filepath",
                            file_types=list(ALLOWED_SUFFIXES), elem_id="upload",
                        )
                        upload_hint = gr.HTML(
                            f'<div class="examples-label">{t("upload_hint", lang0, mb=engine.settings.ui.max_upload_mb)}</div>',
                            apply_default_css=False, js_on_load=None,
                        )
                        upload_btn = gr.Button(t("upload_button", lang0), variant="primary", elem_id="upload-btn")
                        results = gr.HTML("", apply_default_css=False, js_on_load=None, elem_id="upload-results")
                        remove_dd = gr.Dropdown(
                            h.doc_choices(), label=t("remove_label", lang0), allow_custom_value=True, elem_id="remove-doc"
                        )
                        remove_btn = gr.Button(t("remove_button", lang0), variant="stop", elem_id="remove-btn")
                        with gr.Row():
                            diff_old = gr.Dropdown(h.doc_choices(), label="旧版 / older edition", elem_id="diff-old")
                            diff_new = gr.Dropdown(h.doc_choices(), label="新版 / newer edition", elem_id="diff-new")
                        diff_btn = gr.Button("比较版本 / Compare editions", elem_id="diff-btn")
                diff_view = gr.HTML("", apply_default_css=False, js_on_load=None, elem_id="diff-view")
            with gr.Tab(t("tab_settings", lang0), id="settings") as tab_settings:
                settings_view = gr.HTML(h.settings_view(lang0), apply_default_css=False, js_on_load=None)
                kb_view = gr.HTML(actions.kb_html(library, lang0), apply_default_css=False, js_on_load=None,
                                  elem_id="kb-list")  # fmt: skip
                with gr.Row():
                    kb_name = gr.Textbox(label=actions.tx("kb_new", lang0), scale=3, elem_id="kb-name")
                    kb_create = gr.Button(actions.tx("kb_create", lang0), scale=1, elem_id="kb-create")
                    kb_pick = gr.Dropdown(actions.kb_names(library), label=actions.tx("kb_remove", lang0), scale=3,
                                          allow_custom_value=True, elem_id="kb-pick")  # fmt: skip
                    kb_remove = gr.Button(actions.tx("kb_remove", lang0), variant="stop", scale=1, elem_id="kb-remove")
        footer = gr.HTML(  # the "illustrative samples" notice: only over the bundled sample corpus
            f'<div class="footer">{t("footer", lang0)}</div>', apply_default_css=False, js_on_load=None,
            visible=shows_sample_notice(indexed),
        )

        # ----- chat -----
        ask_in = [question, session, f_docs, f_issuers, f_from, f_to]
        ask_out = [question, chat, sources, session]
        ask_opts: dict[str, Any] = {"concurrency_id": "answer", "show_progress": "hidden"}
        asking: list[Any] = [question.submit(h.ask, ask_in, ask_out, api_name="ask", **ask_opts)]
        for button in example_buttons:
            asking.append(button.click(_same, button, question, queue=False, api_visibility="private").then(
                h.ask, ask_in, ask_out, api_visibility="private", **ask_opts
            ))  # fmt: skip
        # Stop cancels the answer being generated (the handler's worker sees the page's generator close).
        # Marked again once the cancel has landed: an update of the answer already on its way must not win.
        stop.click(actions.stopped, session, [chat, session], cancels=asking, queue=False, api_visibility="private").then(
            actions.stopped, session, [chat, session], queue=False, api_visibility="private"
        )
        view_opts: dict[str, Any] = {
            "concurrency_id": "view", "concurrency_limit": VIEW_CONCURRENCY, "show_progress": "hidden",
            "api_visibility": "private",
        }

        def on_new(s: Session) -> tuple[str, str, str, Session]:
            chat_v, sources_v, s = h.new_chat(s)
            return chat_v, sources_v, f'<div class="placeholder">{views.esc(t("doc_empty", s.lang))}</div>', s

        new.click(on_new, session, [chat, sources, doc_view, session], **view_opts)

        def on_cite(s: Session, evt: gr.EventData) -> tuple[str, Session]:
            return h.select_citation(s, *_event_data(evt))

        def on_open(s: Session, evt: gr.EventData) -> tuple[str, Any]:
            return h.open_document(s, *_event_data(evt)), gr.Accordion(open=True)

        chat.cite(on_cite, session, [sources, session], **view_opts)

        # ----- feedback and memo -----
        good.click(lambda s, r: actions.feedback(library, s, "good", r), [session, reason], reason, **view_opts)
        bad.click(lambda s, r: actions.feedback(library, s, "bad", r), [session, reason], reason, **view_opts)

        def on_memo(s: Session, kind: str) -> Any:
            path = actions.memo(library, s, kind)
            return gr.File(value=path, visible=path is not None)

        memo_btn.click(on_memo, [session, memo_kind], memo_file, **view_opts)

        # ----- knowledge bases -----
        def on_kb(change: Any, name: str | None, s: Session) -> tuple[str, Any, str]:
            html = change(library, name, s.lang)
            return html, gr.Dropdown(choices=actions.kb_names(library), value=None), ""

        kb_create.click(lambda n, s: on_kb(actions.kb_create, n, s), [kb_name, session], [kb_view, kb_pick, kb_name],
                        **view_opts)  # fmt: skip
        kb_remove.click(lambda n, s: on_kb(actions.kb_remove, n, s), [kb_pick, session], [kb_view, kb_pick, kb_name],
                        **view_opts)  # fmt: skip
        sources.open_doc(on_open, session, [doc_view, doc_box], **view_opts)

        # ----- documents -----
        def refreshed(lang: str) -> tuple[Any, ...]:
            docs = h.doc_choices()
            records = engine.documents()
            examples = example_questions(records, engine.settings.ui.examples)
            buttons = [
                gr.Button(examples[i] if i < len(examples) else "", visible=i < len(examples))
                for i in range(MAX_EXAMPLES)
            ]
            return (
                h.documents(lang), gr.Dropdown(choices=docs), gr.Dropdown(choices=h.issuer_choices()),
                gr.Dropdown(choices=docs, value=None), h.settings_view(lang), *buttons,
                gr.HTML(visible=shows_sample_notice(records)),
                gr.Dropdown(choices=docs), gr.Dropdown(choices=docs),
            )

        doc_outputs = [docs_table, f_docs, f_issuers, remove_dd, settings_view, *example_buttons, footer, diff_old, diff_new]

        def on_upload(paths: list[str] | None, s: Session, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            return (h.upload(paths, s.lang, progress), *refreshed(s.lang), None)

        def on_remove(doc_id: str | None, s: Session) -> tuple[Any, ...]:
            message = h.remove(doc_id, s.lang)
            return (f'<ul class="results"><li class="ok">{views.esc(message)}</li></ul>', *refreshed(s.lang))

        write_opts: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1, "api_visibility": "private"}
        upload_btn.click(on_upload, [files, session], [results, *doc_outputs, files],
                         show_progress_on=[results], **write_opts)
        remove_btn.click(on_remove, [remove_dd, session], [results, *doc_outputs], **write_opts)
        tab_docs.select(lambda s: h.documents(s.lang), session, docs_table, **view_opts)
        diff_btn.click(lambda a, b, s: h.compare(a, b, s.lang), [diff_old, diff_new, session], diff_view, **view_opts)
        tab_settings.select(lambda s: h.settings_view(s.lang), session, settings_view, **view_opts)

        # ----- language -----
        widgets = _Widgets([
            (header, lambda lg: header_html(lg)),
            (tab_chat, lambda lg: gr.Tab(label=t("tab_chat", lg))),
            (tab_docs, lambda lg: gr.Tab(label=t("tab_docs", lg))),
            (tab_settings, lambda lg: gr.Tab(label=t("tab_settings", lg))),
            (question, lambda lg: gr.Textbox(placeholder=t("question_ph", lg), submit_btn=t("send", lg))),
            (new, lambda lg: gr.Button(t("new_chat", lg))),
            (examples_label, lambda lg: f'<div class="examples-label">{views.esc(t("examples", lg))}</div>'),
            (filters_box, lambda lg: gr.Accordion(label=t("filters", lg))),
            (f_docs, lambda lg: gr.Dropdown(label=t("filter_docs", lg))),
            (f_issuers, lambda lg: gr.Dropdown(label=t("filter_issuers", lg))),
            (f_from, lambda lg: gr.DateTime(label=t("date_from", lg))),
            (f_to, lambda lg: gr.DateTime(label=t("date_to", lg))),
            (stop, lambda lg: gr.Button(actions.tx("stop", lg))),
            (good, lambda lg: gr.Button(actions.tx("good", lg))),
            (bad, lambda lg: gr.Button(actions.tx("bad", lg))),
            (reason, lambda lg: gr.Textbox(placeholder=actions.tx("reason_ph", lg))),
            (memo_btn, lambda lg: gr.Button(actions.tx("memo", lg))),
            (memo_file, lambda lg: gr.File(label=actions.tx("memo", lg))),
            (kb_view, lambda lg: actions.kb_html(library, lg)),
            (kb_name, lambda lg: gr.Textbox(label=actions.tx("kb_new", lg))),
            (kb_create, lambda lg: gr.Button(actions.tx("kb_create", lg))),
            (kb_pick, lambda lg: gr.Dropdown(label=actions.tx("kb_remove", lg))),
            (kb_remove, lambda lg: gr.Button(actions.tx("kb_remove", lg))),
            (doc_box, lambda lg: gr.Accordion(label=t("full_text", lg))),
            (files, lambda lg: gr.File(label=t("upload", lg))),
            (upload_hint, lambda lg: f'<div class="examples-label">'
                                     f'{views.esc(t("upload_hint", lg, mb=engine.settings.ui.max_upload_mb))}</div>'),
            (upload_btn, lambda lg: gr.Button(t("upload_button", lg))),
            (remove_dd, lambda lg: gr.Dropdown(label=t("remove_label", lg))),
            (remove_btn, lambda lg: gr.Button(t("remove_button", lg))),
            (docs_table, lambda lg: h.documents(lg)),
            (settings_view, lambda lg: h.settings_view(lg)),
            (footer, lambda lg: f'<div class="footer">{views.esc(t("footer", lg))}</div>'),
        ])

        def on_language(lang: str, s: Session) -> list[Any]:
            s.lang = lang if lang in ("zh", "en") else "zh"
            return [*widgets.updates(s.lang), views.chat_html(s), views.sources_html(s), s]

        lang_radio.change(on_language, [lang_radio, session], [*widgets.outputs(), chat, sources, session], **view_opts)

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            headers = getattr(request, "headers", None) or {}
            lang = pick_language(headers.get("accept-language"))
            return (lang, *refreshed(lang))

        demo.load(on_load, None, [lang_radio, *doc_outputs], **view_opts)
    return demo


def warm_up(engine: Engine) -> None:
    """Load the tokenizer, BM25 index and embedder now, so the first visitor does not wait for them."""
    try:
        engine.retrieve("软件 policy")
    except Exception:  # a cold first question is only slower; the real error surfaces when someone asks
        log.warning("warm-up retrieval failed", exc_info=True)


def launch(
    engine: Engine,
    *,
    host: str,
    port: int,
    auth: tuple[str, str] | None = None,
    quiet: bool = False,
    block: bool = True,
    api_token: str | None = None,
    api: bool = True,
    api_locked: bool = False,
) -> gr.Blocks:
    """Serve the app; blocks until stopped unless `block=False` (then call `.close()` on the result).

    Only Gradio's own cache is served as files: the index, the uploads and the corpus never are.
    With `api`, the HTTP API (/v1, docs at /docs; see assistant.api) is served on the same port, behind
    `api_token` when one is given (`api_locked`: no request gets in).
    """
    settings = engine.settings
    library = Library(engine)
    demo = build_app(engine, library)
    threading.Thread(target=warm_up, args=(engine,), name="web-warm-up", daemon=True).start()
    demo.queue(default_concurrency_limit=ANSWER_CONCURRENCY, max_size=256)
    blocked = [str(Path(p).resolve()) for p in (settings.store.path, settings.ui.upload_dir, settings.corpus)]
    app_kwargs: dict[str, Any] = {}
    if api:
        from ..api import api_route, build_api

        app_kwargs["routes"] = [api_route(build_api(engine, token=api_token, locked=api_locked, library=library))]  # ahead of Gradio's own routes
    demo.launch(
        app_kwargs=app_kwargs,
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message=t("title", "zh") + " · " + t("title", "en"),
        allowed_paths=[],
        blocked_paths=blocked,
        max_file_size=f"{settings.ui.max_upload_mb}mb",
        ssr_mode=False,
        show_error=False,
        mcp_server=False,
        pwa=False,
        quiet=quiet,
        footer_links=["api"],
        theme=make_theme(),
        css=CSS,
        prevent_thread_lock=not block,
    )
    return demo
