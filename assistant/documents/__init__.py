"""Load policy documents (PDF, DOCX, HTML, Markdown, plain text) as `Document`s.

`discover` turns the paths a user gives into the files to load, `load_document` reads
one file into plain text plus what can be detected about it: page offsets (PDF),
headings (DOCX, HTML, Markdown), title, 文号, issuing body, date and language.
Every problem with a file is a `DocumentError` whose reason says what is wrong with it.

One module per step: `discovery` (which files), `decoding` (bytes to text), one parser per
format (`pdf`, `docx`, `html`, `text` for Markdown and plain text) and `metadata`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..attachments import attachment_headings
from ..errors import DocumentError
from ..ocr import OCROptions
from ..types import Document
from .decoding import decode_text
from .discovery import DOC_TYPES, SUPPORTED, discover, doc_id_for, unsupported
from .docx import parse_docx
from .html import parse_html
from .metadata import choose_title, clean_title, detect_meta
from .parsed import Parsed
from .pdf import parse_pdf
from .text import parse_md, parse_txt

__all__ = [
    "SUPPORTED",
    "clean_title",
    "decode_text",
    "detect_meta",
    "discover",
    "doc_id_for",
    "load_document",
]

PARSERS: dict[str, Callable[[Path, str], Parsed]] = {
    "pdf": parse_pdf,
    "docx": parse_docx,
    "html": parse_html,
    "md": parse_md,
    "txt": parse_txt,
}


def load_document(path: Path, root: Path, *, ocr: OCROptions | None = None) -> Document:
    """Read one file into a `Document`; raises `DocumentError(path, reason)` for any bad file.

    With `ocr`, scanned PDF pages and pictures in DOCX files are recognised (`assistant.ocr`)."""
    path = Path(path)
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DocumentError(where, unsupported(suffix))
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError(where, "does not exist") from None
    except OSError as exc:
        raise DocumentError(where, f"cannot read file: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise DocumentError(where, "not a regular file")
    if size == 0:
        raise DocumentError(where, "empty file")
    doc_type = DOC_TYPES[suffix]
    try:
        if doc_type == "pdf":
            parsed = parse_pdf(path, where, ocr)
        elif doc_type == "docx":
            parsed = parse_docx(path, where, ocr)
        else:
            parsed = PARSERS[doc_type](path, where)
    except DocumentError:
        raise
    except OSError as exc:
        raise DocumentError(where, f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # parsers of untrusted files raise anything; one bad file must not stop an ingest
        raise DocumentError(where, f"cannot be read as {doc_type.upper()}: {type(exc).__name__}: {exc}") from exc
    if not parsed.text.strip():
        raise DocumentError(where, "no text found")
    title = choose_title(parsed)
    return Document(
        doc_id=doc_id_for(path, root),
        path=where,
        title=title,
        text=parsed.text,
        doc_type=doc_type,
        pages=parsed.pages,
        meta=detect_meta(parsed.text) | parsed.meta,
        headings=_with_attachments(parsed.headings, parsed.text),
    )


def _with_attachments(headings: list[tuple[int, int, str]], text: str) -> list[tuple[int, int, str]]:
    """The parser's headings plus a top-level heading at each 附件 line (assistant.attachments)."""
    taken = {offset for offset, _, _ in headings}
    extra = [h for h in attachment_headings(text) if h[0] not in taken]
    return sorted(headings + extra) if extra else headings
