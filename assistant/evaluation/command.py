"""`assistant eval`: run a suite through the Engine, write results and reports, compare with an earlier run.

Registered by `assistant.cli` as `app.command("eval")(eval_command)`; everything heavy
(engine, models, ingestion) is imported inside the command, never at import time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ..cli_common import (
    ConfigOpt,
    IndexOpt,
    JudgeBackend,
    LLMOpt,
    StoreOpt,
    TopKOpt,
    build_settings,
    console,
    err_console,
    fail,
    ingest_progress,
    progress_bar,
)
from ..config import Settings
from ..errors import AssistantError

if TYPE_CHECKING:
    from ..engine import Engine
    from .judge import JudgeFn
    from .runner import ProgressFn


def settings_key(settings: Settings, *, judge: str | None, scope_to_doc: bool) -> dict[str, Any]:
    """What must be equal for earlier results in --out to be reused (index, retrieval, generation, judge)."""
    from ..index import collection_name

    llm = settings.llm
    model = llm.local_model if llm.backend == "local" else llm.model if llm.backend == "openai" else None
    return {
        "backend": llm.backend,
        "model": model,
        "index": str(Path(settings.store.path).resolve()) if settings.store.mode == "embedded" else
        f"{settings.store.host}:{settings.store.port}",
        "collection": collection_name(settings),
        "retrieval": settings.retrieval.model_dump(mode="json"),
        "generation": {"max_tokens": llm.max_tokens, "temperature": llm.temperature, "context_tokens": llm.context_tokens},
        "judge": judge,
        "scope_to_doc": scope_to_doc,
    }


def _ingest(engine: Engine, corpus: Path) -> None:
    with ingest_progress() as on_progress:
        report = engine.ingest([corpus], progress=on_progress)
    err_console.print(
        f"Ingested {corpus}: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.failed)} failed ({report.seconds:.1f} s).", highlight=False,
    )
    for path, reason in report.failed:
        err_console.print(f"[yellow]not indexed[/] {path}: {reason}", highlight=False)


def _judge_fn(engine: Any, kind: str) -> JudgeFn:
    from ..llm.base import GenerationRequest

    backend = engine.backend(kind)

    def judge(messages: list[dict[str, str]]) -> str:
        request = GenerationRequest(messages=messages, question="", max_tokens=8, temperature=0.0)
        return "".join(backend.generate(request))

    return judge


def _print_summary(summary: dict[str, Any], comparison: dict[str, Any] | None) -> None:
    from .report import LABELS, fmt, metric_rows

    table = Table(title="Evaluation", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in metric_rows(summary):
        table.add_row(label, value)
    console.print(table)
    if comparison:
        deltas = Table(title=f"Compared with the earlier run ({comparison['common_questions']} common questions)")
        for col in ("metric", "old", "new", "delta"):
            deltas.add_column(col, justify="left" if col == "metric" else "right")
        for key, d in comparison["deltas"].items():
            delta = "–" if d["delta"] is None else f"{d['delta']:+.3f}"
            deltas.add_row(LABELS.get(key, key), fmt(d["old"]), fmt(d["new"]), delta)
        console.print(deltas)
        for kind, colour in (("regressions", "red"), ("improvements", "green")):
            console.print(f"[{colour}]{kind}: {len(comparison[kind])}[/]")
            for f in comparison[kind]:
                console.print(f"  {f['id']}  {f['question'][:60]}  ({'; '.join(f['new_issues']) or 'passes now'})",
                              highlight=False, markup=False)


def eval_command(
    suite: Annotated[Path, typer.Argument(help="Suite file: JSONL, one question per line (see eval/README.md).")],
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Ingest this folder into the index first (incremental).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: runs/<timestamp>). "
                                             "Re-running into the same folder resumes.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    compare: Annotated[Path | None, typer.Option("--compare", help="An earlier run folder: report deltas, "
                                                 "regressions and improvements.")] = None,
    judge: Annotated[bool, typer.Option("--judge", help="Add LLM-judged faithfulness and correctness (slow).")] = False,
    judge_llm: Annotated[JudgeBackend | None, typer.Option("--judge-llm", case_sensitive=False, help="Judge backend "
                                                           "(default: the configured one).")] = None,
    scope_to_doc: Annotated[bool, typer.Option("--scope-to-doc", help="Restrict each question without `scope` to its "
                                               "gold documents (for per-document sets such as PolicyQA).")] = False,
    top_k: TopKOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print summary.json instead of tables.")] = False,
    llm: LLMOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Evaluate the assistant on a question suite: retrieval, answers, citations, refusals, latency.

    Writes results.jsonl, summary.json, report.md, report.html and ragas.jsonl to --out.
    Exit code 0 on success, 1 on errors, 2 for an invalid suite file or options, 130 when interrupted.
    """
    from .report import write_reports
    from .runner import RESULTS_FILE, SUMMARY_FILE, compare_runs, load_run, run_suite
    from .suite import SuiteError, load_suite

    try:
        items = load_suite(suite)
    except SuiteError as exc:
        fail(exc, 2)
        return
    if scope_to_doc:
        for item in items:
            item.scope = item.scope or item.gold_doc_ids
    out = out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    engine = None
    try:
        old_rows = load_run(compare) if compare else None
        settings = build_settings(index, store, config, llm=llm, top_k=top_k)
        configured = settings.llm.backend if settings.llm.backend != "extractive" else "local"
        judge_kind = (judge_llm.value if judge_llm else configured) if judge else None
        from ..engine import Engine

        engine = Engine.open(settings, create=corpus is not None)
        if corpus is not None:
            _ingest(engine, corpus)
        key = settings_key(settings, judge=judge_kind, scope_to_doc=scope_to_doc)
        info = {"suite": str(suite), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        judge_fn = _judge_fn(engine, judge_kind) if judge_kind else None
        with _progress(out) as on_progress:
            rows, summary = run_suite(engine, items, out, settings_key=key, info=info, limit=limit, judge=judge_fn,
                                      progress=on_progress)
        comparison = compare_runs(old_rows, rows) if old_rows else None
        if comparison:
            summary["compare"] = {"run": str(compare), **comparison}
            (out / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        write_reports(out, summary, rows, comparison)
    except KeyboardInterrupt:
        err_console.print(f"Interrupted. Finished questions are saved in {out / RESULTS_FILE}; run the same command "
                          f"with --out {out} to continue.", highlight=False)
        raise typer.Exit(130) from None
    except AssistantError as exc:
        fail(exc)
        return
    finally:
        if engine is not None:
            engine.close()
    if json_out:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_summary(summary, comparison)
        console.print(f"Results and reports in {out}/ (report.html, report.md, summary.json, results.jsonl)", highlight=False)


@contextmanager
def _progress(out: Path) -> Iterator[ProgressFn]:
    """A progress callback for run_suite: a rich bar with ETA on a terminal, one line per question otherwise."""
    passed = [0, 0]  # passed, answered in this session
    with progress_bar("Evaluating", eta=True) as update:

        def on_progress(done: int, total: int, row: dict[str, Any] | None) -> None:
            if row is None:
                if done:
                    err_console.print(f"Resuming: {done} of {total} questions already done in {out}.", highlight=False)
                update(completed=done, total=total)
                return
            passed[0] += bool(row["passed"])
            passed[1] += 1
            update(completed=done, total=total, description=f"{passed[0]}/{passed[1]} passed · {row['id']}")
            if not err_console.is_terminal:
                state = "pass" if row["passed"] else "FAIL"
                err_console.print(f"[{done}/{total}] {row['id']} {state} {row['metrics'].get('latency_s') or 0:.1f}s",
                                  highlight=False, markup=False)

        yield on_progress
