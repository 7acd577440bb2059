"""A unit cut into sentence segments, each marked with how good a place it is to end a chunk;
segments that do not fit the size limits cut finer, at clauses or as a last resort mid-text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..textutil import CLOSERS, sentence_spans, trim_span
from .labels import Line, Unit

_LINE_END = re.compile(f"[。！？；!?;:：…][{CLOSERS}]*$")
_CLAUSE_END = re.compile("[，、,：:]+|\\s+")

LINE, SENTENCE, CLAUSE, HARD = 2, 1, 0, -1  # cut strength at the start of a segment
TOP_ITEM = 10  # strength of the shallowest item level in a unit; deeper levels count down from it


@dataclass
class Seg:
    start: int
    end: int
    strength: int
    line: int
    kind: int  # SENTENCE, CLAUSE or HARD: how it was cut, so it can be cut finer
    glue: bool = False


class Limits:
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


def refine(seg: Seg, limits: Limits) -> list[Seg]:
    """Cut a segment that does not fit into clauses, or failing that into fitting pieces."""
    text = limits.text
    pieces: list[tuple[int, int]] = []
    if seg.kind == SENTENCE:
        pos = seg.start
        for m in _CLAUSE_END.finditer(text, seg.start, seg.end):
            s, e = trim_span(text, pos, m.end())
            if e > s:
                pieces.append((s, e))
            pos = m.end()
        s, e = trim_span(text, pos, seg.end)
        if e > s:
            pieces.append((s, e))
    kind = CLAUSE if len(pieces) > 1 else HARD
    if kind == HARD:
        pieces, pos = [], seg.start
        while pos < seg.end:
            cut = limits.hard_end(pos, seg.end)
            pieces.append((pos, cut))
            pos = cut
    out = [Seg(s, e, kind, seg.line, kind) for s, e in pieces]
    out[0].strength = seg.strength
    out[-1].glue = seg.glue
    return out


def _ends_sentence(text: str, line: Line) -> bool:
    return bool(_LINE_END.search(text, max(line.start, line.end - 8), line.end))


def segments(lines: list[Line], unit: Unit, limits: Limits) -> tuple[list[Seg], int | None]:
    """Sentence segments of a unit, each marked with how good a cut before it is; and the top item strength."""
    body = range(unit.main + 1, unit.last + 1)
    orders = sorted({m.order for i in body if (m := lines[i].mark) and not m.hard})
    segs: list[Seg] = []
    for i in range(unit.first, unit.last + 1):
        line = lines[i]
        mark = line.mark
        strength = TOP_ITEM - orders.index(mark.order) if mark and mark.order in orders and i > unit.main else LINE
        prev = lines[i - 1]
        wrapped = i > unit.first and limits.text.count("\n", prev.end, line.start) == 1
        if strength == LINE and wrapped and not mark and not _ends_sentence(limits.text, prev):
            strength = CLAUSE  # a hard-wrapped line continues the sentence of the line before
        spans = sentence_spans(limits.text, line.start, line.end)
        for k, (s, e) in enumerate(spans):
            seg = Seg(s, e, strength if k == 0 else SENTENCE, i, SENTENCE, line.glue and k == len(spans) - 1)
            if e - s > limits.max_chars:
                pending = refine(seg, limits)
                segs.extend(
                    p for q in pending for p in (refine(q, limits) if q.end - q.start > limits.max_chars else [q])
                )
            else:
                segs.append(seg)
    return segs, (TOP_ITEM if orders else None)
