"""The `assistant` command line: ingest, status, ask, chat, serve, eval.

Each command only turns options into calls on the core (`ingest`, `Engine`, ...) and
results into output; errors of the core become a one-line message and an exit code.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

from .config import Settings, load_settings
from .errors import AssistantError
from .runtime import configure_process

app = typer.Typer(
    name="assistant",
    help="Answer questions about policy documents, with verified citations. Runs offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", envvar="ASSISTANT_INDEX", help="Index directory (default: index/).", show_default=False),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="ASSISTANT_STORE_URL",
        help="Use a Chroma server, e.g. http://127.0.0.1:8000, instead of the embedded store.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="ASSISTANT_CONFIG", help="Settings file (default: ./assistant.toml if present)."),
]


def build_settings(index: Path | None, store: str | None, config: Path | None, **sections: Any) -> Settings:
    """Settings from file/env plus the command-line overrides common to every command."""
    base = load_settings(config)
    data = base.model_dump()
    if index is not None:
        data["store"]["path"] = index
    if store:
        url = urlparse(store if "://" in store else f"http://{store}")
        if not url.hostname:
            raise AssistantError(f"--store must look like http://HOST:PORT, got {store!r}")
        data["store"].update(mode="server", host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https")
    for section, values in sections.items():
        data[section].update({k: v for k, v in values.items() if v is not None})
    return Settings.model_validate(data)


def fail(exc: Exception, code: int = 1) -> None:
    err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: corpus/).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop this index and build it from scratch.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Index documents (PDF, DOCX, HTML, Markdown, TXT). Only new or changed files are embedded.

    Exit code 0 when every file was indexed, 1 when some failed (the rest is indexed), 2 on usage errors.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .ingest import ingest as run_ingest

    try:
        settings = build_settings(index, store, config)
        targets = paths or [settings.corpus]
        with Progress(
            TextColumn("[bold]Ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err_console,
            transient=True,
            disable=json_out or not err_console.is_terminal,
        ) as bar:
            task = bar.add_task("", total=None)

            def on_progress(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=name)

            report = run_ingest(list(targets), settings, rebuild=rebuild, progress=on_progress)
    except AssistantError as exc:
        fail(exc)
        return
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
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show what is indexed: documents, chunks, model, collection, store path, last ingest."""
    from .index import open_index
    from .versions import document_versions

    try:
        settings = build_settings(index, store, config)
        idx = open_index(settings)
        info = idx.status()
        docs = idx.catalog.documents()
        versions = document_versions(idx.catalog)  # work_id, edition, effective_date, validity (today)
        idx.close()
    except AssistantError as exc:
        fail(exc)
        return
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


LLMOpt = Annotated[
    str | None,
    typer.Option("--llm", help="Answer backend for this call: local, openai or extractive.", show_default=False),
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        help="Restrict retrieval: doc=ID[,ID], issuer=NAME, from=YYYY-MM-DD, to=YYYY-MM-DD (repeatable).",
        show_default=False,
    ),
]


def _engine(index: Path | None, store: str | None, config: Path | None, llm: str | None, top_k: int | None = None):
    from .engine import Engine

    if llm is not None and llm not in ("local", "openai", "extractive"):
        raise typer.BadParameter("--llm must be local, openai or extractive")
    settings = build_settings(index, store, config, llm={"backend": llm}, retrieval={"top_k": top_k})
    return Engine(settings)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    filter_: FilterOpt = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages given to the answerer.")] = None,
    llm: LLMOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Answer one question with [n] citations and the quoted sources."""
    from .render import print_answer
    from .repl import parse_filter
    from .types import Answer

    try:
        engine = _engine(index, store, config, llm, top_k)
        filters = parse_filter(" ".join(filter_ or []))
        answer = None
        for item in engine.stream(question, filters=filters):
            if isinstance(item, Answer):
                answer = item
            elif not json_out and not console.is_terminal:
                pass  # non-interactive: print only the verified answer below
            elif not json_out:
                console.print(item, end="", highlight=False, markup=False)
        engine.close()
    except AssistantError as exc:
        fail(exc)
        return
    assert answer is not None
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
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Conversation in the terminal: streamed answers, follow-up questions, /sources, /open N, /filter, /reset."""
    from .repl import run_chat

    try:
        engine = _engine(index, store, config, llm)
    except AssistantError as exc:
        fail(exc)
        return
    threading.Thread(target=engine.warm_up, name="llm-warm-up", daemon=True).start()
    try:
        run_chat(engine, console)
    finally:
        engine.close()


def _register_optional_commands() -> None:
    """`serve` and `eval` live beside their front ends; their modules import nothing heavy at top level."""
    import importlib
    import importlib.util

    for module, name, attr in (
        (".web.command", "serve", "serve_command"),
        (".evaluation.command", "eval", "eval_command"),
        (".versions.command", "diff", "diff_command"),
    ):
        if importlib.util.find_spec(module, __package__) is not None:
            app.command(name)(getattr(importlib.import_module(module, __package__), attr))


def main() -> None:
    """Console-script entry point."""
    configure_process()
    _register_optional_commands()
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":
    main()
