"""OCR of documents: when a PDF page needs it, how a loader runs it (`OCROptions`), the pages of a PDF
and the images of a DOCX recognised one by one with progress and the page cache, and the metadata
recognised text leaves on its document. A PDF is rendered one page at a time, and reopened every few
pages, so memory stays flat on long scans."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..failpoints import failpoint
from . import recognition
from .cache import PageCache, content_key
from .recognition import MAX_PIXELS, MIN_TEXT_CHARS, OCREngine, PageOCR, recognise_image

# progress(pages_done, pages_total, what) — called after every recognised page.
OCRProgress = Callable[[int, int, str], None]

_GARBLED_SHARE = 0.2
_PAGES_PER_OPEN = 25  # PDFium keeps what it has read of an open PDF (a scan: each page's image data): reopened so often


@dataclass
class OCROptions:
    """How a loader runs OCR: built by ingest from `Settings.ocr`; `None` in its place means no OCR."""

    enabled: bool = True
    dpi: int = 200
    min_confidence: float = 0.5
    cache_dir: Path | None = None  # recognised pages are kept here (the index folder's ocr_cache/)
    progress: OCRProgress | None = None
    engine: OCREngine | None = None  # None: the process's RapidOCR engine for `threads` (see `recogniser`)
    threads: int = 1  # onnxruntime threads per model run of that engine ([ocr] threads)

    @classmethod
    def from_settings(cls, settings: Any, progress: OCRProgress | None = None) -> OCROptions | None:
        """From `Settings`: None when OCR is turned off."""
        if not settings.ocr.enabled:
            return None
        return cls(
            dpi=settings.ocr.dpi,
            min_confidence=settings.ocr.min_confidence,
            cache_dir=Path(settings.store.path) / "ocr_cache",
            progress=progress,
            threads=settings.ocr.threads,
        )

    def for_file(self, progress: Callable[[int, int, str], None] | None, done: int, total: int) -> OCROptions:
        """A copy whose page progress is reported through an ingest's file progress: (done, total, "name OCR p/n")."""
        if progress is None:
            return self
        return replace(self, progress=file_progress(progress, done, total))

    def recogniser(self) -> OCREngine:
        """The engine given, else this process's RapidOCR engine for `threads`, made on first use. Options travel to
        parser processes (`assistant.parse_pool`) and an engine does not (a lock, a loaded model): each process that
        reads makes its own, once."""
        return self.engine or recognition.default_engine(self.threads)

    def cache(self) -> PageCache | None:
        return PageCache(self.cache_dir) if self.cache_dir else None


def file_progress(progress: Callable[[int, int, str], None], done: int, total: int) -> OCRProgress:
    """OCR page progress as an ingest's file progress: (done, total, "name (OCR p/n)")."""

    def report(page: int, pages: int, what: str) -> None:
        progress(done, total, f"{what} (OCR {page}/{pages})")

    return report


def ocr_meta(results: Iterable[PageOCR], *, pages: bool = True, key: str = "") -> dict[str, str]:
    """Document metadata for recognised text: ocr=true, the mean confidence, which pages were recognised and the
    page cache's key for the file (`key`: the ingest keeps those pages while the document is indexed)."""
    kept = [r for r in results if r.text.strip()]
    if not kept:
        return {}
    meta = {"ocr": "true", "ocr_confidence": f"{mean_confidence(kept):.3f}"}
    if pages:
        meta["ocr_pages"] = ",".join(str(r.page) for r in kept)
    if key:
        meta["ocr_key"] = key
    return meta


# ----- when a page needs OCR ---------------------------------------------------------------


def garbled_share(text: str) -> float:
    """Share of the visible characters that no real text has: U+FFFD, private-use, unassigned and control characters,
    and pdfminer-style "(cid:123)" glyph references."""
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return 0.0
    cids = sum(len(m) for m in re.findall(r"\(cid:\d+\)", text))
    bad = sum(1 for ch in visible if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cc", "Cs"))
    return min(1.0, (bad + cids) / len(visible))


def page_needs_ocr(text: str, has_image: bool = True) -> bool:
    """True when a PDF page's text layer is missing or unusable: (almost) empty on a page that holds an image,
    or garbled (a broken font encoding gives replacement or private-use characters)."""
    stripped = "".join(text.split())
    if not stripped:
        return True
    if garbled_share(text) >= _GARBLED_SHARE:
        return True
    return has_image and len(stripped) < MIN_TEXT_CHARS


# ----- PDFs and images ------------------------------------------------------------------------


def render_pdf_page(path: Path, page: int, dpi: int = 200, password: str | None = None) -> Any:
    """Page `page` (1-based) of a PDF as a PIL image at `dpi`, rendered by PDFium (page rotation applied)."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(str(path), password=password)
    try:
        return _render(pdf, page, dpi)
    finally:
        pdf.close()


def _render(pdf: Any, page: int, dpi: int) -> Any:
    pg = pdf[page - 1]
    try:
        w, h = pg.get_size()
        scale = dpi / 72
        if w * h * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (w * h)) ** 0.5
        bitmap = pg.render(scale=scale)
        image = bitmap.to_pil()  # a copy: PDFium's BGR bitmap becomes an RGB image
        bitmap.close()
        return image
    finally:
        pg.close()


def ocr_pdf_pages(
    path: Path,
    pages: Iterable[int],
    *,
    engine: OCREngine | None = None,
    cache: PageCache | None = None,
    key: str | None = None,
    dpi: int = 200,
    progress: OCRProgress | None = None,
) -> dict[int, PageOCR]:
    """Recognise the given pages (1-based) of a PDF, one at a time, reusing and filling the page cache.

    Only one page image exists at a time, and each recognised page is in the cache before the next is rendered."""
    import pypdfium2 as pdfium

    wanted = sorted(set(pages))
    key = key or (content_key(path) if cache else "")
    results: dict[int, PageOCR] = {}
    name = Path(path).name
    # Opened at the first page not in the cache, and again every _PAGES_PER_OPEN pages: open for good it holds the
    # image data of every page it rendered; opened for every page it costs O(pages²) (each open walks the page tree).
    pdf, rendered = None, 0
    try:
        for n, page in enumerate(wanted, start=1):
            cached = cache.get(key, page) if cache else None
            if cached is None:
                if pdf is None or rendered == _PAGES_PER_OPEN:
                    if pdf is not None:
                        pdf.close()
                    pdf, rendered = pdfium.PdfDocument(str(path)), 0
                rendered += 1
                cached = recognise_image(_render(pdf, page, dpi), engine, page)
                if cache:
                    cache.put(key, cached)
                failpoint("ocr_page")
            results[page] = cached
            if progress:
                progress(n, len(wanted), f"{name} p.{page}")
    finally:
        if pdf is not None:
            pdf.close()
    return results


def ocr_images(
    images: list[bytes],
    *,
    engine: OCREngine | None = None,
    cache: PageCache | None = None,
    key: str = "",
    progress: OCRProgress | None = None,
    what: str = "image",
) -> list[PageOCR]:
    """Recognise images given as encoded bytes (PNG, JPEG, ... e.g. the pictures inside a DOCX), in order.

    Images that cannot be decoded or hold no text give an empty result with confidence 0."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    out: list[PageOCR] = []
    for n, data in enumerate(images, start=1):
        cached = cache.get(key, n) if cache and key else None
        if cached is None:
            try:
                with Image.open(BytesIO(data)) as im:
                    im.load()
                    image = im.convert("RGB")
            except (UnidentifiedImageError, OSError, ValueError):
                cached = PageOCR(n, "", 0.0)
            else:
                if min(image.size) < 32:  # icons and bullets
                    cached = PageOCR(n, "", 0.0)
                else:
                    cached = recognise_image(image, engine, n)
            if cache and key:
                cache.put(key, cached)
            failpoint("ocr_page")
        out.append(cached)
        if progress:
            progress(n, len(images), f"{what} {n}")
    return out


def mean_confidence(results: Iterable[PageOCR]) -> float:
    """Character-weighted mean confidence of several recognised pages."""
    items = [(len(r.text), r.confidence) for r in results if r.text]
    chars = sum(n for n, _ in items)
    return sum(n * c for n, c in items) / chars if chars else 0.0
