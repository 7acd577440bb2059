"""Evaluation suites: loading and validating the JSONL format, RAGAS-style import/export,
and turning multiple-choice / true-false items into the question text the Engine is asked.

One line per question, the layout of the sets in `../shared/datasets` (see eval/README.md):
`id`, `question`, `answer` (string or list; `[]` when unanswerable), `doc_id`, `alt_doc_ids`,
`evidence`, `answerable`, `choices` (list, or a dict {"A": ...} with `answer_key`), `scope`,
`language`, `question_type`. Unknown fields are kept in `SuiteItem.extra`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AssistantError
from ..textutil import language_of, normalize

REQUIRED_FIELDS = ("id", "question", "answer", "answerable")
_KNOWN = {
    "id", "question", "answer", "answerable", "doc_id", "alt_doc_ids", "evidence", "choices",
    "answer_key", "scope", "language", "question_type",
}
TRUE_WORDS = frozenset({"正确", "对", "是", "true", "yes", "t"})
FALSE_WORDS = frozenset({"错误", "错", "否", "false", "no", "f"})
TRUE_FALSE_TYPES = frozenset({"true_false", "true_or_false", "truefalse", "judgement", "judgment", "tf"})
LETTERS = "ABCDEFGHIJ"


class SuiteError(AssistantError):
    """The suite file is missing or a line of it is invalid; the message names the line."""


@dataclass
class SuiteItem:
    """One evaluation question with its gold data."""

    id: str
    question: str
    answers: list[str]
    answerable: bool
    doc_id: str | None = None
    alt_doc_ids: list[str] = field(default_factory=list)
    evidence: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)  # (label, option text)
    gold_choice: str | None = None  # label of the correct option
    scope: list[str] = field(default_factory=list)
    language: str = ""
    question_type: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gold_doc_ids(self) -> list[str]:
        return [d for d in [self.doc_id, *self.alt_doc_ids] if d]

    @property
    def is_true_false(self) -> bool:
        texts = [normalize(t) for _, t in self.choices]
        return len(texts) == 2 and any(t in TRUE_WORDS for t in texts) and any(t in FALSE_WORDS for t in texts)

    def content_hash(self) -> str:
        """Changes whenever anything that affects the result changes, so a resumed run redoes edited items."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """The suite-line layout (choices as a list, or as a dict with `answer_key` when labels are not A, B, …)."""
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answers[0] if len(self.answers) == 1 else list(self.answers),
            "doc_id": self.doc_id,
            "alt_doc_ids": self.alt_doc_ids,
            "evidence": self.evidence,
            "answerable": self.answerable,
            "language": self.language,
            "question_type": self.question_type,
        }
        if self.choices:
            data["choices"] = {label: text for label, text in self.choices}
            data["answer_key"] = self.gold_choice
        if self.scope:
            data["scope"] = self.scope
        return {**self.extra, **data}


def _fail(where: str, message: str) -> SuiteError:
    return SuiteError(f"{where}: {message}")


def _string_list(value: Any, where: str, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _fail(where, f"'{name}' must be a string or a list of strings, got {type(value).__name__}")


def _choices(data: dict[str, Any], where: str) -> list[tuple[str, str]]:
    raw = data.get("choices")
    if raw is None:
        return []
    if isinstance(raw, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        return [(k.strip(), v) for k, v in raw.items()]
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        if len(raw) > len(LETTERS):
            raise _fail(where, f"at most {len(LETTERS)} choices are supported")
        return [(LETTERS[i], v) for i, v in enumerate(raw)]
    raise _fail(where, "'choices' must be a list of strings or an object {\"A\": \"...\"}")


def _gold_choice(data: dict[str, Any], choices: list[tuple[str, str]], answers: list[str], where: str) -> str | None:
    key = data.get("answer_key")
    labels = [label for label, _ in choices]
    if isinstance(key, str) and key.strip():
        if key.strip() not in labels:
            raise _fail(where, f"answer_key '{key}' is not one of the choices {labels}")
        return key.strip()
    for answer in answers:
        for label, text in choices:
            if normalize(text) == normalize(answer):
                return label
        if answer.strip() in labels:  # the answer given as the letter itself
            return answer.strip()
    raise _fail(where, f"answer {answers[0]!r} is not one of the choices {[t for _, t in choices]}")


def parse_item(data: Any, where: str) -> SuiteItem:
    """Validate one decoded suite line; `where` ("suite.jsonl line 3") prefixes every error."""
    if not isinstance(data, dict):
        raise _fail(where, f"expected a JSON object, got {type(data).__name__}")
    missing = [f for f in REQUIRED_FIELDS if f not in data]
    if missing:
        raise _fail(where, "missing field " + ", ".join(f"'{f}'" for f in missing))
    if not isinstance(data["id"], str | int) or not str(data["id"]).strip():
        raise _fail(where, "'id' must be a non-empty string")
    question = data["question"]
    if not isinstance(question, str) or not question.strip():
        raise _fail(where, "'question' must be a non-empty string")
    if not isinstance(data["answerable"], bool):
        raise _fail(where, "'answerable' must be true or false")
    answers = [a for a in _string_list(data["answer"], where, "answer") if a.strip()]
    if data["answerable"] and not answers:
        raise _fail(where, "an answerable item needs a non-empty 'answer'")
    doc_id = data.get("doc_id")
    if doc_id is not None and not isinstance(doc_id, str):
        raise _fail(where, "'doc_id' must be a string or null")
    evidence = data.get("evidence")
    if evidence is not None and not isinstance(evidence, str):
        raise _fail(where, "'evidence' must be a string or null")
    qtype = str(data.get("question_type") or "")
    choices = _choices(data, where)
    if not choices and qtype.lower() in TRUE_FALSE_TYPES:
        # True/false sets often give no options: the two verdicts are implied.
        zh = language_of(question) == "zh" or any(a in ("正确", "错误") for a in answers)
        choices = [("A", "正确"), ("B", "错误")] if zh else [("A", "True"), ("B", "False")]
    gold = _gold_choice(data, choices, answers, where) if choices and data["answerable"] else None
    if not qtype:
        qtype = "unanswerable" if not data["answerable"] else "true_false" if len(choices) == 2 else (
            "multiple_choice" if choices else "factoid"
        )
    language = data.get("language") or language_of(question)
    return SuiteItem(
        id=str(data["id"]).strip(),
        question=question.strip(),
        answers=answers,
        answerable=data["answerable"],
        doc_id=doc_id or None,
        alt_doc_ids=_string_list(data.get("alt_doc_ids"), where, "alt_doc_ids"),
        evidence=evidence or None,
        choices=choices,
        gold_choice=gold,
        scope=_string_list(data.get("scope"), where, "scope"),
        language=str(language),
        question_type=qtype,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )


def load_suite(path: Path | str) -> list[SuiteItem]:
    """Read and validate a suite file. Lines in RAGAS layout (`question` + `ground_truth`) are converted.

    Raises SuiteError naming the file and line for bad JSON, a missing field or a duplicate id.
    """
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"Suite file {path} does not exist (expected JSONL, one question per line; see eval/README.md).")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"Cannot read suite file {path}: {exc}") from exc
    items: list[SuiteItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(where, f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
        if isinstance(data, dict) and "answerable" not in data and {"ground_truth", "ground_truths", "reference"} & set(data):
            data = from_ragas(data, default_id=f"q{number}")
        item = parse_item(data, where)
        if item.id in seen:
            raise _fail(where, f"duplicate id '{item.id}' (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise SuiteError(f"Suite file {path} holds no questions.")
    return items


# ----- RAGAS interchange -------------------------------------------------------------


def from_ragas(row: dict[str, Any], default_id: str = "") -> dict[str, Any]:
    """A RAGAS row (`question`, `answer`, `contexts`, `ground_truth`) as a suite line.

    An empty ground truth means unanswerable. Another tool's `answer` and `contexts` are
    kept as `ragas_answer` / `ragas_contexts` so nothing is lost on the way through.
    """
    truth = row.get("ground_truth", row.get("ground_truths", row.get("reference", [])))
    answers = [truth] if isinstance(truth, str) else [t for t in truth or [] if isinstance(t, str)]
    answers = [a for a in answers if a.strip()]
    data: dict[str, Any] = {
        "id": str(row.get("id") or default_id),
        "question": row.get("question") or row.get("user_input") or "",
        "answer": answers,
        "answerable": bool(answers),
        "doc_id": row.get("doc_id"),
    }
    if row.get("answer") is not None:
        data["ragas_answer"] = row["answer"]
    if row.get("contexts") is not None:
        data["ragas_contexts"] = row["contexts"]
    for key in ("alt_doc_ids", "evidence", "choices", "answer_key", "scope", "language", "question_type"):
        if key in row:
            data[key] = row[key]
    return data


def to_ragas(result: dict[str, Any]) -> dict[str, Any]:
    """One result row (see runner.evaluate_item) in RAGAS layout, plus `id` and `doc_id` for the way back."""
    gold = result.get("gold_answers") or []
    return {
        "id": result["id"],
        "question": result["question"],
        "answer": result.get("answer", ""),
        "contexts": [p.get("text", "") for p in result.get("passages", [])],
        "ground_truth": gold[0] if gold else "",
        "ground_truths": gold,
        "doc_id": next(iter(result.get("gold_doc_ids") or []), None),
    }


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    """Write rows as UTF-8 JSONL."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


# ----- choices: question text and the option an answer picked -------------------------------


def format_question(item: SuiteItem) -> str:
    """The text the Engine is asked: the question itself, or for choice items the options and how to answer."""
    if not item.choices:
        return item.question
    zh = item.language == "zh"
    if item.is_true_false:
        verdicts = "“" + "”或“".join(t for _, t in item.choices) + "”" if zh else " or ".join(f'"{t}"' for _, t in item.choices)
        return f"{item.question}\n请先回答{verdicts}，再说明依据。" if zh else (
            f"{item.question}\nAnswer {verdicts} first, then give the reason."
        )
    options = "\n".join(f"{label}. {text}" for label, text in item.choices)
    return f"{item.question}\n{options}\n请先写出正确选项的字母，再说明依据。" if zh else (
        f"{item.question}\n{options}\nAnswer with the letter of the correct option first, then give the reason."
    )
