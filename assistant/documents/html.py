"""HTML: the main content (trafilatura), navigation and scripts dropped, headings kept."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from ..tables import replace_html_tables, tighten
from .decoding import decode_text
from .parsed import Parsed
from .text import markdown

_DROP_TAGS = ("nav", "header", "footer", "aside", "script", "style", "noscript", "form", "iframe", "svg", "template")
_BLOCK_TAGS = frozenset(
    "p div section article main li ul ol dl dt dd tr table blockquote pre br hr h1 h2 h3 h4 h5 h6 td th".split()
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
_TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||｜| - | – )\s*")


def _decode_html(data: bytes, where: str) -> str:
    declared = _META_CHARSET.search(data[:4096])
    if declared and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name = declared.group(1).decode("ascii", "replace").lower()
        encoding = "gb18030" if name in {"gb2312", "gbk", "gb18030"} else name
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; detect the encoding instead
    return decode_text(data, where)


def _html_tree(html: str) -> Any:  # lxml ships no type hints
    import lxml.html  # type: ignore[import-untyped]

    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    return lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)


def _html_title(tree: Any) -> str:
    for h1 in tree.iter("h1"):
        text = " ".join(h1.text_content().split())
        if text:
            return text
    for title in tree.iter("title"):
        parts = [p for p in _TITLE_SEPARATORS.split(" ".join(title.text_content().split())) if p]
        if parts:
            return parts[0]
    return ""


def _html_fallback_markdown(tree: Any) -> str:
    """Body text minus navigation and scripts, headings written as Markdown so they are kept."""
    for bad in list(tree.iter(*_DROP_TAGS)):
        bad.drop_tree()
    for el in tree.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _BLOCK_TAGS:
            prefix = "#" * int(tag[1]) + " " if re.fullmatch(r"h[1-6]", tag) else ""
            el.text = "\n" + prefix + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    body = tree.find("body")
    return str((body if body is not None else tree).text_content())


def parse_html(path: Path, where: str) -> Parsed:
    """An HTML file."""
    import trafilatura

    html = _decode_html(path.read_bytes(), where)
    tree = _html_tree(html)
    with_tables = _html_tree(html)
    if replace_html_tables(with_tables):  # tables as header-keeping text blocks (assistant.tables)
        import lxml.html  # type: ignore[import-untyped]

        html = lxml.html.tostring(with_tables, encoding="unicode")
    extracted = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_comments=False, include_images=False
    )
    parsed = markdown(tighten(extracted or ""))
    if not parsed.text.strip():
        parsed = markdown(_html_fallback_markdown(_html_tree(html)))
    parsed.title_hint = _html_title(tree)
    return parsed
