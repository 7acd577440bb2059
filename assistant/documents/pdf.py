"""PDF: the text layer page by page, with pypdf's artefacts undone and page spans kept."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from ..errors import DocumentError
from ..ocr import OCROptions, PageOCR, content_key, mean_confidence, ocr_meta, ocr_pdf_pages, page_needs_ocr
from ..tables import TABLE_MARK, pdf_tables_by_page
from ..textutil import CJK_PUNCT, CJK_SCRIPT, CN_NUMERALS
from ..types import PageSpan
from .parsed import Parsed, normalise

_CJK_RE = re.compile(f"[{CJK_SCRIPT}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{CJK_SCRIPT}{CJK_PUNCT}])[ \t]+(?=[{CJK_SCRIPT}{CJK_PUNCT}])")
# A structural label such as 第三章 whose following space is meaningful and must survive CJK space clean-up.
_LABEL_BEFORE_SPACE = re.compile(f"[ \u3000]*第[{CN_NUMERALS}\\d]+[编章节条](?:之[{CN_NUMERALS}]+)?")
_COMPAT_IDEOGRAPHS = re.compile("[\u2e80-\u2fdf\uf900-\ufaff]")
_PAGE_NUMBER_LINE = re.compile(
    r"[\s\-—–－_·]*(?:第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?|(?:Page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?)[\s\-—–－_·]*",
    re.I,
)
_ENDS_SENTENCE = re.compile(r"[。！？!?.…][”’」』\"')）]*$")  # not ；： — they end wrapped lines too
_STARTS_STRUCTURE = re.compile(
    f"(?:第[{CN_NUMERALS}\\d]+[编章节条]|[{CN_NUMERALS}]+、|[（(][{CN_NUMERALS}\\d]+[）)]|\\d+[.．、](?!\\d)|[①-⑳])"
)


def _unwrap(page: str) -> str:
    """Join the visual line breaks of a PDF page back into paragraphs.

    A line is continued by the next one when it runs (nearly) the full width of the page, does not end a
    sentence, and the next line is neither indented nor a numbered item or heading."""
    lines = page.split("\n")
    widths = sorted(len(ln.strip()) for ln in lines if ln.strip())
    if len(widths) < 3:
        return page
    full = widths[int(len(widths) * 0.9)]
    out = [lines[0]]
    for line in lines[1:]:
        prev, cur = out[-1].rstrip(), line.strip()
        if (
            prev
            and cur
            and len(prev.strip()) >= 0.85 * full
            and not _ENDS_SENTENCE.search(prev)
            and not line[:1].isspace()
            and not _STARTS_STRUCTURE.match(cur)
        ):
            cjk = _CJK_RE.match(prev[-1]) or _CJK_RE.match(cur[0]) or prev.endswith("-")
            out[-1] = prev + ("" if cjk else " ") + cur
        else:
            out.append(line)
    return "\n".join(out)


def clean_pdf_text(text: str) -> str:
    """Undo pypdf's artefacts: Kangxi-radical look-alikes, spaces between Chinese characters,
    page-number lines at the top or bottom of the page, and line wrapping inside paragraphs."""
    text = _COMPAT_IDEOGRAPHS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)

    def drop(m: re.Match[str]) -> str:
        line_start = text.rfind("\n", 0, m.start()) + 1
        return m.group() if _LABEL_BEFORE_SPACE.fullmatch(text, line_start, m.start()) else ""

    lines = normalise(_SPACE_BETWEEN_CJK.sub(drop, text)).split("\n")
    if lines and _PAGE_NUMBER_LINE.fullmatch(lines[-1]):
        lines.pop()
    if lines and _PAGE_NUMBER_LINE.fullmatch(lines[0]):
        lines.pop(0)
    return normalise(_unwrap("\n".join(lines)))


def _meaningful_pdf_title(title: str, path: Path) -> bool:
    low = title.lower()
    if len(title) < 3 or low in {"untitled", "title", "document", "无标题", "标题", path.stem.lower()}:
        return False
    if re.match(r"(microsoft (word|powerpoint|excel)|untitled|无标题|wps)", low):
        return False
    return not re.search(r"\.(docx?|wps|pdf|xlsx?|pptx?|rtf|tmp|indd)$", low)


def parse_pdf(path: Path, where: str, ocr: OCROptions | None = None, tables: bool = True) -> Parsed:
    """A PDF file: its text layer page by page; pages with no or garbled text are recognised by OCR (when `ocr` is
    given) and ruled tables become header-keeping blocks (`assistant.tables`)."""
    # pypdf is handed an open file: given a path it reads the whole file into memory (a 300-page scan: all of it).
    with Path(path).open("rb") as stream:
        return _parse_pdf(stream, path, where, ocr, tables)


def _parse_pdf(stream: Any, path: Path, where: str, ocr: OCROptions | None, tables: bool) -> Parsed:
    from pypdf import PdfReader

    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))  # owner-password-only PDFs open with an empty user password
            except Exception:  # pypdf needs `cryptography` for AES; unreadable either way
                opened = False
            if not opened:
                raise DocumentError(where, "encrypted PDF (password protected)")
        pages = list(reader.pages)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError ... on damaged files
        raise DocumentError(where, f"not a valid PDF: {type(exc).__name__}: {exc}") from exc
    raw: list[str] = []
    scanned: list[int] = []
    for number, page in enumerate(pages, start=1):
        try:
            text = (page.extract_text() or "").replace("\x00", "")  # NULs: a 2-byte font encoding read as 1-byte
        except Exception as exc:  # a damaged content stream
            raise DocumentError(where, f"not a valid PDF: page {number} cannot be read ({exc})") from exc
        raw.append(text)
        # whether the page holds an image matters only for a short text (looking makes pypdf read the image's data)
        if page_needs_ocr(text, has_image=False) or page_needs_ocr(text, _has_image(page)):
            scanned.append(number)
        _forget_images(reader, page)
    read = _recognise(path, where, scanned, ocr) if scanned and ocr is not None and ocr.enabled else {}
    recognised = {n: r for n, r in read.items() if ocr is not None and r.confidence >= ocr.min_confidence}
    ruled = [n for n in range(1, len(raw) + 1) if n not in recognised and _draws_lines(pages[n - 1])]
    with_tables = _tables(path, ruled) if tables else {}
    spans: list[PageSpan] = []
    parts: list[str] = []
    pos = 0
    for number, page_text in enumerate(raw, start=1):
        if number in recognised:
            text = clean_pdf_text(recognised[number].text)
        elif number in with_tables:
            # Table blocks are kept as they are: unwrapping would join their rows.
            text = "\n\n".join(
                block if block.startswith(TABLE_MARK) else clean_pdf_text(block)
                for block in with_tables[number].split("\n\n")
            )
        else:
            text = clean_pdf_text(page_text)
        if text:
            pos += 2 if parts else 0
            spans.append(PageSpan(number, pos, pos + len(text)))
            parts.append(text)
            pos += len(text)
        else:
            spans.append(PageSpan(number, pos, pos))
    if not parts:
        if not pages:
            raise DocumentError(where, "no text found (no pages)")
        if ocr is not None and ocr.enabled and read:
            raise DocumentError(
                where,
                f"no text layer, and OCR read its {len(pages)} page(s) only with low confidence "
                f"({mean_confidence(read.values()):.2f} < [ocr] min_confidence {ocr.min_confidence:.2f}): "
                "a photo or a poor scan?",
            )
        if ocr is not None and ocr.enabled:
            raise DocumentError(
                where, f"no text layer, and OCR recognised no text on its {len(pages)} page(s) (a blank or photo scan?)"
            )
        raise DocumentError(where, "no text layer — scanned PDF, needs OCR")
    hint = ""
    try:
        raw_title = reader.metadata.title if reader.metadata else None
        hint = " ".join(str(raw_title or "").split())
    except Exception:  # broken metadata only costs us the title hint
        hint = ""
    return Parsed(
        "\n\n".join(parts),
        pages=spans,
        title_hint=hint if _meaningful_pdf_title(hint, path) else "",
        meta=ocr_meta(recognised.values(), key=content_key(path) if recognised and ocr and ocr.cache_dir else ""),
    )


def _has_image(page: Any) -> bool:
    """Whether a page draws an image (a scan) — only its resources are looked at, nothing is decoded."""
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            return False
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.get_object().values())
    except Exception:  # odd resource dictionaries: treat as a possible scan
        return True


def _forget_images(reader: Any, page: Any) -> None:
    """Drop a page's images from pypdf's object cache once its text is read: pypdf keeps every object it has read,
    so reading the text of a 300-page scan would keep all its images in memory (they are read again if needed)."""
    from pypdf.generic import IndirectObject, StreamObject

    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if xobjects is None:
            return
        for ref in dict.values(xobjects.get_object()):  # the references, not the objects (that would read them)
            if isinstance(ref, IndirectObject):
                key = (ref.generation, ref.idnum)
                obj = reader.resolved_objects.get(key)
                if isinstance(obj, StreamObject) and obj.get("/Subtype") == "/Image":
                    del reader.resolved_objects[key]
    except Exception:  # odd resource dictionaries: the images stay cached, which costs only memory
        return


_PATH_OPS = re.compile(rb"[\d.]\s+(?:re|l)\s")  # a rectangle or a line segment in a content stream


def _draws_lines(page: Any) -> bool:
    """Whether a page draws rectangles or lines (a ruled table needs them): a byte search of its content stream,
    so pdfplumber only parses the pages that may hold a table."""
    try:
        contents = page.get_contents()
        return contents is not None and bool(_PATH_OPS.search(contents.get_data()))
    except Exception:  # an unreadable stream: let pdfplumber decide
        return True


def _recognise(path: Path, where: str, pages: list[int], ocr: OCROptions) -> dict[int, PageOCR]:
    """OCR of the given pages: those where some text was read (the caller leaves out those read with too little
    confidence)."""
    try:
        results = ocr_pdf_pages(
            path, pages, engine=ocr.recogniser(), cache=ocr.cache(), dpi=ocr.dpi, progress=ocr.progress
        )
    except DocumentError:
        raise
    except Exception as exc:  # PDFium or the OCR engine on a damaged page
        raise DocumentError(where, f"OCR failed: {type(exc).__name__}: {exc}") from exc
    return {n: r for n, r in results.items() if r.text.strip()}


def _tables(path: Path, pages: list[int]) -> dict[int, str]:
    """Page text with table blocks for the pages (among `pages`) that have ruled tables."""
    if not pages:
        return {}
    try:
        found = pdf_tables_by_page(str(path), pages)
    except Exception:  # pdfplumber on an odd file: the plain text layer is still there
        return {}
    return {n: text for n, (text, _) in found.items()}
