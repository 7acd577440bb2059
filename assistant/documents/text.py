"""Plain text and Markdown (Markdown is also the shape HTML is extracted into)."""

from __future__ import annotations

import re
from pathlib import Path

from .decoding import decode_text
from .parsed import Parsed, normalise

_FRONT_MATTER = re.compile(r"\A---\n.*?\n(?:---|\.\.\.)\n", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE = re.compile(r"^ {0,3}(?:(```|~~~).*|(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?)$", re.M)


def markdown(text: str) -> Parsed:
    """Markdown text without front matter, comments and emphasis marks; its headings recorded."""
    text = normalise(text)
    text = _FRONT_MATTER.sub("", text)
    text = _EMPHASIS.sub(r"\2", _HTML_COMMENT.sub("", text))
    text = normalise(text)
    headings: list[tuple[int, int, str]] = []
    in_fence = False
    for m in _MD_LINE.finditer(text):
        if m.group(1):
            in_fence = not in_fence
        elif not in_fence and m.group(3).strip():
            headings.append((m.start(), len(m.group(2)), m.group(3).strip()))
    return Parsed(text, headings=headings)


def parse_md(path: Path, where: str) -> Parsed:
    """A Markdown file."""
    return markdown(decode_text(path.read_bytes(), where))


def parse_txt(path: Path, where: str) -> Parsed:
    """A plain-text file."""
    return Parsed(normalise(decode_text(path.read_bytes(), where)))
