"""Recognising the text of one image, in the orientation that reads best, with an `OCREngine` (by default
RapidOCR, `rapid.py`).

RapidOCR was chosen by measurement over Debian's tesseract 5 with chi_sim (`bench/ocr.py`, 6 real
regulation pages at 200 dpi: clean 0.996 vs 0.993 character accuracy, with noise, blur and ±2°
rotation 0.990 vs 0.700, turned by 90° 0.74 vs 0.01 before orientation handling). The model
loads on first use, never at import. Pages turned by 90° or 270° are found by their text boxes
running down the page, and which way up a page is by a page-wide vote of the engine's 0°/180°
line classifier, before its lines are read: each page is read once, in one orientation, unless
that reading is poor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .layout import Line, lines_to_text, vertical_share
from .rapid import RapidOCREngine

MIN_TEXT_CHARS = 8  # a page with less text than this but an image on it is treated as scanned
MAX_PIXELS = 40_000_000  # a page rendered larger than this is scaled down (a poster-size page)
_RETRY_CONFIDENCE = 0.85  # below this mean confidence the other orientations are tried as well


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

    def recognise(self, image: Any, orient: bool = False) -> tuple[list[Line], int]:
        """Return ([(box corner points, text, score) ...], rotation) for a PIL image.

        With `orient` the engine may find the page's orientation itself: `rotation` is then the angle (0, 90, 180 or
        270, counter-clockwise) the image was turned before it was read, and the boxes are in the turned image.
        Without it, or when the engine cannot tell, the image is read as it is and `rotation` is 0."""
        ...


# ----- the process-wide engine -----------------------------------------------------------


_DEFAULT_ENGINES: dict[int, RapidOCREngine] = {}


def default_engine(threads: int | None = None) -> RapidOCREngine:
    """The process-wide engine for a thread count (None: 1, as `[ocr] threads` has it); its model is loaded on
    first recognition, not here."""
    threads = threads or 1
    if threads not in _DEFAULT_ENGINES:
        _DEFAULT_ENGINES[threads] = RapidOCREngine(threads)
    return _DEFAULT_ENGINES[threads]


# ----- one image ------------------------------------------------------------------------------


def recognise_image(image: Any, engine: OCREngine | None = None, page: int = 0) -> PageOCR:
    """OCR one image in the orientation that reads best: the one the engine finds (RapidOCR: by the run of its text
    boxes and a vote of its line classifier), or, when that reading is poor, the best of the other orientations."""
    engine = engine or default_engine()
    image = _bounded(image)
    lines, rotation = engine.recognise(image, orient=True)
    text, confidence = lines_to_text(lines)
    best = PageOCR(page, text, confidence, rotation)
    # Nothing found can still be a page turned by 90° whose columns the detector missed: it is looked at turned
    # both ways (a blank page costs three detector passes).
    vertical = vertical_share(lines) > 0.5 or not lines
    if vertical or confidence < _RETRY_CONFIDENCE or len(text) < MIN_TEXT_CHARS:
        # Lines running down the page (the engine reads such columns, but in the wrong order): try both ways of
        # turning it by 90° (an upside-down reading can look confident). A poor reading of lines that run across
        # the page: try it turned round (lines across are not a page turned by 90°, and a poor scan would cost
        # four readings instead of two). Keep the reading with the most confidently read characters.
        floor = 0.0 if vertical else _quality(best.text, best.confidence) * 1.1
        for turn in (90, 270) if vertical else (180,):
            angle = (rotation + turn) % 360
            turned_lines, _ = engine.recognise(image.rotate(angle, expand=True, fillcolor="white"))
            t, c = lines_to_text(turned_lines)
            q = _quality(t, c)
            if q > floor and vertical_share(turned_lines) <= 0.5:
                best, floor = PageOCR(page, t, c, angle), q * 1.1
    return best


def _quality(text: str, confidence: float) -> float:
    return len("".join(text.split())) * confidence**2


def _bounded(image: Any) -> Any:
    w, h = image.size
    if w * h <= MAX_PIXELS:
        return image
    scale = (MAX_PIXELS / (w * h)) ** 0.5
    return image.resize((max(1, int(w * scale)), max(1, int(h * scale))))
