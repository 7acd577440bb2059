"""Run reports: report.md and a self-contained report.html with inline SVG plots (no plotting library).

The HTML holds metric bars, a latency histogram, the per-language and per-type breakdowns,
the comparison with an earlier run when there is one, and every question — failures first —
with the gold answer, our answer and its citations.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

# (summary key, label) of the 0..1 metrics shown as bars and in tables, in display order.
RATE_METRICS = [
    ("hit_at_1", "hit@1"),
    ("hit_at_3", "hit@3"),
    ("hit_at_5", "hit@5"),
    ("mrr", "MRR"),
    ("evidence_hit_at_5", "evidence hit@5"),
    ("exact_match", "exact match"),
    ("answer_f1", "answer F1"),
    ("answer_containment", "answer containment"),
    ("key_fact_recall", "key-fact recall"),
    ("list_recall", "list recall"),
    ("choice_accuracy", "choice accuracy"),
    ("citation_validity", "citation validity"),
    ("citation_precision", "citation precision"),
    ("citation_recall", "citation recall"),
    ("citation_recall_model", "citation recall (model's own markers)"),
    ("refusal_accuracy", "refusal accuracy"),
    ("false_refusal_rate", "false-refusal rate (lower is better)"),
    ("judged_faithfulness", "faithfulness (LLM-judged)"),
    ("judged_correctness", "correctness (LLM-judged)"),
]
TIME_METRICS = [
    ("latency_p50_s", "latency p50 (s)"),
    ("latency_p95_s", "latency p95 (s)"),
    ("first_token_p50_s", "first token p50 (s)"),
    ("retrieval_p50_s", "retrieval p50 (s)"),
]
LABELS = dict(RATE_METRICS + TIME_METRICS)


def fmt(value: Any, digits: int = 3) -> str:
    """A metric value for display: '–' for None."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def metric_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of every metric present in `summary`, for tables in any front end."""
    rows = [("questions", str(summary.get("questions", 0))), ("passed", str(summary.get("passed", 0)))]
    for key, label in RATE_METRICS + TIME_METRICS:
        if key in summary:
            rows.append((label, fmt(summary[key])))
    return rows


def _signed(delta: float | None) -> str:
    return "–" if delta is None else f"{delta:+.3f}"


# ----- SVG -----------------------------------------------------------------------------


def svg_bars(summary: dict[str, Any], width: int = 640) -> str:
    """Horizontal bars (0..1) for the rate metrics that apply."""
    items = [(label, summary[key]) for key, label in RATE_METRICS if summary.get(key) is not None]
    row_h, left, right = 24, 250, 60
    height = row_h * len(items) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="metrics">']
    scale = width - left - right
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        colour = "#c0392b" if "false-refusal" in label else "#2e86de"
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{scale}" height="{row_h - 8}" fill="#eef2f7"/>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{max(value, 0) * scale:.1f}" height="{row_h - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{left + scale + 6}" y="{y + 16}" font-size="13">{value:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_histogram(values: list[float], title: str, bins: int = 12, width: int = 640, height: int = 220) -> str:
    """A histogram of `values` (seconds) with labelled axes."""
    if not values:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="30"><text x="4" y="20">no data</text></svg>'
    lo, hi = 0.0, max(values) or 1.0
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / step), bins - 1)] += 1
    left, bottom, top = 40, 30, 24
    plot_w, plot_h = width - left - 10, height - bottom - top
    top_count = max(counts)
    bar_w = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11">{top_count}</text>',
    ]
    for i, c in enumerate(counts):
        h = plot_h * c / top_count if top_count else 0
        x = left + i * bar_w
        parts.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="#10ac84">'
                     f"<title>{lo + i * step:.2f}–{lo + (i + 1) * step:.2f} s: {c}</title></rect>")
    for i in range(0, bins + 1, max(bins // 6, 1)):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">{lo + i * step:.1f}s</text>')
    parts.append("</svg>")
    return "".join(parts)


# ----- HTML ----------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1300px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}
th{background:#f3f5f8}tr.fail td:first-child{color:#c0392b;font-weight:bold}tr.pass td:first-child{color:#218c4a}
.q{max-width:320px}.a{max-width:380px;white-space:pre-wrap}.cit{font-size:12px;color:#444}.bad{color:#c0392b}
.meta{color:#666;font-size:13px}details{margin-top:4px}
"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _breakdown(summary: dict[str, Any], key: str) -> tuple[list[str], list[list[str]]]:
    groups = summary.get(key) or {}
    cols = [k for k, _ in RATE_METRICS if any(g.get(k) is not None for g in groups.values())] + ["latency_p50_s"]
    headers = [key.removeprefix("by_").replace("_", " "), "n"] + [LABELS.get(c, c) for c in cols]
    rows = [[name, str(g["questions"])] + [fmt(g.get(c)) for c in cols] for name, g in groups.items()]
    return headers, rows


def _citations_html(row: dict[str, Any]) -> str:
    parts = []
    for c in row.get("citations", []):
        mark = "" if c.get("supported") else ' class="bad"'
        where = " ".join(x for x in (c.get("doc_id", ""), c.get("section", "")) if x)
        parts.append(f'<div{mark}>[{c["n"]}] {escape(where)}: “{escape(c.get("quote", "")[:160])}”'
                     f'{"" if c.get("supported") else " (unsupported)"}</div>')
    return f'<div class="cit">{"".join(parts)}</div>' if parts else ""


def _question_row(row: dict[str, Any]) -> str:
    m = row["metrics"]
    gold = " / ".join(row["gold_answers"]) or "(unanswerable)"
    if row.get("gold_choice"):
        gold = f"{row['gold_choice']}. {gold}"
    picked = f" → picked {m['choice_picked'] or 'nothing'} ({m['choice_method']})" if row.get("choices") else ""
    passages = "".join(f"<li>{escape(p['doc_id'])} {escape(p.get('section') or '')}: {escape(p['text'][:200])}</li>"
                       for p in row.get("passages", []))
    return (
        f'<tr class="{"pass" if row["passed"] else "fail"}"><td>{"pass" if row["passed"] else "FAIL"}</td>'
        f'<td>{escape(row["id"])}<div class="meta">{escape(row["language"])} · {escape(row["question_type"])}</div></td>'
        f'<td class="q">{escape(row["question"])}<details><summary>passages</summary><ol>{passages}</ol></details></td>'
        f'<td class="a">{escape(gold)}<div class="meta">{escape(", ".join(row["gold_doc_ids"]))}</div></td>'
        f'<td class="a">{escape(row["answer"] or row.get("error") or "")}{escape(picked)}{_citations_html(row)}</td>'
        f'<td>{escape("; ".join(row["issues"]))}</td><td>{fmt(m.get("gold_rank"))}</td><td>{fmt(m.get("latency_s"), 2)}</td></tr>'
    )


def _compare_html(comparison: dict[str, Any]) -> str:
    rows = [[LABELS.get(k, k), fmt(d["old"]), fmt(d["new"]), _signed(d["delta"])] for k, d in comparison["deltas"].items()]
    parts = [f"<h2>Compared with the earlier run ({comparison['common_questions']} common questions)</h2>",
             _table(["metric", "old", "new", "delta"], rows)]
    for kind in ("regressions", "improvements"):
        flips = comparison[kind]
        parts.append(f"<h3>{kind.capitalize()} ({len(flips)})</h3>")
        if flips:
            parts.append(_table(["id", "question", "gold", "old answer", "new answer", "new issues"], [
                [f["id"], f["question"], " / ".join(f["gold"]), f["old_answer"], f["new_answer"], "; ".join(f["new_issues"])]
                for f in flips
            ]))
    return "".join(parts)


def render_html(summary: dict[str, Any], rows: list[dict[str, Any]], comparison: dict[str, Any] | None = None) -> str:
    """The whole report as one HTML page with inline SVG; needs nothing else to display."""
    run = summary.get("run", {})
    settings = run.get("settings", {})
    latencies = [r["metrics"]["latency_s"] for r in rows if r["metrics"].get("latency_s") is not None]
    ordered = sorted(rows, key=lambda r: r["passed"])  # failures first, suite order otherwise
    body = [
        f"<h1>Evaluation report</h1><p class=\"meta\">suite {escape(str(run.get('suite', '')))} · "
        f"backend {escape(str(settings.get('backend', '')))} · {escape(str(run.get('finished', '')))} · "
        f"{summary['questions']} questions, {summary['passed']} passed"
        + (" · includes LLM-judged metrics (marked)" if summary.get("judged_metrics") else "") + "</p>",
        "<h2>Metrics</h2>", svg_bars(summary), _table(["metric", "value"], [list(r) for r in metric_rows(summary)]),
        "<h2>Latency</h2>", svg_histogram(latencies, "Total answer time per question"),
    ]
    for key in ("by_language", "by_question_type", "by_analysis_type"):
        if summary.get(key):
            headers, table_rows = _breakdown(summary, key)
            body.append(f"<h2>By {escape(headers[0])}</h2>" + _table(headers, table_rows))
    if comparison:
        body.append(_compare_html(comparison))
    body.append("<h2>Questions (failures first)</h2><table><tr><th></th><th>id</th><th>question</th><th>gold</th>"
                "<th>our answer</th><th>issues</th><th>gold rank</th><th>time (s)</th></tr>")
    body.extend(_question_row(r) for r in ordered)
    body.append("</table>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")


# ----- Markdown -------------------------------------------------------------------------


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_markdown(summary: dict[str, Any], rows: list[dict[str, Any]], comparison: dict[str, Any] | None = None) -> str:
    """The report as Markdown: metrics, breakdowns, comparison and the failed questions."""
    run = summary.get("run", {})
    out = [f"# Evaluation report\n\nSuite `{run.get('suite', '')}`, backend `{run.get('settings', {}).get('backend', '')}`, "
           f"{summary['questions']} questions, {summary['passed']} passed.\n\n"]
    if summary.get("judged_metrics"):
        out.append("Metrics marked *LLM-judged* come from the judge model, not from the gold data.\n")
    out.append("## Metrics\n\n" + _md_table(["metric", "value"], [list(r) for r in metric_rows(summary)]))
    for key in ("by_language", "by_question_type", "by_analysis_type"):
        if summary.get(key):
            headers, table_rows = _breakdown(summary, key)
            out.append(f"\n## By {headers[0]}\n\n" + _md_table(headers, table_rows))
    if comparison:
        out.append(f"\n## Compared with the earlier run ({comparison['common_questions']} common questions)\n\n")
        out.append(_md_table(["metric", "old", "new", "delta"], [
            [LABELS.get(k, k), fmt(d["old"]), fmt(d["new"]), _signed(d["delta"])] for k, d in comparison["deltas"].items()
        ]))
        for kind in ("regressions", "improvements"):
            out.append(f"\n### {kind.capitalize()} ({len(comparison[kind])})\n\n")
            out.extend(f"- `{f['id']}` {f['question']} — now: {f['new_answer'][:120]} ({'; '.join(f['new_issues'])})\n"
                       for f in comparison[kind])
    failed = [r for r in rows if not r["passed"]]
    out.append(f"\n## Failed questions ({len(failed)})\n\n")
    out.append(_md_table(["id", "question", "gold", "our answer", "issues"], [
        [r["id"], r["question"], " / ".join(r["gold_answers"]) or "(unanswerable)", (r["answer"] or r.get("error") or "")[:200],
         "; ".join(r["issues"])] for r in failed
    ]))
    return "".join(out)


def write_reports(out: Path, summary: dict[str, Any], rows: list[dict[str, Any]],
                  comparison: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Write report.md and report.html into `out`; returns their paths."""
    md, html = out / "report.md", out / "report.html"
    md.write_text(render_markdown(summary, rows, comparison), encoding="utf-8")
    html.write_text(render_html(summary, rows, comparison), encoding="utf-8")
    return md, html
