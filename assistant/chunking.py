"""Split a `Document` into chunks that follow the structure of policy texts.

Lines are classified as structure (编/章/节, 第X条 articles, 一、 measures, （一） items,
1. / (1) sub-items, Markup headings, English Chapter/Section/Article and numbered headings)
and grouped into units that a chunk never straddles: an article, a top-level measure,
a heading's section, or the header block before the first structural line. A unit
that is too long is cut preferably at item boundaries, then line and sentence ends,
then clause punctuation, and only as a last resort mid-text. Every chunk is an exact
`doc.text[start:end]` span.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from .types import Chunk, Document

_N = "零〇一二三四五六七八九十百千两"
_CLOSERS = "”’」』）)】》\"'"
# Heading text may follow the label without a space (common in PDFs) but is a title, not a sentence.
_PART = re.compile(f"第[{_N}\\d]+编(?:[ \u3000]*[^。，；;,\\s][^。，；;,]*)?")
_CHAPTER = re.compile(f"第[{_N}\\d]+章(?:[ \u3000]*[^。，；;,\\s][^。，；;,]*)?")
_SECTION = re.compile(f"第[{_N}\\d]+节(?:[ \u3000]*[^。，；;,\\s][^。，；;,]*)?")
# An article label is followed by a space or its text; "第五条规定的…", "第五条、第六条" are references.
_ARTICLE = re.compile(f"(第[{_N}\\d]+条(?:之[{_N}]+)?)(?=$|[ \u3000【]|[^\\s规的中至、，,和或及所第款项之以])")
_BARE_LABEL = re.compile(f"第[{_N}\\d]+[编章节]|(?:Part|PART|Chapter|CHAPTER)\\s+[IVXLC\\d]+")
_LABEL_SPACE = re.compile(f"^(第[{_N}\\d]+[编章节])[ \u3000]*")
_CN_TOP = re.compile(f"[{_N}]+、")
_PAREN_CN = re.compile(f"[（(][{_N}]+[）)]")
_ARABIC = re.compile(r"\d{1,3}[.．、](?!\d)")
_PAREN_ARABIC = re.compile(r"[（(]\d{1,3}[）)]")
_CIRCLED = re.compile("[①-⑳]")
_EN_PART = re.compile(r"(?:Part|PART)\s+(?:[IVXLC]+|\d+)\b[^.!?]{0,80}")
_EN_CHAPTER = re.compile(r"(?:Chapter|CHAPTER)\s+(?:[IVXLC]+|\d+)\b[^.!?]{0,80}")
_EN_SECTION = re.compile(r"(?:Section|SECTION|§)\s*\d+(?:\.\d+)*\b[^.!?]{0,80}")
_EN_ARTICLE = re.compile(r"((?:Article|ARTICLE)\s+(?:\d+[a-z]?|[IVXLC]+))(?=\s*$|\s*[.:\-–—]|\s+[A-Z(“\"])")
_EN_NUMBERED = re.compile(r"(\d{1,2}(?:\.\d{1,2})*\.?|[IVXLC]{1,6}\.)\s+[A-Z][^.!?:;]{0,80}")
_ALL_CAPS = re.compile(r"[A-Z][A-Z0-9 ,&'’()/\-]{3,79}")
_CJK = re.compile("[\u3400-\u9fff]")
_LABEL_STOP = re.compile("[。；;：:，,]")

_SENT_END = re.compile(
    f"[。！？；]+[{_CLOSERS}]*|…+[{_CLOSERS}]*|[!?]+[{_CLOSERS}]*(?=\\s|$|[^\\x00-\\x7f])"
    f"|\\.[{_CLOSERS}]*(?=\\s+[\"'“(（]?[A-Z0-9\u4e00-\u9fff])"
)
_ABBREVIATION = re.compile(
    r"(?:\b(?:No|Nos|Art|Arts|Sec|Para|para|Fig|fig|Vol|vol|pp|Mr|Mrs|Ms|Dr|Prof|St|Inc|Ltd|Co|Corp|Jr|Sr|vs|cf|al"
    r"|approx|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Za-z])$"
)
_LINE_END = re.compile(f"[。！？；!?;:：…][{_CLOSERS}]*$")
_CLAUSE_END = re.compile("[，、,：:]+|\\s+")

_LINE, _SENTENCE, _CLAUSE, _HARD = 2, 1, 0, -1  # cut strength at the start of a segment
_TOP_ITEM = 10  # strength of the shallowest item level in a unit; deeper levels count down from it


@dataclass(frozen=True)
class _Mark:
    """A structural line: its depth (`order`, smaller is higher), its path label, whether it starts a unit."""

    order: float
    label: str
    hard: bool
    article: bool = False
    measure: bool = False  # 一、 : hard at top level, an item inside an article


@dataclass
class _Line:
    start: int
    end: int
    mark: _Mark | None
    path: tuple[str, ...] = ()
    glue: bool = False  # a short heading line: never end a chunk right after it


@dataclass
class _Seg:
    start: int
    end: int
    strength: int
    line: int
    kind: int  # _SENTENCE, _CLAUSE or _HARD: how it was cut, so it can be cut finer
    glue: bool = False


def _short(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit].rstrip()


def _classify(line: str, heading: tuple[int, str] | None) -> _Mark | None:
    """The structural role of one line (`heading` is its (level, text) when the format marks it up)."""
    text = heading[1] if heading else line
    if m := _ARTICLE.match(text):
        return _Mark(4, m.group(1), True, article=True)
    is_cjk = bool(_CJK.search(text))
    for pattern, order in ((_PART, 1), (_CHAPTER, 2), (_SECTION, 3)):
        if len(text) <= 60 and pattern.fullmatch(text):
            return _Mark(order, _short(_LABEL_SPACE.sub(r"\1 ", text, count=1), 40), True)
    if m := _CN_TOP.match(text):
        stop = _LABEL_STOP.search(text, m.end())
        return _Mark(5, _short(text[: stop.start() if stop else None], 30), True, measure=True)
    for pattern, order in ((_PAREN_CN, 6), (_PAREN_ARABIC, 8), (_CIRCLED, 9)):
        if m := pattern.match(text):
            return _Mark(order, _short(text, 40), True) if heading else _Mark(order, m.group(), False)
    if not is_cjk:
        if m := _EN_ARTICLE.match(text):
            return _Mark(4, _short(m.group(1), 30), True, article=True)
        for pattern, order in ((_EN_PART, 1), (_EN_CHAPTER, 2), (_EN_SECTION, 3)):
            if len(text) <= 90 and pattern.fullmatch(text):
                return _Mark(order, _short(text, 60), True)
        if len(text) <= 90 and (m := _EN_NUMBERED.fullmatch(text)):
            depth = m.group(1).rstrip(".").count(".")
            return _Mark(4.9 if m.group(1)[0] in "IVXLC" else 5 + 0.1 * depth, _short(text, 60), True)
        if _ALL_CAPS.fullmatch(text) and sum(c.isalpha() for c in text) >= 4:
            return _Mark(4.8, _short(text, 60), True)
    if m := _ARABIC.match(text):
        return _Mark(7, _short(text, 40), True) if heading else _Mark(7, m.group(), False)
    if heading:
        return _Mark(0.1 * heading[0], _short("#" * heading[0] + " " + heading[1], 60), True)
    return None


def _title_key(text: str) -> str:
    return re.sub(r"[\s#《》〈〉]", "", text)


def _lines(doc: Document) -> list[_Line]:
    """Non-empty lines (trimmed spans) with their structure and section path."""
    text = doc.text
    headings = sorted(doc.headings)
    title_key = _title_key(doc.title)
    first_key = _title_key(headings[0][2]) if headings else ""
    if first_key and title_key and headings[0][0] < 500 and first_key.startswith(title_key):
        headings = headings[1:]  # the document title heading (the title may be a cut-short copy) is not a section
    lines: list[_Line] = []
    stack: list[_Mark] = []
    h = 0
    for m in re.finditer(r"[^\n]+", text):
        raw_start, end = m.start(), m.end()
        start = raw_start
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        while h < len(headings) and headings[h][0] < raw_start:
            h += 1
        heading = None
        if h < len(headings) and headings[h][0] < m.end():
            heading = (headings[h][1], headings[h][2])
        mark = _classify(text[start:end], heading)
        prev = lines[-1] if lines else None
        if mark is None and prev and prev.mark and prev.mark.order <= 3 and _BARE_LABEL.fullmatch(prev.mark.label):
            if end - start <= 20 and not _LABEL_STOP.search(text, start, end):
                # "第一章" on one line and its title "总则" on the next: one heading.
                mark = _Mark(prev.mark.order, f"{prev.mark.label} {_short(text[start:end], 30)}", True)
                stack[-1] = prev.mark = mark
                prev.path = path = prev.path[:-1] + (mark.label,)
                lines.append(_Line(start, end, mark, path, True))
                continue
        if mark:
            if mark.measure and any(x.article for x in stack):
                mark = _Mark(mark.order, mark.label, False, measure=True)
            while stack and stack[-1].order >= mark.order:
                stack.pop()
            stack.append(mark)
        cut = max((i for i, x in enumerate(stack) if x.article), default=len(stack) - 1)
        path = tuple(x.label for x in stack[: cut + 1])
        # Chapter-like headings and bare item titles such as "（一）指导思想。" belong with what follows.
        glue = mark is not None and not mark.article and end - start <= (40 if mark.hard else 16)
        lines.append(_Line(start, end, mark, path, glue))
    return lines


@dataclass
class _Unit:
    first: int  # index of the first line (may be a merged-forward heading line)
    main: int  # index of the line that opened the unit; its section starts here
    last: int  # index of the last line, inclusive
    header: bool = False


def _units(lines: list[_Line]) -> list[_Unit]:
    starts: list[int] = []
    seen_structure = False
    for i, line in enumerate(lines):
        continued = i > 0 and line.mark is lines[i - 1].mark  # second line of a two-line heading
        if line.mark and not continued and (not seen_structure or line.mark.hard):
            starts.append(i)
            seen_structure = True
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    units = [_Unit(s, s, e - 1) for s, e in zip(starts, starts[1:] + [len(lines)], strict=True)]
    if len(units) > 1 and not lines[0].mark:
        units[0].header = True
    merged: list[_Unit] = []
    pending: int | None = None
    for n, unit in enumerate(units):
        heading_only = not unit.header and all(
            lines[i].glue and (mark := lines[i].mark) is not None and mark.hard
            for i in range(unit.first, unit.last + 1)
        )
        if heading_only and n + 1 < len(units):
            path, after = lines[unit.main].path, lines[units[n + 1].main].path
            if len(after) > len(path) and after[: len(path)] == path:  # joins the first unit under it
                pending = unit.first if pending is None else pending
                continue
        if pending is not None:
            unit.first, pending = pending, None
        merged.append(unit)
    return merged


class _Limits:
    def __init__(self, text: str, max_chars: int, token_len: Callable[[str], int] | None, max_tokens: int | None):
        self.text, self.max_chars = text, max(1, max_chars)
        self.token_len = token_len if max_tokens is not None else None
        self.max_tokens = max_tokens or 0

    def fits(self, start: int, end: int) -> bool:
        if end - start > self.max_chars:
            return False
        return self.token_len is None or self.token_len(self.text[start:end]) <= self.max_tokens

    def hard_end(self, start: int, end: int) -> int:
        """The furthest cut after `start` (before `end`) whose piece fits; at least one character."""
        lo, hi = start + 1, min(end, start + self.max_chars)
        if self.token_len is None or self.fits(start, hi):
            return hi
        while lo < hi:  # largest fitting length, by bisection
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if self.fits(start, mid) else (lo, mid - 1)
        return lo


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
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
        s, e = _trimmed(text, pos, m.end())
        if e > s:
            spans.append((s, e))
        pos = m.end()
    s, e = _trimmed(text, pos, end)
    if e > s:
        spans.append((s, e))
    return spans


def _refine(seg: _Seg, limits: _Limits) -> list[_Seg]:
    """Cut a segment that does not fit into clauses, or failing that into fitting pieces."""
    text = limits.text
    pieces: list[tuple[int, int]] = []
    if seg.kind == _SENTENCE:
        pos = seg.start
        for m in _CLAUSE_END.finditer(text, seg.start, seg.end):
            s, e = _trimmed(text, pos, m.end())
            if e > s:
                pieces.append((s, e))
            pos = m.end()
        s, e = _trimmed(text, pos, seg.end)
        if e > s:
            pieces.append((s, e))
    kind = _CLAUSE if len(pieces) > 1 else _HARD
    if kind == _HARD:
        pieces, pos = [], seg.start
        while pos < seg.end:
            cut = limits.hard_end(pos, seg.end)
            pieces.append((pos, cut))
            pos = cut
    out = [_Seg(s, e, kind, seg.line, kind) for s, e in pieces]
    out[0].strength = seg.strength
    out[-1].glue = seg.glue
    return out


def _ends_sentence(text: str, line: _Line) -> bool:
    return bool(_LINE_END.search(text, max(line.start, line.end - 8), line.end))


def _segments(lines: list[_Line], unit: _Unit, limits: _Limits) -> tuple[list[_Seg], int | None]:
    """Sentence segments of a unit, each marked with how good a cut before it is; and the top item strength."""
    body = range(unit.main + 1, unit.last + 1)
    orders = sorted({m.order for i in body if (m := lines[i].mark) and not m.hard})
    segs: list[_Seg] = []
    for i in range(unit.first, unit.last + 1):
        line = lines[i]
        mark = line.mark
        strength = _TOP_ITEM - orders.index(mark.order) if mark and mark.order in orders and i > unit.main else _LINE
        prev = lines[i - 1]
        wrapped = i > unit.first and limits.text.count("\n", prev.end, line.start) == 1
        if strength == _LINE and wrapped and not mark and not _ends_sentence(limits.text, prev):
            strength = _CLAUSE  # a hard-wrapped line continues the sentence of the line before
        spans = sentence_spans(limits.text, line.start, line.end)
        for k, (s, e) in enumerate(spans):
            seg = _Seg(s, e, strength if k == 0 else _SENTENCE, i, _SENTENCE, line.glue and k == len(spans) - 1)
            if e - s > limits.max_chars:
                pending = _refine(seg, limits)
                segs.extend(
                    p for q in pending for p in (_refine(q, limits) if q.end - q.start > limits.max_chars else [q])
                )
            else:
                segs.append(seg)
    return segs, (_TOP_ITEM if orders else None)


def _overlap_start(segs: list[_Seg], limits: _Limits, lowest: int, i: int, k: int) -> int:
    """The earliest segment from `lowest` on that run i..k can start at and still fit."""
    for c in range(max(lowest, 0), i):
        if limits.fits(segs[c].start, segs[k - 1].end):
            return c
    return i


def _pack(segs: list[_Seg], limits: _Limits, top: int | None, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing into fitting runs of segments, cut at the strongest boundary of the second half.

    Room is left for `overlap` segments of the previous run to be repeated before each run."""
    runs: list[tuple[int, int]] = []
    i = 0
    seen_top = False  # an item of the top level has started, so a chunk may begin inside one
    while i < len(segs):
        while not limits.fits(segs[i].start, segs[i].end):  # only the token limit can get here
            pieces = _refine(segs[i], limits)
            if len(pieces) == 1 and segs[i].kind == _HARD:
                break  # a limit below one character: nothing finer to cut
            segs[i : i + 1] = pieces
        first = segs[i].start
        if runs and overlap:
            first = segs[_overlap_start(segs, limits, max(runs[-1][0] + 1, i - overlap), i, i + 1)].start
        j = i + 1
        while j < len(segs) and segs[j].end - first <= limits.max_chars:
            j += 1
        if limits.token_len is not None and not limits.fits(first, segs[j - 1].end):
            lo, hi = i + 1, j - 1  # largest j whose run fits the token limit
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if limits.fits(first, segs[mid - 1].end) else (lo, mid - 1)
            j = lo
        if j == i + 1 < len(segs) and segs[i].glue and segs[j].kind == _SENTENCE:
            # A heading with no room for the sentence after it: cut that sentence into clauses and retry.
            refined = _refine(segs[j], limits)
            if len(refined) > 1 and refined[0].kind == _CLAUSE:
                segs[j : j + 1] = refined
                continue
        if j == len(segs):
            runs.append((i, j))
            break
        cuts = [k for k in range(i + 1, j + 1) if not segs[k - 1].glue] or [j]
        item_cuts = []
        if top is not None and seen_top and segs[i].strength < top:
            item_cuts = [k for k in cuts if segs[k].strength >= top]
        if item_cuts:  # the rest of an item that was split is not packed with the next item
            k = item_cuts[0]
        else:
            fill = segs[j - 1].end - first
            good = [k for k in cuts if segs[k - 1].end - first >= fill / 2] or cuts
            k = max(good, key=lambda c: (segs[c].strength, c))
        runs.append((i, k))
        seen_top = seen_top or (top is not None and any(s.strength >= top for s in segs[i:k]))
        i = k
    return runs


def _section(lines: list[_Line], unit: _Unit, first: int, last: int) -> str:
    """Common section path of lines first..last of `unit`, joined with " > ".

    Headings merged in front of the unit's own line do not count: the chunk is in the unit's section."""
    if unit.header:
        return ""
    first = max(first, unit.main)
    paths = [lines[i].path for i in range(first, max(first, last) + 1)]
    common = paths[0]
    for p in paths[1:]:
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[:n]
    return " > ".join(common)


def chunk_document(
    doc: Document,
    *,
    max_chars: int = 420,
    min_chars: int = 60,
    overlap_sentences: int = 0,
    token_len: Callable[[str], int] | None = None,
    max_tokens: int | None = None,
) -> list[Chunk]:
    """Split `doc` into structure-aware chunks, each exactly `doc.text[start:end]`.

    Articles (第X条), top-level measures (一、) and headed sections are never mixed in one
    chunk; items inside one of them are packed together up to `max_chars` (and `max_tokens`
    counted with `token_len`). A too-long unit is split at item, line, sentence and clause
    boundaries, in that preference. Pieces shorter than `min_chars` join a neighbour of the
    same section when it fits. When a unit is split, each piece after the first repeats the
    last `overlap_sentences` segments of the piece before it, as far as the limits allow.
    """
    limits = _Limits(doc.text, max_chars, token_len, max_tokens)
    lines = _lines(doc)
    if not lines:
        return []
    spans: list[tuple[int, int, str]] = []
    for unit in _units(lines):
        start, end = lines[unit.first].start, lines[unit.last].end
        if limits.fits(start, end):
            spans.append((start, end, _section(lines, unit, unit.main, unit.last)))
            continue
        segs, top = _segments(lines, unit, limits)
        runs = _pack(segs, limits, top, overlap_sentences)
        runs = _merge_small(runs, segs, lines, limits, min_chars, unit, top)
        for n, (i, k) in enumerate(runs):
            section = _section(lines, unit, segs[i].line, segs[k - 1].line)
            first = i
            if n and overlap_sentences:
                first = _overlap_start(segs, limits, max(runs[n - 1][0] + 1, i - overlap_sentences), i, k)
            spans.append((segs[first].start, segs[k - 1].end, section))
    return _to_chunks(doc, spans)


def _merge_small(
    runs: list[tuple[int, int]],
    segs: list[_Seg],
    lines: list[_Line],
    limits: _Limits,
    min_chars: int,
    unit: _Unit,
    top: int | None,
) -> list[tuple[int, int]]:
    """Join a run shorter than `min_chars` to the run before it when both have the same section and fit;
    when they do not fit, lengthen a short tail of a cut item by moving the cut back."""

    def section(run: tuple[int, int]) -> str:
        return _section(lines, unit, segs[run[0]].line, segs[run[1] - 1].line)

    def length(run: tuple[int, int]) -> int:
        return segs[run[1] - 1].end - segs[run[0]].start

    out: list[tuple[int, int]] = []
    for run in runs:
        if (
            out
            and min(length(out[-1]), length(run)) < min_chars
            and section(out[-1]) == section(run)
            and limits.fits(segs[out[-1][0]].start, segs[run[1] - 1].end)
        ):
            out[-1] = (out[-1][0], run[1])
            continue
        if out and length(run) < min_chars and (top is None or segs[run[0]].strength < top):
            # Too big to join: move the cut back a segment at a time so the tail is not a scrap.
            (a, b), c = out[-1], run[1]
            while (
                b - 1 > a
                and segs[c - 1].end - segs[b].start < min_chars
                and not segs[b - 2].glue
                and limits.fits(segs[b - 1].start, segs[c - 1].end)
            ):
                b -= 1
            out[-1], run = (a, b), (b, c)
        out.append(run)
    return out


def _to_chunks(doc: Document, spans: list[tuple[int, int, str]]) -> list[Chunk]:
    pages = [p for p in doc.pages if p.end > p.start]
    page_ends = [p.end for p in pages]
    chunks: list[Chunk] = []
    for ordinal, (start, end, section) in enumerate(spans):
        touched = []
        for p in pages[bisect.bisect_right(page_ends, start) :]:
            if p.start >= end:
                break
            touched.append(p.page)
        chunks.append(
            Chunk(
                chunk_id=f"{doc.doc_id}#{ordinal}",
                doc_id=doc.doc_id,
                ordinal=ordinal,
                text=doc.text[start:end],
                start=start,
                end=end,
                section=section,
                pages=touched,
            )
        )
    return chunks
