"""Validity of one edition as of a date: in force, superseded by a newer edition, repealed,
not yet effective, or unknown (when the dates it would take are not known — never guessed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Validity = Literal["in_force", "superseded", "repealed", "not_yet_effective", "unknown"]
VALIDITIES: tuple[Validity, ...] = ("in_force", "superseded", "repealed", "not_yet_effective", "unknown")
LABELS_ZH: dict[str, str] = {
    "in_force": "现行有效",
    "superseded": "已被修订",
    "repealed": "已废止",
    "not_yet_effective": "尚未生效",
    "unknown": "状态不明",
}
LABELS_EN: dict[str, str] = {
    "in_force": "in force",
    "superseded": "superseded",
    "repealed": "repealed",
    "not_yet_effective": "not yet effective",
    "unknown": "status unknown",
}


def label(validity: str, language: str = "zh") -> str:
    """The label shown to users: 现行有效 / 已被修订 / 已废止 / 尚未生效 / 状态不明 (or the English one)."""
    return (LABELS_ZH if language == "zh" else LABELS_EN).get(
        validity, LABELS_ZH["unknown"] if language == "zh" else ""
    )


@dataclass
class Edition:
    """One document as an edition of a work, with every date that decides its validity."""

    doc_id: str
    title: str
    work_id: str
    edition: str | None = None  # "2022年修正"
    edition_date: dt.date | None = None  # latest passing / revision / publication
    effective: dt.date | None = None  # when this edition took effect, if known
    issued: dt.date | None = None
    repealed: dt.date | None = None  # from the sidecar or a later document's 《…》同时废止
    repealed_by: str | None = None  # doc_id of the repealing document, when one is indexed
    declared: str | None = None  # validity fixed by the sidecar (applies to today)
    superseded_by: list[str] = field(default_factory=list)  # sidecar: doc_ids of documents superseding it

    @property
    def start(self) -> dt.date | None:
        """The first day it can be in force: its effective date, else the date of the edition."""
        return self.effective or self.edition_date or self.issued

    @property
    def order(self) -> dt.date | None:
        """What orders editions of one work (newest last)."""
        return self.edition_date or self.effective or self.issued


def today() -> dt.date:
    return dt.date.today()


def compute_validity(ed: Edition, as_of: dt.date | None, later: Iterable[Edition]) -> Validity:
    """Validity of `ed` on `as_of` (today when None), given the editions that replace it (`later`).

    A validity declared in the sidecar decides for today; for another date the dates decide.
    """
    day = as_of or today()
    if ed.declared and day == today():
        return ed.declared  # type: ignore[return-value]
    if ed.repealed is not None and day >= ed.repealed:
        return "repealed"
    start = ed.start
    if start is None:
        return "unknown"
    if day < start:
        return "not_yet_effective"
    for newer in later:
        if newer.start is not None and newer.start <= day:
            return "superseded"
    return "in_force"
