"""Choice and true/false questions: the options, how well the evidence supports each, and the rendered pick.

The engine asks the local model for its option log-probabilities in `llm.choice_orders` orders of the options
(`model_scores`) and adds `option_evidence` (times `llm.choice_evidence_weight`) on multiple choice; the
extractive backend picks by the evidence alone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .config import LLMSettings
from .llm.base import GenerationRequest
from .query import CHOICE, TRUE_FALSE, Query, with_options
from .textutil import content_units, language_of, normalize, split_sentences, units, weighted_coverage
from .types import Passage


def options(query: Query) -> list[tuple[str, str]]:
    """(first word of the answer, option text): A/B/C… for a choice question; the two verdicts for true/false."""
    a = query.analysis
    if a.type == CHOICE:
        return a.choices
    if a.type == TRUE_FALSE:
        quoted = re.findall(r"[“\"]([^”\"]{1,8})[”\"]", query.standalone.splitlines()[-1])
        if len(quoted) >= 2:
            return [(quoted[0], quoted[0]), (quoted[1], quoted[1])]
        return [("正确", "正确"), ("错误", "错误")] if a.language == "zh" else [("True", "True"), ("False", "False")]
    return []


# A figure with its unit ("5万人", "40%", "600万元"): an option about a figure is only supported by a sentence that
# states that figure, not by one that shares its unit ("10万人").
_FIGURE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([%％]|[万亿千百]?[\u4e00-\u9fff]?)")
# Words that turn a statement around: "可以申请延期" is contradicted by "不得延期".
_NEGATION = re.compile(r"不得|不予|不能|不可|不需|无需|无须|禁止|严禁|不属于|不再|不包括|不应|不允许|不超过|不低于|不少于|未经|\bnot\b|\bno\b|\bnever\b")


def _figures_in(figures: list[tuple[str, str]], text: str) -> bool:
    return all(re.search(rf"(?<![\d.]){re.escape(n)}\s*{re.escape(u)}", text) for n, u in figures)


def model_scores(llm: Any, request: GenerationRequest, query: Query, orders: int = 1) -> list[float]:
    """The model's log-probability for each option, averaged over the orders of `order_scores`."""
    asked = order_scores(llm, request, query, orders)
    return [sum(column) / len(asked) for column in zip(*asked.values(), strict=True)]


def order_scores(llm: Any, request: GenerationRequest, query: Query, orders: int = 1) -> dict[int, list[float]]:
    """The model's log-probabilities for the options, by shift: a multiple-choice question is asked in `orders`
    orders of its options, moved round by each shift (with 2 orders of 4, A↔C and B↔D), each mapped back to the
    options' own order, since a small model favours the first letters whatever they say. The prompt up to the options
    is computed once (llama.cpp reuses the shared prefix), so each extra order costs the options and the answer cue."""
    picks = options(query)
    words = [w for w, _ in picks]
    scores = llm.option_scores(request, words)
    n = len(picks)
    head, asked, tail = request.messages[-1]["content"].rpartition(request.question)
    if query.analysis.type != CHOICE or orders <= 1 or n < 2 or len(set(scores)) <= 1 or not asked:
        return {0: scores}  # true/false, or a backend without an opinion to debias
    by_shift = {0: scores}
    for shift in sorted({round(i * n / orders) % n for i in range(1, orders)} - {0}):
        order = [(i + shift) % n for i in range(n)]  # position i shows option order[i]
        question = with_options(request.question, [picks[o][1] for o in order])
        messages = [*request.messages[:-1], {**request.messages[-1], "content": head + question + tail}]
        moved = llm.option_scores(replace(request, messages=messages, question=question), words)
        by_shift[shift] = [moved[order.index(option)] for option in range(n)]
    return by_shift


def option_evidence(query: Query, passages: list[Passage], top: int = 5) -> list[float]:
    """How well the evidence supports each option: `sentence_support`, plus 1.5 x `blank_fit` when the question
    has one blank (fill-in questions quote their source; measured by bench/choice.py)."""
    support = sentence_support(query, passages, top)
    fit = blank_fit(query, passages, top)
    if fit is None:
        return support
    return [s + BLANK_WEIGHT * f for s, f in zip(support, fit, strict=True)]


def weigh(query: Query, passages: list[Passage], scores: list[float], settings: LLMSettings) -> tuple[list[float], list[float]]:
    """(how well the evidence supports each option, each option's final score) for the model's `scores`."""
    support = option_evidence(query, passages)
    kind, contradicted = query.analysis.type, figure_contradicted(query, passages)
    return support, combine(kind, scores, support, settings.choice_evidence_weight, settings.true_false_bias, contradicted)


def figure_contradicted(query: Query, passages: list[Passage], top: int = 5) -> bool:
    """A true/false statement with a figure ("单项许可的有效期不超过3年") whose closest evidence sentence (covering at
    least 0.3 of it) does not state that figure with its unit ("…不超过1年"): the statement is false."""
    a = query.analysis
    if a.type != TRUE_FALSE or not passages or _across(query, passages):
        return False
    figures = _FIGURE.findall(normalize(a.stem))
    sentences = _sentences(passages, top)
    if not figures or not sentences:
        return False
    covered, i = _closest(query, [set(units(s)) for s in sentences])
    return covered >= 0.3 and not _figures_in(figures, sentences[i])


def _sentences(passages: list[Passage], top: int) -> list[str]:
    """The sentences (normalized, at least 6 characters) of the top passages."""
    return [normalize(p.text[s:e]) for p in passages[:top] for s, e in split_sentences(p.text) if e - s >= 6]


def _closest(query: Query, have: list[set[str]]) -> tuple[float, int]:
    """(coverage, index) of the sentence, given by its units, that states most of the stem (IDF-weighted)."""
    wanted = content_units(query.analysis.stem)
    return max((weighted_coverage(wanted, got, query.idf), i) for i, got in enumerate(have))


def combine(
    kind: str, scores: list[float], support: list[float], weight: float, bias: float, contradicted: bool = False
) -> list[float]:
    """Each option's final score for a question of type `kind` (CHOICE or TRUE_FALSE) from the model's log-probabilities and the evidence's support.

    The evidence joins a model's opinion on multiple choice only: on true/false it made held-out questions worse;
    there the model must prefer "true" by `bias` (it says "true" too often). A backend without an opinion (all
    scores equal: the extractive one) goes by the evidence alone. A true/false statement whose figure the source
    states otherwise (`figure_contradicted`) is false whatever the model says. Measured by bench/choice.py.
    """
    if kind != CHOICE and contradicted:
        return [0.0, 1.0]
    if kind == CHOICE or len(set(scores)) <= 1:
        return [s + weight * e for s, e in zip(scores, support, strict=True)]
    return [scores[0] - bias, *scores[1:]]


def sentence_support(query: Query, passages: list[Passage], top: int = 5) -> list[float]:
    """How well the evidence supports each option (0..1), without a model.

    A choice option scores the IDF-weighted share of the words that set it apart from the other options
    found in the best sentence of the top passages; an option that is a figure must be stated with its
    unit in a sentence, scored by how much of the question that sentence covers. A true/false statement scores how much of it the best sentence states, unless that sentence
    gives other figures or turns it around (不得, 不予 …): then the other verdict gets the score. Across
    languages only figures can be compared.
    """
    picks = options(query)
    sentences = _sentences(passages, top)
    if not picks or not sentences:
        return [0.0] * len(picks)
    a = query.analysis
    across = _across(query, passages)
    have = [set(units(sentence)) for sentence in sentences]
    if a.type == CHOICE:
        own = [content_units(text) for _, text in picks]
        shared = set.intersection(*own) if own else set()
        stem = content_units(a.stem)
        scores = []
        for (_, text), words in zip(picks, own, strict=True):
            figures = _FIGURE.findall(normalize(text))
            best = 0.0
            for sentence, got in zip(sentences, have, strict=True):
                if figures and not _figures_in(figures, sentence):
                    continue
                # A figure option (5万人 / 10万人) needs the figure in a sentence about the question; another
                # option, a sentence that has what sets it apart from the others (measured: bench/choice.py).
                apart = stem if figures or not words - shared else words - shared
                best = max(best, 1.0 if across else weighted_coverage(apart, got, query.idf))
            scores.append(best)
        return scores
    if across:
        return [0.0, 0.0]
    wanted = content_units(a.stem)
    stated, i = _closest(query, have)
    statement, sentence = normalize(a.stem), sentences[i]
    # The sentence turns the statement around when it negates something the statement asserts ("不得延期使用"
    # against "可以申请延期使用"), or states without a negation what the statement negates.
    if _NEGATION.search(statement):
        turned = not _NEGATION.search(sentence)
    else:
        turned = any(set(units(sentence[m.end() : m.end() + 4])) & wanted for m in _NEGATION.finditer(sentence))
    if turned or not _figures_in(_FIGURE.findall(statement), sentence):
        return [0.0, stated]
    return [stated, 0.0]


def reason(query: Query, passages: list[Passage], numbers: list[int], option: str) -> tuple[int, str] | None:
    """The evidence sentence that best bears on the picked option (with the question's stem), as (n, sentence)."""
    a = query.analysis
    wanted = content_units(f"{a.stem} {option if a.type == CHOICE else ''}")
    best: tuple[float, int, str] | None = None
    for n in numbers:
        p = passages[n - 1]
        for s, e in split_sentences(p.text):
            sentence = p.text[s:e].strip()
            if len(sentence) < 6 or sentence.startswith("#"):
                continue
            sc = weighted_coverage(wanted, set(units(sentence)), query.idf)
            if best is None or sc > best[0]:
                best = (sc, n, sentence)
    return (best[1], best[2]) if best and best[0] > 0.2 else None


def render_choice(query: Query, label: str, text: str, why: tuple[int, str] | None, cite_option: bool = False) -> str:
    """"B. option text. 依据：“…”[n]" — the pick first (what choice answers are read for), then the evidence."""
    zh = query.language == "zh"
    head = (f"{label}. {text}" if query.analysis.type == CHOICE else label).rstrip("。.")
    end = "。" if zh else "."
    if why is None:
        return head + end
    n, sentence = why
    if query.analysis.type == CHOICE and cite_option:  # the option is a claim too: cited when its passage holds it
        head += f"[{n}]"
    return head + end + (f"依据：“{sentence}”[{n}]" if zh else f" Basis: “{sentence}”[{n}]")


BLANK_WEIGHT = 1.5
# A blank in a fill-in question: "由____报国务院备案", "（　）".
_BLANK = re.compile(r"_{2,}|＿+|[(（][\s\u3000]*[)）]")
_JOIN = 4  # characters of the stem on each side of the blank that the filled-in text must continue with


def _across(query: Query, passages: list[Passage]) -> bool:
    """The question and the passages are in different languages (no verbatim comparison possible)."""
    return language_of(query.analysis.stem) != language_of(passages[0].text)


def _compact(text: str) -> str:
    """Normalized, without spaces and punctuation: stems and options punctuate differently from their source."""
    return re.sub(r"[\s,.;:!?，。；：！？、“”‘’\"'《》〈〉（）()\[\]【】]+", "", normalize(text))


def _longest_run(needle: str, hay: str) -> int:
    """Length of the longest piece of `needle` (from any start) found in `hay`."""
    best = 0
    for i in range(len(needle)):
        lo, hi = best, len(needle) - i
        while lo < hi:  # the longest piece from i found in hay, by bisection on its length
            mid = (lo + hi + 1) // 2
            if needle[i : i + mid] in hay:
                lo = mid
            else:
                hi = mid - 1
        best = max(best, lo)
    return best


def _blank(query: Query, passages: list[Passage], top: int) -> tuple[str, str, str] | None:
    """(the top passages, the stem before the blank, the stem after it), compacted, for a choice question with
    one blank in the passages' language; else None."""
    parts = _BLANK.split(query.analysis.stem)
    if query.analysis.type != CHOICE or len(parts) != 2 or not passages or _across(query, passages):
        return None
    return "\n".join(_compact(p.text) for p in passages[:top]), _compact(parts[0]), _compact(parts[1])


def blank_fit(query: Query, passages: list[Passage], top: int = 5) -> list[float] | None:
    """For a question with one blank: how well each option, written into the blank, reads as the evidence.

    Each option scores the share of it found verbatim in the top passages, times how far the stem's words
    on each side of the blank continue it there ("由____报国务院备案" filled with "省、自治区、直辖市的人民代表
    大会常务委员会" must read "由省、…常务委员会报"). None when the stem does not have exactly one blank.
    """
    blank, picks = _blank(query, passages, top), options(query)
    if blank is None or not picks:
        return None
    text, left, right = blank[0], blank[1][-_JOIN:], blank[2][:_JOIN]
    scores = []
    for _, option in picks:
        body = _compact(option)
        if not body:
            scores.append(0.0)
            continue
        share = 1.0 if body in text else _longest_run(body, text) / len(body)
        joins = []
        if left:
            head = body[:3]
            joins.append(max((j for j in range(len(left) + 1) if left[len(left) - j :] + head in text), default=0) / len(left))
        if right:
            tail = body[-3:]
            joins.append(max((j for j in range(len(right) + 1) if tail + right[:j] in text), default=0) / len(right))
        scores.append(share * (sum(joins) / len(joins) if joins else 1.0))
    return scores


def source_missing(query: Query, passages: list[Passage], top: int = 5) -> bool:
    """A one-blank question whose source is not among the passages: the stem's words on either side of the blank
    are not in them (the longest runs found on the two sides cover less than half of up to 12 characters a side),
    and no option written into the blank reads as them. Fill-in questions quote their source, so the passage
    that holds the answer also holds the words around the blank (measured on cn_policy_regs: bench/choice.py)."""
    blank = _blank(query, passages, top)
    if blank is None:
        return False
    text, left, right = blank[0], blank[1][-12:], blank[2][:12]
    context = len(left) + len(right)
    if context < 4:
        return False
    found = _longest_run(left, text) + _longest_run(right, text)
    return found < context / 2 and max(blank_fit(query, passages, top) or [0.0]) < 0.5
