"""Small text measures shared by retrieval, citation checking and evaluation.

Overlap is measured on character bigrams for Chinese and on lower-cased content
words for English, so one function serves both languages and mixed text.
"""

from __future__ import annotations

import re
import unicodedata

# Character-class bodies (use inside [...]), the one definition for every module.
# HAN: Chinese characters (CJK unified ideographs, extension A, compatibility ideographs).
HAN = "\u3400-\u9fff\uf900-\ufaff"
# CJK_SCRIPT: HAN plus radicals, kana, 々 and 〇, for telling CJK text from Latin text.
CJK_SCRIPT = "\u2e80-\u2fdf\u3005\u3007\u3040-\u30ff" + HAN
# CJK_PUNCT: CJK symbols and punctuation, full-width forms.
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
# CN_NUMERALS: the characters of Chinese numerals (第十二条, 二〇二四年, 两千).
CN_NUMERALS = "零〇一二三四五六七八九十百千两"

# A Chinese article label anywhere in a text: 第十二条, 第一百零三条, 第1003条, 第十条之一 (an inserted article).
# Group 1 is the article's number as written. The one definition for lists, retrieval, citations, versions and
# evaluation; it accepts every label the chunker makes (chunking/labels.py). Anchor it with `.match`.
ARTICLE_LABEL = re.compile(f"第([{CN_NUMERALS}\\d]+)条(?:之[{CN_NUMERALS}]+)?")

HAN_RE = re.compile(f"[{HAN}]")
_CJK = HAN_RE
_CJK_RUN = re.compile(f"[{HAN}]+")
_WORD = re.compile(r"[a-z0-9]+(?:[.\-'][a-z0-9]+)*")
EN_STOP = frozenset(
    "a an the of to and or in on for is are be been by with as at from that this these those what which who whom how "
    "when where why does do did was were it its into than then there their they them any all can may shall will should "
    "would about under over such not no yes if".split()
)
# Chinese function and question words that carry no retrieval signal (BM25 drops them as jieba words).
ZH_STOP_WORDS = frozenset(
    "的 了 和 与 及 或 等 在 是 为 对 将 由 按 其 之 于 以 中 并 应当 应 可 可以 有关 关于 进行 根据 什么 哪些 多少 如何 是否 "
    "哪个 怎么 规定 这 那".split()
)
# The same as character bigrams (for `content_units`), plus generic words of policy notices.
ZH_STOP_BIGRAMS = frozenset(w for w in ZH_STOP_WORDS if len(w) == 2) | frozenset(
    "以及 其中 我们 你们 这个 那个 通知 印发".split()
)


def language_of(text: str) -> str:
    """'zh' when Chinese characters make up a fair share of the letters, else 'en'."""
    # Quoted titles and phrases ("According to 《…》", “…”) do not decide the language of the sentence.
    stripped = re.sub(r"《[^》]*》|“[^”]*”|\"[^\"]*\"", "", text)
    text = stripped if stripped.strip() else text
    cjk = len(_CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk * 3 >= latin * 0.5 else "en"


def normalize(text: str) -> str:
    """NFKC (full-width -> half-width), lower case, collapsed whitespace."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def units(text: str) -> list[str]:
    """Comparison units: Chinese character bigrams (single characters for 1-char runs) and English words."""
    text = normalize(text)
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run[i : i + 2] for i in range(len(run) - 1)) if len(run) > 1 else out.append(run)
    out.extend(w for w in _WORD.findall(_CJK_RUN.sub(" ", text)) if w not in EN_STOP)
    return out


def content_units(text: str) -> set[str]:
    """`units` without question words and generic policy words."""
    return {u for u in units(text) if u not in ZH_STOP_BIGRAMS}


def coverage(claim: str, source: str) -> float:
    """Share of the claim's content units found in the source (0..1)."""
    c = content_units(claim)
    if not c:
        return 0.0
    return len(c & set(units(source))) / len(c)


def weighted_coverage(wanted: set[str], have: set[str], idf: dict[str, float]) -> float:
    """Share of the `wanted` units found in `have`, each weighted by its IDF (1.0 when unknown), 0..1."""
    total = sum(idf.get(u, 1.0) for u in wanted)
    return sum(idf.get(u, 1.0) for u in wanted & have) / total if total else 0.0


CLOSERS = "”’」』）)】》\"'"  # closing quotes and brackets that belong to the sentence before them
_SENT_END = re.compile(
    f"[。！？；]+[{CLOSERS}]*|…+[{CLOSERS}]*|[!?]+[{CLOSERS}]*(?=\\s|$|[^\\x00-\\x7f])"
    f"|\\.[{CLOSERS}]*(?=\\s+[\"'“(（]?[A-Z0-9{HAN}])"
)
_LIST_NUMBER = re.compile(r"\s*[(（]?\d{1,3}[)）]?")
_ABBREVIATION = re.compile(
    r"(?:\b(?:No|Nos|Art|Arts|Sec|Para|para|Fig|fig|Vol|vol|pp|Mr|Mrs|Ms|Dr|Prof|St|Inc|Ltd|Co|Corp|Jr|Sr|vs|cf|al"
    r"|approx|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Za-z])$"
)
_SEMICOLON = re.compile(r";(?=\s)")


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """(start, end) moved inwards past whitespace at both ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Trimmed (start, end) spans of the sentences in text[start:end] (Chinese and English rules)."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        if m.group().startswith(".") and _ABBREVIATION.search(text, max(start, m.start() - 8), m.start()):
            continue  # "No. 5", "e.g. The", "J. Smith"
        if m.group().startswith(".") and _LIST_NUMBER.fullmatch(text, pos, m.start()):
            continue  # "1. 打开官网" / "(2). Click": a list item's number, not a sentence
        s, e = trim_span(text, pos, m.end())
        if e > s:
            spans.append((s, e))
        pos = m.end()
    s, e = trim_span(text, pos, end)
    if e > s:
        spans.append((s, e))
    return spans


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, trimmed: `sentence_spans` of each line, also cut
    after an English semicolon (answers and passages, where a clause list reads as sentences)."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        for s, e in sentence_spans(text, line.start(), line.end()):
            for m in _SEMICOLON.finditer(text, s, e):
                spans.append((s, m.end()))
                s = trim_span(text, m.end(), e)[0]
            if e > s:
                spans.append((s, e))
    return spans


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,  # a circle typed (or OCR-read) for 〇 in years such as 二○一九
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def cn_number(text: str) -> int | None:
    """'十二' -> 12, '一百零五' -> 105, '二〇二四' -> 2024 (digit by digit), '12' -> 12; None if not a numeral."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if len(text) > 1 and all(ch in _CN_DIGITS for ch in text):  # a year written digit by digit
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            return None
    return total + current if text else None


# ----- chunk ids and section paths -----

SECTION_SEP = " > "


def make_chunk_id(doc_id: str, ordinal: int) -> str:
    """The id of a document's `ordinal`-th chunk: "doc_id#ordinal"."""
    return f"{doc_id}#{ordinal}"


def parse_chunk_id(chunk_id: str) -> tuple[str, int]:
    """(doc_id, ordinal) of a chunk id made by `make_chunk_id` (a doc_id may itself contain '#')."""
    doc_id, _, ordinal = chunk_id.rpartition("#")
    return doc_id, int(ordinal) if ordinal.isdigit() else -1


def chunk_doc_id(chunk_id: str) -> str:
    """The doc_id part of a chunk id."""
    return parse_chunk_id(chunk_id)[0]


def join_section(parts: list[str] | tuple[str, ...]) -> str:
    """A section path from its labels, outermost first: '第三章 促进措施 > 第十二条'."""
    return SECTION_SEP.join(parts)


def section_parts(section: str) -> list[str]:
    """The labels of a section path, outermost first, without Markdown '#' marks ('' gives [])."""
    parts = (p.strip().lstrip("#").strip() for p in section.split(SECTION_SEP.strip()))
    return [p for p in parts if p]


def section_label(section: str) -> str:
    """The innermost label of a section path ('第三章 总则 > 第十二条' -> '第十二条'; '' when it has none)."""
    parts = section_parts(section)
    return parts[-1] if parts else ""
