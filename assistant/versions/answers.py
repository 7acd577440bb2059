"""What the answer stage needs of editions: a short summary of what an amendment changed, and
"the earlier edition said otherwise" for a cited article.

    lines = change_summary(compare_documents(old_doc, new_doc, library))
    earlier = earlier_wording(index.catalog, passage.doc_id, passage.section)  # None: same wording before
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ..textutil import ARTICLE_LABEL
from .compare import Comparison
from .diff import Diff, diff_documents
from .library import _CatalogLike, library_for


def article_of(section: str) -> str | None:
    """The article label of a section path: "第七章 法律责任 > 第五十八条" -> "第五十八条"."""
    found = [m.group(0) for m in ARTICLE_LABEL.finditer(section)]
    return found[-1] if found else None


def _short(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def change_summary(comparison: Comparison, *, limit: int = 12, chars: int = 60) -> list[str]:
    """One line per added, removed or changed article (new edition's order), at most `limit`, then a count."""
    d = comparison.diff
    lines = []
    for e in d.entries:
        if e.kind == "added":
            lines.append(f"新增{e.new}：{_short(e.new_text, chars)}")
        elif e.kind == "removed":
            lines.append(f"删除原{e.old}：{_short(e.old_text, chars)}")
        elif e.kind == "changed":
            where = e.new if e.old == e.new else f"{e.new}（原{e.old}）"
            inserted = "".join(b for tag, _, b in e.ops if tag in ("insert", "replace")).lstrip("，。；、：,; ")
            # A few inserted characters ("统一") say nothing on their own: then the new wording itself.
            lines.append(f"修改{where}：{_short(inserted if len(inserted) >= 12 else e.new_text, chars)}")
    rest = len(lines) - limit
    lines = lines[:limit]
    if rest > 0:
        lines.append(f"另有{rest}处修改。")
    head = (
        f"{comparison.old_label}→{comparison.new_label}：新增{len(d.added)}条，删除{len(d.removed)}条，"
        f"修改{len(d.changed)}条，{len(d.renumbered)}条仅调整条号。"
    )
    return [head, *lines]


@dataclass
class EarlierWording:
    """How the edition before the cited one worded the cited article (None fields when it had no such article)."""

    old_doc_id: str
    old_article: str | None
    old_text: str
    new_article: str
    kind: str  # changed | added


_diffs: dict[tuple[str, str, int], Diff] = {}
_lock = threading.Lock()


def earlier_wording(catalog: _CatalogLike, doc_id: str, section: str) -> EarlierWording | None:
    """The previous indexed edition's wording of the article `section` names, when it differs; else None."""
    article = article_of(section)
    if article is None:
        return None
    library = library_for(catalog)
    if doc_id not in library.editions:
        return None
    eds = library.editions_of(doc_id)
    me = library.editions[doc_id]
    before = [e for e in eds if e.order is not None and me.order is not None and e.order < me.order]
    if not before:
        return None
    prev = before[-1]
    key = (prev.doc_id, doc_id, catalog.generation())
    with _lock:
        diff = _diffs.get(key)
    if diff is None:
        old, new = catalog.document_text(prev.doc_id), catalog.document_text(doc_id)
        if old is None or new is None:
            return None
        diff = diff_documents(old.text, new.text)
        with _lock:
            _diffs[key] = diff
    for e in diff.entries:
        if e.new == article and e.kind in ("changed", "added"):
            return EarlierWording(prev.doc_id, e.old, e.old_text, article, e.kind)
    return None


def describe(earlier: EarlierWording, title: str, edition: str | None) -> dict[str, Any]:
    """A JSON-able form for the answer's "the earlier edition said otherwise" line."""
    return {
        "old_doc_id": earlier.old_doc_id,
        "old_article": earlier.old_article,
        "old_text": earlier.old_text,
        "new_article": earlier.new_article,
        "kind": earlier.kind,
        "line": (
            f"《{title}》{edition or '此前版本'}{earlier.old_article}的规定不同：{_short(earlier.old_text, 80)}"
            if earlier.kind == "changed" and earlier.old_article
            else f"{earlier.new_article}为新增条款，《{title}》{edition or '此前版本'}没有相应规定。"
        ),
    }
