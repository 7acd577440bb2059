"""Article-level diff of two editions of a law: align 第X条 by number and by text similarity
(articles get renumbered when others are inserted), then mark the changed words of each pair.

Alignment: a monotonic dynamic-programming match over character-bigram similarity (articles keep
their order across editions), then a greedy pass over what is left for articles that moved.
Word marks come from difflib on characters (Chinese has no spaces), with one-character islands
merged into the change around them so marks read as words, not scattered characters.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .dates import cn_int as cn_number

_ARTICLE = re.compile(
    r"^[ \t\u3000]*(第([一二三四五六七八九十百千零〇两\d]+)条(?:之([一二三四五六七八九十]+))?)[ \t\u3000]*", re.M
)
_HEADING = re.compile(r"^[ \t\u3000]*第[一二三四五六七八九十百零〇\d]+[编章节](?:[ \t\u3000]|$)", re.M)
_NOISE = re.compile(r"[\s\u3000]+")
_DIGITS = re.compile(r"[\d〇零一二三四五六七八九十百千万]+")
MATCH_THRESHOLD = 0.45  # below this similarity two articles are not the same article
MOVED_THRESHOLD = 0.6  # stricter for out-of-order pairs
DEL_OPEN, DEL_CLOSE, INS_OPEN, INS_CLOSE = "[-", "-]", "{+", "+}"


@dataclass
class Article:
    """One 第X条 of a document: its label, number (with 之一 as a tenth), text and offset."""

    label: str
    number: float
    text: str  # the article without its label
    start: int
    key: str = ""  # the text compared: NFKC, without white space

    def __post_init__(self) -> None:
        if not self.key:
            self.key = _NOISE.sub("", unicodedata.normalize("NFKC", self.text))


def split_articles(text: str) -> list[Article]:
    """The articles of a text in order; an article ends at the next article or 第X章/节 heading."""
    starts = list(_ARTICLE.finditer(text))
    headings = [m.start() for m in _HEADING.finditer(text)]
    out: list[Article] = []
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        end = min([h for h in headings if m.end() <= h < end] or [end])
        n = cn_number(m.group(2)) or 0
        sub = cn_number(m.group(3)) if m.group(3) else 0
        out.append(Article(m.group(1), n + (sub or 0) / 10, text[m.end() : end].strip(), m.start()))
    return out


def _bigrams(s: str) -> set[str]:
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


def similarity(a: set[str], b: set[str]) -> float:
    """Dice of character bigrams, or 0.8 x containment when a long article was only extended."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    dice = 2 * inter / (len(a) + len(b))
    small = min(len(a), len(b))
    return max(dice, 0.8 * inter / small) if small >= 40 else dice


def align(old: list[Article], new: list[Article]) -> list[tuple[int, int, float]]:
    """(old index, new index, similarity) of matched articles."""
    # Numbers are masked for similarity: "自2015年10月1日起施行" and "自2021年9月1日起施行" are the same article.
    ob = [_bigrams(_DIGITS.sub("0", a.key)) for a in old]
    nb = [_bigrams(_DIGITS.sub("0", a.key)) for a in new]
    n, m = len(old), len(new)
    sim = [[0.0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            if old[i].key == new[j].key:
                sim[i][j] = 1.0 + (0.01 if old[i].number == new[j].number else 0.0)
            else:
                s = similarity(ob[i], nb[j])
                sim[i][j] = s + (0.05 if old[i].number == new[j].number else 0.0)
    # Monotonic alignment maximising the summed similarity of matched pairs.
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = score[i], score[i + 1]
        for j in range(m - 1, -1, -1):
            best = max(below[j], row[j + 1])
            s = sim[i][j]
            if s >= MATCH_THRESHOLD:
                best = max(best, s + below[j + 1])
            row[j] = best
    pairs: list[tuple[int, int, float]] = []
    i = j = 0
    while i < n and j < m:
        s = sim[i][j]
        if s >= MATCH_THRESHOLD and abs(score[i][j] - (s + score[i + 1][j + 1])) < 1e-9:
            pairs.append((i, j, min(s, 1.0)))
            i, j = i + 1, j + 1
        elif abs(score[i][j] - score[i + 1][j]) < 1e-9:
            i += 1
        else:
            j += 1
    # Articles that moved: greedy over the rest, strictest first.
    used_old, used_new = {p[0] for p in pairs}, {p[1] for p in pairs}
    rest = sorted(
        ((sim[i][j], i, j) for i in range(n) if i not in used_old for j in range(m) if j not in used_new),
        reverse=True,
    )
    for s, i, j in rest:
        if s < MOVED_THRESHOLD:
            break
        if i in used_old or j in used_new:
            continue
        pairs.append((i, j, min(s, 1.0)))
        used_old.add(i)
        used_new.add(j)
    return sorted(pairs, key=lambda p: (p[1], p[0]))


def word_ops(old: str, new: str) -> list[tuple[str, str, str]]:
    """(tag, old piece, new piece) with tag equal | replace | delete | insert, one-character islands merged."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    ops: list[list[str]] = [[tag, old[i1:i2], new[j1:j2]] for tag, i1, i2, j1, j2 in sm.get_opcodes()]
    merged: list[list[str]] = []
    for k, op in enumerate(ops):
        island = op[0] == "equal" and len(op[1]) <= 1 and 0 < k < len(ops) - 1
        if (island or op[0] != "equal") and merged and merged[-1][0] != "equal":
            merged[-1] = ["replace", merged[-1][1] + op[1], merged[-1][2] + op[2]]
        elif island:
            merged.append(["replace", op[1], op[2]])
        else:
            merged.append(list(op))
    out: list[tuple[str, str, str]] = []
    for tag, a, b in merged:
        if tag != "equal":
            tag = "replace" if a and b else ("delete" if a else "insert")
        out.append((tag, a, b))
    return out


def mark(ops: list[tuple[str, str, str]]) -> tuple[str, str]:
    """Old and new text with deletions as [-…-] and insertions as {+…+}."""
    old, new = [], []
    for tag, a, b in ops:
        if tag == "equal":
            old.append(a)
            new.append(b)
            continue
        if a:
            old.append(f"{DEL_OPEN}{a}{DEL_CLOSE}")
        if b:
            new.append(f"{INS_OPEN}{b}{INS_CLOSE}")
    return "".join(old), "".join(new)


@dataclass
class ArticleChange:
    """One aligned (or unaligned) article: kind is added | removed | changed | renumbered | unchanged."""

    kind: str
    old: str | None = None  # label in the old edition, e.g. 第十五条
    new: str | None = None
    old_text: str = ""
    new_text: str = ""
    similarity: float = 0.0
    ops: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "added":
            return {"new": self.new, "text": self.new_text}
        if self.kind == "removed":
            return {"old": self.old, "text": self.old_text}
        if self.kind == "changed":
            old_marked, new_marked = mark(self.ops)
            return {
                "old": self.old,
                "new": self.new,
                "old_text": old_marked,
                "new_text": new_marked,
                "renumbered": self.old != self.new,
                "similarity": round(self.similarity, 3),
            }
        return {"old": self.old, "new": self.new}


@dataclass
class Diff:
    """What changed between two editions, article by article, in the new edition's order."""

    entries: list[ArticleChange]
    old_articles: int
    new_articles: int

    def of_kind(self, kind: str) -> list[ArticleChange]:
        return [e for e in self.entries if e.kind == kind]

    @property
    def added(self) -> list[ArticleChange]:
        return self.of_kind("added")

    @property
    def removed(self) -> list[ArticleChange]:
        return self.of_kind("removed")

    @property
    def changed(self) -> list[ArticleChange]:
        return self.of_kind("changed")

    @property
    def renumbered(self) -> list[ArticleChange]:
        return self.of_kind("renumbered")

    def alignment(self) -> list[tuple[str | None, str | None]]:
        """(old label, new label) of every article; None on the side where it does not exist."""
        return [(e.old, e.new) for e in self.entries]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_articles": self.old_articles,
            "new_articles": self.new_articles,
            "unchanged": len(self.of_kind("unchanged")),
            "added": [e.to_dict() for e in self.added],
            "removed": [e.to_dict() for e in self.removed],
            "changed": [e.to_dict() for e in self.changed],
            "renumbered": [e.to_dict() for e in self.renumbered],
        }


def diff_articles(old: list[Article], new: list[Article]) -> Diff:
    """Align two article lists and classify every article."""
    pairs = align(old, new)
    entries: list[tuple[float, ArticleChange]] = []
    matched_old = {i for i, _, _ in pairs}
    for i, j, s in pairs:
        a, b = old[i], new[j]
        if a.key == b.key:
            kind = "unchanged" if a.label == b.label else "renumbered"
            entries.append((j, ArticleChange(kind, a.label, b.label, a.text, b.text, 1.0)))
        else:
            entries.append((j, ArticleChange("changed", a.label, b.label, a.text, b.text, s, word_ops(a.text, b.text))))
    for j, b in enumerate(new):
        if j not in {p[1] for p in pairs}:
            entries.append((j, ArticleChange("added", None, b.label, "", b.text)))
    # A removed article sits after the new article that follows its old predecessor.
    anchor = {i: j for i, j, _ in pairs}
    for i, a in enumerate(old):
        if i in matched_old:
            continue
        prev = max((anchor[k] for k in anchor if k < i), default=-1)
        entries.append((prev + 0.5, ArticleChange("removed", a.label, None, a.text, "")))
    entries.sort(key=lambda e: e[0])
    return Diff([e for _, e in entries], len(old), len(new))


def diff_documents(old_text: str, new_text: str) -> Diff:
    """Article diff of two editions given as text."""
    return diff_articles(split_articles(old_text), split_articles(new_text))
