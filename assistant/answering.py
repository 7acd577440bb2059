"""The answer stage after retrieval: plan the evidence by question type, and check that an answer answers.

- List, overview and change questions are answered from the document's structure (`assistant/lists.py`).
- Choice and true/false questions: `assistant/choice.py`.
- Other questions go to the LLM with evidence chosen for their type (sentences that state a
  duration for 多长时间, an amount for 最高多少, …) and a budget per type.
- After generation, `answers()` checks that the verified text states what was asked (the
  attribute, the entity); when it does not, `quote_answer()` gives the best evidence sentence that
  does, quoted and cited, or the answer says that the documents do not state it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .catalog import Catalog
from .lists import passage_of
from .query import CHOICE, COMPARISON, DEFINITION, FACT, LIST, PROCEDURE, TRUE_FALSE, YESNO, Query, value_pattern
from .textutil import (
    content_units,
    coverage,
    language_of,
    normalize,
    section_label,
    split_sentences,
    units,
    weighted_coverage,
)
from .types import Citation, Passage

SimilarityFn = Callable[[str, list[str]], list[float]]

# Evidence budget (estimated tokens) per question type, as a multiple of `llm.context_tokens`:
# a figure needs one sentence; steps, definitions and comparisons need more. Choice and true/false keep
# 180 and 150 tokens at the default 60 (their option probabilities were measured there: bench/choice.py).
BUDGET_SCALE = {FACT: 1.0, YESNO: 1.25, TRUE_FALSE: 2.5, DEFINITION: 1.5, PROCEDURE: 1.75, LIST: 1.75,
                COMPARISON: 1.75, CHOICE: 3.0}  # fmt: skip

# Places a question may name; an answer from a passage about another place does not answer it.
PLACES = {
    "北京": "beijing", "天津": "tianjin", "上海": "shanghai", "重庆": "chongqing", "河北": "hebei", "山西": "shanxi",
    "辽宁": "liaoning", "吉林": "jilin", "黑龙江": "heilongjiang", "江苏": "jiangsu", "浙江": "zhejiang",
    "安徽": "anhui", "福建": "fujian", "江西": "jiangxi", "山东": "shandong", "河南": "henan", "湖北": "hubei",
    "湖南": "hunan", "广东": "guangdong", "海南": "hainan", "四川": "sichuan", "贵州": "guizhou", "云南": "yunnan",
    "陕西": "shaanxi", "甘肃": "gansu", "青海": "qinghai", "台湾": "taiwan", "内蒙古": "inner mongolia",
    "广西": "guangxi", "西藏": "tibet", "宁夏": "ningxia", "新疆": "xinjiang", "香港": "hong kong", "澳门": "macao",
    "深圳": "shenzhen", "广州": "guangzhou", "珠海": "zhuhai", "佛山": "foshan", "东莞": "dongguan", "杭州": "hangzhou",
    "南京": "nanjing", "苏州": "suzhou", "成都": "chengdu", "武汉": "wuhan", "西安": "xi'an", "厦门": "xiamen",
    "横琴": "hengqin", "前海": "qianhai", "雄安": "xiong'an",
}


def budget(query: Query, base: int) -> int:
    """The evidence budget for this question's type."""
    return round(base * BUDGET_SCALE.get(query.analysis.type, 1.0))


# ----- does the answer answer? --------------------------------------------------------


def places_in(text: str) -> set[str]:
    """Places named in `text`, as their Chinese names (English names are mapped)."""
    lowered = text.lower()
    return {zh for zh, en in PLACES.items() if zh in text or re.search(rf"\b{re.escape(en)}\b", lowered)}


def wrong_place(query: Query, passage: Passage) -> bool:
    """The question names a place that the passage's document is not about (asked Hainan, cited Guangdong)."""
    asked = places_in(query.standalone)
    if not asked:
        return False
    have = places_in(f"{passage.title}\n{passage.meta.get('issuer', '')}\n{passage.text}")
    return not (asked & have)


def question_numbers(query: Query) -> set[str]:
    """Figures the question itself states ("CMMI3级", "超过1亿元"), outside quoted titles."""
    text = normalize(re.sub(r"《[^》]*》", " ", query.standalone.splitlines()[0] if query.standalone else ""))
    # Years set the scene ("到2027年") and often stand in another chunk than the figure asked for.
    return {n for n in re.findall(r"\d+(?:\.\d+)?", text) if not re.fullmatch(r"(?:19|20)\d\d", n)}


def keeps_numbers(query: Query, passage: Passage) -> bool:
    """Whether the passage states every figure the question states: an answer about CMMI 5 does not answer
    a question about CMMI 3."""
    wanted = question_numbers(query)
    if not wanted:
        return True
    have = set(re.findall(r"\d+(?:\.\d+)?", normalize(f"{passage.title} {passage.section} {passage.text}")))
    return wanted <= have


def on_topic(query: Query, citations: list[Citation]) -> list[Citation]:
    """The supported citations whose passage is about the place and the figures the question names."""
    return [c for c in citations if c.supported and not wrong_place(query, c.passage) and keeps_numbers(query, c.passage)]


# What a fact question asks for, as the sentence that says the documents do not state it.
_NOT_STATED = {
    "duration": ("文件没有写明具体期限", "The documents do not state the exact time limit"),
    "date": ("文件没有写明具体日期", "The documents do not state the exact date"),
    "amount": ("文件没有写明具体金额", "The documents do not state the exact amount"),
    "ratio": ("文件没有写明具体比例", "The documents do not state the exact ratio"),
    "number": ("文件没有写明具体数量", "The documents do not state the exact number"),
    "body": ("文件没有写明具体负责部门", "The documents do not name the responsible body"),
    "phone": ("文件没有写明电话号码", "The documents do not give a phone number"),
}


def says_something(text: str, citations: list[Citation]) -> bool:
    """Whether some claim of `text` with a supported citation states more than the name of its document."""
    from .citations import parse_claims  # late: citations imports prompts, which is heavier

    cited = {c.n: c.passage for c in citations if c.supported}
    for claim in parse_claims(text):
        core = normalize(claim.text).strip("。.；; ")
        if len(content_units(core)) >= 4 and any(n in cited and core not in normalize(cited[n].title) for n in claim.numbers):
            return True
    return False


def not_stated(query: Query) -> str:
    """The lead of an answer that gives what the documents say but not the value asked for."""
    zh, en = _NOT_STATED.get(query.analysis.attribute or "", ("文件没有写明问题所问的具体内容", "The documents do not state exactly what was asked"))
    return f"{zh}；相关规定如下：" if query.language == "zh" else f"{en}. What they say: "


def answers(query: Query, text: str, citations: list[Citation]) -> bool:
    """Whether the verified answer states what was asked: some supported claim carries a value of the
    attribute asked for (a duration for 多长时间), and its passage is about the place the question names."""
    good = on_topic(query, citations)
    if not good:
        return False
    pattern = value_pattern(query.analysis.attribute, query.analysis.unit) if query.analysis.type == FACT else None
    if pattern is None:
        return True
    supported_n = {c.n for c in good}
    from .citations import parse_claims  # late: citations imports prompts, which is heavier

    for claim in parse_claims(text):
        if pattern.search(claim.text) and (set(claim.numbers) & supported_n or not claim.numbers):
            return True
    return False


_FUNCTION_CHARS = frozenset("的是了和与或在对为及其之这那吗呢啊么何哪谁什")


def subject_units(query: Query) -> set[str]:
    """The question's units without quoted titles and without bigrams that straddle a function word ("券的", "是多"),
    which no answering sentence contains."""
    units_ = content_units(re.sub(r"《[^》]*》", " ", query.standalone)) or query.units
    return {u for u in units_ if not (len(u) == 2 and _FUNCTION_CHARS & set(u))} or units_


_SEGMENT_END = re.compile(r"[\n。；;！？!?]")
_SEGMENT_NOISE = re.compile(r"\[\d+\]|^\s*(?:\d{1,3}[.、）)]|[（(][一二三四五六七八九十\d]+[）)])|[\s，,：:。；;]")


def repeat_start(text: str, min_chars: int = 10) -> int | None:
    """Where a small model starts going round in a loop: the offset of the first line or sentence that repeats
    an earlier one word for word (list numbers and [n] markers aside), or None."""
    seen: set[str] = set()
    start = 0
    for m in _SEGMENT_END.finditer(text):
        segment = _SEGMENT_NOISE.sub("", text[start : m.end()])
        if len(segment) >= min_chars:
            if segment in seen:
                return start
            seen.add(segment)
        start = m.end()
    return None


def quote_answer(
    query: Query, passages: list[Passage], numbers: list[int] | None = None, similarity: SimilarityFn | None = None
) -> tuple[int, str] | None:
    """The evidence sentence that best answers the question and states what was asked, as (passage number, sentence).

    Used when the model's answer does not answer: the next-best evidence, quoted verbatim. Sentences in the
    question's language are scored by the IDF-weighted share of the question they contain (at least 0.35);
    sentences in the other language by embedding similarity (`similarity`, at least 0.4). None when no
    sentence states the attribute asked for or is close enough to the question.
    """
    pattern = value_pattern(query.analysis.attribute, query.analysis.unit) if query.analysis.type == FACT else None
    wanted = subject_units(query)
    best: tuple[float, int, str] | None = None
    for n in numbers or range(1, len(passages) + 1):
        p = passages[n - 1]
        if wrong_place(query, p) or not keeps_numbers(query, p):
            continue
        same = language_of(p.text) == query.language
        if not same and similarity is None:
            continue
        candidates = []
        for s, e in split_sentences(p.text):
            sentence = p.text[s:e].strip()
            if len(sentence) >= 6 and not sentence.startswith("#") and (pattern is None or pattern.search(sentence)):
                candidates.append(sentence)
        if not candidates:
            continue
        if same:
            # The document's own title words say which document, not what in it answers (often unquoted).
            subject = wanted - content_units(p.title) or wanted
            scores = [weighted_coverage(subject, set(units(f"{p.section}\n{c}")), query.idf) for c in candidates]
            floor = 0.35
        else:
            # With the title and section, a short sentence ("认定有效期为3年。") says what it is about.
            context = f"{p.title} {section_label(p.section)} "
            scores = similarity(query.standalone, [context + c for c in candidates])  # type: ignore[misc]
            floor = 0.4
        for sc, sentence in zip(scores, candidates, strict=True):
            sc -= 0.01 * n
            if sc >= floor and (best is None or sc > best[0]):
                best = (sc, n, sentence)
    return None if best is None else (best[1], best[2])


def source_quote(query: Query, text: str, citations: list[Citation], evidence: dict[int, str], limit: int = 360) -> str:
    """The original wording behind a model's answer, to follow it: the paragraph (an FAQ reply, an article) of the
    first passage the answer cites that holds the evidence the model was shown, quoted and cited. Official wording
    is what a policy answer is checked against; a small model's paraphrase drops conditions and steps. Empty when
    the answer already says most of it."""
    cited = next((c for c in citations if c.supported and c.n in evidence), None)
    if cited is None:
        return ""
    title = cited.passage.title
    paragraphs = [x.strip() for x in re.split(r"\n", cited.passage.text) if x.strip() and x.strip() != title]
    if not paragraphs:
        return ""
    shown = set(units(evidence[cited.n]))
    quote = max(paragraphs, key=lambda x: len(shown & set(units(x))))
    if len(quote) > limit:
        ends = [e for _, e in split_sentences(quote) if e <= limit]
        quote = quote[: ends[-1]] if ends else quote[:limit] + "……"
    if not quote or coverage(quote, text) >= 0.7:
        return ""
    if query.language == "zh":
        return f"\n原文：“{quote}”[{cited.n}]"
    return f"\nSource text: “{quote}”[{cited.n}]"


def edition_notes(query: Query, citations: list[Citation], catalog: Catalog) -> list[tuple[Passage | None, str]]:
    """Lines that follow an answer about its editions: a cited document that is not in force is flagged, and when
    the edition before the cited one worded the cited article differently, that is said with the old wording
    (to be cited to the returned passage of the old edition)."""
    from .versions.answers import article_of, describe, earlier_wording

    zh = query.language == "zh"
    notes: list[tuple[Passage | None, str]] = []
    flagged: set[str] = set()
    for c in citations:
        p = c.passage
        validity = p.meta.get("validity")
        if c.supported and validity in ("superseded", "repealed", "not_yet_effective") and p.doc_id not in flagged:
            flagged.add(p.doc_id)
            label = p.meta.get("validity_label") or validity
            edition = p.meta.get("edition") or ""
            notes.append((None, f"注意：所引《{p.title}》{edition}{'状态为' if zh else ''}“{label}”。" if zh else (
                f"Note: the cited 《{p.title}》 {edition} is {label}.")))
    first = next((c for c in citations if c.supported and c.passage.meta.get("validity") == "in_force"), None)
    if first is not None:
        earlier = earlier_wording(catalog, first.passage.doc_id, first.passage.section)
        # Only when the old wording differs on the point asked: the cited sentence is not in it as it stands.
        same = earlier is not None and normalize(first.quote).replace(" ", "") in normalize(earlier.old_text).replace(" ", "")
        if earlier is not None and earlier.kind == "changed" and earlier.old_article and not same:
            old = next((r for r in catalog.doc_chunks(earlier.old_doc_id) if article_of(r.chunk.section) == earlier.old_article), None)
            if old is not None:
                from .versions import library_for

                edition = library_for(catalog).editions[earlier.old_doc_id].edition
                line = describe(earlier, old.title, f"（{edition}）" if edition else None)["line"]
                notes.append((passage_of(old), line if zh else f"An earlier edition worded this differently: {line}"))
    return notes
