"""`assistant kb list|create|remove`: the knowledge bases under the index folder (see assistant.kb)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from .cli_common import ConfigOpt, IndexOpt, JsonOpt, StoreOpt, build_settings, console, exits_on_error
from .kb import DEFAULT_KB, KnowledgeBaseError, catalog_counts, create_kb, find_kb, list_kbs, remove_kb, root_of

kb_app = typer.Typer(help="Knowledge bases: separate indexes, one folder each under <index>/kb/.", no_args_is_help=True)


@kb_app.command("list")
def list_command(json_out: JsonOpt = False, index: IndexOpt = None, store: StoreOpt = None, config: ConfigOpt = None) -> None:
    """List the knowledge bases with their document and chunk counts."""
    with exits_on_error():
        settings = build_settings(index, store, config)
    rows = [{"name": kb.name, "path": str(kb.path), **dict(zip(("documents", "chunks"), catalog_counts(kb.path), strict=True))}
            for kb in list_kbs(root_of(settings.store.path, settings.kb))]  # fmt: skip
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
    with exits_on_error():
        settings = build_settings(index, store, config)
        try:
            kb = create_kb(root_of(settings.store.path, settings.kb), name)
        except KnowledgeBaseError as exc:
            from .cli_common import fail

            fail(exc, 2)
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
    from .cli_common import fail
    from .index import wipe_index

    with exits_on_error():
        settings = build_settings(index, store, config)
        root = root_of(settings.store.path, settings.kb)
        if name == DEFAULT_KB:
            fail(KnowledgeBaseError("The 'default' knowledge base is the index folder itself and cannot be removed."), 2)
        kb = find_kb(root, name)
        if not yes and not typer.confirm(f"Delete knowledge base '{name}' ({kb.path}/) and everything indexed in it?"):
            raise typer.Exit(1)
        if settings.store.mode == "server":
            wipe_index(build_settings(index, store, config, kb=name))
        remove_kb(root, name)
    console.print(f"Removed knowledge base '{name}'.", highlight=False)
