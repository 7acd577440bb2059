"""Structure of a policy text: each line classified (编/章/节, 第X条, 一、, （一）, headings ...) and
grouped into the units a chunk never straddles, with the section path of every line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..textutil import CN_NUMERALS, HAN_RE, join_section
from ..types import Document

# Heading text may follow the label without a space (common in PDFs) but is a title, not a sentence.
_PART = re.compile(f"第[{CN_NUMERALS}\\d]+编(?:[ \u3000]*[^。，；;,\\s][^。，；;,]*)?")
_CHAPTER = re.compile(f"第[{CN_NUMERALS}\\d]+章(?:[ \u3000]*[^。，；;,\\s][^。，；;,]*)?")
_SECTION = re.compile(f"第[{CN_NUMERALS}\\d]+节(?:[ \u3000]*[^。，；;,\\s][^。，；;,]*)?")
# An article label is followed by a space or its text; "第五条规定的…", "第五条、第六条" are references.
_ARTICLE = re.compile(
    f"(第[{CN_NUMERALS}\\d]+条(?:之[{CN_NUMERALS}]+)?)(?=$|[ \u3000【]|[^\\s规的中至、，,和或及所第款项之以])"
)
_BARE_LABEL = re.compile(f"第[{CN_NUMERALS}\\d]+[编章节]|(?:Part|PART|Chapter|CHAPTER)\\s+[IVXLC\\d]+")
_LABEL_SPACE = re.compile(f"^(第[{CN_NUMERALS}\\d]+[编章节])[ \u3000]*")
_CN_TOP = re.compile(f"[{CN_NUMERALS}]+、")
_PAREN_CN = re.compile(f"[（(][{CN_NUMERALS}]+[）)]")
_ARABIC = re.compile(r"\d{1,3}[.．、](?!\d)")
_PAREN_ARABIC = re.compile(r"[（(]\d{1,3}[）)]")
_CIRCLED = re.compile("[①-⑳]")
_EN_PART = re.compile(r"(?:Part|PART)\s+(?:[IVXLC]+|\d+)\b[^.!?]{0,80}")
_EN_CHAPTER = re.compile(r"(?:Chapter|CHAPTER)\s+(?:[IVXLC]+|\d+)\b[^.!?]{0,80}")
_EN_SECTION = re.compile(r"(?:Section|SECTION|§)\s*\d+(?:\.\d+)*\b[^.!?]{0,80}")
_EN_ARTICLE = re.compile(r"((?:Article|ARTICLE)\s+(?:\d+[a-z]?|[IVXLC]+))(?=\s*$|\s*[.:\-–—]|\s+[A-Z(“\"])")
_EN_NUMBERED = re.compile(r"(\d{1,2}(?:\.\d{1,2})*\.?|[IVXLC]{1,6}\.)\s+[A-Z][^.!?:;]{0,80}")
_ALL_CAPS = re.compile(r"[A-Z][A-Z0-9 ,&'’()/\-]{3,79}")
_LABEL_STOP = re.compile("[。；;：:，,]")


@dataclass(frozen=True)
class Mark:
    """A structural line: its depth (`order`, smaller is higher), its path label, whether it starts a unit."""

    order: float
    label: str
    hard: bool
    article: bool = False
    measure: bool = False  # 一、 : hard at top level, an item inside an article


@dataclass
class Line:
    start: int
    end: int
    mark: Mark | None
    path: tuple[str, ...] = ()
    glue: bool = False  # a short heading line: never end a chunk right after it


def short(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit].rstrip()


def classify(line: str, heading: tuple[int, str] | None) -> Mark | None:
    """The structural role of one line (`heading` is its (level, text) when the format marks it up)."""
    text = heading[1] if heading else line
    if m := _ARTICLE.match(text):
        return Mark(4, m.group(1), True, article=True)
    is_cjk = bool(HAN_RE.search(text))
    for pattern, order in ((_PART, 1), (_CHAPTER, 2), (_SECTION, 3)):
        if len(text) <= 60 and pattern.fullmatch(text):
            return Mark(order, short(_LABEL_SPACE.sub(r"\1 ", text, count=1), 40), True)
    if m := _CN_TOP.match(text):
        stop = _LABEL_STOP.search(text, m.end())
        return Mark(5, short(text[: stop.start() if stop else None], 30), True, measure=True)
    for pattern, order in ((_PAREN_CN, 6), (_PAREN_ARABIC, 8), (_CIRCLED, 9)):
        if m := pattern.match(text):
            return Mark(order, short(text, 40), True) if heading else Mark(order, m.group(), False)
    if not is_cjk:
        if m := _EN_ARTICLE.match(text):
            return Mark(4, short(m.group(1), 30), True, article=True)
        for pattern, order in ((_EN_PART, 1), (_EN_CHAPTER, 2), (_EN_SECTION, 3)):
            if len(text) <= 90 and pattern.fullmatch(text):
                return Mark(order, short(text, 60), True)
        if len(text) <= 90 and (m := _EN_NUMBERED.fullmatch(text)):
            depth = m.group(1).rstrip(".").count(".")
            return Mark(4.9 if m.group(1)[0] in "IVXLC" else 5 + 0.1 * depth, short(text, 60), True)
        if _ALL_CAPS.fullmatch(text) and sum(c.isalpha() for c in text) >= 4:
            return Mark(4.8, short(text, 60), True)
    if m := _ARABIC.match(text):
        return Mark(7, short(text, 40), True) if heading else Mark(7, m.group(), False)
    if heading:
        return Mark(0.1 * heading[0], short("#" * heading[0] + " " + heading[1], 60), True)
    return None


def _title_key(text: str) -> str:
    return re.sub(r"[\s#《》〈〉]", "", text)


def structure_lines(doc: Document) -> list[Line]:
    """Non-empty lines (trimmed spans) with their structure and section path."""
    text = doc.text
    headings = sorted(doc.headings)
    title_key = _title_key(doc.title)
    first_key = _title_key(headings[0][2]) if headings else ""
    if first_key and title_key and headings[0][0] < 500 and first_key.startswith(title_key):
        headings = headings[1:]  # the document title heading (the title may be a cut-short copy) is not a section
    lines: list[Line] = []
    stack: list[Mark] = []
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
        mark = classify(text[start:end], heading)
        prev = lines[-1] if lines else None
        if mark is None and prev and prev.mark and prev.mark.order <= 3 and _BARE_LABEL.fullmatch(prev.mark.label):
            if end - start <= 20 and not _LABEL_STOP.search(text, start, end):
                # "第一章" on one line and its title "总则" on the next: one heading.
                mark = Mark(prev.mark.order, f"{prev.mark.label} {short(text[start:end], 30)}", True)
                stack[-1] = prev.mark = mark
                prev.path = path = prev.path[:-1] + (mark.label,)
                lines.append(Line(start, end, mark, path, True))
                continue
        if mark:
            if mark.measure and any(x.article for x in stack):
                mark = Mark(mark.order, mark.label, False, measure=True)
            while stack and stack[-1].order >= mark.order:
                stack.pop()
            stack.append(mark)
        cut = max((i for i, x in enumerate(stack) if x.article), default=len(stack) - 1)
        path = tuple(x.label for x in stack[: cut + 1])
        # Chapter-like headings and bare item titles such as "（一）指导思想。" belong with what follows.
        glue = mark is not None and not mark.article and end - start <= (40 if mark.hard else 16)
        lines.append(Line(start, end, mark, path, glue))
    return lines


@dataclass
class Unit:
    first: int  # index of the first line (may be a merged-forward heading line)
    main: int  # index of the line that opened the unit; its section starts here
    last: int  # index of the last line, inclusive
    header: bool = False


def units_of(lines: list[Line]) -> list[Unit]:
    starts: list[int] = []
    seen_structure = False
    for i, line in enumerate(lines):
        continued = i > 0 and line.mark is lines[i - 1].mark  # second line of a two-line heading
        if line.mark and not continued and (not seen_structure or line.mark.hard):
            starts.append(i)
            seen_structure = True
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    units = [Unit(s, s, e - 1) for s, e in zip(starts, starts[1:] + [len(lines)], strict=True)]
    if len(units) > 1 and not lines[0].mark:
        units[0].header = True
    merged: list[Unit] = []
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


def section_of(lines: list[Line], unit: Unit, first: int, last: int) -> str:
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
    return join_section(common)
