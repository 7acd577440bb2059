"""HTML for the web UI: the works table of the Documents tab and a side-by-side article diff.

Plain strings for a `gr.HTML` component; every text is escaped. The web code calls
    works_html(library_for(index.catalog), as_of=None)
    diff_html(compare_documents(old_doc, new_doc, library_for(index.catalog)))
"""

from __future__ import annotations

import datetime as dt
from html import escape

from .compare import Comparison
from .diff import ArticleChange
from .library import Library
from .validity import label

_STYLE = """<style>
.v-table{border-collapse:collapse;width:100%;font-size:14px}
.v-table td,.v-table th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
.v-work{background:#f6f6f6;font-weight:600}
.v-in_force{color:#137333}.v-superseded{color:#b06000}.v-repealed{color:#c5221f}
.v-not_yet_effective{color:#1a73e8}.v-unknown{color:#777}
.v-del{background:#fbe9e7;text-decoration:line-through}.v-ins{background:#e6f4ea}
.v-added{background:#f3fbf5}.v-removed{background:#fdf3f2}
</style>"""


def works_html(library: Library, as_of: dt.date | None = None) -> str:
    """Every work with its editions (newest first): edition, dates, validity as of `as_of` (today)."""
    rows = []
    works = sorted(library.works.values(), key=lambda ids: library.editions[ids[0]].title)
    for ids in works:
        eds = [library.editions[i] for i in reversed(ids)]
        rows.append(f'<tr class="v-work"><td colspan="5">《{escape(eds[0].title)}》 — {len(eds)} edition(s)</td></tr>')
        for e in eds:
            v = library.validity(e.doc_id, as_of)
            rows.append(
                "<tr>"
                f"<td>{escape(e.doc_id)}</td><td>{escape(e.edition or '—')}</td>"
                f"<td>{e.edition_date or '—'}</td><td>{e.effective or '—'}</td>"
                f'<td class="v-{v}">{escape(label(v))}</td>'
                "</tr>"
            )
    head = "<tr><th>doc_id</th><th>版本 edition</th><th>版本日期</th><th>施行日期</th><th>效力 validity</th></tr>"
    return f'{_STYLE}<table class="v-table">{head}{"".join(rows)}</table>'


def _marked(change: ArticleChange, side: str) -> str:
    out = []
    for tag, old, new in change.ops:
        text = old if side == "old" else new
        if not text:
            continue
        if tag == "equal":
            out.append(escape(text))
        else:
            out.append(f'<span class="v-{"del" if side == "old" else "ins"}">{escape(text)}</span>')
    return "".join(out).replace("\n", "<br>")


def diff_html(comparison: Comparison, *, show_unchanged: bool = False) -> str:
    """Old and new edition side by side, one row per article; changed words highlighted."""
    rows = []
    for e in comparison.diff.entries:
        if e.kind == "unchanged" and not show_unchanged:
            continue
        if e.kind == "changed":
            left, right = _marked(e, "old"), _marked(e, "new")
        else:
            left = escape(e.old_text).replace("\n", "<br>")
            right = escape(e.new_text).replace("\n", "<br>")
        cls = f"v-{e.kind}" if e.kind in ("added", "removed") else ""
        rows.append(
            f'<tr class="{cls}"><td>{escape(e.old or "")}</td><td>{left}</td>'
            f"<td>{escape(e.new or '')}</td><td>{right}</td><td>{escape(e.kind)}</td></tr>"
        )
    d = comparison.diff
    summary = (
        f"{escape(comparison.old_label)} → {escape(comparison.new_label)}: {d.old_articles} → {d.new_articles} 条; "
        f"新增 {len(d.added)}，删除 {len(d.removed)}，修改 {len(d.changed)}，仅调整条号 {len(d.renumbered)}"
    )
    head = "<tr><th>原条号</th><th>原文</th><th>新条号</th><th>新文</th><th></th></tr>"
    return f'{_STYLE}<p>{summary}</p><table class="v-table">{head}{"".join(rows)}</table>'
