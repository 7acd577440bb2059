"""What a format parser returns, and the text clean-up every format shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..types import PageSpan

_TRAILING_WS = re.compile(r"[ \t\u3000\xa0\v]+$", re.M)
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass
class Parsed:
    """The text of one file and what its format marks up: page spans (PDF) and headings."""

    text: str
    pages: list[PageSpan] = field(default_factory=list)
    headings: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, level, text)
    title_hint: str = ""  # PDF metadata title or HTML <h1>/<title>
    meta: dict[str, str] = field(default_factory=dict)  # found while parsing: ocr, ocr_confidence, ocr_pages


def normalise(text: str) -> str:
    """Unix newlines, no trailing whitespace on lines, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _TRAILING_WS.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()
