"""End-to-end answers with the local LLM: time to first token against answer quality, per setting.

    .venv/bin/python bench/answer.py                       # every 3rd question of the sample suite
    .venv/bin/python bench/answer.py --every 1 --configs default small-context
    .venv/bin/python bench/answer.py --suite ../shared/datasets/cn_policy_regs/qa_dev.jsonl --corpus ../shared/datasets/cn_policy_regs/docs

Each configuration is a set of settings overrides run through the real Engine (retrieval,
evidence selection, llama.cpp, citation checking) and scored by the evaluation runner, so the
latency and the quality come from the same answers. Prompt tokens are counted with the
model's own tokenizer on the request the engine builds. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.metrics import percentile  # noqa: E402
from assistant.runtime import configure_process  # noqa: E402

CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    # label: settings overrides by section
    "default": {},
    "extractive": {"llm": {"backend": "extractive"}},  # the no-LLM baseline: quoting the best sentences
    "1.5b, 60 tokens": {"llm": {"local_model": "qwen2.5-coder-1.5b", "context_tokens": 60}},
    "1.5b, 80 tokens": {"llm": {"local_model": "qwen2.5-coder-1.5b", "context_tokens": 80}},
    "1.5b, 120 tokens": {"llm": {"local_model": "qwen2.5-coder-1.5b", "context_tokens": 120}},
    "1.5b, 160 tokens": {"llm": {"local_model": "qwen2.5-coder-1.5b", "context_tokens": 160}},
    "1.5b, 200 tokens": {"llm": {"local_model": "qwen2.5-coder-1.5b", "context_tokens": 200}},
    "1.5b, 400 tokens": {"llm": {"local_model": "qwen2.5-coder-1.5b", "context_tokens": 400}},
    "0.5b, 200 tokens": {"llm": {"local_model": "qwen2.5-coder-0.5b", "context_tokens": 200}},
    "0.5b, 120 tokens": {"llm": {"local_model": "qwen2.5-coder-0.5b", "context_tokens": 120}},
}


WARM_UP = "本办法由哪个部门负责解释？"


def prompt_tokens(engine: Any, question: str) -> int | None:
    """Tokens of the prompt the engine would send for `question` (None when it refuses before the LLM)."""
    from assistant import evidence

    query = engine.query(question)
    result = engine.retrieve(query)
    if evidence.weak(result.passages, evidence.named_found(result.named_title_found, result.named_titles, result.passages), engine.settings.retrieval.refusal_threshold):
        return None
    if query.analysis.wants_list and engine._list_plan(query, result) is not None:
        return None  # answered from the document's structure, without the model
    request = engine.build_request(query, result.passages)
    backend = engine.backend()
    return sum(backend.count_tokens(m["content"]) + 5 for m in request.messages) + 3


def run_config(label: str, overrides: dict[str, Any], base: dict[str, Any], items: list[Any], out: Path) -> dict[str, Any]:
    from assistant.config import load_settings
    from assistant.engine import Engine
    from assistant.evaluation.runner import run_suite

    sections = {**base, **{k: {**base.get(k, {}), **v} for k, v in overrides.items()}}
    settings = load_settings(**sections)
    engine = Engine(settings)
    local = settings.llm.backend == "local"
    try:
        started = time.perf_counter()
        if local:
            engine.backend().load()  # type: ignore[attr-defined]
        load = time.perf_counter() - started
        tokens = [n for n in (prompt_tokens(engine, i.question) for i in items) if n is not None] if local else []
        # One unrelated question first, so the system prompt is in llama.cpp's cache as in a running app.
        engine.ask(WARM_UP)
        rows, summary = run_suite(engine, items, out / label.replace(" ", "_").replace(",", ""))
    finally:
        engine.close()
    asked = [r for r in rows if not r["error"] and "first_token" in r["timings"] and not r["refused"]]
    ttft = [r["timings"]["first_token"] for r in asked]
    total = [r["timings"]["total"] for r in asked]
    return {
        "label": label,
        "model": settings.llm.local_model if local else settings.llm.backend,
        "load": load,
        "tokens_p50": statistics.median(tokens) if tokens else float("nan"),
        "llm_questions": len(asked),
        "ttft_p50": statistics.median(ttft) if ttft else float("nan"),
        "ttft_p95": percentile(ttft, 95) if ttft else float("nan"),
        "total_p50": statistics.median(total) if total else float("nan"),
        **{k: summary.get(k) for k in (
            "questions", "answer_f1", "key_fact_recall", "answer_containment", "list_recall", "choice_accuracy",
            "citation_precision", "citation_recall", "refusal_accuracy", "false_refusal_rate",
        )},
    }


def fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "sample_suite.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--index", type=Path, default=None, help="index folder (default: a temporary one)")
    ap.add_argument("--every", type=int, default=3, help="take every Nth question of the suite")
    ap.add_argument("--offset", type=int, default=0, help="start at this question (with --every: another sample)")
    ap.add_argument("--only", default="", help="only questions of these suite question types (comma-separated)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many questions (after --every)")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = ap.parse_args()
    configure_process()

    from assistant.config import load_settings
    from assistant.evaluation.suite import load_suite
    from assistant.ingest import ingest

    items = load_suite(args.suite)
    if args.only:
        items = [i for i in items if i.question_type in args.only.split(",")]
    items = items[args.offset :: args.every]
    if args.limit:
        items = items[: args.limit]
    work = Path(tempfile.mkdtemp(prefix="bench-answer-"))
    index = args.index or work / "index"
    base = {"store": {"path": index}, "llm": {"backend": "local"}}
    report = ingest([args.corpus], load_settings(**base))
    print(f"index {index}: {report.documents_total} documents, {report.chunks_total} chunks; {len(items)} questions")
    rows = []
    for label in args.configs:
        rows.append(run_config(label, CONFIGS[label], base, items, work))
        print(f"  done: {label}", flush=True)
    print(f"\nLocal LLM answers on {args.suite.name} ({len(items)} questions; TTFT = question to first answer token,")
    print("prompt tokens = median over questions that reach the LLM; quality from the evaluation runner)")
    cols = ["answer_f1", "key_fact_recall", "answer_containment", "list_recall", "choice_accuracy",
            "citation_precision", "citation_recall", "refusal_accuracy", "false_refusal_rate"]  # fmt: skip
    print("| setting | prompt tokens | TTFT p50 | TTFT p95 | answer p50 | " + " | ".join(c.replace("_", " ") for c in cols) + " |")
    print("|---" * (5 + len(cols)) + "|")
    for r in rows:
        print(
            f"| {r['label']} ({r['model']}) | {r['tokens_p50']:.0f} | {r['ttft_p50']:.1f} s | {r['ttft_p95']:.1f} s "
            f"| {r['total_p50']:.1f} s | " + " | ".join(fmt(r[c]) for c in cols) + " |"
        )
    print(f"\n1-min load average at the end: {Path('/proc/loadavg').read_text().split()[0]}")


if __name__ == "__main__":
    main()
