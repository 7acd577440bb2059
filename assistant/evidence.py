"""Prompt compression: the sentences of the retrieved passages that answer the question, within a token budget.

On a CPU the local model reads its prompt at ~35-40 tokens/s (1.5B, 2 cores), so every
evidence token costs time before the first answer token, and a small model answers better
from a short, focused context than from whole chunks. Sentences of all candidate passages
compete for one budget: each is scored by the IDF-weighted share of the question's words
it contains (rare words count most; the name of a policy quoted in 《》 does not count), or, for a passage in another language than the question, by embedding similarity.
The best are kept until the budget is spent, and shown per passage in document order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .glossary import weigh_across
from .query import Query
from .textutil import content_units, language_of, section_label, split_sentences, units, weighted_coverage
from .types import Passage

SimilarityFn = Callable[[str, list[str]], list[float]]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"\d")
_SPACE = re.compile(r"\s")
# Sentences scoring below this share of the best sentence's score are filler, not evidence.
_MIN_SHARE = 0.35
_JOIN = "……"
_NAMED = re.compile(r"《[^》]*》")


def score(query: Query, passage: Passage) -> float:
    """How well the passage answers the question, 0..1, for the refusal decision (rank-based fusion
    scores say nothing absolute).

    In the question's language: the IDF-weighted share of the question's content units that the
    passage (with its title and section) contains; rare words weigh most, and words that occur
    nowhere in the index weigh the most of all. Across languages word overlap means nothing, so
    the dense (embedding) similarity found by retrieval stands in.
    """
    question = query.retrieval_text
    if language_of(passage.text) != language_of(question):
        return float(passage.stages.get("dense", 0.0))
    wanted = content_units(question)
    if not wanted:
        return 0.0
    return weighted_coverage(wanted, set(units(f"{passage.title}\n{passage.section}\n{passage.text}")), query.idf)


# How the names of policy documents end (法, 条例, 办法, 通知, 方案 …). A name in 《》 without such an ending is a
# form, a contract template or an app ("《…服务合同》示范文本"), which the documents may mention without being it.
_POLICY_NAME = re.compile(
    r"(?:法|条例|规定|办法|细则|通知|意见|决定|方案|规划|计划|纲要|指南|规范|标准|准则|公告|通告|批复|函|令|指引|目录|清单"
    r"|政策|措施|要点|制度|章程|守则|说明|报告|规则|指导|决议|公报|解释|答复|汇编|条款|协定|公约)"
    r"(?:[（(][^）)]*[）)])?$"
)


def named_found(named: bool | None, titles: list[str], passages: list[Passage], top: int = 5) -> bool | None:
    """Whether the policy the question names (《…》) is there: indexed as a document (`named`, from retrieval),
    mentioned by one of the top passages (an FAQ reply about 《…》), or not a policy's name at all (None)."""
    if named is not False:
        return named
    if any(t in p.text for t in titles for p in passages[:top]):
        return True
    if not any(_POLICY_NAME.search(t.strip()) for t in titles):
        return None
    return False


def weak(passages: list[Passage], named_title_found: bool | None, threshold: float) -> bool:
    """Refuse without asking the LLM: nothing found, the named policy is not indexed, or low evidence."""
    if not passages or named_title_found is False:
        return True
    if threshold <= 0:
        return False
    return max(p.evidence for p in passages[:3]) < threshold


def choose(query: Query, passages: list[Passage], ratio: float, most: int) -> list[int]:
    """Numbers (1-based, rank order) of the passages worth showing the LLM.

    Every prompt token costs time on a CPU (~35-90 tokens/s), and a small model answers
    better from less: passages that share far less of the question than the best one are
    left out. Passages in another language than the question are kept (the overlap
    cannot judge them).
    """
    lang = language_of(query.retrieval_text)
    same = [p.evidence for p in passages if language_of(p.text) == lang]
    best = max(same, default=0.0)
    keep = [i + 1 for i, p in enumerate(passages) if language_of(p.text) != lang or p.evidence >= ratio * best]
    return keep[:most] or ([1] if passages else [])


def estimate_tokens(text: str) -> int:
    """Approximate LLM tokens in `text`, without the model's tokenizer.

    Fitted on the sample corpus against the Qwen2.5 vocabulary (median error 4 %): ~0.6 token per
    Chinese character, ~1.3 per English word, one per digit, ~0.7 per other visible character.
    """
    cjk = len(_CJK.findall(text))
    words = _WORD.findall(text)
    digits = len(_DIGIT.findall(text))
    other = len(text) - cjk - sum(map(len, words)) - digits - len(_SPACE.findall(text))
    return round(0.6 * cjk + 1.3 * len(words) + digits + 0.7 * max(other, 0))


@dataclass
class Evidence:
    """What the LLM sees of one passage: its number in the retrieved list and the chosen text."""

    number: int
    header: str
    text: str


def passage_header(passage: Passage, with_title: bool) -> str:
    """《title》 and the last section label (e.g. 第十二条), kept short: both cost prompt tokens."""
    section = section_label(passage.section)
    if len(section) > 24:
        section = section[:24] + "…"
    parts = [f"《{passage.title}》" if with_title and passage.title else "", section]
    return " ".join(x for x in parts if x)


def _scores(
    question: str,
    passage: Passage,
    sentences: list[str],
    idf: dict[str, float],
    similarity: SimilarityFn | None,
    pattern: re.Pattern[str] | None = None,
) -> list[float]:
    if pattern is not None:
        # A fact question wants a sentence that states the kind of value asked for (a duration for 多长时间).
        base = _scores(question, passage, sentences, idf, similarity)
        return [sc * (1.5 if pattern.search(s) else 0.8) for sc, s in zip(base, sentences, strict=True)]
    if language_of(passage.text) != language_of(question):
        # Lexical overlap cannot compare languages; the multilingual embedder can.
        if similarity is None or not sentences:
            return [1.0 / (1 + i) for i in range(len(sentences))]  # the article's opening sentences first
        scores = [max(0.0, s) for s in similarity(question, sentences)]
        if language_of(question) != "en":
            return scores
        # By the whole article: its lead-in says 处罚 and its items say what is punished.
        factor = weigh_across(question, f"{passage.section}\n{passage.text}", 1.0)
        return [sc * factor for sc in scores]
    # A policy named in 《》 picks the document (retrieval matched it), not the sentence within it.
    wanted = content_units(_NAMED.sub(" ", question)) or content_units(question)
    return [weighted_coverage(wanted, set(units(s)), idf) for s in sentences]


def select(
    question: str,
    passages: list[Passage],
    numbers: list[int],
    budget: int,
    *,
    idf: dict[str, float] | None = None,
    similarity: SimilarityFn | None = None,
    value: re.Pattern[str] | None = None,
) -> list[Evidence]:
    """The evidence to show for passages `numbers` (1-based), at most about `budget` tokens in all.

    The best sentence of the best passage is always kept, even past the budget. A passage whose
    sentences all lose to better ones is left out. The opening sentence of a kept passage (an
    article's subject: "第十三条 对…项目") is added when it still fits.
    """
    idf = idf or {}
    spans = {n: split_sentences(passages[n - 1].text) for n in numbers}
    candidates: list[tuple[float, int, int]] = []  # (score, passage number, sentence index)
    for rank, n in enumerate(numbers):
        p = passages[n - 1]
        texts = [p.text[a:b] for a, b in spans[n]]
        for i, sc in enumerate(_scores(question, p, texts, idf, similarity, value)):
            candidates.append((sc * (1 - 0.02 * rank), n, i))  # ties go to the better-ranked passage
    candidates.sort(key=lambda c: (-c[0], numbers.index(c[1]), c[2]))
    best = candidates[0][0] if candidates else 0.0

    kept: dict[int, set[int]] = {}
    seen_docs: set[str] = set()
    used = 0

    def cost(n: int, i: int) -> int:
        a, b = spans[n][i]
        extra = estimate_tokens(passages[n - 1].text[a:b]) + 1
        if n not in kept:  # a new block: its number and header
            p = passages[n - 1]
            extra += 3 + estimate_tokens(passage_header(p, p.doc_id not in seen_docs))
        return extra

    def keep(n: int, i: int, c: int) -> None:
        nonlocal used
        kept.setdefault(n, set()).add(i)
        seen_docs.add(passages[n - 1].doc_id)
        used += c

    for sc, n, i in candidates:
        if sc <= 0 or sc < _MIN_SHARE * best:
            break
        c = cost(n, i)
        if kept and used + c > budget:
            continue
        keep(n, i, c)
    if not kept and numbers:
        # Nothing matches beyond the title ("《…》的文号是什么？"): the question is about the document
        # as a whole, and its opening (title lines, 文号, issuer, purpose) is the evidence.
        n = numbers[0]
        for i in range(len(spans[n])):
            c = cost(n, i)
            if kept and used + c > budget:
                break
            keep(n, i, c)
    for n in [n for n in numbers if n in kept]:
        p = passages[n - 1]
        a, b = spans[n][0] if spans[n] else (0, 0)
        is_label = p.text[a:b].lstrip("# ").strip() in p.section  # a heading the block's header already shows
        if 0 not in kept[n] and spans[n] and not is_label:
            c = cost(n, 0)
            if used + c <= budget * 1.15:
                keep(n, 0, c)

    # Blocks of one document stand together, so a block without a title follows its document's first.
    shown = [n for n in numbers if n in kept and spans[n]]
    first: dict[str, int] = {}
    for n in shown:
        first.setdefault(passages[n - 1].doc_id, len(first))
    out: list[Evidence] = []
    titled: set[str] = set()
    for n in sorted(shown, key=lambda n: (first[passages[n - 1].doc_id], numbers.index(n))):
        p = passages[n - 1]
        out.append(Evidence(n, passage_header(p, p.doc_id not in titled), _join(p.text, spans[n], kept[n])))
        titled.add(p.doc_id)
    return out


def _join(text: str, spans: list[tuple[int, int]], keep: set[int]) -> str:
    """Kept sentences in document order; consecutive ones as one slice, so the original separators stay."""
    runs: list[list[int]] = []
    for i in sorted(keep):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    body = _JOIN.join(text[spans[a][0] : spans[b][1]] for a, b in runs)
    return re.sub(r"^#+\s*", "", body, flags=re.MULTILINE)
