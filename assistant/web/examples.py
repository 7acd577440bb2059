"""The example questions and the sample-corpus notice, made to follow what the index holds.

The bundled sample corpus (`corpus/` of this project) has questions checked against it
(`i18n.EXAMPLES`) and a notice that its documents are illustrative. Any other index gets
questions about its own documents, or the ones set in `ui.examples`, and no notice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from .i18n import EXAMPLES

SAMPLE_CORPUS = Path(__file__).resolve().parents[2] / "corpus"
MAX_EXAMPLES = len(EXAMPLES)


class _Doc(Protocol):
    """What these functions read of a catalog record."""

    path: str
    title: str
    meta: dict[str, str]


def is_sample(doc: _Doc) -> bool:
    """Whether a document was loaded from the bundled sample corpus."""
    real = os.path.realpath(doc.path)
    return real.startswith(os.path.realpath(SAMPLE_CORPUS) + os.sep)


def shows_sample_notice(docs: Sequence[_Doc]) -> bool:
    """The "illustrative samples" notice: only when sample-corpus documents are indexed."""
    return any(is_sample(d) for d in docs)


def question_about(doc: _Doc) -> str:
    """A question any policy document answers, in the document's language."""
    if doc.meta.get("language", "zh") == "en":
        return f"What are the main measures of “{doc.title}”?"
    return f"《{doc.title}》的主要措施有哪些？"


def example_questions(docs: Sequence[_Doc], configured: Sequence[str] = ()) -> list[str]:
    """Up to MAX_EXAMPLES questions: `ui.examples` when set, the checked sample questions when the
    sample corpus is indexed, else one question about each of the first indexed documents."""
    if configured:
        return list(configured)[:MAX_EXAMPLES]
    if shows_sample_notice(docs):
        return list(EXAMPLES)
    return [question_about(d) for d in docs if d.title][:MAX_EXAMPLES]
