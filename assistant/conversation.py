"""Conversations: the turns front ends keep, and turning a follow-up into a standalone question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LLMError
from .llm import GenerationRequest, LLMBackend
from .prompts import render
from .textutil import language_of


@dataclass
class Turn:
    """One exchange of a conversation, as front ends keep it."""

    question: str
    answer: str
    doc_titles: list[str]


_REFERRING = re.compile(
    r"它|其|该|这个|这些|这项|这一|上述|此|那么|那|还有|呢[？?]?$|\b(?:it|its|this|that|these|those|they|them|there)\b",
    re.I,
)


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation: it refers back ("its second article") or is a fragment.

    A question that names its own policy (《…》) or is long enough to stand alone is left as it is,
    so a new topic in the same conversation is not dragged back to the last answer's documents.
    """
    if "《" in question:
        return False
    short = len(re.findall(r"[\u4e00-\u9fff]", question)) < 8 and len(re.findall(r"[A-Za-z]+", question)) < 5
    return short or bool(_REFERRING.search(question))


def condense(question: str, history: list[Turn] | None, llm: LLMBackend | None = None) -> str:
    """A standalone version of a follow-up question.

    With `llm`, the model rewrites it; otherwise (or when the model fails) the follow-up is joined
    with the documents the last answer drew on, which is what retrieval needs ("its second article"
    + 《that policy》).
    """
    if not history:
        return question
    if llm is not None:
        lang = language_of(question)
        transcript = "\n".join(f"Q: {t.question}\nA: {t.answer[:300]}" for t in history[-3:])
        request = GenerationRequest(
            messages=render("condense", lang, history=transcript, question=question),
            question=question, language=lang, max_tokens=80, temperature=0.0,
        )  # fmt: skip
        try:
            text = "".join(llm.generate(request)).strip()
            if text:
                return text.splitlines()[0]
        except LLMError:
            pass  # fall back to the heuristic below
    if not is_follow_up(question):
        return question
    last = history[-1]
    context = " ".join(f"《{t}》" for t in dict.fromkeys(last.doc_titles)) or last.question
    return f"{question} {context}"
