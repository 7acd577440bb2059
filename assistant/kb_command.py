"""`assistant kb list|create|remove`: the knowledge bases under the index folder (see assistant.kb)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import ConfigOpt, IndexOpt, JsonOpt, StoreOpt, build_settings, console, fail
from .config import Settings
from .errors import AssistantError
from .kb import (
    DEFAULT_KB,
    KnowledgeBaseError,
    UnknownKnowledgeBaseError,
    catalog_counts,
    create_kb,
    find_kb,
    list_kbs,
    remove_kb,
    root_of,
)

kb_app = typer.Typer(help="Knowledge bases: separate indexes, one folder each under <index>/kb/.", no_args_is_help=True)


@contextmanager
def _knowledge_bases(index: Path | None, store: str | None, config: Path | None) -> Iterator[tuple[Settings, Path]]:
    """The command's settings and the index root its knowledge bases are under. An error in the block exits
    with its message: 2 for a malformed, taken or protected name, 1 for an unknown one or any other failure."""
    try:
        settings = build_settings(index, store, config)
        yield settings, root_of(settings.store.path, settings.kb)
    except UnknownKnowledgeBaseError as exc:
        fail(exc, 1)
    except KnowledgeBaseError as exc:
        fail(exc, 2)
    except AssistantError as exc:
        fail(exc, 1)


@kb_app.command("list")
def list_command(json_out: JsonOpt = False, index: IndexOpt = None, store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """List the knowledge bases with their document and chunk counts."""
    with _knowledge_bases(index, store, config) as (_, root):
        kbs = list_kbs(root)
    rows = [{"name": kb.name, "path": str(kb.path), **dict(zip(("documents", "chunks"), catalog_counts(kb.path), strict=True))}
            for kb in kbs]  # fmt: skip
    if json_out:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="Knowledge bases")
    for col in ("name", "documents", "chunks", "path"):
        table.add_column(col)
    for row in rows:
        table.add_row(str(row["name"]), str(row["documents"]), str(row["chunks"]), str(row["path"]))
    console.print(table)


@kb_app.command("create")
def create_command(
    name: Annotated[str, typer.Argument(help="Letters, digits, '_', '.' or '-'.")],
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Create an empty knowledge base; fill it with `assistant ingest --kb NAME DIR`."""
    with _knowledge_bases(index, store, config) as (_, root):
        kb = create_kb(root, name)
    console.print(f"Created knowledge base '{kb.name}' in {kb.path}/. Add documents: assistant ingest --kb {kb.name} DIR",
                  highlight=False)  # fmt: skip


@kb_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The knowledge base to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Delete a knowledge base: its folder, and in server mode its collection on the Chroma server."""
    from .index import wipe_index

    with _knowledge_bases(index, store, config) as (settings, root):
        if name == DEFAULT_KB:
            raise KnowledgeBaseError("The 'default' knowledge base is the index folder itself and cannot be removed.")
        kb = find_kb(root, name)
        if not yes and not typer.confirm(f"Delete knowledge base '{name}' ({kb.path}/) and everything indexed in it?"):
            raise typer.Exit(1)
        if settings.store.mode == "server":
            wipe_index(build_settings(index, store, config, kb=name))
        remove_kb(root, name)
    console.print(f"Removed knowledge base '{name}'.", highlight=False)
