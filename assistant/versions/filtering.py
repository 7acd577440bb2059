"""Retrieval as of a date: which documents to leave out (superseded editions of a work), and the
chunk ids that remain — what `Retriever._allowed_chunks` calls."""

from __future__ import annotations

import threading
import weakref
from typing import Any, Protocol

from ..types import Filters
from .library import as_of_date, library_for
from .questions import change_question


class _Catalog(Protocol):
    def documents(self) -> list[Any]: ...
    def generation(self) -> int: ...
    def get_info(self, key: str, default: str | None = None) -> str | None: ...
    def document_text(self, doc_id: str) -> Any: ...
    def chunk_ids_by_document(self) -> dict[str, list[str]]: ...


_ids: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, list[str]]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def excluded_editions(catalog: _Catalog, filters: Filters | None, question: str = "") -> set[str]:
    """Editions not searched as of `filters.as_of` (today when unset). Documents named in
    `filters.doc_ids`, and the two editions a change question compares, are always searched."""
    library = library_for(catalog)
    excluded = library.excluded(as_of_date(filters.as_of if filters else None))
    if excluded and question:
        change = change_question(question, library)
        if change is not None:
            excluded -= {change.old, change.new}
    return excluded - set(filters.doc_ids) if filters and filters.doc_ids else excluded


def chunks_except(catalog: _Catalog, excluded: set[str]) -> set[str]:
    """Every complete chunk id except those of `excluded` documents (the id list is cached per generation)."""
    generation = catalog.generation()
    with _lock:
        hit = _ids.get(catalog)
    if hit is None or hit[0] != generation:
        hit = (generation, catalog.chunk_ids_by_document())
        with _lock:
            _ids[catalog] = hit
    return {c for doc_id, ids in hit[1].items() if doc_id not in excluded for c in ids}
