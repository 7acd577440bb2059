"""DOCX: paragraphs and tables in document order, heading styles as headings."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import DocumentError
from .parsed import Parsed, normalise

_HEADING_STYLE = re.compile(r"(?:heading|标题)\s*(\d)", re.I)


def _docx_heading_level(style_name: str) -> int:
    if style_name.strip().lower() == "title":
        return 1
    m = _HEADING_STYLE.match(style_name.strip())
    return int(m.group(1)) if m else 0


def parse_docx(path: Path, where: str) -> Parsed:
    """A Word (.docx) file."""
    if not zipfile.is_zipfile(path):
        raise DocumentError(where, "not a valid DOCX (not a zip package; an old .doc file renamed?)")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors ... for broken packages
        raise DocumentError(where, f"not a valid DOCX: {type(exc).__name__}: {exc}") from exc
    parts: list[str] = []
    headings: list[tuple[int, int, str]] = []
    offset = 0
    for block in document.iter_inner_content():
        level = 0
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                rows.append(" | ".join(cells))
            text = "\n".join(r for r in rows if r)
        else:
            text = normalise(block.text)
            level = _docx_heading_level(block.style.name if block.style is not None else "")
        if not text:
            continue
        offset += 1 if parts else 0
        if level:
            headings.append((offset, level, " ".join(text.split())))
        parts.append(text)
        offset += len(text)
    return Parsed("\n".join(parts), headings=headings)
