"""Checking an answer's [n] citations against the passages they point at.

After generation: markers that point at no given passage are removed; each
sentence's markers are checked against the cited passage (character-bigram overlap
for Chinese, content-word overlap for English, and — for a claim in another
language than its passage — the multilingual embedding similarity); every number the
claim states must occur in the passage. Unsupported
markers are taken out of the text and reported with `supported=False`; they are
never shown as support. The evaluator uses the same check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .glossary import TERMS
from .prompts import CITATION_RE
from .textutil import ARTICLE_LABEL, cn_number, content_units, coverage, language_of, normalize, split_sentences, units
from .types import Citation, Passage

# A claim is supported when this share of its content units occurs in the passage.
SUPPORT_THRESHOLD = 0.45
# Cross-language claims: cosine similarity of claim and best passage sentence (multilingual embedder).
SEMANTIC_THRESHOLD = 0.45

SimilarityFn = Callable[[str, list[str]], list[float]]  # (claim, candidate sentences) -> cosine similarities


@dataclass
class Claim:
    """One answer sentence and the passage numbers it cites."""

    text: str  # sentence text without markers
    numbers: list[int]


def _numbers(text: str, *, translated: bool = False) -> set[str]:
    """The numbers a claim states (NFKC, so full-width digits count). A `translated` claim leaves out
    scaled numbers ("8 million" for 800万), which cannot match the source literally."""
    scaled = r"(?!\s*(?:million|billion|thousand|hundred|万|亿))" if translated else ""
    text = _LIST_LEAD.sub("", normalize(text))  # "1. …": the item's number states nothing
    return {m.group(1) for m in re.finditer(r"(\d+(?:\.\d+)?)" + scaled, text) if not re.match(r"\d", text[m.end() :])}


def _counts(text: str) -> set[str]:
    """Counts written in Chinese numerals before a unit ("两次", "五年"), as digits. Article labels are no counts:
    they go first (the look-behind alone reads the 零三条 of 第一千零三条 as 3)."""
    text = ARTICLE_LABEL.sub(" ", normalize(text))
    return {str(n) for m in _CN_COUNT.finditer(text) if (n := cn_number(m.group(1))) is not None}


_LIST_LEAD = re.compile(r"^\s*(?:[(（]\d{1,3}[)）]|\d{1,3}[.、．)）])(?!\d)\s*")
_CN_NUMERAL = re.compile(r"[一二三四五六七八九十百零〇两]+")
_CN_COUNT = re.compile(r"(?<![第一二三四五六七八九十百零〇两])([一二三四五六七八九十百零〇两]+)(?=个|次|年|日|天|周|月|家|项|名|人|倍|条|款|类|种|批)")


def _numbers_found(claim: str, passage: Passage, *, translated: bool = False) -> bool:
    """Whether every number the claim states occurs in the passage (its title and section included):
    overlap of words says nothing about a wrong figure ("目标是10000亿元" against "突破3.2万亿元")."""
    text = normalize(f"{passage.title} {passage.section} {passage.text}")
    digits = set(re.findall(r"\d+(?:\.\d+)?", text))
    source = digits | {str(n) for m in _CN_NUMERAL.findall(text) if (n := cn_number(m)) is not None}  # 第三十七条 is 37
    # A count in words ("两次") must be a count in the passage too, not any numeral (the 二 of 第二章).
    return _numbers(claim, translated=translated) <= source and _counts(claim) <= digits | _counts(text)


def _terms_match(claim: str, passage: Passage) -> bool:
    """Whether every glossary term of a cross-language claim has its counterpart in the passage."""
    source = f"{passage.title}\n{passage.section}\n{passage.text}"
    if language_of(claim) == "en":
        lowered = claim.lower()
        return all(zh.search(source) for en, zh, _ in TERMS if en.search(lowered))
    lowered = source.lower()
    # Chinese claim over an English passage: only whole terms (the first alternative), not single characters.
    return all(en.search(lowered) for en, _, term in TERMS if len(term) > 1 and term in claim)


_TRAILING_MARKERS = re.compile(r"([。！？；!?;.])(\s*)((?:" + CITATION_RE.pattern + r")+)")


def attach_markers(answer: str) -> str:
    """Move markers written after a sentence's full stop ("…奖励。[1]") in front of it, so they stay with it."""
    return _TRAILING_MARKERS.sub(lambda m: m.group(3) + m.group(1) + m.group(2), answer)


def parse_claims(answer: str) -> list[Claim]:
    """Split an answer into sentences, each with the citation numbers attached to it."""
    answer = attach_markers(answer)
    claims: list[Claim] = []
    for s, e in _quote_whole(answer, split_sentences(answer)):
        sentence = answer[s:e]
        numbers = [int(n) for m in CITATION_RE.finditer(sentence) for n in re.findall(r"\d+", m.group(1))]
        text = CITATION_RE.sub("", sentence).strip()
        if not text and numbers and claims:  # a marker alone after the full stop belongs to the previous sentence
            claims[-1].numbers.extend(numbers)
            continue
        if text:
            claims.append(Claim(text=text, numbers=list(dict.fromkeys(numbers))))
    return claims


def _quote_whole(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans with a quotation kept whole: “…。…。”[n] (a verbatim 原文 or 依据 quote) is one claim,
    cited once at its end."""
    merged: list[tuple[int, int]] = []
    open_at: int | None = None
    for s, e in spans:
        start = s if open_at is None else open_at
        chunk = text[start:e]
        if chunk.count("“") > chunk.count("”"):
            open_at = start
            continue
        merged.append((start, e))
        open_at = None
    if open_at is not None:  # an unclosed quote runs to the end
        merged.append((open_at, spans[-1][1]))
    return merged


def best_span(claim: str, passage_text: str) -> tuple[tuple[int, int], float]:
    """The passage sentence (offsets) that best supports `claim`, and its coverage score."""
    best, best_score = (0, min(len(passage_text), 200)), -1.0
    for s, e in split_sentences(passage_text):
        score = coverage(claim, passage_text[s:e])
        if score > best_score:
            best, best_score = (s, e), score
    return best, max(best_score, 0.0)


def check_support(claim: str, passage: Passage, similarity: SimilarityFn | None = None) -> tuple[bool, float, tuple[int, int]]:
    """Whether `passage` supports `claim`: (supported, score, supporting span in passage.text)."""
    if not content_units(claim):
        return True, 1.0, (0, 0)  # nothing checkable (e.g. "Yes.")
    # The title counts: a claim often names its document ("根据《…行动方案》，到2027年…").
    whole = coverage(claim, f"{passage.title}\n{passage.section}\n{passage.text}")
    span, span_score = best_span(claim, passage.text)
    if whole >= SUPPORT_THRESHOLD:
        return _numbers_found(claim, passage), whole, span
    if similarity is not None and language_of(claim) != language_of(passage.text):
        sentences = split_sentences(passage.text)
        if sentences:
            sims = similarity(claim, [passage.text[s:e] for s, e in sentences])
            i = max(range(len(sims)), key=sims.__getitem__)
            # Numbers in the claim must still appear in the passage: the embedding alone is blind to them.
            if (
                sims[i] >= SEMANTIC_THRESHOLD
                and _numbers_found(claim, passage, translated=True)
                and _terms_match(claim, passage)
            ):
                return True, float(sims[i]), sentences[i]
    return False, whole, span


def verify(
    answer: str, passages: list[Passage], similarity: SimilarityFn | None = None, *, repair: bool = True
) -> tuple[str, list[Citation]]:
    """Check every [n] in `answer` against `passages` (numbered from 1).

    With `repair`, a sentence that has no (kept) marker but is supported by a passage gets
    that passage's marker: small models often state a fact without citing it.

    Returns the cleaned answer text (markers that point nowhere or are unsupported
    removed, the rest normalised to [n]) and one Citation per distinct (n, sentence)
    check, in order of first appearance; `supported` says whether it held.
    """
    answer = attach_markers(answer)
    citations: dict[int, Citation] = {}

    def replace_sentence(sentence: str) -> str:
        claim = CITATION_RE.sub("", sentence).strip()
        kept: list[int] = []
        for m in CITATION_RE.finditer(sentence):
            for raw in re.findall(r"\d+", m.group(1)):
                n = int(raw)
                if not 1 <= n <= len(passages) or n in kept:
                    continue
                passage = passages[n - 1]
                ok, score, span = check_support(claim, passage, similarity)
                previous = citations.get(n)
                if previous is None or (ok and not previous.supported):
                    citations[n] = Citation(
                        n=n, passage=passage, quote=passage.text[span[0] : span[1]], span=span, supported=ok, support=score
                    )
                if ok:
                    kept.append(n)
        if not kept and repair and content_units(claim):
            # The model stated something without a marker: cite the passage that supports it, if one does.
            best: tuple[float, int, tuple[int, int]] | None = None
            for n, passage in enumerate(passages, 1):
                ok, score, span = check_support(claim, passage, similarity)
                if ok and (best is None or score > best[0]):
                    best = (score, n, span)
            if best is not None:
                score, n, span = best
                if n not in citations or not citations[n].supported:
                    p = passages[n - 1]
                    citations[n] = Citation(n=n, passage=p, quote=p.text[span[0] : span[1]], span=span, supported=True, support=score)
                kept.append(n)
        body = CITATION_RE.sub("", sentence).rstrip()
        core = body.rstrip("。！？；!?;.")
        return core + "".join(f"[{n}]" for n in kept) + body[len(core) :]

    pieces: list[str] = []
    last = 0
    spans = _quote_whole(answer, split_sentences(answer))
    for i, (s, e) in enumerate(spans):
        # Attach a marker that stands alone after the sentence end to that sentence.
        if i + 1 < len(spans) and not CITATION_RE.sub("", answer[spans[i + 1][0] : spans[i + 1][1]]).strip():
            e = spans[i + 1][1]
        if s < last:
            continue
        pieces.append(answer[last:s])
        pieces.append(replace_sentence(answer[s:e]))
        last = e
    pieces.append(answer[last:])
    text = re.sub(r"[ \t]+\n", "\n", "".join(pieces)).strip()
    ordered = sorted(citations.values(), key=lambda c: c.n)
    return text, ordered


# A bare choice or verdict ("B.", "True", "正确") states nothing a passage could be checked against.
_VERDICT = re.compile(r"^(?:[a-d]|true|false|yes|no|对|错|是|否|正确|错误)\W*$")


def claims_support(answer: str, citations: list[Citation]) -> tuple[int, int]:
    """(sentences with at least one supported citation, sentences with checkable content) — citation recall."""
    supported_n = {c.n for c in citations if c.supported}
    total = covered = 0
    for claim in parse_claims(answer):
        if not units(claim.text) or _VERDICT.match(normalize(claim.text)):
            continue
        total += 1
        if any(n in supported_n for n in claim.numbers):
            covered += 1
    return covered, total
