"""Comparing two documents as editions of one work (refusing documents of different works)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..types import Document
from .diff import Diff, diff_documents
from .library import DocInput, Library, VersionError, build_library, version_meta


@dataclass
class Comparison:
    """A diff with what identifies its two editions."""

    old: dict[str, Any]
    new: dict[str, Any]
    diff: Diff

    @property
    def old_label(self) -> str:
        return _label(self.old)

    @property
    def new_label(self) -> str:
        return _label(self.new)

    def to_dict(self) -> dict[str, Any]:
        return {"old_doc": self.old, "new_doc": self.new, **self.diff.to_dict()}


def _label(d: dict[str, Any]) -> str:
    return f"《{d['title']}》（{d.get('edition') or d['doc_id']}）"


def compare_documents(old: Document, new: Document, library: Library | None = None) -> Comparison:
    """Diff `old` against `new`; VersionError when they are not editions of one work.

    With `library` (the index's), works and editions come from it; otherwise from the two texts.
    """
    if library is None or old.doc_id not in library.editions or new.doc_id not in library.editions:
        inputs = [DocInput(d.doc_id, d.title, {**d.meta, **version_meta(d)}) for d in (old, new)]
        if old.doc_id == new.doc_id:
            inputs[1].doc_id = new.doc_id + "#new"
        library = build_library(inputs)
        ids = [i.doc_id for i in inputs]
    else:
        ids = [old.doc_id, new.doc_id]
    eds = [library.edition(i) for i in ids]
    if eds[0].work_id != eds[1].work_id:
        raise VersionError(
            f"《{old.title}》 and 《{new.title}》 are different works (different titles or issuers), not editions "
            "of one work, so there is no diff between them. Compare two editions of the same law."
        )
    sides = [
        {
            "doc_id": d.doc_id,
            "title": d.title,
            "edition": e.edition,
            "edition_date": e.edition_date.isoformat() if e.edition_date else None,
        }
        for d, e in zip((old, new), eds, strict=True)
    ]
    return Comparison(sides[0], sides[1], diff_documents(old.text, new.text))
