"""Recognising the text of one image, in the orientation that reads best, with an `OCREngine` (by default
RapidOCR, `rapid.py`).

RapidOCR was chosen by measurement over Debian's tesseract 5 with chi_sim (`bench/ocr.py`, 6 real
regulation pages at 200 dpi: clean 0.996 vs 0.993 character accuracy, with noise, blur and ±2°
rotation 0.990 vs 0.700, turned by 90° 0.74 vs 0.01 before orientation handling). The model
loads on first use, never at import. Pages turned by 90° or 270° are found by their text lines
running vertically and recognised in the orientation that reads best.
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

    def recognise(self, image: Any, classify: bool = True) -> tuple[list[Line], float]:
        """Return ([(box corner points, text, score) ...], seconds spent) for a PIL image; `classify` lets the engine
        turn upside-down lines before reading them."""
        ...


# ----- the process-wide engine -----------------------------------------------------------


_DEFAULT_ENGINE: list[RapidOCREngine] = []


def default_engine() -> RapidOCREngine:
    """The process-wide engine (its model is loaded on first recognition, not here)."""
    if not _DEFAULT_ENGINE:
        _DEFAULT_ENGINE.append(RapidOCREngine())
    return _DEFAULT_ENGINE[0]


# ----- one image ------------------------------------------------------------------------------


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
    vertical = vertical_share(lines) > 0.5 or not lines
    if vertical or confidence < _RETRY_CONFIDENCE or len(text) < MIN_TEXT_CHARS:
        # Lines running down the page (turned by 90°: the engine reads such columns, but in the wrong order), or
        # a poor reading: try the other orientations and keep the one with the most confidently read characters.
        floor = 0.0 if vertical else _quality(best.text, best.confidence) * 1.1
        for angle in (90, 270) if vertical else (180, 90, 270):
            turned_lines, _ = engine.recognise(image.rotate(angle, expand=True, fillcolor="white"), classify=False)
            t, c = lines_to_text(turned_lines)
            q = _quality(t, c)
            if q > floor and vertical_share(turned_lines) <= 0.5:
                best, floor = PageOCR(page, t, c, angle), q * 1.1
            # A page turned by 90° is read both ways (an upside-down reading can look confident); a poor upright
            # reading stops at the first orientation that reads well.
            if not vertical and best.rotation and best.confidence >= 0.9 and len(best.text) >= MIN_TEXT_CHARS:
                break
    return best


def _quality(text: str, confidence: float) -> float:
    return len("".join(text.split())) * confidence**2


def _bounded(image: Any) -> Any:
    w, h = image.size
    if w * h <= MAX_PIXELS:
        return image
    scale = (MAX_PIXELS / (w * h)) ** 0.5
    return image.resize((max(1, int(w * scale)), max(1, int(h * scale))))
