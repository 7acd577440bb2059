"""Choice and true/false questions: which way of picking the option is most accurate.

    .venv/bin/python bench/choice.py --index /work/idx/cn [--every 3] [--offset 0] [--out runs/choice.jsonl]
    .venv/bin/python bench/choice.py --from runs/choice.jsonl          # re-score a saved run, no model
    .venv/bin/python bench/choice.py --from runs/choice.jsonl --index DIR   # ... with the evidence recomputed

For every answerable choice / true-false question of the suite (default
../shared/datasets/cn_policy_regs/qa_dev.jsonl), the real engine retrieves and plans the evidence
once; then each scorer ranks the options:

- `model`: the local model's own log-probability of each option's first token (one forward pass over
  the engine's prompt, as `assistant ask` does), at the shipped evidence budget and at a wider one;
- `evidence`: how well the best evidence sentence covers the words that set the option apart from the
  others (IDF-weighted), the no-LLM signal;
- `model + w * evidence`: the two combined, for a grid of weights;
- `shipped`: the engine's rule (evidence weight 2 on multiple choice, the model alone on true/false);
- with `--orders 4`: `model, K orders` / `shipped, K orders`, the model's log-probabilities averaged over
  K orders of the options (moved round; `llm.choice_orders`), against its preference for the first letters.

Prints accuracy per scorer and type, and the prompt-processing time; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.runtime import configure_process  # noqa: E402

SUITE = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "qa_dev.jsonl"
WEIGHTS = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0]


class Timed:
    """A backend whose option_scores calls are timed one by one."""

    def __init__(self, llm: Any) -> None:
        self.llm, self.seconds = llm, list[float]()

    def option_scores(self, request: Any, words: list[str]) -> list[float]:
        t = time.perf_counter()
        scores = self.llm.option_scores(request, words)
        self.seconds.append(time.perf_counter() - t)
        return list(scores)


def collect(index: Path, suite: Path, every: int, offset: int, wide: float, orders: int = 1) -> list[dict[str, Any]]:
    from assistant import choice
    from assistant.config import load_settings
    from assistant.engine import Engine
    from assistant.evaluation.suite import format_question, load_suite

    items = [i for i in load_suite(suite)[offset::every] if i.answerable and i.choices]
    engine = Engine(load_settings(store={"path": index}))
    llm: Any = engine.backend("local")
    llm.load()
    engine.ask("本办法由哪个部门负责解释？")  # the system prompt in llama.cpp's cache, as in a running app
    base = engine.settings.llm.context_tokens
    rows = []
    try:
        for n, item in enumerate(items, 1):
            query = engine.query(format_question(item))
            picks = choice.options(query)
            if not picks:
                continue
            result = engine.retrieve(query)
            row: dict[str, Any] = {
                "id": item.id, "type": query.analysis.type, "gold": item.gold_choice,
                "options": [w for w, _ in picks],
                "evidence": choice.option_evidence(query, result.passages),
                "contradicted": choice.figure_contradicted(query, result.passages),
            }  # fmt: skip
            for label, tokens in (("model", base), ("model_wide", round(base * wide))):
                if label == "model_wide" and wide == 1.0:  # --wide 1: one forward pass per question
                    row["model_wide"], row["model_wide_s"] = row["model"], row["model_s"]
                    continue
                engine.settings.llm.context_tokens = tokens
                request = engine.build_request(query, result.passages, idf=result.idf)
                t = time.perf_counter()
                if label == "model" and orders > 1:  # the options asked in several orders (choice.order_scores)
                    timed = Timed(llm)
                    shifts = choice.order_scores(timed, request, query, orders)
                    row["orders"] = {str(k): v for k, v in shifts.items()}
                    row["orders_s"] = timed.seconds  # each order's forward pass, the first (shift 0) included
                    row[label] = shifts[0]
                else:
                    row[label] = llm.option_scores(request, row["options"])
                row[f"{label}_s"] = time.perf_counter() - t
            engine.settings.llm.context_tokens = base
            rows.append(row)
            print(f"  {n}/{len(items)} {item.id}", file=sys.stderr, flush=True)
    finally:
        engine.close()
    return rows


def recompute_evidence(rows: list[dict[str, Any]], index: Path, suite: Path) -> None:
    """Score the options' evidence again with the current code (retrieval only), keeping the saved model scores."""
    from assistant import choice
    from assistant.config import load_settings
    from assistant.engine import Engine
    from assistant.evaluation.suite import format_question, load_suite

    items = {i.id: i for i in load_suite(suite)}
    engine = Engine(load_settings(store={"path": index}, llm={"backend": "extractive"}))
    try:
        for row in rows:
            query = engine.query(format_question(items[row["id"]]))
            passages = engine.retrieve(query).passages
            row["evidence"] = choice.option_evidence(query, passages)
            row["contradicted"] = choice.figure_contradicted(query, passages)
    finally:
        engine.close()


def gold_word(row: dict[str, Any]) -> str:
    """The first word of the gold answer as the engine's options name it (A-D, or the verdict)."""
    gold = row["gold"]
    if row["type"] == "choice":
        return gold
    verdicts = row["options"]  # e.g. ["正确", "错误"]
    return verdicts[0] if gold in ("A", verdicts[0], "正确", "对", "True") else verdicts[1]


def accuracy(rows: list[dict[str, Any]], score: Any) -> float:
    hits = [max(range(len(r["options"])), key=lambda i: score(r, i)) == r["options"].index(gold_word(r)) for r in rows]
    return sum(hits) / len(hits) if hits else float("nan")


def report(rows: list[dict[str, Any]]) -> None:
    from assistant import choice
    from assistant.config import LLMSettings

    by_type = {t: [r for r in rows if r["type"] == t] for t in ("choice", "true_false")}
    by_type["all"] = rows
    scorers: dict[str, Any] = {
        "model": lambda r, i: r["model"][i],
        "model, wide evidence": lambda r, i: r["model_wide"][i],
        "evidence": lambda r, i: r["evidence"][i],
    }
    # What the engine ships (assistant/choice.py combine, with the default settings).
    llm = LLMSettings()
    scorers["shipped (choice.combine)"] = lambda r, i: choice.combine(
        r["type"], r["model"], r["evidence"], llm.choice_evidence_weight, llm.true_false_bias, r.get("contradicted", False)
    )[i]
    scorers["model, true/false bias"] = lambda r, i: choice.combine(r["type"], r["model"], r["evidence"], 0.0, llm.true_false_bias)[i]
    # The options asked in several orders (--orders): the shipped rule on the averaged log-probabilities.
    with_orders = [r for r in rows if "orders" in r]
    for count in (2, 4) if with_orders else ():
        def averaged(r: dict[str, Any], count: int = count) -> list[float]:
            n = len(r["options"])
            shifts = sorted({round(i * n / count) % n for i in range(count)})
            got = [r["orders"][str(k)] for k in shifts if str(k) in r.get("orders", {})] or [r["model"]]
            return [sum(c) / len(got) for c in zip(*got, strict=True)]

        scorers[f"model, {count} orders"] = lambda r, i, f=averaged: f(r)[i]
        scorers[f"shipped, {count} orders"] = lambda r, i, f=averaged: choice.combine(
            r["type"], f(r), r["evidence"], llm.choice_evidence_weight, llm.true_false_bias, r.get("contradicted", False)
        )[i]
    for w in WEIGHTS[1:]:
        scorers[f"model + {w:g} x evidence"] = lambda r, i, w=w: r["model"][i] + w * r["evidence"][i]
        scorers[f"wide + {w:g} x evidence"] = lambda r, i, w=w: r["model_wide"][i] + w * r["evidence"][i]
    print(f"| scorer | {' | '.join(f'{t} ({len(v)})' for t, v in by_type.items())} |")
    print("|---|" + "---|" * len(by_type))
    for label, fn in scorers.items():
        print(f"| {label} | " + " | ".join(f"{accuracy(v, fn):.3f}" for v in by_type.values()) + " |")
    for label in ("model", "model_wide"):
        times = [r[f"{label}_s"] for r in rows if f"{label}_s" in r]
        if times:
            print(f"{label}: prompt + one forward pass p50 {statistics.median(times):.2f} s, max {max(times):.2f} s")
    timed = [r["orders_s"] for r in rows if isinstance(r.get("orders_s"), list) and len(r["orders_s"]) > 1]
    if timed:
        first = [t[0] for t in timed]
        extra = [t[2] if len(t) == 4 else t[1] for t in timed]  # shift n/2 (what 2 orders add)
        print(f"orders: first order p50 {statistics.median(first):.2f} s; the order moved by half (2 orders) adds "
              f"p50 {statistics.median(extra):.2f} s, max {max(extra):.2f} s ({len(timed)} questions)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path)
    ap.add_argument("--suite", type=Path, default=SUITE)
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--wide", type=float, default=2.0, help="the wider evidence budget, as a multiple of the shipped one")
    ap.add_argument("--orders", type=int, default=1, help="also ask multiple-choice questions in this many orders of the options")
    ap.add_argument("--out", type=Path, help="save the per-question scores (JSON lines)")
    ap.add_argument("--from", dest="saved", type=Path, help="re-score a saved run instead of running the model")
    args = ap.parse_args()
    configure_process()
    if args.saved:
        rows = [json.loads(line) for line in args.saved.read_text(encoding="utf-8").splitlines() if line.strip()]
        if args.index:
            recompute_evidence(rows, args.index, args.suite)
    else:
        if not args.suite.exists() or args.index is None:
            sys.exit(f"needs --index DIR (an index of the suite's documents) and the suite {args.suite}")
        rows = collect(args.index, args.suite, args.every, args.offset, args.wide, args.orders)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report(rows)


if __name__ == "__main__":
    main()
