"""Attachments (附件): sections of a document and files that belong to another document.

A notice (通知) usually ends with its attachments: "附件1" on a line of its own, then the
attachment's title and text. `attachment_headings` marks each such line as a top-level heading,
so the chunker starts a section there and a chunk of the attachment cites "附件1 申报指南"
under its parent document's doc_id and title.

An attachment published as a file of its own ("关于印发…的通知-附件1.pdf", or "附件2.docx" in a
folder named after the notice) is linked to its parent document by name: `parent_doc_id` finds
the parent among the documents being ingested, and `attachment_meta` gives the document
metadata (parent_doc_id, parent_title, attachment) that reaches every passage and citation.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

_NUM = "0-9０-９一二三四五六七八九十"
# A line that opens an attachment: "附件", "附件1", "附件一：", "附件2 申报指南", "附表3" (not a sentence that refers to
# one); a short title on the next line ("附件1\n申报指南") is taken into the label.
_ATTACHMENT_LINE = re.compile(
    f"^[ \\t\u3000]*(附[件表]\\s*[{_NUM}]*(?:[-－—][{_NUM}]+)?)\\s*(?:[:：]\\s*(.{{0,40}}?)|\\s+(.{{1,40}}?))?[ \\t\u3000]*$",
    re.M,
)
# "…-附件1", "…_附件 2", "…（附件1）", "附件1…" at the end or start of a file name.
_NAME_SUFFIX = re.compile(f"[\\s_\\-—－·.（(]*(附[件表]\\s*[{_NUM}]*|attachment\\s*\\d*|annex\\s*\\d*)[）)]?$", re.I)
_NAME_PREFIX = re.compile(f"^(附[件表]\\s*[{_NUM}]*)[\\s_\\-—－:：.]*", re.I)
_ENDS_SENTENCE = re.compile(r"[。；;，,]$")
_LIST_ITEM = re.compile(f"^[{_NUM}]+[.、．]")  # "附件：1. 申报指南 2. …" lists the attachments in the notice's body


def attachment_headings(text: str) -> list[tuple[int, int, str]]:
    """(offset, level 1, label) for each line of `text` that opens an attachment section."""
    out: list[tuple[int, int, str]] = []
    for m in _ATTACHMENT_LINE.finditer(text):
        title = (m.group(2) or m.group(3) or "").strip()
        if _ENDS_SENTENCE.search(title) or _LIST_ITEM.match(title):
            continue
        label = " ".join(x for x in (m.group(1).replace(" ", ""), title) if x)
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip(" \t\u3000"))
        out.append((start, 1, label))
    return out


def attachment_label(doc_id: str) -> str:
    """"附件1" when the document's file name marks it as an attachment, else ""."""
    name = PurePosixPath(doc_id).name
    m = _NAME_SUFFIX.search(name) or _NAME_PREFIX.match(name)
    return m.group(1).replace(" ", "") if m else ""


def parent_doc_id(doc_id: str, known: set[str]) -> str | None:
    """The document an attachment file belongs to, among `known` doc ids: the same name without its 附件 part
    ("通知-附件1" → "通知"), or the document named like the attachment's folder ("通知/附件1" → "通知")."""
    if not attachment_label(doc_id):
        return None
    path = PurePosixPath(doc_id)
    stem = _NAME_SUFFIX.sub("", path.name).strip()
    candidates = []
    if stem and stem != path.name:
        candidates.append(str(path.parent / stem) if str(path.parent) != "." else stem)
    if str(path.parent) != ".":
        candidates.append(str(path.parent))
        siblings = sorted(k for k in known if str(PurePosixPath(k).parent) == str(path.parent) and k != doc_id)
        non_attachments = [k for k in siblings if not attachment_label(k)]
        if len(non_attachments) == 1:  # a folder holding one notice and its attachments
            candidates.append(non_attachments[0])
    return next((c for c in candidates if c in known and c != doc_id), None)


def attachment_meta(doc_id: str, ids: set[str], titles: dict[str, str]) -> dict[str, str]:
    """Document metadata linking an attachment file to its parent among `ids` (titles where known)."""
    parent = parent_doc_id(doc_id, ids)
    if parent is None:
        return {}
    meta = {"attachment": attachment_label(doc_id), "parent_doc_id": parent}
    if titles.get(parent):
        meta["parent_title"] = titles[parent]
    return meta


def attachments_last(files: list[tuple[Path, Path]]) -> list[tuple[Path, Path]]:
    """(file, root) pairs with attachment files after the others, so a parent's title is known when its
    attachments are linked (the order is otherwise kept)."""
    return sorted(files, key=lambda fr: bool(attachment_label(fr[0].stem)))
