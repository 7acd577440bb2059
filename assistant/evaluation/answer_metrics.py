"""Answer metrics that need no judge: exact match, token F1 and containment of a gold answer, the reference
answer's key facts, the option a multiple-choice or true/false answer picked, and whether the answer declined."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..prompts import CITATION_RE, is_refusal
from ..textutil import HAN, coverage, normalize
from ..types import Answer
from .suite import FALSE_WORDS, TRUE_WORDS, SuiteItem

_CJK_OR_WORD = re.compile(f"[{HAN}]|[^\\s{HAN}]+")

# ----- answer text ------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    """SQuAD-style: citation markers, punctuation and English articles removed; NFKC, lower case, single spaces."""
    text = normalize(CITATION_RE.sub(" ", text))
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    text = re.sub(r"\b(?:a|an|the)\b", " ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    """Tokens for F1: each Chinese character on its own, English words and numbers whole."""
    return _CJK_OR_WORD.findall(normalize_answer(text))


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    """1.0 when the normalized prediction equals a normalized gold answer (spaces ignored)."""
    pred = normalize_answer(prediction).replace(" ", "")
    return float(any(pred == normalize_answer(g).replace(" ", "") for g in golds if g.strip()))


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    """Best token F1 over the gold answers (character-level for Chinese)."""
    pred = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = answer_tokens(gold)
        if not pred or not ref:
            continue
        common: dict[str, int] = {}
        counts: dict[str, int] = {}
        for t in ref:
            counts[t] = counts.get(t, 0) + 1
        for t in pred:
            if counts.get(t, 0) > 0:
                counts[t] -= 1
                common[t] = common.get(t, 0) + 1
        same = sum(common.values())
        if same:
            p, r = same / len(pred), same / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


def contains_answer(prediction: str, golds: Iterable[str]) -> bool:
    """Whether a normalized gold answer string occurs in the normalized prediction."""
    pred = normalize_answer(prediction).replace(" ", "")
    return any(answer_position(normalize_answer(g).replace(" ", ""), pred) is not None for g in golds)


def answer_position(needle: str, haystack: str) -> int | None:
    """Where `needle` occurs in `haystack`; a number must not continue one ("5万人" is not in "15万人")."""
    if not needle:
        return None
    pattern = re.escape(needle)
    if needle[0].isdigit():
        pattern = r"(?<![\d.])" + pattern
    if needle[-1].isdigit():
        pattern += r"(?![\d])"
    m = re.search(pattern, haystack)
    return m.start() if m else None


# ----- key facts ---------------------------------------------------------------

_KEY_NUMBER = re.compile(r"\d+(?:[.,]\d+)*\s*(?:%|％|万亿|亿|万|千)?")
_KEY_QUOTED = re.compile(r"《([^》]{2,40})》|“([^”]{2,30})”|「([^」]{2,30})」|\"([^\"]{2,30})\"")
_KEY_DATE = re.compile(r"\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月\d{1,2}日")


def key_facts(text: str) -> set[str]:
    """The reference answer's checkable facts: its numbers (with their scale), dates and quoted terms."""
    text = normalize(text)
    facts = {m.group(0).replace(" ", "") for m in _KEY_DATE.finditer(text)}
    rest = _KEY_DATE.sub(" ", text)
    facts |= {m.group(0).replace(" ", "").replace(",", "") for m in _KEY_NUMBER.finditer(rest)}
    facts |= {next(g for g in m.groups() if g) for m in _KEY_QUOTED.finditer(text)}
    return {f for f in facts if f}


def key_fact_recall(prediction: str, golds: Iterable[str]) -> float | None:
    """Share of the reference answer's numbers, dates and quoted terms that the answer states (best gold).
    None when no reference answer has any."""
    pred = normalize(prediction).replace(" ", "").replace(",", "")
    best: float | None = None
    for gold in golds:
        facts = key_facts(gold)
        if not facts:
            continue
        found = sum(1 for f in facts if answer_position(f, pred) is not None or f in pred)
        best = max(best or 0.0, found / len(facts))
    return best


# ----- choices ---------------------------------------------------------------------

_LEAD_LETTER = re.compile(
    r"^\s*(?:正确答案|答案|选项|选择|答|answer|option)?\s*(?:是|为|应为|is)?\s*[:：]?\s*[（(【\[]?([A-J])(?![A-Za-z])(?!\s+[a-z])",
    re.I,
)
_ANY_LETTER = re.compile(r"(?:正确答案|答案|选项|字母|应选|选择|选)\s*(?:是|为|应为)?\s*[:：]?\s*[（(【\[]?([A-J])(?![A-Za-z])")
_ANY_LETTER_EN = re.compile(r"\b(?:answer|option)\s*(?:is)?\s*[:：]?\s*\(?([A-J])\b(?![.'][a-z])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _verdict(text: str) -> bool | None:
    """True/False from the start of an answer, or from the only verdict word it uses."""
    head = re.sub(r"^(?:正确答案|答案|答|answer|判断|结论)\s*(?:是|为|is)?\s*[:：]?\s*", "", normalize(text))
    head = head.lstrip("\"'“”「」*（( ")
    if head.startswith(("不正确", "不对", "not true", "incorrect")):
        return False
    for word in sorted(TRUE_WORDS | FALSE_WORDS, key=len, reverse=True):
        if not head.startswith(word):
            continue
        # A one-character word counts only on its own: "对，…" is a verdict, "对经认定的…" ("for …") is not.
        if len(word) > 1 or head[1:2] in ("", "，", ",", "。", ".", "！", "!", "；", ";", "、", " "):
            return word in TRUE_WORDS
    said_true = bool(re.search(r"(?<!不)正确|\btrue\b|说法对", text, re.I))
    said_false = bool(re.search(r"错误|不正确|\bfalse\b|说法不对", text, re.I))
    return said_true if said_true != said_false else None


def parse_choice(answer: str, item: SuiteItem) -> tuple[str | None, str]:
    """(label of the option the answer picked or None, how it was found: letter|verdict|text|overlap|none)."""
    text = CITATION_RE.sub("", answer).replace("*", "").strip()
    labels = {label.upper(): label for label, _ in item.choices}
    if not text:
        return None, "none"
    for regex in (_LEAD_LETTER, _ANY_LETTER, _ANY_LETTER_EN):
        m = regex.search(text)
        if m and m.group(1).upper() in labels:
            return labels[m.group(1).upper()], "letter"
    if item.is_true_false:
        verdict = _verdict(text)
        true_label = next(label for label, t in item.choices if normalize(t) in TRUE_WORDS)
        false_label = next(label for label, t in item.choices if normalize(t) in FALSE_WORDS)
        if verdict is not None:
            return (true_label if verdict else false_label), "verdict"
        # Extractive answers quote the source: the statement holds when the quote covers it, numbers included.
        statement = item.question
        numbers_ok = set(_NUMBER.findall(statement)) <= set(_NUMBER.findall(text))
        return (true_label if coverage(statement, text) >= 0.6 and numbers_ok else false_label), "overlap"
    pred = normalize_answer(text).replace(" ", "")
    found = []
    for label, option in item.choices:
        needle = normalize_answer(option).replace(" ", "")
        at = answer_position(needle, pred)
        if at is not None:
            found.append((at, label, needle))
    # An option contained in another found option ("10万" in "10万人") is not a separate pick.
    found = [f for f in found if not any(f[2] != g[2] and f[2] in g[2] for g in found)]
    if found:
        return min(found)[1], "text"
    scores = [(coverage(option, text), label) for label, option in item.choices]
    best = max(scores)
    if best[0] > 0 and sum(1 for s, _ in scores if s == best[0]) == 1:
        return best[1], "overlap"
    return None, "none"


# ----- refusal -----------------------------------------------------------------------


def is_refused(answer: Answer) -> bool:
    """Whether the answer declined (the engine's flag, or the shared refusal sentence / a close variant). An answer
    that says the documents do not state the value asked for counts as declining it, for refusal accuracy and
    false refusals alike."""
    if answer.refused or answer.not_stated:
        return True
    return bool(answer.text.strip()) and is_refusal(answer.text, answer.language or None)
