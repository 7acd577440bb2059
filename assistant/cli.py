"""The `assistant` command line: ingest, status, ask, chat, serve, eval, diff, kb, feedback.

Each command only turns options into calls on the core (`ingest`, `Engine`, ...) and
results into output; errors of the core become a one-line message and an exit code.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from .cli_common import (
    ConfigOpt,
    FilterOpt,
    IndexOpt,
    JsonOpt,
    KBOpt,
    LLMOpt,
    StoreOpt,
    TopKOpt,
    build_settings,
    console,
    err_console,
    exits_on_error,
    ingest_progress,
    parse_filters,
)
from .evaluation.command import eval_command
from .feedback import feedback_app
from .kb_command import kb_app
from .runtime import configure_process
from .versions.command import diff_command
from .web.command import serve_command

if TYPE_CHECKING:
    from .engine import Engine

app = typer.Typer(
    name="assistant",
    help="Answer questions about policy documents, with verified citations. Runs offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: corpus/).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop this index and build it from scratch.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    kb: KBOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Index documents (PDF, DOCX, HTML, Markdown, TXT). Only new or changed files are embedded.

    Exit code 0 when every file was indexed, 1 when some failed (the rest is indexed), 2 on usage errors.
    """
    from .engine import Engine
    from .index import wipe_index

    with exits_on_error():
        settings = build_settings(index, store, config, kb=kb)
        if kb and not settings.store.path.is_dir():
            from .kb import find_kb, root_of

            find_kb(root_of(settings.store.path, kb), kb)  # an unknown knowledge base is an error, not a new one
        if rebuild:  # before opening: a rebuild is also the cure for an index too damaged to open
            wipe_index(settings)
        engine = Engine.open(settings, create=True)
        try:
            with ingest_progress(quiet=json_out) as on_progress:
                report = engine.ingest(list(paths or [settings.corpus]), progress=on_progress)
        finally:
            engine.close()
    if json_out:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        table = Table(title="Ingest summary", show_header=True)
        for col in ("added", "updated", "unchanged", "removed", "failed", "chunks embedded", "index docs/chunks", "seconds"):
            table.add_column(col, justify="right")
        table.add_row(
            str(len(report.added)), str(len(report.updated)), str(len(report.unchanged)), str(len(report.removed)),
            str(len(report.failed)), str(report.chunks_embedded),
            f"{report.documents_total}/{report.chunks_total}", f"{report.seconds:.1f}",
        )
        console.print(table)
        for path, reason in report.failed:
            console.print(f"[red]failed[/] {path}: {reason}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def status(
    json_out: JsonOpt = False,
    kb: KBOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show what is indexed: documents, chunks, model, collection, store path, last ingest."""
    from .engine import Engine

    with exits_on_error():
        engine = Engine.open(build_settings(index, store, config, kb=kb))
        try:
            info = engine.status()
            docs = engine.documents()
            versions = engine.versions()  # work_id, edition, effective_date, validity (today)
        finally:
            engine.close()
    if json_out:
        info["documents_list"] = [
            {"doc_id": d.doc_id, "title": d.title, "type": d.doc_type, "chunks": d.n_chunks, **d.meta,
             **versions.get(d.doc_id, {})} for d in docs
        ]
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return
    summary = Table(show_header=False, box=None)
    for key in ("documents", "chunks", "embedding_model", "collection", "store_location", "last_ingest"):
        summary.add_row(key, str(info[key]))
    console.print(summary)
    table = Table(title="Documents")
    for col in ("doc_id", "title", "type", "date", "文号", "chunks"):
        table.add_column(col)
    for d in docs:
        table.add_row(d.doc_id, d.title[:40], d.doc_type, d.meta.get("date", ""), d.meta.get("doc_number", ""), str(d.n_chunks))
    console.print(table)


def _engine(
    index: Path | None, store: str | None, config: Path | None, llm: LLMOpt, top_k: int | None = None,
    kb: str | None = None,
) -> Engine:
    from .engine import Engine

    return Engine.open(build_settings(index, store, config, llm=llm, top_k=top_k, kb=kb))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    json_out: JsonOpt = False,
    filter_: FilterOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Answer from the editions in force on this date (YYYY-MM-DD; default today).",
                     show_default=False),
    ] = None,
    top_k: TopKOpt = None,
    llm: LLMOpt = None,
    kb: KBOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Answer one question with [n] citations and the quoted sources."""
    from .events import collect
    from .render import print_answer

    with exits_on_error():
        filters = parse_filters([*(filter_ or []), *([f"as_of={as_of}"] if as_of else [])])
        engine = _engine(index, store, config, llm, top_k, kb)
        show = None if json_out or not console.is_terminal else (
            lambda piece: console.print(piece, end="", highlight=False, markup=False)
        )  # non-interactive: print only the verified answer below
        try:
            answer = collect(engine.stream(question, filters=filters), on_token=show)
        finally:
            engine.close()
    if json_out:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        if console.is_terminal:
            console.print()
            console.rule("verified", style="dim")
        print_answer(console, answer)
    raise typer.Exit(2 if answer.error else 0)


@app.command()
def chat(
    llm: LLMOpt = None,
    kb: KBOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Conversation in the terminal: streamed answers, follow-up questions, /sources, /open N, /filter, /reset."""
    from .repl import run_chat

    with exits_on_error():
        engine = _engine(index, store, config, llm, kb=kb)
    threading.Thread(target=engine.warm_up, name="llm-warm-up", daemon=True).start()
    try:
        run_chat(engine, console)
    finally:
        engine.close()


app.command("serve")(serve_command)
app.command("eval")(eval_command)
app.command("diff")(diff_command)
app.add_typer(kb_app, name="kb")
app.add_typer(feedback_app, name="feedback")


def main() -> None:
    """Console-script entry point."""
    configure_process()
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
