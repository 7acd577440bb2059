"""`assistant diff OLD_DOC NEW_DOC [--json]`: what changed between two editions of one work.

Registered by `assistant.cli` like `eval`; OLD_DOC and NEW_DOC are doc_ids of the index or paths
of files. Documents of different works are refused with a clear error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..cli_common import ConfigOpt, IndexOpt, StoreOpt, build_settings, console, fail
from ..errors import AssistantError
from ..types import Document
from .diff import Diff
from .library import Library, VersionError


def _load(refs: list[str], settings_args: tuple) -> tuple[list[Document], Library | None]:
    """Documents from files or from the index (then with the index's library, sidecar included)."""
    docs: dict[str, Document] = {}
    for ref in refs:
        if Path(ref).is_file():
            from ..documents import load_document

            docs[ref] = load_document(Path(ref), Path(ref).parent)
    missing = [r for r in refs if r not in docs]
    library = None
    if missing:
        from ..engine import Engine

        engine = Engine.open(build_settings(*settings_args))
        try:
            for ref in missing:
                doc = engine.document_text(ref)
                if doc is None:
                    raise VersionError(
                        f"'{ref}' is neither a file nor a doc_id of the index — see `assistant status` for the ids."
                    )
                docs[ref] = doc
            library = engine.editions()
        finally:
            engine.close()
    return [docs[r] for r in refs], library


def diff_command(
    old_doc: Annotated[str, typer.Argument(help="The older edition: a doc_id of the index or a file path.")],
    new_doc: Annotated[str, typer.Argument(help="The newer edition: a doc_id of the index or a file path.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Compare two editions of one law article by article: added, removed, changed, renumbered."""
    from .compare import compare_documents

    try:
        (old, new), library = _load([old_doc, new_doc], (index, store, config))
        result = compare_documents(old, new, library)
    except AssistantError as exc:
        fail(exc)
        return
    if json_out:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    _print(result.diff, result.old_label, result.new_label)


def _print(diff: Diff, old_label: str, new_label: str) -> None:
    console.print(f"[bold]{old_label}[/] → [bold]{new_label}[/]", highlight=False)
    console.print(
        f"{diff.old_articles} → {diff.new_articles} articles: {len(diff.added)} added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed, {len(diff.renumbered)} renumbered only",
        highlight=False,
    )
    table = Table(show_lines=True)
    for col in ("", "old", "new", "text"):
        table.add_column(col)
    for e in diff.entries:
        if e.kind == "unchanged":
            continue
        d = e.to_dict()
        text = d.get("text") or (f"{d['old_text']}\n→ {d['new_text']}" if e.kind == "changed" else "")
        table.add_row(e.kind, e.old or "", e.new or "", text)
    console.print(table)
