"""Evaluation: run a question suite through the Engine and measure retrieval, answers, citations,
refusals and latency (`assistant eval`). Nothing here loads a model at import time.
"""

from __future__ import annotations

from .metrics import score_item, summarize
from .runner import compare_runs, evaluate_item, load_run, run_suite
from .suite import SuiteError, SuiteItem, format_question, from_ragas, load_suite, to_ragas

__all__ = [
    "SuiteError",
    "SuiteItem",
    "compare_runs",
    "evaluate_item",
    "format_question",
    "from_ragas",
    "load_run",
    "load_suite",
    "run_suite",
    "score_item",
    "summarize",
    "to_ragas",
]
