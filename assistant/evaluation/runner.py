"""Running a suite through an answerer (the same `Engine` the UI uses), resumably, and comparing runs.

Each result is appended to `results.jsonl` as soon as it is complete; a re-run into the same
folder with the same settings skips the questions already there, so an interrupted run
continues where it stopped. `run.json` records the settings the results were made with.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from ..citations import SimilarityFn
from ..errors import AssistantError
from ..events import Event, collect
from ..types import Answer, Filters
from .judge import JudgeFn, judge_answer
from .metrics import MEAN_METRICS, score_item, summarize, verdict
from .suite import SuiteItem, format_question, to_ragas, write_jsonl

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
RUN_FILE = "run.json"
RAGAS_FILE = "ragas.jsonl"

ProgressFn = Callable[[int, int, dict[str, Any] | None], None]  # (done, total, the row just finished)


class Answerer(Protocol):
    """What the runner needs of an engine: `Engine.stream`'s contract (text pieces, then the final Answer)."""

    def stream(self, question: str, history: Any = None, filters: Filters | None = None) -> Iterator[Event]:
        """Yield Sources, the raw answer text as generated (Tokens), then the verified Answer (Final)."""
        ...


class RunMismatchError(AssistantError):
    """The output folder holds results made with other settings."""


def evaluate_item(
    engine: Answerer,
    item: SuiteItem,
    *,
    similarity: SimilarityFn | None = None,
    judge: JudgeFn | None = None,
) -> dict[str, Any]:
    """Ask one suite question and return its result row: the question, gold data, answer, passages, metrics."""
    asked = format_question(item)
    as_of = item.extra.get("as_of")  # answer as of that date (assistant.versions): the edition then in force
    filters = Filters(doc_ids=list(item.scope), as_of=as_of) if item.scope or as_of else None
    raw: list[str] = []
    started = time.perf_counter()
    try:
        answer = collect(engine.stream(asked, filters=filters), on_token=raw.append)
    except AssistantError as exc:  # one bad question is a result, not the end of the run
        answer = Answer(question=asked, text="", error=str(exc))
    answer.timings.setdefault("total", time.perf_counter() - started)
    raw_text = "".join(raw)
    metrics = score_item(item, answer, raw_text, similarity)
    if judge is not None:
        metrics.update(judge_answer(judge, item, answer))
    passed, issues = verdict(item, metrics, answer)
    return {
        "id": item.id,
        "question": item.question,
        "asked": asked,
        "language": item.language,
        "question_type": item.question_type,
        "analysis_type": answer.analysis.get("type"),
        "answerable": item.answerable,
        "gold_answers": item.answers,
        "gold_doc_ids": item.gold_doc_ids,
        "gold_evidence": item.evidence,
        "choices": [[label, text] for label, text in item.choices],
        "gold_choice": item.gold_choice,
        "scope": item.scope,
        "answer": answer.text,
        "raw_answer": raw_text,
        "refused": metrics["refused"],
        "error": answer.error,
        "backend": answer.backend,
        "not_stated": answer.not_stated,
        "option_scores": answer.option_scores or None,  # choice questions: the model's, and the evidence's, per option
        "option_evidence": answer.option_evidence or None,
        "citations": [c.to_dict() for c in answer.citations],
        "passages": [p.to_dict() for p in answer.passages],
        "timings": {k: round(v, 4) for k, v in answer.timings.items()},
        "metrics": metrics,
        "passed": passed,
        "issues": issues,
        "item_hash": item.content_hash(),
    }


# ----- results on disk -------------------------------------------------------------


def read_results(path: Path) -> list[dict[str, Any]]:
    """The rows of a results.jsonl; a line torn by a kill mid-write is dropped (and cut from the file)."""
    if not path.is_file():
        return []
    rows: list[dict[str, Any]] = []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    torn = False
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            torn = True
            continue
        if isinstance(row, dict) and "id" in row:
            rows.append(row)
    if torn or (lines and not lines[-1].endswith("\n")):
        write_jsonl(rows, path)  # appending after a partial line would corrupt the next row
    return rows


def _settings_changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changes += _settings_changes(a, b, f"{prefix}{key}.")
        elif a != b:
            changes.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return changes


def prepare_out(out: Path, settings_key: dict[str, Any], info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Create `out`, check earlier results there were made with the same settings, return them.

    Raises RunMismatchError naming the changed settings when they were not.
    """
    out.mkdir(parents=True, exist_ok=True)
    run_file, results_file = out / RUN_FILE, out / RESULTS_FILE
    previous = read_results(results_file)
    if run_file.is_file() and previous:
        old = json.loads(run_file.read_text(encoding="utf-8")).get("settings", {})
        changes = _settings_changes(old, settings_key)
        if changes:
            raise RunMismatchError(
                f"{out} holds results made with other settings ({'; '.join(changes[:4])}). "
                f"Use another --out, or delete {results_file} to start over."
            )
    run_file.write_text(
        json.dumps({"settings": settings_key, **(info or {})}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return previous


def run_suite(
    engine: Answerer,
    items: list[SuiteItem],
    out: Path,
    *,
    settings_key: dict[str, Any] | None = None,
    info: dict[str, Any] | None = None,
    limit: int | None = None,
    similarity: SimilarityFn | None = None,
    judge: JudgeFn | None = None,
    progress: ProgressFn | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Answer and score `items` (the first `limit`), resuming from `out/results.jsonl`; return (rows, summary).

    Writes results.jsonl (one line per question, as it completes), summary.json and ragas.jsonl.
    An exception from the engine (or Ctrl-C) propagates; what was done is already on disk.
    """
    selected = items[:limit] if limit else list(items)
    previous = prepare_out(out, settings_key or {}, info)
    known = {r["id"]: r for r in previous}
    rows: dict[str, dict[str, Any]] = {
        i.id: known[i.id] for i in selected if i.id in known and known[i.id].get("item_hash") == i.content_hash()
    }
    todo = [i for i in selected if i.id not in rows]
    if similarity is None:
        similarity = getattr(engine, "similarity", None)
    if progress:
        progress(len(rows), len(selected), None)
    results_file = out / RESULTS_FILE
    with results_file.open("a", encoding="utf-8") as f:
        for item in todo:
            row = evaluate_item(engine, item, similarity=similarity, judge=judge)
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
            rows[item.id] = row
            if progress:
                progress(len(rows), len(selected), row)
    ordered = [rows[i.id] for i in selected]
    # Keep rows of questions outside this selection (an earlier, larger run); replace stale ones.
    chosen = {i.id for i in selected}
    write_jsonl(ordered + [r for r in previous if r["id"] not in chosen], results_file)
    summary = summarize(ordered)
    summary["judged_metrics"] = judge is not None
    summary["run"] = {"settings": settings_key or {}, **(info or {}), "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    write_jsonl([to_ragas(r) for r in ordered], out / RAGAS_FILE)
    return ordered, summary


# ----- comparing runs --------------------------------------------------------------


def load_run(path: Path) -> list[dict[str, Any]]:
    """Result rows of an earlier run: its folder or its results.jsonl."""
    file = path / RESULTS_FILE if path.is_dir() else path
    if not file.is_file():
        raise AssistantError(f"No earlier run at {path}: expected a run folder with {RESULTS_FILE}.")
    rows = read_results(file)
    if not rows:
        raise AssistantError(f"{file} holds no results.")
    return rows


COMPARE_KEYS = [k for k in MEAN_METRICS if not k.startswith("judged_")] + ["latency_p50_s", "first_token_p50_s"]


def compare_runs(old_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Metric deltas over the questions both runs answered, and the questions that flipped pass <-> fail."""
    old_by_id = {r["id"]: r for r in old_rows}
    common = [r for r in new_rows if r["id"] in old_by_id]
    old_common = [old_by_id[r["id"]] for r in common]
    old_sum, new_sum = summarize(old_common, ()), summarize(common, ())
    deltas = {}
    for key in COMPARE_KEYS:
        a, b = old_sum.get(key), new_sum.get(key)
        deltas[key] = {"old": a, "new": b, "delta": None if a is None or b is None else round(b - a, 4)}

    def flip(new: dict[str, Any]) -> dict[str, Any]:
        old = old_by_id[new["id"]]
        return {
            "id": new["id"], "question": new["question"], "gold": new["gold_answers"],
            "old_answer": old.get("answer", ""), "new_answer": new.get("answer", ""),
            "old_issues": old.get("issues", []), "new_issues": new.get("issues", []),
        }

    return {
        "common_questions": len(common),
        "only_new": len(new_rows) - len(common),
        "deltas": deltas,
        "regressions": [flip(r) for r in common if old_by_id[r["id"]].get("passed") and not r.get("passed")],
        "improvements": [flip(r) for r in common if not old_by_id[r["id"]].get("passed") and r.get("passed")],
    }
