"""What every `assistant` command shares: the common options, settings building, the error exit,
the ingest progress bar and the filter reader.

`assistant.cli`, `assistant.web.command` and `assistant.evaluation.command` all import from here
(never from each other), so the commands import one another without a cycle. Nothing heavy is
imported at module level: the CLI imports this on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from .config import Settings, load_settings
from .errors import AssistantError
from .types import Filters

console = Console()
err_console = Console(stderr=True)


class Backend(StrEnum):
    """The answer backends a command can be told to use (`llm.backend`)."""

    local = "local"
    openai = "openai"
    extractive = "extractive"


class JudgeBackend(StrEnum):
    """The backends that can judge answers (`assistant eval --judge-llm`)."""

    local = "local"
    openai = "openai"


IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index", help="Index directory (default: index/; env ASSISTANT_INDEX, the `index` setting).",
        show_default=False,
    ),
]  # fmt: skip
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Use a Chroma server, e.g. http://127.0.0.1:8000, instead of the embedded store "
        "(env ASSISTANT_STORE_URL, the `store_url` setting).",
        show_default=False,
    ),
]
KBOpt = Annotated[
    str | None,
    typer.Option(
        "--kb", envvar="ASSISTANT_KB", help="Knowledge base: its own index in <index>/kb/NAME/ (default: the index "
        "folder itself, 'default'); `assistant kb list` shows them.", show_default=False,
    ),
]  # fmt: skip
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="ASSISTANT_CONFIG", help="Settings file (default: ./assistant.toml if present)."),
]
LLMOpt = Annotated[
    Backend | None,
    typer.Option("--llm", case_sensitive=False, help="Answer backend for this call.", show_default=False),
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        help="Restrict retrieval: doc=ID[,ID], issuer=NAME, from=YYYY-MM-DD, to=YYYY-MM-DD, as_of=YYYY-MM-DD "
        "(repeatable).",
        show_default=False,
    ),
]
TopKOpt = Annotated[int | None, typer.Option("--top-k", min=1, help="Passages given to the answerer.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def build_settings(
    index: Path | None,
    store: str | None,
    config: Path | None,
    *,
    llm: Backend | None = None,
    top_k: int | None = None,
    kb: str | None = None,
    **sections: dict[str, Any],
) -> Settings:
    """Settings from the file and environment, with the command line's options on top (None: not given).

    Raises ConfigError (an AssistantError) for a bad file, value or --store URL.
    """
    overrides: dict[str, Any] = {name: dict(values) for name, values in sections.items()}
    if llm is not None:
        overrides.setdefault("llm", {})["backend"] = llm.value
    if top_k is not None:
        overrides.setdefault("retrieval", {})["top_k"] = top_k
    settings = load_settings(config, index=index, store_url=store, kb=kb, **overrides)
    own = settings.store.path / "assistant.toml"  # a knowledge base's own settings, unless --config is given
    if kb and config is None and own.is_file():
        settings = load_settings(own, index=index, store_url=store, kb=kb, **overrides)
    return settings


def fail(exc: Exception, code: int = 1) -> NoReturn:
    """Print `exc` as a one-line error and exit with `code` (1: failed, 2: usage)."""
    err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_filters(values: list[str] | None) -> Filters:
    """The --filter options as Filters (Filters.parse; a FilterError is an AssistantError)."""
    return Filters.parse(" ".join(values or []))


@contextmanager
def progress_bar(title: str, *, eta: bool = False, quiet: bool = False) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr (off when it is not a terminal, or `quiet`); yields
    `update(completed=, total=, description=)` for its one task."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[ProgressColumn] = [TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if eta:
        columns += [TextColumn("ETA"), TimeRemainingColumn()]
    columns.append(TextColumn("{task.description}"))
    with Progress(*columns, console=err_console, transient=True, disable=quiet or not err_console.is_terminal) as bar:
        task = bar.add_task("", total=None)
        yield lambda **fields: bar.update(task, **fields)


@contextmanager
def ingest_progress(*, quiet: bool = False) -> Iterator[Callable[[int, int, str], None]]:
    """A progress callback for an ingest: a bar on stderr when it is a terminal (and not `quiet`)."""
    with progress_bar("Ingesting", quiet=quiet) as update:
        yield lambda done, total, name: update(completed=done, total=total, description=name)


@contextmanager
def exits_on_error(code: int = 1) -> Iterator[None]:
    """Turn an AssistantError raised in the block into `fail(exc, code)`: a one-line message and an exit."""
    try:
        yield
    except AssistantError as exc:
        fail(exc, code)
