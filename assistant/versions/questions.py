"""Recognising questions about editions: "反垄断法2022年修改增加了哪些内容？",
"专利法实施细则2010年版与2002年版相比有何变化？". For the answer stage: it gets the two editions
to diff (or None), and then calls `compare_documents`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .editions import normalize_title
from .library import Library
from .validity import Edition

_CHANGE_WORDS = re.compile(
    r"修改|修订|修正|变化|变动|不同|区别|差异|改动|调整了|新增|增加了|删除|删去|相比|对比|比较|what changed|differ",
    re.I,
)
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年?")


@dataclass
class ChangeQuestion:
    """A question asking what changed between two editions of one work."""

    work_id: str
    old: str  # doc_id of the older edition
    new: str  # doc_id of the newer edition


def named_works(question: str, library: Library) -> list[str]:
    """work_ids whose normalised title (at least 3 characters) the question contains, longest title first."""
    q = normalize_title(question)
    found: list[tuple[int, str]] = []
    for work, ids in library.works.items():
        title = normalize_title(library.editions[ids[0]].title)
        if len(title) >= 3 and title in q:
            found.append((len(title), work))
    return [w for _, w in sorted(found, reverse=True)]


def _year_of(ed: Edition) -> int | None:
    day = ed.edition_date or ed.effective
    return day.year if day else None


def change_question(question: str, library: Library) -> ChangeQuestion | None:
    """The two editions a change question is about, or None when it is not one (or the work has one edition).

    Years in the question pick editions ("2010年版与2002年版"); one year picks that edition and the one
    before it; no year picks the newest edition and the one before it.
    """
    if not _CHANGE_WORDS.search(question):
        return None
    for work in named_works(question, library):
        eds = [library.editions[d] for d in library.works[work]]
        distinct: list[Edition] = []  # one document per edition date (duplicates of one edition are not a change)
        for e in eds:
            if not distinct or e.order != distinct[-1].order:
                distinct.append(e)
        if len(distinct) < 2:
            continue
        years = [int(y) for y in _YEAR.findall(question)]
        picked = [e for e in distinct if _year_of(e) in years]
        if len(picked) >= 2:
            old, new = picked[0], picked[-1]
        elif len(picked) == 1:
            i = distinct.index(picked[0])
            old, new = (distinct[i - 1], picked[0]) if i > 0 else (picked[0], distinct[1])
        else:
            old, new = distinct[-2], distinct[-1]
        return ChangeQuestion(work, old.doc_id, new.doc_id)
    return None
