"""Optional LLM-judged metrics, always marked `judged_*`: faithfulness to the retrieved passages and
correctness against the gold answer."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..prompts import CITATION_RE, LANGUAGES, render
from ..textutil import normalize
from ..types import Answer
from .answer_metrics import is_refused
from .suite import SuiteItem

JudgeFn = Callable[[list[dict[str, str]]], str]  # chat messages -> the judge model's reply


def _yes_no(reply: str) -> float | None:
    """1.0 for a reply that starts with yes (是, 对, 正确), 0.0 for no (否, 不, 错误), None when it says neither."""
    head = normalize(reply)[:20]
    if re.match(r"^\W*(yes|是|对|正确)", head):
        return 1.0
    if re.match(r"^\W*(no|否|不|错误)", head):
        return 0.0
    return None


def judge_answer(judge: JudgeFn, item: SuiteItem, answer: Answer) -> dict[str, float | None]:
    """LLM-judged faithfulness (answer vs. retrieved passages) and correctness (vs. gold); None when not applicable."""
    out: dict[str, float | None] = {"judged_faithfulness": None, "judged_correctness": None}
    if is_refused(answer) or not answer.text.strip():
        return out
    passages = "\n\n".join(f"[{i}] {p.text}" for i, p in enumerate(answer.passages, 1))
    answer_text = CITATION_RE.sub("", answer.text)
    values = {"passages": passages, "answer": answer_text, "question": item.question, "gold": " / ".join(item.answers)}
    kinds = ["faithfulness"] + (["correctness"] if item.answerable and item.answers else [])
    language = item.language if item.language in LANGUAGES else "en"
    for kind in kinds:
        # prompts/judge_<kind>.<lang>.txt; values go in verbatim, so braces or instructions in them change nothing.
        out[f"judged_{kind}"] = _yes_no(judge(render(f"judge_{kind}", language, **values)))
    return out
