"""The request fields every route group reads the same way: the knowledge base (`model`) and `filters`,
with OpenAI-shaped errors when they are wrong."""

from __future__ import annotations

from typing import Any

from ..engine import Engine
from ..kb import UnknownKnowledgeBaseError
from ..types import Filters
from .guard import APIError
from .library import Library


def kb_engine(library: Library, name: str) -> Engine:
    """The Engine of knowledge base `name`; a 404 `model_not_found` when there is none."""
    try:
        return library.engine(name)
    except UnknownKnowledgeBaseError as exc:
        raise APIError(404, str(exc), "model_not_found", "model") from None


def request_filters(value: str | dict[str, Any] | None) -> Filters:
    """A request's `filters`: the `doc=ID issuer=NAME …` string, or those fields as an object."""
    if isinstance(value, dict):
        allowed = {"doc_ids", "issuers", "date_from", "date_to", "as_of"}
        if unknown := set(value) - allowed:
            raise APIError(400, f"Unknown filter fields {sorted(unknown)}; use {sorted(allowed)}.", param="filters")
        return Filters.parse(**value)
    return Filters.parse(value or "")
