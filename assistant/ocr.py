"""OCR for pages that have no usable text: scanned PDF pages and images inside DOCX files.

The engine is RapidOCR (`rapidocr-onnxruntime`): PP-OCRv4 Chinese/English detection and
recognition plus a 0°/180° line classifier, all ONNX files inside the wheel, run on the CPU.
It was chosen by measurement over Debian's tesseract 5 with chi_sim (`bench/ocr.py`, 6 real
regulation pages at 200 dpi: clean 0.996 vs 0.993 character accuracy, with noise, blur and ±2°
rotation 0.990 vs 0.700, turned by 90° 0.74 vs 0.01 before orientation handling). The model
loads on first use, never at import.

`ocr_pdf_pages` recognises the pages of a PDF one by one, reports progress per page and keeps
each recognised page in an on-disk cache keyed by the file's content hash and the page
number, so an ingest killed in the middle of a 300-page scan resumes where it stopped.
Pages turned by 90° or 270° are found by their text lines running vertically and recognised
in the orientation that reads best.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .errors import DocumentError
from .failpoints import failpoint

# progress(pages_done, pages_total, what) — called after every recognised page.
OCRProgress = Callable[[int, int, str], None]

CACHE_VERSION = 1
_MIN_TEXT_CHARS = 8  # a page with less text than this but an image on it is treated as scanned
_GARBLED_SHARE = 0.2
_RETRY_CONFIDENCE = 0.85  # below this mean confidence the other orientations are tried as well
_MAX_PIXELS = 40_000_000  # a page rendered larger than this is scaled down (a poster-size page)


@dataclass
class PageOCR:
    """Text recognised on one page (or image), with the engine's mean confidence (0-1)."""

    page: int
    text: str
    confidence: float
    rotation: int = 0  # degrees the page was turned (counter-clockwise) before it read best


class OCREngine(Protocol):
    """Recognises the text of one image."""

    name: str

    def recognise(
        self, image: Any, classify: bool = True
    ) -> tuple[list[tuple[list[list[float]], str, float]], float]:
        """Return ([(box corner points, text, score) ...], seconds spent) for a PIL image; `classify` lets the engine
        turn upside-down lines before reading them."""
        ...


@dataclass
class OCROptions:
    """How a loader runs OCR: built by ingest from `Settings.ocr`; `None` in its place means no OCR."""

    enabled: bool = True
    dpi: int = 200
    min_confidence: float = 0.5
    cache_dir: Path | None = None  # recognised pages are kept here (the index folder's ocr_cache/)
    progress: OCRProgress | None = None
    engine: OCREngine | None = None

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
        )

    def for_file(self, progress: Callable[[int, int, str], None] | None, done: int, total: int) -> OCROptions:
        """A copy whose page progress is reported through an ingest's file progress: (done, total, "name OCR p/n")."""
        if progress is None:
            return self
        return replace(self, progress=file_progress(progress, done, total))

    def cache(self) -> PageCache | None:
        return PageCache(self.cache_dir) if self.cache_dir else None


def file_progress(progress: Callable[[int, int, str], None], done: int, total: int) -> OCRProgress:
    """OCR page progress as an ingest's file progress: (done, total, "name (OCR p/n)")."""

    def report(page: int, pages: int, what: str) -> None:
        progress(done, total, f"{what} (OCR {page}/{pages})")

    return report


def ocr_meta(results: Iterable[PageOCR], *, pages: bool = True) -> dict[str, str]:
    """Document metadata for recognised text: ocr=true, the mean confidence and which pages were recognised."""
    kept = [r for r in results if r.text.strip()]
    if not kept:
        return {}
    meta = {"ocr": "true", "ocr_confidence": f"{mean_confidence(kept):.3f}"}
    if pages:
        meta["ocr_pages"] = ",".join(str(r.page) for r in kept)
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
    return has_image and len(stripped) < _MIN_TEXT_CHARS


# ----- the engine ---------------------------------------------------------------------------


class RapidOCREngine:
    """RapidOCR with its bundled PP-OCRv4 models; loaded lazily, once per process."""

    name = "rapidocr-onnxruntime"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]
                except ImportError as exc:  # pragma: no cover - it is a dependency
                    raise DocumentError(
                        "", "OCR needs the rapidocr-onnxruntime package (pip install rapidocr-onnxruntime)"
                    ) from exc
                kwargs: dict[str, Any] = {}
                if self._threads:
                    kwargs["intra_op_num_threads"] = self._threads
                self._model = RapidOCR(**kwargs)
            return self._model

    def recognise(
        self, image: Any, classify: bool = True
    ) -> tuple[list[tuple[list[list[float]], str, float]], float]:
        import numpy as np

        model = self._load()
        result, elapsed = model(np.asarray(image.convert("RGB")), use_cls=classify)
        lines = [(box, str(text), float(score)) for box, text, score in (result or [])]
        return lines, float(sum(elapsed or [0.0]))


_DEFAULT_ENGINE: list[RapidOCREngine] = []


def default_engine() -> RapidOCREngine:
    """The process-wide engine (its model is loaded on first recognition, not here)."""
    if not _DEFAULT_ENGINE:
        _DEFAULT_ENGINE.append(RapidOCREngine())
    return _DEFAULT_ENGINE[0]


# ----- from boxes to text --------------------------------------------------------------------


def _box_geometry(box: list[list[float]]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def lines_to_text(lines: list[tuple[list[list[float]], str, float]]) -> tuple[str, float]:
    """Group the engine's boxes into visual lines (top to bottom, left to right) and join them.

    Returns the text and the mean confidence weighted by the characters of each box."""
    items = []
    for box, text, score in lines:
        text = text.strip()
        if not text:
            continue
        x, y, _w, h = _box_geometry(box)
        items.append((y + h / 2, x, max(h, 1.0), text, score))
    items.sort()
    rows: list[list[tuple[float, float, float, str, float]]] = []
    for item in items:
        if rows:
            row = rows[-1]
            centre = sum(i[0] for i in row) / len(row)
            if abs(item[0] - centre) < 0.5 * min(item[2], row[0][2]):
                row.append(item)
                continue
        rows.append([item])
    out = [" ".join(i[3] for i in sorted(row, key=lambda i: i[1])) for row in rows]
    chars = sum(len(i[3]) for i in items)
    confidence = sum(len(i[3]) * i[4] for i in items) / chars if chars else 0.0
    return "\n".join(out), confidence


def _vertical_share(lines: list[tuple[list[list[float]], str, float]]) -> float:
    """Share of text boxes taller than wide: a page turned by 90° reads as columns."""
    boxes = [_box_geometry(b) for b, t, _ in lines if len(t.strip()) >= 2]
    if not boxes:
        return 0.0
    return sum(1 for _, _, w, h in boxes if h > 1.5 * w) / len(boxes)


def recognise_image(image: Any, engine: OCREngine | None = None, page: int = 0) -> PageOCR:
    """OCR one image in the orientation that reads best (0°, or 90°/270°/180° when the first reading is poor)."""
    engine = engine or default_engine()
    image = _bounded(image)
    # The 0/180-degree line classifier stays off: it would turn the lines of an upside-down page one by one and
    # read them in reverse order; an upside-down page reads poorly instead and is then tried turned round.
    lines, _ = engine.recognise(image, classify=False)
    text, confidence = lines_to_text(lines)
    best = PageOCR(page, text, confidence, 0)
    # Nothing found upright can still be a page turned by 90° whose columns the detector missed: it is looked at
    # turned both ways (a blank page costs three detector passes).
    vertical = _vertical_share(lines) > 0.5 or not lines
    if vertical or confidence < _RETRY_CONFIDENCE or len(text) < _MIN_TEXT_CHARS:
        # Lines running down the page (turned by 90°: the engine reads such columns, but in the wrong order), or
        # a poor reading: try the other orientations and keep the one with the most confidently read characters.
        floor = 0.0 if vertical else _quality(best.text, best.confidence) * 1.1
        for angle in (90, 270) if vertical else (180, 90, 270):
            turned_lines, _ = engine.recognise(image.rotate(angle, expand=True, fillcolor="white"), classify=False)
            t, c = lines_to_text(turned_lines)
            q = _quality(t, c)
            if q > floor and _vertical_share(turned_lines) <= 0.5:
                best, floor = PageOCR(page, t, c, angle), q * 1.1
            # A page turned by 90° is read both ways (an upside-down reading can look confident); a poor upright
            # reading stops at the first orientation that reads well.
            if not vertical and best.rotation and best.confidence >= 0.9 and len(best.text) >= _MIN_TEXT_CHARS:
                break
    return best


def _quality(text: str, confidence: float) -> float:
    return len("".join(text.split())) * confidence**2


def _bounded(image: Any) -> Any:
    w, h = image.size
    if w * h <= _MAX_PIXELS:
        return image
    scale = (_MAX_PIXELS / (w * h)) ** 0.5
    return image.resize((max(1, int(w * scale)), max(1, int(h * scale))))


# ----- the per-page cache ------------------------------------------------------------------


def content_key(path: Path) -> str:
    """A cache key for a file: the sha256 of its bytes (so a renamed or copied file keeps its OCR)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32]


class PageCache:
    """Recognised pages on disk: `<dir>/<content key>/<page>.json`, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _file(self, key: str, page: int) -> Path:
        return self.directory / key / f"{page}.json"

    def get(self, key: str, page: int) -> PageOCR | None:
        try:
            data = json.loads(self._file(key, page).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.pop("v", None) != CACHE_VERSION:
            return None
        try:
            return PageOCR(**data)
        except TypeError:
            return None

    def put(self, key: str, result: PageOCR) -> None:
        folder = self.directory / key
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"v": CACHE_VERSION, **asdict(result)}, f, ensure_ascii=False)
        os.replace(tmp, self._file(key, result.page))

    def drop(self, key: str) -> None:
        """Forget a file's pages (after its document is fully indexed the cache is no longer needed)."""
        folder = self.directory / key
        if folder.is_dir():
            for f in folder.iterdir():
                f.unlink(missing_ok=True)
            folder.rmdir()


# ----- PDFs and images ------------------------------------------------------------------------


def render_pdf_page(path: Path, page: int, dpi: int = 200, password: str | None = None) -> Any:
    """Page `page` (1-based) of a PDF as a PIL image at `dpi`, rendered by PDFium (page rotation applied)."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(str(path), password=password)
    try:
        pg = pdf[page - 1]
        try:
            w, h = pg.get_size()
            scale = dpi / 72
            if w * h * scale * scale > _MAX_PIXELS:
                scale = (_MAX_PIXELS / (w * h)) ** 0.5
            bitmap = pg.render(scale=scale)
            image = bitmap.to_pil()
            bitmap.close()
            return image
        finally:
            pg.close()
    finally:
        pdf.close()


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
    """Recognise the given pages (1-based) of a PDF, one at a time, reusing and filling the page cache."""
    wanted = sorted(set(pages))
    key = key or (content_key(path) if cache else "")
    results: dict[int, PageOCR] = {}
    name = Path(path).name
    for n, page in enumerate(wanted, start=1):
        cached = cache.get(key, page) if cache else None
        if cached is None:
            image = render_pdf_page(path, page, dpi)
            cached = recognise_image(image, engine, page)
            if cache:
                cache.put(key, cached)
            failpoint("ocr_page")
        results[page] = cached
        if progress:
            progress(n, len(wanted), f"{name} p.{page}")
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
