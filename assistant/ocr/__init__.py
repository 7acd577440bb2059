"""OCR for pages that have no usable text: scanned PDF pages and images inside DOCX files.

`recognition`: one image, in the orientation that reads best, by an engine (`rapid`: RapidOCR,
whose model loads on first use, never at import); `layout`: the engine's text boxes joined into
lines. `pages`: when a PDF page needs OCR, and `ocr_pdf_pages` / `ocr_images`, which recognise
pages one by one, report progress per page and keep each recognised page in the on-disk `cache`,
keyed by the file's content hash and the page number, so an ingest killed in the middle of a
300-page scan resumes where it stopped.
"""

from .cache import CACHE_VERSION, PageCache, content_key
from .layout import lines_to_text
from .pages import (
    OCROptions,
    OCRProgress,
    file_progress,
    garbled_share,
    mean_confidence,
    ocr_images,
    ocr_meta,
    ocr_pdf_pages,
    page_needs_ocr,
    render_pdf_page,
)
from .rapid import RapidOCREngine
from .recognition import OCREngine, PageOCR, default_engine, recognise_image

__all__ = [
    "CACHE_VERSION",
    "OCREngine",
    "OCROptions",
    "OCRProgress",
    "PageCache",
    "PageOCR",
    "RapidOCREngine",
    "content_key",
    "default_engine",
    "file_progress",
    "garbled_share",
    "lines_to_text",
    "mean_confidence",
    "ocr_images",
    "ocr_meta",
    "ocr_pdf_pages",
    "page_needs_ocr",
    "recognise_image",
    "render_pdf_page",
]
