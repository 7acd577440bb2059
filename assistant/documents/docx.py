"""DOCX: paragraphs and tables in document order, heading styles as headings."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from ..errors import DocumentError
from ..ocr import OCROptions, PageOCR, content_key, mean_confidence, ocr_images, ocr_meta
from ..tables import docx_table, to_text
from .parsed import Parsed, normalise

_HEADING_STYLE = re.compile(r"(?:heading|标题)\s*(\d)", re.I)


def _docx_heading_level(style_name: str) -> int:
    if style_name.strip().lower() == "title":
        return 1
    m = _HEADING_STYLE.match(style_name.strip())
    return int(m.group(1)) if m else 0


def parse_docx(path: Path, where: str, ocr: OCROptions | None = None) -> Parsed:
    """A Word (.docx) file: paragraphs, tables (header kept with every row group) and, when `ocr` is given, the
    text of its pictures (scanned attachments) where they stand."""
    if not zipfile.is_zipfile(path):
        raise DocumentError(where, "not a valid DOCX (not a zip package; an old .doc file renamed?)")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors ... for broken packages
        raise DocumentError(where, f"not a valid DOCX: {type(exc).__name__}: {exc}") from exc
    blocks: list[tuple[str, int, list[str]]] = []  # (text, heading level, image relationship ids)
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            table = docx_table(block)
            if table is not None and table.rows:
                blocks.append((to_text(table), 0, []))
            else:  # a layout table: its cells as lines
                blocks.append((normalise("\n".join(c.text for row in block.rows for c in row.cells)), 0, []))
        else:
            level = _docx_heading_level(block.style.name if block.style is not None else "")
            blocks.append((normalise(block.text), level, _image_ids(block)))
    images = [rid for _, _, rids in blocks for rid in rids]
    recognised: dict[str, PageOCR] = {}
    read: list[PageOCR] = []  # images where some text was read, however poorly
    key = ""  # the page cache's key for this file
    if images and ocr is not None and ocr.enabled:
        blobs = [_blob(document, rid) for rid in images]
        cache = ocr.cache()
        key = content_key(path) if cache else ""
        results = ocr_images(blobs, engine=ocr.recogniser(), cache=cache, key=key, progress=ocr.progress)
        read = [r for r in results if r.text.strip()]
        recognised = {
            rid: r for rid, r in zip(images, results, strict=True) if r.text.strip() and r.confidence >= ocr.min_confidence
        }
    parts: list[str] = []
    headings: list[tuple[int, int, str]] = []
    offset = 0
    for text, level, rids in blocks:
        pieces = [text] + [normalise(recognised[r].text) for r in rids if r in recognised]
        text = "\n".join(p for p in pieces if p)
        if not text:
            continue
        offset += 1 if parts else 0
        if level:
            headings.append((offset, level, " ".join(text.split())))
        parts.append(text)
        offset += len(text)
    if not parts and images:
        reason = "OCR recognised no text in them" if ocr is not None and ocr.enabled else "OCR is turned off"
        if ocr is not None and ocr.enabled and read:
            reason = (
                f"OCR read them only with low confidence ({mean_confidence(read):.2f} < [ocr] min_confidence "
                f"{ocr.min_confidence:.2f}): photos or poor scans?"
            )
        raise DocumentError(where, f"no text found: the DOCX holds only images ({len(images)}) and {reason}")
    return Parsed("\n".join(parts), headings=headings, meta=ocr_meta(recognised.values(), pages=False, key=key))


_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"


def _image_ids(paragraph: Any) -> list[str]:
    """Relationship ids of the pictures in a paragraph, in order."""
    return [str(b.get(_EMBED)) for b in paragraph._p.iter(_BLIP) if b.get(_EMBED)]


def _blob(document: Any, rid: str) -> bytes:
    try:
        return bytes(document.part.related_parts[rid].blob)
    except (KeyError, AttributeError):  # a linked (external) picture: nothing to read
        return b""
