"""Sentence segments packed into chunks: greedy runs cut at the strongest boundary, small runs
merged into a neighbour, optional overlap, and the final `Chunk`s with their pages."""

from __future__ import annotations

import bisect

from ..textutil import make_chunk_id
from ..types import Chunk, Document
from .labels import Line, Unit, section_of
from .sentences import CLAUSE, HARD, SENTENCE, Limits, Seg, refine


def overlap_start(segs: list[Seg], limits: Limits, lowest: int, i: int, k: int) -> int:
    """The earliest segment from `lowest` on that run i..k can start at and still fit."""
    for c in range(max(lowest, 0), i):
        if limits.fits(segs[c].start, segs[k - 1].end):
            return c
    return i


def pack(segs: list[Seg], limits: Limits, top: int | None, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing into fitting runs of segments, cut at the strongest boundary of the second half.

    Room is left for `overlap` segments of the previous run to be repeated before each run."""
    runs: list[tuple[int, int]] = []
    i = 0
    seen_top = False  # an item of the top level has started, so a chunk may begin inside one
    while i < len(segs):
        while not limits.fits(segs[i].start, segs[i].end):  # only the token limit can get here
            pieces = refine(segs[i], limits)
            if len(pieces) == 1 and segs[i].kind == HARD:
                break  # a limit below one character: nothing finer to cut
            segs[i : i + 1] = pieces
        first = segs[i].start
        if runs and overlap:
            first = segs[overlap_start(segs, limits, max(runs[-1][0] + 1, i - overlap), i, i + 1)].start
        j = i + 1
        while j < len(segs) and segs[j].end - first <= limits.max_chars:
            j += 1
        if limits.token_len is not None and not limits.fits(first, segs[j - 1].end):
            lo, hi = i + 1, j - 1  # largest j whose run fits the token limit
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if limits.fits(first, segs[mid - 1].end) else (lo, mid - 1)
            j = lo
        if j == i + 1 < len(segs) and segs[i].glue and segs[j].kind == SENTENCE:
            # A heading with no room for the sentence after it: cut that sentence into clauses and retry.
            refined = refine(segs[j], limits)
            if len(refined) > 1 and refined[0].kind == CLAUSE:
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


def merge_small(
    runs: list[tuple[int, int]],
    segs: list[Seg],
    lines: list[Line],
    limits: Limits,
    min_chars: int,
    unit: Unit,
    top: int | None,
) -> list[tuple[int, int]]:
    """Join a run shorter than `min_chars` to the run before it when both have the same section and fit;
    when they do not fit, lengthen a short tail of a cut item by moving the cut back."""

    def section(run: tuple[int, int]) -> str:
        return section_of(lines, unit, segs[run[0]].line, segs[run[1] - 1].line)

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


def to_chunks(doc: Document, spans: list[tuple[int, int, str]]) -> list[Chunk]:
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
                chunk_id=make_chunk_id(doc.doc_id, ordinal),
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
