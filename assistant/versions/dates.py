"""Dates a legal text states about itself: when it was passed, issued or published, when it takes
effect (自…起施行), its revision history (…通过 / …修正 / …修订) and what it repeals (…同时废止).

Only what the text says is reported; a date that cannot be parsed is left out (None), never guessed.
Both 2019年3月1日 and 二〇一九年三月一日 are read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ..textutil import cn_number

_ZH_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0, "O": 0, "两": 2}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_YEAR = r"(?:(?:19|20)\d{2}|[〇○零一二三四五六七八九]{4})"
_MD = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
DATE_RE = re.compile(rf"({_YEAR})\s*年\s*({_MD})\s*月\s*({_MD})\s*日")
# Actions of a history line, strongest first: "修订通过" is a revision, "公布施行" a publication.
_ACTIONS = ("修正", "修订", "废止", "通过", "批准", "公布", "发布", "印发", "施行")
REVISIONS = frozenset({"修正", "修订"})
ISSUES = frozenset({"通过", "公布", "发布", "印发"})
_EFFECTIVE = re.compile(rf"自\s*({_YEAR}\s*年\s*{_MD}\s*月\s*{_MD}\s*日)\s*起\s*(?:施行|实施|生效)")
_EFFECTIVE_ON_ISSUE = re.compile(r"自\s*(公布|发布|印发)之日起\s*(?:施行|实施|生效)")
_ARTICLE_START = re.compile(r"^\s*第[一二三四五六七八九十百零〇\d]+[章条节编]", re.M)
_TITLE = re.compile(r"《([^《》]{2,80})》")
_HEAD_CHARS = 1500


def cn_int(s: str) -> int | None:
    """19, 十九, 一百零五, 二〇一九 (digit by digit) -> int; None when it is not a number (`textutil.cn_number`)."""
    s = s.strip()
    return cn_number(s) if s else None


def parse_date(text: str) -> dt.date | None:
    """The first valid Chinese date in `text` (2019年3月1日 or 二〇一九年三月一日), else None."""
    for m in DATE_RE.finditer(text):
        y, mo, d = (cn_int(g) for g in m.groups())
        if y is None or mo is None or d is None:
            continue
        try:
            return dt.date(y, mo, d)
        except ValueError:
            continue
    return None


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def from_iso(value: str | None) -> dt.date | None:
    """YYYY-MM-DD -> date; None for empty or invalid values."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class HistoryEvent:
    """One dated line of a document's history: `action` is 通过, 修正, 修订, 公布, 发布, 印发, 批准 or 施行."""

    date: dt.date
    action: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"date": self.date.isoformat(), "action": self.action, "text": self.text}


@dataclass(frozen=True)
class DocDates:
    """What a document's own text says about its dates, history and repeals."""

    history: tuple[HistoryEvent, ...] = ()
    stated_effective: dt.date | None = None  # 自…起施行 as written (an amended text keeps its first edition's)
    repeals: tuple[str, ...] = field(default_factory=tuple)  # titles of what it repeals

    @property
    def issued(self) -> dt.date | None:
        """The date the work was first passed, issued or published."""
        firsts = [e.date for e in self.history if e.action in ISSUES]
        return min(firsts) if firsts else None

    @property
    def edition_date(self) -> dt.date | None:
        """The date of this edition: its latest passing, revision or publication."""
        dated = [e.date for e in self.history if e.action in ISSUES | REVISIONS]
        return max(dated) if dated else None

    @property
    def edition(self) -> str | None:
        """A label such as "2022年修正" (latest revision) or "2007年通过" (first edition); None if unknown."""
        revisions = [e for e in self.history if e.action in REVISIONS]
        if revisions:
            last = max(revisions, key=lambda e: e.date)
            return f"{last.date.year}年{last.action}"
        issues = [e for e in self.history if e.action in ISSUES]
        if issues:
            first = min(issues, key=lambda e: e.date)
            return f"{first.date.year}年{first.action}"
        return None

    @property
    def effective(self) -> dt.date | None:
        """When this edition took effect, if the text says so.

        A consolidated amended text usually still carries its first edition's 施行 date; that date
        is not this edition's, so it is dropped (None) when it precedes the edition date.
        """
        eff, ed = self.stated_effective, self.edition_date
        if eff is None or ed is None:
            return eff
        return eff if eff >= ed else None

    def to_meta(self) -> dict[str, str]:
        """Flat string fields for `Document.meta` (what the catalog stores)."""
        import json

        meta = {
            "issued": iso(self.issued) or "",
            "edition": self.edition or "",
            "edition_date": iso(self.edition_date) or "",
            "effective": iso(self.effective) or "",
            "stated_effective": iso(self.stated_effective) or "",
            "history": json.dumps([e.to_dict() for e in self.history], ensure_ascii=False),
            "repeals": json.dumps(list(self.repeals), ensure_ascii=False),
        }
        return {k: v for k, v in meta.items() if v and v != "[]"}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> DocDates:
        """Inverse of `to_meta` (bad or missing fields give an empty history)."""
        import json

        events: list[HistoryEvent] = []
        try:
            for e in json.loads(meta.get("history") or "[]"):
                day = from_iso(e.get("date"))
                if day:
                    events.append(HistoryEvent(day, str(e.get("action", "")), str(e.get("text", ""))))
            repeals = tuple(str(t) for t in json.loads(meta.get("repeals") or "[]"))
        except (ValueError, TypeError, AttributeError):
            events, repeals = [], ()
        return cls(tuple(events), from_iso(meta.get("stated_effective")), repeals)


def head_of(text: str) -> str:
    """The part before the first 第X章/第X条 (title, history lines, promulgation order), at most 1,500 chars."""
    m = _ARTICLE_START.search(text)
    end = m.start() if m else _HEAD_CHARS
    return text[: min(end, _HEAD_CHARS)]


def _action(segment: str) -> str | None:
    # The verb that ends the segment's clause decides; "修订通过" is a revision.
    for action in _ACTIONS:
        if action in segment:
            return action
    return None


def history(text: str) -> list[HistoryEvent]:
    """The dated events of the document head (and its closing date line), oldest first, one per (date, action)."""
    head = head_of(text)
    events: dict[tuple[dt.date, str], HistoryEvent] = {}
    matches = list(DATE_RE.finditer(head))
    for i, m in enumerate(matches):
        day = parse_date(m.group(0))
        if day is None:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(head)
        segment = head[m.end() : end]
        clause = re.split(r"[，。；;\n]", segment, maxsplit=1)[0]
        line_start = head.rfind("\n", 0, m.start()) + 1
        before = head[line_start : m.start()]
        if re.search(r"自\s*$", before) and "施行" in clause:
            action: str | None = "施行"
        elif not clause.strip() and not before.strip():
            action = "公布"  # a date alone on its line under a promulgation order: the signing date
        else:
            action = _action(clause)
        if action is None or action == "废止":
            continue
        line = (before + m.group(0) + clause).strip(" （()）\n")
        events.setdefault((day, action), HistoryEvent(day, action, line))
    # The 落款 of a notice or opinion: a date alone on one of the last lines is its signing date.
    for line in [ln.strip() for ln in text[-800:].split("\n") if ln.strip()][-8:]:
        day = parse_date(line) if DATE_RE.fullmatch(line) else None
        if day is not None and not any(e.date == day for e in events.values()):
            events[(day, "发布")] = HistoryEvent(day, "发布", line)
    return sorted(events.values(), key=lambda e: (e.date, _ACTIONS.index(e.action)))


def stated_effective(text: str, events: list[HistoryEvent] | None = None) -> dt.date | None:
    """The 自…起施行 date: the one in the head (promulgation order) if any, else the last one in the text."""
    head = head_of(text)
    found = _EFFECTIVE.search(head)
    if found is None:
        matches = list(_EFFECTIVE.finditer(text))
        found = matches[-1] if matches else None
    if found is not None:
        return parse_date(found.group(1))
    events = history(text) if events is None else events
    effective = [e.date for e in events if e.action == "施行"]
    if effective:
        return max(effective)
    if _EFFECTIVE_ON_ISSUE.search(text):
        published = [e.date for e in events if e.action in {"公布", "发布", "印发"}]
        return max(published) if published else None
    return None


def repeals(text: str) -> list[str]:
    """Titles the text repeals: 《…》 named in a sentence that ends in (同时)废止."""
    out: list[str] = []
    for sentence in re.split(r"[。；;\n]", text):
        if "废止" not in sentence:
            continue
        before = sentence[: sentence.rfind("废止")]
        if "》" not in before or len(before) - before.rfind("》") > 10:  # 《…》同时废止, not a mere mention
            continue
        for title in _TITLE.findall(before):
            title = title.strip()
            if title.startswith(("关于修改", "关于废止")) or title in out:
                continue
            out.append(title)
    return out


def parse_dates(text: str) -> DocDates:
    """Everything `DocDates` holds, read from the document text."""
    events = history(text)
    return DocDates(tuple(events), stated_effective(text, events), tuple(repeals(text)))
