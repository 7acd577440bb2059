"""Knowledge bases: several named indexes, one folder each under the index root.

    <index>/                 the knowledge base 'default' (what every command uses without --kb)
    <index>/kb/NAME/         the knowledge base NAME (`--kb NAME`, the API's `model`)

Each has its own catalog, BM25 index and Chroma collection (embedded: its own chroma/ folder;
server mode: a collection name carrying the folder, see `assistant.index.collection_name`), and may
have its own settings file `assistant.toml` inside its folder. Nothing is shared, so a question to
one never sees another's documents.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import AssistantError

DEFAULT_KB = "default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KnowledgeBaseError(AssistantError):
    """A knowledge base name is malformed, unknown, or already taken."""


class UnknownKnowledgeBaseError(KnowledgeBaseError):
    """No knowledge base of that name."""


def check_name(name: str) -> str:
    """`name` when it is a usable knowledge-base name (letters, digits, `_ . -`, at most 64); ValueError else."""
    if not _NAME.match(name or "") or ".." in name:
        raise ValueError(
            f"Knowledge base names are 1-64 letters, digits, '_', '.' or '-' (starting with a letter or digit): {name!r}"
        )
    return name


@dataclass(frozen=True)
class KnowledgeBase:
    name: str
    path: Path

    @property
    def exists(self) -> bool:
        return any(self.path.glob("*.catalog.sqlite3"))


def root_of(store_path: Path, kb: str | None) -> Path:
    """The index root, given a settings' store path and its knowledge base name."""
    return store_path.parent.parent if kb and kb != DEFAULT_KB else store_path


def kb_path(root: Path, name: str) -> Path:
    return root if name == DEFAULT_KB else root / "kb" / check_name(name)


def list_kbs(root: Path) -> list[KnowledgeBase]:
    """Every knowledge base under `root`: 'default' first, then the others by name."""
    found = [KnowledgeBase(DEFAULT_KB, root)]
    folder = root / "kb"
    if folder.is_dir():
        found += [KnowledgeBase(p.name, p) for p in sorted(folder.iterdir()) if p.is_dir() and _NAME.match(p.name)]
    return found


def find_kb(root: Path, name: str) -> KnowledgeBase:
    """The knowledge base `name` under `root`; UnknownKnowledgeBaseError when there is none."""
    try:
        path = kb_path(root, name)
    except ValueError as exc:
        raise UnknownKnowledgeBaseError(str(exc)) from None
    if name != DEFAULT_KB and not path.is_dir():
        known = ", ".join(k.name for k in list_kbs(root))
        raise UnknownKnowledgeBaseError(f"No knowledge base '{name}' (known: {known}). Create it with `assistant kb create {name}`.")
    return KnowledgeBase(name, path)


def create_kb(root: Path, name: str) -> KnowledgeBase:
    """Make the folder of a new knowledge base; KnowledgeBaseError when the name is bad or taken."""
    try:
        path = kb_path(root, name)
    except ValueError as exc:
        raise KnowledgeBaseError(str(exc)) from None
    if name == DEFAULT_KB or path.exists():
        raise KnowledgeBaseError(f"The knowledge base '{name}' already exists.")
    path.mkdir(parents=True)
    return KnowledgeBase(name, path)


def remove_kb(root: Path, name: str) -> KnowledgeBase:
    """Delete a knowledge base's folder (its catalog, BM25 index and embedded vectors).

    The 'default' one cannot be removed (it is the index root). In server mode the caller drops the
    collection on the server first (`assistant.index.wipe_index`).
    """
    if name == DEFAULT_KB:
        raise KnowledgeBaseError("The 'default' knowledge base is the index folder itself and cannot be removed.")
    kb = find_kb(root, name)
    shutil.rmtree(kb.path)
    return kb


def catalog_counts(path: object) -> tuple[int, int]:
    """(documents, chunks) of the catalogs in a knowledge base folder, without loading any model."""
    from pathlib import Path

    from .catalog import Catalog  # only the counts: no model is loaded

    docs = chunks = 0
    for file in Path(str(path)).glob("*.catalog.sqlite3"):
        catalog = Catalog(file)
        try:
            d, c = catalog.counts()
        finally:
            catalog.close()
        docs, chunks = docs + d, chunks + c
    return docs, chunks
