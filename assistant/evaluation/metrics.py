"""Scoring one answered question with every metric that needs no LLM judge — retrieval, answer, choice,
citation, list, edition, refusal, latency — and aggregating them over a run.

The metrics themselves live in `answer_metrics`, `retrieval_metrics` and `article_metrics`; the
optional LLM-judged ones, always marked `judged_*`, in `judge`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..citations import SimilarityFn
from ..types import Answer
from .answer_metrics import contains_answer, exact_match, is_refused, key_fact_recall, parse_choice, token_f1
from .article_metrics import answer_diff_recall, edition_correct, list_recall
from .retrieval_metrics import citation_metrics, evidence_hit, gold_rank
from .suite import SuiteItem

PASS_F1 = 0.5  # a free-text answer passes with containment of a gold string or at least this token F1

# ----- one question ------------------------------------------------------------------


def score_item(item: SuiteItem, answer: Answer, raw: str = "", similarity: SimilarityFn | None = None) -> dict[str, Any]:
    """Every no-judge metric of one answered question; a metric that does not apply is None."""
    m: dict[str, Any] = {}
    refused = is_refused(answer)
    rank = gold_rank(answer.passages, item.gold_doc_ids) if item.gold_doc_ids else None
    for k in (1, 3, 5):
        m[f"hit_at_{k}"] = (rank is not None and rank <= k) if item.gold_doc_ids else None
    m["reciprocal_rank"] = (1.0 / rank if rank else 0.0) if item.gold_doc_ids else None
    m["gold_rank"] = rank
    m["evidence_hit_at_5"] = evidence_hit(item.evidence, [p.text for p in answer.passages]) if item.evidence else None
    free_text = item.answerable and not item.choices
    text = "" if refused else answer.text
    m["exact_match"] = exact_match(text, item.answers) if free_text else None
    m["answer_f1"] = token_f1(text, item.answers) if free_text else None
    m["answer_containment"] = float(contains_answer(text, item.answers)) if free_text else None
    m["key_fact_recall"] = key_fact_recall(text, item.answers) if free_text else None
    gold_sections = item.extra.get("gold_sections") or []
    m["list_recall"] = (0.0 if refused else list_recall(answer, gold_sections, item.gold_doc_ids)) if gold_sections else None
    picked, method = parse_choice(text, item) if item.choices and item.answerable else (None, None)
    m["choice_picked"], m["choice_method"] = picked, method
    m["choice_correct"] = float(picked == item.gold_choice) if item.choices and item.answerable else None
    m.update(citation_metrics(raw, answer, similarity))
    m["edition_correct"] = edition_correct(item, answer)
    m["diff_recall"] = answer_diff_recall(item, answer)
    m["refused"] = refused
    m["refusal_correct"] = float(refused) if not item.answerable else None
    m["false_refusal"] = float(refused) if item.answerable else None
    t = answer.timings
    m["latency_s"] = t.get("total")
    m["first_token_s"] = t.get("first_token")
    m["retrieval_s"] = t.get("retrieval")
    return m


def verdict(item: SuiteItem, m: dict[str, Any], answer: Answer) -> tuple[bool, list[str]]:
    """(passed, issues): passed judges the answer itself; issues also lists retrieval and citation problems."""
    issues: list[str] = []
    if answer.error:
        issues.append(f"error: {answer.error}")
    if not item.answerable:
        passed = bool(m["refused"])
        if not passed:
            issues.append("answered an unanswerable question")
    elif m["refused"]:
        passed = False
        issues.append("false refusal")
    elif item.choices:
        passed = m["choice_correct"] == 1.0
        if not passed:
            issues.append(f"wrong choice: picked {m['choice_picked'] or 'nothing'}, gold {item.gold_choice}")
    else:
        passed = bool(m["answer_containment"]) or (m["answer_f1"] or 0.0) >= PASS_F1
        if not passed:
            issues.append("answer lacks the gold answer")
    if m["hit_at_5"] is False:
        issues.append("gold document not in top 5")
    elif m["evidence_hit_at_5"] is False:
        issues.append("gold evidence not retrieved")
    if m["citation_precision"] is not None and m["citation_precision"] < 1.0:
        issues.append("unsupported citation")
    if m["citation_validity"] is not None and m["citation_validity"] < 1.0:
        issues.append("invalid citation")
    return passed, issues


# ----- aggregation -------------------------------------------------------------------

# summary key -> per-question metric key (aggregated by the mean over questions where it applies)
MEAN_METRICS = {
    "hit_at_1": "hit_at_1",
    "hit_at_3": "hit_at_3",
    "hit_at_5": "hit_at_5",
    "mrr": "reciprocal_rank",
    "evidence_hit_at_5": "evidence_hit_at_5",
    "exact_match": "exact_match",
    "answer_f1": "answer_f1",
    "answer_containment": "answer_containment",
    "key_fact_recall": "key_fact_recall",
    "list_recall": "list_recall",
    "choice_accuracy": "choice_correct",
    "citation_validity": "citation_validity",
    "citation_precision": "citation_precision",
    "citation_recall": "citation_recall",
    "citation_recall_model": "citation_recall_model",
    "refusal_accuracy": "refusal_correct",
    "edition_accuracy": "edition_correct",
    "diff_recall": "diff_recall",
    "false_refusal_rate": "false_refusal",
    "judged_faithfulness": "judged_faithfulness",
    "judged_correctness": "judged_correctness",
}
LATENCY_METRICS = {"latency": "latency_s", "first_token": "first_token_s", "retrieval": "retrieval_s"}


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    vals = sorted(v for v in values if v is not None and not math.isnan(v))
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of a set of result rows: means of per-question metrics and latency percentiles."""
    out: dict[str, Any] = {"questions": len(rows), "passed": sum(1 for r in rows if r.get("passed"))}
    for key, metric in MEAN_METRICS.items():
        value = mean(r["metrics"].get(metric) for r in rows)
        if value is not None or not key.startswith("judged_"):
            out[key] = None if value is None else round(value, 4)
    for name, metric in LATENCY_METRICS.items():
        values = [r["metrics"][metric] for r in rows if r["metrics"].get(metric) is not None]
        for q in (50, 95):
            p = percentile(values, q)
            out[f"{name}_p{q}_s"] = None if p is None else round(p, 3)
        m = mean(values)
        out[f"{name}_mean_s"] = None if m is None else round(m, 3)
    out["answerable"] = sum(1 for r in rows if r["answerable"])
    out["unanswerable"] = len(rows) - out["answerable"]
    out["choice_items"] = sum(1 for r in rows if r.get("choices"))
    out["errors"] = sum(1 for r in rows if r.get("error"))
    return out


def summarize(
    rows: list[dict[str, Any]], group_keys: tuple[str, ...] = ("language", "question_type", "analysis_type")
) -> dict[str, Any]:
    """`aggregate` over all rows, plus the same per value of each of `group_keys` (by_language, by_question_type,
    and by_analysis_type: the type the assistant's question analysis gave: fact, list, yes_no, …)."""
    summary = aggregate(rows)
    for key in group_keys:
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(str(r.get(key) or "unknown"), []).append(r)
        summary[f"by_{key}"] = {name: aggregate(sub) for name, sub in sorted(groups.items())}
    return summary
