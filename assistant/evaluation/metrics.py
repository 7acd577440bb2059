"""Metrics that need no LLM judge — retrieval, answer, choice, citation, refusal, latency —
per question and aggregated; plus the optional LLM-judged ones, always marked `judged_*`.

Citation support is decided by `assistant.citations.check_support`, the same check the
answering code uses, so the evaluator never disagrees with what the UI shows as supported.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from ..citations import SimilarityFn, check_support, claims_support, parse_claims
from ..prompts import CITATION_RE, LANGUAGES, is_refusal, render
from ..textutil import ARTICLE_LABEL, HAN, cn_number, coverage, normalize, section_label, units
from ..types import Answer, Passage
from .suite import FALSE_WORDS, TRUE_WORDS, SuiteItem

EVIDENCE_COVERAGE = 0.6  # share of the gold evidence's content a retrieved passage must contain
PASS_F1 = 0.5  # a free-text answer passes with containment of a gold string or at least this token F1
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
    return any(_position(normalize_answer(g).replace(" ", ""), pred) is not None for g in golds)


def _position(needle: str, haystack: str) -> int | None:
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


# ----- retrieval ---------------------------------------------------------------------


def gold_rank(passages: list[Passage], gold_doc_ids: list[str]) -> int | None:
    """1-based rank of the first retrieved passage from a gold document, None when none is."""
    gold = set(gold_doc_ids)
    return next((i for i, p in enumerate(passages, 1) if p.doc_id in gold), None)


def evidence_hit(evidence: str, passage_texts: list[str], k: int = 5) -> bool:
    """Whether one of the top `k` passages holds the gold evidence (coverage >= 0.6, or either contains the other)."""
    ev = normalize(evidence).replace(" ", "")
    for text in passage_texts[:k]:
        t = normalize(text).replace(" ", "")
        if ev in t or (len(t) >= 30 and t in ev) or coverage(evidence, text) >= EVIDENCE_COVERAGE:
            return True
    return False


# ----- key facts and lists ---------------------------------------------------------------

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
        found = sum(1 for f in facts if _position(f, pred) is not None or f in pred)
        best = max(best or 0.0, found / len(facts))
    return best


def list_recall(answer: Answer, gold_sections: list[str], gold_docs: list[str]) -> float | None:
    """For list questions: share of the gold articles or items (section labels such as 第十二条) that a
    supported citation of the answer points at, in a gold document."""
    if not gold_sections:
        return None
    cited = {
        section_label(c.passage.section)
        for c in answer.citations
        if c.supported and (not gold_docs or c.passage.doc_id in gold_docs)
    }
    return sum(1 for s in gold_sections if s.strip() in cited) / len(gold_sections)


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
        at = _position(needle, pred)
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


# ----- citations ---------------------------------------------------------------------


def citation_metrics(raw: str, answer: Answer, similarity: SimilarityFn | None = None) -> dict[str, float | None]:
    """Validity, precision and recall of an answer's citations.

    `raw` is the model's text before verification, which drops unsupported markers and adds
    markers to supported uncited sentences (so precision on the shown text would be trivially 1).
    Precision: share of the model's [n] markers whose passage supports their sentence.
    Validity: share of the model's markers that point at a retrieved passage whose quoted span
    is really in it. Recall: share of the shown answer's sentences with a supported citation
    (`claims_support`); `citation_recall_model` is the same for the model's own markers.
    """
    keys = ("citation_validity", "citation_precision", "citation_recall", "citation_recall_model")
    if answer.refused or not answer.text.strip():
        return dict.fromkeys(keys)
    shown = {c.n: c for c in answer.citations}
    total = valid = supported = sentences = covered = 0
    for claim in parse_claims(raw or answer.text):
        backed = False
        for n in claim.numbers:
            total += 1
            if not 1 <= n <= len(answer.passages):
                continue
            passage = answer.passages[n - 1]
            c = shown.get(n)
            if c is None or (c.passage.chunk_id == passage.chunk_id and c.quote in passage.text):
                valid += 1
            ok, _, _ = check_support(claim.text, passage, similarity)
            supported += ok
            backed = backed or ok
        if units(claim.text):
            sentences += 1
            covered += backed
    shown_covered, shown_sentences = claims_support(answer.text, answer.citations)
    return {
        "citation_validity": valid / total if total else None,
        "citation_precision": supported / total if total else None,
        "citation_recall": shown_covered / shown_sentences if shown_sentences else None,
        "citation_recall_model": covered / sentences if sentences else None,
    }


def is_refused(answer: Answer) -> bool:
    """Whether the answer declined (the engine's flag, or the shared refusal sentence / a close variant)."""
    return answer.refused or (bool(answer.text.strip()) and is_refusal(answer.text, answer.language or None))


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


# ----- judged metrics (optional) -----------------------------------------------------

JudgeFn = Callable[[list[dict[str, str]]], str]  # chat messages -> the judge model's reply

def _yes_no(reply: str) -> float | None:
    head = normalize(reply)[:20]
    if re.match(r"^\W*(yes|是|对|正确)", head):
        return 1.0
    if re.match(r"^\W*(no|否|不|错误)", head):
        return 0.0
    return None


def judge_answer(judge: JudgeFn, item: SuiteItem, answer: Answer) -> dict[str, float | None]:
    """LLM-judged faithfulness (answer vs. retrieved passages) and correctness (vs. gold); None when not applicable."""
    out: dict[str, float | None] = {"judged_faithfulness": None, "judged_correctness": None}
    if is_refused(answer) or not answer.text.strip():
        return out
    passages = "\n\n".join(f"[{i}] {p.text}" for i, p in enumerate(answer.passages, 1))
    answer_text = CITATION_RE.sub("", answer.text)
    values = {"passages": passages, "answer": answer_text, "question": item.question, "gold": " / ".join(item.answers)}
    kinds = ["faithfulness"] + (["correctness"] if item.answerable and item.answers else [])
    language = item.language if item.language in LANGUAGES else "en"
    for kind in kinds:
        # prompts/judge_<kind>.<lang>.txt; values go in verbatim, so braces or instructions in them change nothing.
        out[f"judged_{kind}"] = _yes_no(judge(render(f"judge_{kind}", language, **values)))
    return out


# ----- editions (assistant.versions; suite fields other_editions, gold_changed_articles) ----------


def edition_correct(item: SuiteItem, answer: Answer) -> float | None:
    """1.0 when the answer rests on the gold edition, 0.0 when on another; None when the item names no editions.

    Items list the editions that must not be used in `other_editions`. Every cited passage of the
    work (the top passage when nothing is cited) must come from a gold document. A change question
    (`other_editions` empty) must use every gold edition, cited or among the top 5 passages.
    """
    others = item.extra.get("other_editions")
    if others is None:
        return None
    gold = set(item.gold_doc_ids)
    if not others:
        used = {c.passage.doc_id for c in answer.citations} | {p.doc_id for p in answer.passages[:5]}
        return float(bool(gold) and gold <= used)
    # A citation that only says what an earlier edition said ("此前版本…的规定不同") is not what the answer rests on.
    cited = [c.passage.doc_id for c in answer.citations if c.role == "answer"] or [p.doc_id for p in answer.passages[:1]]
    relevant = [d for d in cited if d in gold or d in others]
    return float(bool(relevant) and all(d in gold for d in relevant))


def article_numbers(labels: Iterable[str]) -> set[int]:
    """第五十八条 / 第58条 -> 58, for every article label in `labels`."""
    return {n for label in labels for m in ARTICLE_LABEL.finditer(label) if (n := cn_number(m.group(1)))}


def diff_recall(found: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of the truly changed articles (gold labels) that were found; None without gold."""
    wanted = article_numbers(gold)
    return len(wanted & article_numbers(found)) / len(wanted) if wanted else None


def answer_diff_recall(item: SuiteItem, answer: Answer) -> float | None:
    """diff_recall of a change question: the articles the answer names or cites (from a gold edition)
    against the item's `gold_changed_articles`."""
    gold = item.extra.get("gold_changed_articles")
    if not gold:
        return None
    gold_docs = set(item.gold_doc_ids)
    found = [answer.text] + [c.passage.section for c in answer.citations if c.passage.doc_id in gold_docs]
    return diff_recall(found, gold)
