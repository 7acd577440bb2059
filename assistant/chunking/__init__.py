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

from collections.abc import Callable

from ..textutil import sentence_spans
from ..types import Chunk, Document
from .labels import section_of, structure_lines, units_of
from .packing import merge_small, overlap_start, pack, to_chunks
from .sentences import Limits, segments

__all__ = ["chunk_document", "sentence_spans"]


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
    limits = Limits(doc.text, max_chars, token_len, max_tokens)
    lines = structure_lines(doc)
    if not lines:
        return []
    spans: list[tuple[int, int, str]] = []
    for unit in units_of(lines):
        start, end = lines[unit.first].start, lines[unit.last].end
        if limits.fits(start, end):
            spans.append((start, end, section_of(lines, unit, unit.main, unit.last)))
            continue
        segs, top = segments(lines, unit, limits)
        runs = pack(segs, limits, top, overlap_sentences)
        runs = merge_small(runs, segs, lines, limits, min_chars, unit, top)
        for n, (i, k) in enumerate(runs):
            section = section_of(lines, unit, segs[i].line, segs[k - 1].line)
            first = i
            if n and overlap_sentences:
                first = overlap_start(segs, limits, max(runs[n - 1][0] + 1, i - overlap_sentences), i, k)
            spans.append((segs[first].start, segs[k - 1].end, section))
    return to_chunks(doc, spans)
