"""Answers from a document's structure, with no model: the items of the chapter or section a list question
targets (one cited item per article or section), the items a passage enumerates itself, and what an amendment
changed between two editions (one cited line per added, removed or changed article).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .catalog import Catalog, ChunkRecord
from .query import Query
from .textutil import (
    ARTICLE_LABEL,
    content_units,
    join_section,
    section_label,
    section_parts,
    split_sentences,
    units,
    weighted_coverage,
)
from .types import Passage

MAX_ITEMS = 12
MAX_SECTIONS = 30
_NUMBER_ONLY = re.compile(r"[\d一二三四五六七八九十]+[、.．)）]?|（[\d一二三四五六七八九十]+）|\([\d一二三四五六七八九十]+\)")
_ENUM = re.compile(r"(?:^|(?<=[。；;：:\n]))\s*(?:（[一二三四五六七八九十]+）|\([一二三四五六七八九十\d]+\)|[一二三四五六七八九十]+是|\d+[.、．)]|[①-⑳])")


# ----- lists from the document's structure ----------------------------------------------


@dataclass
class ListPlan:
    """A list answer: its lead line and one (passage, item text) per article or section, in document order."""

    lead: str
    items: list[tuple[Passage, str]]


def _container(section: str) -> str:
    """The path of what holds the section ('第三章 总则 > 第十二条' -> '第三章 总则'; '' at the top)."""
    return join_section(section_parts(section)[:-1])


def _item_text(text: str, section: str, limit: int = 90) -> str:
    """An item's words: the first sentence of the article or section body (its label and heading lines dropped),
    cut at a clause near `limit`."""
    labels = set(section_parts(section))
    lines = [line.strip() for line in text.strip().splitlines()]
    while lines and (not lines[0] or lines[0].startswith("#") or lines[0].lstrip("# ").strip() in labels):
        lines.pop(0)
    body = "\n".join(lines)
    if m := ARTICLE_LABEL.match(body):
        body = body[m.end() :]
    body = re.sub(r"^(?:\d+[.、．)]|（[一二三四五六七八九十\d]+）|\([一二三四五六七八九十\d]+\))\s*", "", body.strip())
    spans = split_sentences(body)
    first = body[spans[0][0] : spans[0][1]] if spans else body
    if first.endswith(("：", ":")) and len(spans) > 1:  # "…符合以下条件：" — the list that follows is the content
        first += "".join(body[a:b] for a, b in spans[1:])
    if len(first) <= limit:
        return first
    cut = max(first.rfind(c, 0, limit) for c in "，,；;：:")
    return first[: cut if cut > 20 else limit] + "……"


def passage_of(rec: ChunkRecord) -> Passage:
    c = rec.chunk
    return Passage(
        chunk_id=c.chunk_id, doc_id=c.doc_id, text=c.text, score=0.0, title=rec.title, section=c.section,
        pages=c.pages, start=c.start, end=c.end, ordinal=c.ordinal, meta=dict(rec.meta),
    )  # fmt: skip


def plan_list(query: Query, passages: list[Passage], catalog: Catalog, named_docs: set[str]) -> ListPlan | None:
    """The items of the chapter or section the question targets, or None when no such structure is found.

    The target is the document the question names (else the best passage's document); within it,
    the chapter whose heading shares most of the question's rare words, else the chapter holding the
    best passages (at least two of them). Each article (or numbered section) of it becomes one item.
    """
    if not passages:
        return None
    wanted = content_units(re.sub(r"《[^》]*》", " ", query.standalone))
    # A top passage that lists the items itself ("申领算力券的主体应当同时符合以下条件：（一）…").
    for p in passages[:3]:
        plan = _enumerated(query, [p])
        if plan is not None and weighted_coverage(wanted, set(units(plan.lead)), query.idf) >= 0.5:
            return plan
    doc_id = next((p.doc_id for p in passages if p.doc_id in named_docs), passages[0].doc_id)
    records = catalog.doc_chunks(doc_id)
    title_units = content_units(records[0].title) if records else set()
    groups: dict[str, list[ChunkRecord]] = {}
    for rec in records:
        if container := _container(rec.chunk.section):
            groups.setdefault(container, []).append(rec)
    if not groups:
        return None
    # The chapter whose heading carries the question's words (not the document's own title words).
    subject = wanted - title_units or wanted
    heading_scores = {g: weighted_coverage(subject, set(units(section_label(g))), query.idf) for g in groups}
    target, score = max(heading_scores.items(), key=lambda kv: kv[1])
    if score < 0.1:
        in_doc = [c for p in passages[:5] if p.doc_id == doc_id and (c := _container(p.section))]
        common = max(set(in_doc), key=in_doc.count) if in_doc else None
        if common is None or in_doc.count(common) < 2 or common not in groups:
            return None
        # Without a heading that matches, only a law's chapter (its articles) is trusted as the list; numbered
        # headings in other documents (a FAQ compilation's "一、…") do not make their contents one list.
        if not all(ARTICLE_LABEL.match(section_label(r.chunk.section)) for r in groups[common]):
            return None
        target = common
    firsts: dict[str, ChunkRecord] = {}
    for rec in groups[target]:
        firsts.setdefault(rec.chunk.section, rec)
    # A "chapter" of dozens of sections is no list the question asks for (a FAQ compilation under one
    # numbered heading, say): leave it to the model.
    if not 2 <= len(firsts) <= MAX_SECTIONS:
        return None
    items = []
    for section, rec in list(firsts.items())[:MAX_ITEMS]:
        label = section_label(section)
        if _NUMBER_ONLY.fullmatch(label):  # "1、" says nothing: the text is the item
            label = ""
        text = _item_text(rec.chunk.text, section)
        colon = "：" if query.language == "zh" or re.search(r"[\u4e00-\u9fff]", text) else ": "
        items.append((passage_of(rec), f"{label}{colon}{text}" if text and label else text or label))
    title = records[0].title if records else ""
    heading = section_label(target)
    zh = query.language == "zh"
    more = len(firsts) - len(items)
    tail = (f"（另有{more}项，见原文）" if zh else f" ({more} more in the document)") if more > 0 else ""
    lead = f"《{title}》“{heading}”部分规定了以下{len(items)}项内容{tail}：" if zh else (
        f"《{title}》, section “{heading}”, sets out {len(items)} items{tail}:"
    )
    return ListPlan(lead, items)


def _enumerated(query: Query, passages: list[Passage]) -> ListPlan | None:
    """Items numbered inside the best passage itself ((一)…(二)…, 1. 2., 一是…二是…), when it has two or more."""
    p = passages[0]
    first = _ENUM.search(p.text)
    if first is None:
        return None
    # The enumeration of one paragraph: from the line holding the first mark to that line's end.
    start = p.text.rfind("\n", 0, first.start()) + 1
    end = p.text.find("\n", first.end())
    end = len(p.text) if end < 0 else end
    marks = [m.start() for m in _ENUM.finditer(p.text, first.start(), end)]
    if len(marks) < 2:
        return None
    pieces = [p.text[a:b].strip(" ；;。\n") for a, b in zip(marks, marks[1:] + [end], strict=True)]
    pieces[-1] = re.split(r"[。！？]", pieces[-1])[0]  # the last item ends at its sentence end
    pieces = [x for x in pieces if len(x) >= 4][:MAX_ITEMS]
    if len(pieces) < 2:
        return None
    intro = p.text[start : marks[0]].strip()
    zh = query.language == "zh"
    lead = intro if intro and len(intro) <= 120 else (f"《{p.title}》规定：" if zh else f"《{p.title}》 provides:")
    return ListPlan(lead, [(p, x if len(x) <= 120 else x[:118] + "……") for x in pieces])


# ----- change questions: what an amendment changed ---------------------------------------


def plan_change(query: Query, catalog: Catalog) -> ListPlan | None:
    """For "反垄断法2022年修改增加了哪些内容？": the articles added, removed and changed between the two editions
    the question means, each cited to the edition it is in (`assistant.versions`). None when the question is
    not about a change between indexed editions."""
    from .versions import change_question, compare_documents, library_for
    from .versions.answers import article_of, change_summary

    library = library_for(catalog)
    asked = change_question(query.standalone, library)
    if asked is None:
        return None
    old, new = catalog.document_text(asked.old), catalog.document_text(asked.new)
    if old is None or new is None:
        return None
    comparison = compare_documents(old, new, library)
    lines = change_summary(comparison, limit=MAX_ITEMS)
    by_article = {
        doc_id: {a: rec for rec in reversed(catalog.doc_chunks(doc_id)) if (a := article_of(rec.chunk.section))}
        for doc_id in (asked.old, asked.new)
    }
    entries = [e for e in comparison.diff.entries if e.kind in ("added", "removed", "changed")][:MAX_ITEMS]
    items = []
    for entry, line in zip(entries, lines[1:], strict=False):
        doc_id, article = (asked.old, entry.old) if entry.kind == "removed" else (asked.new, entry.new)
        rec = by_article[doc_id].get(article or "")
        if rec is not None:
            items.append((passage_of(rec), line))
    if not items:
        return None
    rest = [line for line in lines[1 + len(entries) :]]
    return ListPlan(lines[0] + ("" if not rest else " " + rest[0]), items)


def render_list(plan: ListPlan, numbers: list[int]) -> str:
    """The list answer's text: the lead, then one numbered, cited line per item."""
    lines = [plan.lead]
    for i, ((_, text), n) in enumerate(zip(plan.items, numbers, strict=True), 1):
        lines.append(f"{i}. {text}[{n}]")
    return "\n".join(lines)
