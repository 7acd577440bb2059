"""Feedback: 👍 / 👎 (with an optional reason) on an answer, kept with the question, the answer, the passages
and the settings, in `<index folder>/feedback.jsonl` (one file per knowledge base); and turned into an
evaluation suite that `assistant eval` runs.

Suite rules (`export_suite`):
- 👍 on an answer: a reference item (the answer without its [n] markers; the first supported citation's
  document and quote as gold document and evidence);
- 👍 on a refusal: an unanswerable item;
- 👎 with a reason: a regression item whose expected answer is the reason (so say what the right answer is);
- 👎 without a reason on an answer: an unanswerable item (the documents should not have given that answer);
- 👎 without a reason on a refusal: left out (nothing says what the answer is), and counted.
Every regression item keeps the bad answer under `regression` for whoever reads the suite.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from .config import Settings
from .errors import AssistantError
from .export import settings_summary
from .types import Answer

FEEDBACK_FILE = "feedback.jsonl"
Rating = Literal["good", "bad"]
_MARKER = re.compile(r"\s*\[\d+\]")
_lock = threading.Lock()


class FeedbackError(AssistantError):
    """Feedback cannot be recorded or read."""


def feedback_path(settings: Settings) -> Path:
    return Path(settings.store.path) / FEEDBACK_FILE


def record(answer: Answer, rating: Rating, settings: Settings, reason: str = "", source: str = "") -> dict[str, Any]:
    """Append one piece of feedback on `answer`; returns the stored record."""
    if rating not in ("good", "bad"):
        raise FeedbackError(f"Feedback is 'good' or 'bad', not {rating!r}.")
    when = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    entry = {
        "id": hashlib.sha256(f"{when}|{answer.question}|{answer.text}".encode()).hexdigest()[:12],
        "time": when,
        "rating": rating,
        "reason": reason.strip(),
        "source": source,
        "question": answer.question,
        "standalone_question": answer.standalone_question or answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "language": answer.language,
        "question_type": str(answer.analysis.get("type", "")) if answer.analysis else "",
        "citations": [c.to_dict() for c in answer.citations],
        "passages": [p.to_dict() for p in answer.passages],
        "settings": settings_summary(settings),
    }
    path = feedback_path(settings)
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def load(path: Path) -> list[dict[str, Any]]:
    """The feedback records in `path` (a torn last line, from a crash mid-write, is skipped)."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@dataclass
class SuiteExport:
    items: list[dict[str, Any]]
    skipped: int  # 👎 on a refusal with no reason: nothing says what the answer should be


def to_suite(records: list[dict[str, Any]]) -> SuiteExport:
    """Suite lines (the `assistant eval` format) from feedback records; the rules are in the module docstring."""
    items: list[dict[str, Any]] = []
    skipped = 0
    for r in records:
        supported = [c for c in r.get("citations", []) if c.get("supported")]
        item: dict[str, Any] = {
            "id": f"feedback-{r['id']}",
            "question": r["standalone_question"] if r.get("standalone_question") else r["question"],
            "language": r.get("language", ""),
            "source": "feedback",
            "rating": r["rating"],
        }
        if r["rating"] == "good" and not r["refused"]:
            item.update(answerable=True, answer=_MARKER.sub("", r["answer"]).strip(),
                        doc_id=supported[0]["doc_id"] if supported else None,
                        evidence=supported[0]["quote"] if supported else None)  # fmt: skip
        elif r["rating"] == "good":
            item.update(answerable=False, answer="", question_type="unanswerable")
        elif r.get("reason"):
            item.update(answerable=True, answer=r["reason"])
        elif not r["refused"]:
            item.update(answerable=False, answer="", question_type="unanswerable")
        else:
            skipped += 1
            continue
        if r["rating"] == "bad":
            item["regression"] = {"bad_answer": r["answer"], "reason": r.get("reason", ""),
                                  "cited": sorted({c["doc_id"] for c in r.get("citations", [])})}  # fmt: skip
        items.append(item)
    return SuiteExport(items, skipped)


def export_suite(source: Path, target: Path) -> SuiteExport:
    """Write the suite made from the feedback file `source` to `target` (JSONL)."""
    result = to_suite(load(source))
    if not result.items:
        raise FeedbackError(f"No usable feedback in {source} (give some with /good, /bad REASON or the web UI's 👍/👎).")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in result.items), encoding="utf-8")
    return result


# ----- `assistant feedback export` -----
feedback_app = typer.Typer(help="Feedback given on answers (👍/👎 in the web UI, /good and /bad in chat).",
                           no_args_is_help=True)  # fmt: skip


@feedback_app.command("export")
def export_command(
    suite: Annotated[Path, typer.Argument(help="The suite file to write (JSONL, the `assistant eval` format).")],
    kb: Annotated[str | None, typer.Option("--kb", envvar="ASSISTANT_KB", help="Knowledge base.")] = None,
    index: Annotated[Path | None, typer.Option("--index", help="Index directory.")] = None,
    config: Annotated[Path | None, typer.Option("--config", envvar="ASSISTANT_CONFIG", help="Settings file.")] = None,
) -> None:
    """Turn the feedback into an evaluation suite: good answers become references, bad ones regression items."""
    from .cli_common import build_settings, console, exits_on_error

    with exits_on_error():
        settings = build_settings(index, None, config, kb=kb)
        result = export_suite(feedback_path(settings), suite)
    console.print(f"Wrote {len(result.items)} items to {suite}"
                  + (f" ({result.skipped} 👎 on refusals without a reason left out)" if result.skipped else "")
                  + f". Run it: assistant eval {suite}", highlight=False)  # fmt: skip
