"""HTML for the web UI: conversation, source viewer, full-document viewer, documents and settings.

Every piece of document text, question, answer and file name goes through `esc` —
document text is data, never markup. Only the fixed structure around it is HTML.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any

from ..prompts import CITATION_RE
from ..tables import text_with_tables_html
from ..textutil import section_parts
from ..types import Citation, Document, Passage
from .i18n import t
from .session import ChatTurn, Session

if TYPE_CHECKING:
    from ..engine import DocumentRecord  # what Engine.documents() returns

DOC_WINDOW = 20_000  # characters shown either side of a passage in a very long document


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def section_label(passage: Passage) -> str:
    """'第三章 促进措施 › 第十二条' from the stored section path, without Markdown '#' marks or the title."""
    parts = [p for p in section_parts(passage.section or "") if p != passage.title and not passage.title.startswith(p)]
    return " › ".join(parts[-2:])


def _inline(text: str) -> str:
    """Escaped answer text with light formatting: paragraphs, line breaks, **bold**, no heading marks."""
    lines = [re.sub(r"^\s*#{1,6}\s*", "", ln) for ln in text.strip().split("\n")]
    html = esc("\n".join(lines))
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    paragraphs = [p.replace("\n", "<br>") for p in re.split(r"\n\s*\n", html) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def answer_html(text: str, turn_index: int, citations: dict[int, Citation] | None) -> str:
    """Answer text with each [n] turned into a citation chip; clickable once the citations are verified."""

    def chip(match: re.Match[str]) -> str:
        out = []
        for raw in re.findall(r"\d+", match.group(1)):
            n = int(raw)
            if citations is None:  # still streaming: not verified yet, not clickable
                out.append(f'<span class="cite pending">{n}</span>')
            elif n in citations:
                c = citations[n]
                tip = esc(f"《{c.passage.title}》 {section_label(c.passage)}".strip())
                out.append(
                    f'<button class="cite" type="button" data-cite="1" data-turn="{turn_index}" '
                    f'data-n="{n}" title="{tip}">{n}</button>'
                )
        return "".join(out)

    return CITATION_RE.sub(chip, _inline(text))


def _bot_bubble(turn: ChatTurn, index: int, lang: str) -> str:
    if turn.phase == "retrieving":
        return f'<div class="status"><span class="dots"></span>{esc(t("retrieving", lang))}</div>'
    if turn.phase == "sources":
        return f'<div class="status"><span class="dots"></span>{esc(t("generating", lang, n=len(turn.passages)))}</div>'
    if turn.phase == "streaming":
        return answer_html(turn.text, index, None) + '<span class="caret"></span>'
    if turn.phase == "error":
        return f'<div class="badge err">{esc(t("error_badge", lang))}</div><p>{esc(turn.error)}</p>'
    body = answer_html(turn.text, index, turn.citations())
    if turn.phase == "refused":
        body = f'<div class="badge refusal">{esc(t("refused_badge", lang))}</div>' + body
    if turn.phase == "done" and not turn.citations():
        body += f'<div class="note">{esc(t("no_citation", lang))}</div>'
    removed = turn.unsupported()
    if removed:
        items = " ".join(f"[{n}]" for n in removed)
        body += f'<div class="note">{esc(t("removed_citations", lang, items=items))}</div>'
    if turn.answer is not None:
        tm = turn.answer.timings
        line = t("timings", lang, r=tm.get("retrieval", 0), f=tm.get("first_token", 0), t=tm.get("total", 0),
                 backend=turn.answer.backend)
        body += f'<div class="meta">{esc(line)}</div>'
    return body


def chat_html(session: Session) -> str:
    """The whole conversation; each bot message carries data-phase so clients (and tests) can follow it."""
    lang = session.lang
    if not session.turns:
        return f'<div class="chat"><div class="chat-empty">{esc(t("empty_chat", lang))}</div></div>'
    rows = []
    for i, turn in enumerate(session.turns):
        rows.append(f'<div class="msg user"><div class="bubble">{esc(turn.question)}</div></div>')
        rows.append(
            f'<div class="msg bot {turn.phase}" data-phase="{turn.phase}" data-turn="{i}">'
            f'<div class="bubble">{_bot_bubble(turn, i, lang)}</div></div>'
        )
    return f'<div class="chat">{"".join(rows)}</div>'


def _marked(text: str, span: tuple[int, int] | None) -> str:
    if not span or span[1] <= span[0]:
        return esc(text)
    s, e = max(0, span[0]), min(len(text), span[1])
    return f"{esc(text[:s])}<mark>{esc(text[s:e])}</mark>{esc(text[e:])}"


def source_card(
    passage: Passage, n: int, turn_index: int, lang: str, span: tuple[int, int] | None = None, focused: bool = False
) -> str:
    """One passage: title, 文号, article/section and page, its text with the supporting span in <mark>."""
    meta = []
    if number := passage.meta.get("doc_number"):
        meta.append(f'<span>{esc(t("doc_number", lang))} {esc(number)}</span>')
    if section := section_label(passage):
        meta.append(f"<span>{esc(section)}</span>")
    if passage.page:
        meta.append(f'<span>{esc(t("page", lang, page=passage.page))}</span>')
    if date := passage.meta.get("date"):
        meta.append(f"<span>{esc(date)}</span>")
    meta += _scan_and_attachment_notes(passage, lang)
    body = text_with_tables_html(passage.text, span) or _marked(passage.text, span)
    return (
        f'<div class="src-card{" focused" if focused else ""}" id="src-{turn_index}-{n}" data-n="{n}">'
        f'<div class="src-head"><span class="cite static">{n}</span>'
        f'<span class="src-title">{esc(passage.title or passage.doc_id)}</span></div>'
        f'<div class="src-meta">{"".join(meta)}</div>'
        f'<div class="src-text">{body}</div>'
        f'<button class="open-doc" type="button" data-open="1" data-turn="{turn_index}" data-n="{n}">'
        f'{esc(t("open_in_doc", lang))} →</button></div>'
    )


def _scan_and_attachment_notes(passage: Passage, lang: str) -> list[str]:
    """"Text recognised by OCR" for passages from scanned pages, and the parent of an attachment file."""
    notes = []
    pages = {p for p in str(passage.meta.get("ocr_pages", "")).split(",") if p}
    if passage.meta.get("ocr") == "true" and (not pages or not passage.pages or pages & {str(p) for p in passage.pages}):
        conf = passage.meta.get("ocr_confidence", "")
        label = "Text recognised by OCR" if lang == "en" else "OCR 识别文本"
        notes.append(f'<span class="ocr" title="{esc(conf)}">{esc(label)}{f" ({esc(conf)})" if conf else ""}</span>')
    if parent := passage.meta.get("parent_title") or passage.meta.get("parent_doc_id"):
        label = f"{passage.meta.get('attachment') or '附件'} · 《{parent}》" if lang != "en" else f"Attachment of {parent}"
        notes.append(f'<span class="attachment">{esc(label)}</span>')
    return notes


def sources_html(session: Session) -> str:
    """The source viewer for the selected answer."""
    lang = session.lang
    index = session.selected_turn
    turn = session.turn(index)
    if turn is None or index is None:
        return f'<div class="sources"><div class="placeholder">{esc(t("no_sources", lang))}</div></div>'
    head = (
        f'<div class="src-for">{esc(t("sources_for", lang, turn=index + 1))}'
        f'<div class="src-q">{esc(turn.question)}</div></div>'
    )
    cards: list[str] = []
    if turn.phase == "retrieving":
        cards.append(f'<div class="placeholder"><span class="dots"></span>{esc(t("retrieving", lang))}</div>')
    elif turn.phase in ("sources", "streaming"):
        cards.append(f'<div class="src-section">{esc(t("retrieved", lang))}</div>')
        cards += [source_card(p, i, index, lang) for i, p in enumerate(turn.passages, 1)]
    elif turn.citations():
        cited = turn.citations()
        for n in sorted(cited):
            c = cited[n]
            cards.append(source_card(c.passage, n, index, lang, c.span, focused=n == session.selected_n))
        others = [(i, p) for i, p in enumerate(turn.passages, 1) if i not in cited]
        if others:
            inner = "".join(source_card(p, i, index, lang) for i, p in others)
            cards.append(f'<details class="uncited"><summary>{esc(t("uncited", lang))}</summary>{inner}</details>')
    elif turn.passages and turn.phase == "done":  # answered without a verified citation: show what it read
        cards.append(f'<div class="src-section">{esc(t("retrieved_done", lang))}</div>')
        cards += [source_card(p, i, index, lang) for i, p in enumerate(turn.passages, 1)]
    elif turn.passages:
        cards.append(f'<div class="src-section related">{esc(t("related", lang))}</div>')
        cards += [source_card(p, i, index, lang) for i, p in enumerate(turn.passages[:3], 1)]
    return f'<div class="sources">{head}{"".join(cards)}</div>'


def locate(doc: Document, passage: Passage) -> int | None:
    """Where `passage.text` starts in the document text (its stored offset, else a search)."""
    if doc.text[passage.start : passage.start + len(passage.text)] == passage.text:
        return passage.start
    found = doc.text.find(passage.text)
    return found if found >= 0 else None


def document_html(doc: Document | None, passage: Passage, span: tuple[int, int] | None, lang: str) -> str:
    """The whole document text, the passage shaded and its supporting span in <mark>, scrolled there on load."""
    if doc is None:
        return f'<div class="doc-view"><div class="placeholder">{esc(t("doc_missing", lang, doc_id=passage.doc_id))}</div></div>'
    text = doc.text
    start = locate(doc, passage)
    if start is None:  # offsets no longer match (document re-indexed): show it without highlight
        start, end, mark = 0, 0, (0, 0)
    else:
        end = start + len(passage.text)
        mark = (start + span[0], start + span[1]) if span and span[1] > span[0] else (start, end)
    lo, hi = max(0, start - DOC_WINDOW), min(len(text), end + DOC_WINDOW)
    note = f'<div class="note">{esc(t("doc_truncated", lang))}</div>' if lo > 0 or hi < len(text) else ""
    cuts = sorted({lo, start, mark[0], mark[1], end, hi})
    parts = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = esc(text[a:b])
        if mark[0] <= a and b <= mark[1] and mark[1] > mark[0]:
            piece = f'<mark id="doc-hit">{piece}</mark>'
        if start <= a and b <= end and end > start:
            piece = f'<span class="hl-passage">{piece}</span>'
        parts.append(piece)
    meta = " · ".join(
        esc(x) for x in (doc.meta.get("doc_number"), doc.meta.get("issuer"), doc.meta.get("date")) if x
    )
    return (
        f'<div class="doc-view"><div class="doc-head"><div class="doc-title">{esc(doc.title)}</div>'
        f'<div class="doc-meta">{meta}</div>{note}</div>'
        f'<div class="doc-body">{"…" if lo > 0 else ""}{"".join(parts)}{"…" if hi < len(text) else ""}</div></div>'
    )


def documents_html(records: list[DocumentRecord], lang: str) -> str:
    """The indexed documents as a table."""
    if not records:
        return f'<div class="placeholder">{esc(t("no_docs", lang))}</div>'
    head = "".join(
        f"<th>{esc(t(k, lang))}</th>" for k in ("col_title", "col_type", "col_date", "col_number", "col_chunks")
    )
    rows = []
    for d in records:
        pending = "" if d.status == "complete" else f' <span class="badge err">{esc(t("status_pending", lang))}</span>'
        rows.append(
            f'<tr><td><div class="doc-name">{esc(d.title)}{pending}</div><div class="doc-id">{esc(d.doc_id)}</div></td>'
            f'<td><span class="type">{esc(d.doc_type.upper())}</span></td><td>{esc(d.meta.get("date", ""))}</td>'
            f'<td>{esc(d.meta.get("doc_number", ""))}</td><td class="num">{d.n_chunks}</td></tr>'
        )
    return f'<table class="docs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def results_html(rows: list[tuple[str, str, str]], lang: str) -> str:
    """Per-file upload results: (file name, status key, reason)."""
    if not rows:
        return ""
    items = []
    for name, status, reason in rows:
        cls = "err" if status == "result_failed" else "ok"
        why = f'<span class="why">{esc(reason)}</span>' if reason else ""
        items.append(f'<li class="{cls}"><b>{esc(name)}</b> <span class="st">{esc(t(status, lang))}</span>{why}</li>')
    return f'<ul class="results">{"".join(items)}</ul>'


def settings_html(info: dict[str, Any], lang: str) -> str:
    """Read-only key/value view of the running configuration."""
    rows = "".join(f"<tr><th>{esc(t(key, lang))}</th><td>{esc(value)}</td></tr>" for key, value in info.items())
    return f'<div class="settings"><h3>{esc(t("settings_title", lang))}</h3><table>{rows}</table></div>'
