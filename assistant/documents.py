"""Load policy documents (PDF, DOCX, HTML, Markdown, plain text) as `Document`s.

`discover` turns the paths a user gives into the files to load, `load_document` reads
one file into plain text plus what can be detected about it: page offsets (PDF),
headings (DOCX, HTML, Markdown), title, 文号, issuing body, date and language.
Every problem with a file is a `DocumentError` whose reason says what is wrong with it.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DocumentError
from .types import Document, PageSpan

SUPPORTED = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}
_DOC_TYPES = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}
_TITLE_MAX = 120

_CJK_CHARS = "\u2e80-\u2fdf\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
_CJK_RE = re.compile(f"[{_CJK_CHARS}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK_CHARS}{_CJK_PUNCT}])[ \t]+(?=[{_CJK_CHARS}{_CJK_PUNCT}])")
_CN_NUM = "零〇一二三四五六七八九十百千两"
# A structural label such as 第三章 whose following space is meaningful and must survive CJK space clean-up.
_LABEL_BEFORE_SPACE = re.compile(f"[ \u3000]*第[{_CN_NUM}\\d]+[编章节条](?:之[{_CN_NUM}]+)?")
_COMPAT_IDEOGRAPHS = re.compile("[\u2e80-\u2fdf\uf900-\ufaff]")
_TRAILING_WS = re.compile(r"[ \t\u3000\xa0\v]+$", re.M)
_BLANK_RUNS = re.compile(r"\n{3,}")
# Bytes that never occur in UTF-8 or GB18030 text (tab, newline, CR, form feed and ESC excepted).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32), 127])
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class _Parsed:
    text: str
    pages: list[PageSpan] = field(default_factory=list)
    headings: list[tuple[int, int, str]] = field(default_factory=list)
    title_hint: str = ""  # PDF metadata title or HTML <h1>/<title>


# ----- discovery -----------------------------------------------------------------


def _unsupported(suffix: str) -> str:
    kind = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {kind} (supported: {', '.join(sorted(SUPPORTED))})"


def discover(paths: list[Path]) -> tuple[list[tuple[Path, Path]], list[DocumentError]]:
    """Expand files and folders into sorted (file, root) pairs, plus an error per unusable path.

    Folders are walked recursively, following symbolic links but never twice into the same
    folder. Hidden files and folders, folders starting with "_", README.md files and Word lock
    files (~$*) are skipped. A file given directly has its parent folder as root. A file reached
    twice through symbolic links is loaded once and the other path is reported.
    """
    pairs: list[tuple[Path, Path]] = []
    errors: list[DocumentError] = []
    for given in map(Path, paths):
        if given.is_dir():
            _walk(given, pairs, errors)
        elif given.is_file():
            _add_file(given, given.parent, pairs, errors)
        elif given.is_symlink():
            errors.append(DocumentError(str(given), "broken symbolic link (its target does not exist)"))
        else:
            errors.append(DocumentError(str(given), "does not exist"))
    by_real: dict[str, list[tuple[Path, Path]]] = {}
    for file, root in sorted(set(pairs), key=lambda p: (p[0].as_posix(), p[1].as_posix())):
        by_real.setdefault(os.path.realpath(file), []).append((file, root))
    unique: list[tuple[Path, Path]] = []
    for real, found in by_real.items():
        # Keep the file's own path over a symbolic link to it; report the other ways it was reached.
        keep = next((fr for fr in found if os.path.abspath(fr[0]) == real), found[0])
        unique.append(keep)
        for file, _ in found:
            if file != keep[0]:
                errors.append(
                    DocumentError(str(file), f"same file as {keep[0]} (reached through a symbolic link); skipped")
                )
    unique.sort(key=lambda p: (p[0].as_posix(), p[1].as_posix()))
    errors.sort(key=lambda e: e.path)
    return unique, errors


def _walk(root: Path, pairs: list[tuple[Path, Path]], errors: list[DocumentError]) -> None:
    visited: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        errors.append(DocumentError(str(exc.filename or root), f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            on_error(exc)
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symbolic link back into a folder already walked
            dirnames[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.startswith((".", "~$")) or name.lower() == "readme.md":
                continue
            _add_file(Path(dirpath) / name, root, pairs, errors)


def _add_file(file: Path, root: Path, pairs: list[tuple[Path, Path]], errors: list[DocumentError]) -> None:
    suffix = file.suffix.lower()
    if not file.is_file():
        errors.append(DocumentError(str(file), "broken symbolic link or not a regular file"))
    elif suffix not in SUPPORTED:
        errors.append(DocumentError(str(file), _unsupported(suffix)))
    else:
        pairs.append((file, root))


def doc_id_for(path: Path, root: Path) -> str:
    """The document id: `path` relative to `root`, without its extension, with "/" separators."""
    path, root = Path(path), Path(root)
    try:
        rel = path.relative_to(root)
    except ValueError:
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            rel = Path(path.name)
    return (rel.with_suffix("") if rel.suffix else rel).as_posix()


# ----- loading ---------------------------------------------------------------------


def load_document(path: Path, root: Path) -> Document:
    """Read one file into a `Document`; raises `DocumentError(path, reason)` for any bad file."""
    path = Path(path)
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DocumentError(where, _unsupported(suffix))
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
    doc_type = _DOC_TYPES[suffix]
    try:
        parsed = _PARSERS[doc_type](path, where)
    except DocumentError:
        raise
    except OSError as exc:
        raise DocumentError(where, f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # parsers of untrusted files raise anything; one bad file must not stop an ingest
        raise DocumentError(where, f"cannot be read as {doc_type.upper()}: {type(exc).__name__}: {exc}") from exc
    if not parsed.text.strip():
        raise DocumentError(where, "no text found")
    title = _choose_title(parsed)
    return Document(
        doc_id=doc_id_for(path, root),
        path=where,
        title=title,
        text=parsed.text,
        doc_type=doc_type,
        pages=parsed.pages,
        meta=detect_meta(parsed.text),
        headings=parsed.headings,
    )


def _normalise(text: str) -> str:
    """Unix newlines, no trailing whitespace on lines, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = _TRAILING_WS.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _looks_binary(data: bytes) -> bool:
    sample = data[: 1 << 16]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(len(sample) * 0.02, 2)


def decode_text(data: bytes, where: str) -> str:
    """Bytes of a text file as str: BOM, else strict UTF-8, else strict GB18030, else charset-normalizer's guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    where, f"undecodable text: has a {encoding} byte-order mark but {exc.reason}"
                ) from exc
            if "\x00" in text[: 1 << 16]:
                raise DocumentError(where, "binary data, not text")
            return text
    if _looks_binary(data):
        raise DocumentError(where, "binary data, not text")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise DocumentError(
            where, "undecodable text: not UTF-8 or GB18030 and no other encoding fits; re-save it as UTF-8"
        )
    return str(best)


def _parse_txt(path: Path, where: str) -> _Parsed:
    return _Parsed(_normalise(decode_text(path.read_bytes(), where)))


# ----- Markdown (also the shape HTML is extracted into) -----

_FRONT_MATTER = re.compile(r"\A---\n.*?\n(?:---|\.\.\.)\n", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE = re.compile(r"^ {0,3}(?:(```|~~~).*|(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?)$", re.M)


def _markdown(text: str) -> _Parsed:
    text = _normalise(text)
    text = _FRONT_MATTER.sub("", text)
    text = _EMPHASIS.sub(r"\2", _HTML_COMMENT.sub("", text))
    text = _normalise(text)
    headings: list[tuple[int, int, str]] = []
    in_fence = False
    for m in _MD_LINE.finditer(text):
        if m.group(1):
            in_fence = not in_fence
        elif not in_fence and m.group(3).strip():
            headings.append((m.start(), len(m.group(2)), m.group(3).strip()))
    return _Parsed(text, headings=headings)


def _parse_md(path: Path, where: str) -> _Parsed:
    return _markdown(decode_text(path.read_bytes(), where))


# ----- HTML -----

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


def _parse_html(path: Path, where: str) -> _Parsed:
    import trafilatura

    html = _decode_html(path.read_bytes(), where)
    tree = _html_tree(html)
    extracted = trafilatura.extract(
        html, output_format="markdown", include_tables=True, include_comments=False, include_images=False
    )
    parsed = _markdown(extracted or "")
    if not parsed.text.strip():
        parsed = _markdown(_html_fallback_markdown(_html_tree(html)))
    parsed.title_hint = _html_title(tree)
    return parsed


# ----- DOCX -----

_HEADING_STYLE = re.compile(r"(?:heading|标题)\s*(\d)", re.I)


def _docx_heading_level(style_name: str) -> int:
    if style_name.strip().lower() == "title":
        return 1
    m = _HEADING_STYLE.match(style_name.strip())
    return int(m.group(1)) if m else 0


def _parse_docx(path: Path, where: str) -> _Parsed:
    if not zipfile.is_zipfile(path):
        raise DocumentError(where, "not a valid DOCX (not a zip package; an old .doc file renamed?)")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors ... for broken packages
        raise DocumentError(where, f"not a valid DOCX: {type(exc).__name__}: {exc}") from exc
    parts: list[str] = []
    headings: list[tuple[int, int, str]] = []
    offset = 0
    for block in document.iter_inner_content():
        level = 0
        if isinstance(block, Table):
            rows = []
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat their text
                        cells.append(value)
                rows.append(" | ".join(cells))
            text = "\n".join(r for r in rows if r)
        else:
            text = _normalise(block.text)
            level = _docx_heading_level(block.style.name if block.style is not None else "")
        if not text:
            continue
        offset += 1 if parts else 0
        if level:
            headings.append((offset, level, " ".join(text.split())))
        parts.append(text)
        offset += len(text)
    return _Parsed("\n".join(parts), headings=headings)


# ----- PDF -----


_PAGE_NUMBER_LINE = re.compile(
    r"[\s\-—–－_·]*(?:第\s*\d{1,4}\s*页(?:\s*共\s*\d+\s*页)?|(?:Page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?)[\s\-—–－_·]*",
    re.I,
)
_ENDS_SENTENCE = re.compile(r"[。！？!?.…][”’」』\"')）]*$")  # not ；： — they end wrapped lines too
_STARTS_STRUCTURE = re.compile(
    f"(?:第[{_CN_NUM}\\d]+[编章节条]|[{_CN_NUM}]+、|[（(][{_CN_NUM}\\d]+[）)]|\\d+[.．、](?!\\d)|[①-⑳])"
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


def _clean_pdf_text(text: str) -> str:
    """Undo pypdf's artefacts: Kangxi-radical look-alikes, spaces between Chinese characters,
    page-number lines at the top or bottom of the page, and line wrapping inside paragraphs."""
    text = _COMPAT_IDEOGRAPHS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)

    def drop(m: re.Match[str]) -> str:
        line_start = text.rfind("\n", 0, m.start()) + 1
        return m.group() if _LABEL_BEFORE_SPACE.fullmatch(text, line_start, m.start()) else ""

    lines = _normalise(_SPACE_BETWEEN_CJK.sub(drop, text)).split("\n")
    if lines and _PAGE_NUMBER_LINE.fullmatch(lines[-1]):
        lines.pop()
    if lines and _PAGE_NUMBER_LINE.fullmatch(lines[0]):
        lines.pop(0)
    return _normalise(_unwrap("\n".join(lines)))


def _meaningful_pdf_title(title: str, path: Path) -> bool:
    low = title.lower()
    if len(title) < 3 or low in {"untitled", "title", "document", "无标题", "标题", path.stem.lower()}:
        return False
    if re.match(r"(microsoft (word|powerpoint|excel)|untitled|无标题|wps)", low):
        return False
    return not re.search(r"\.(docx?|wps|pdf|xlsx?|pptx?|rtf|tmp|indd)$", low)


def _parse_pdf(path: Path, where: str) -> _Parsed:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path), strict=False)
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
    spans: list[PageSpan] = []
    parts: list[str] = []
    pos = 0
    for number, page in enumerate(pages, start=1):
        try:
            text = _clean_pdf_text(page.extract_text() or "")
        except Exception as exc:  # a damaged content stream
            raise DocumentError(where, f"not a valid PDF: page {number} cannot be read ({exc})") from exc
        if text:
            pos += 2 if parts else 0
            spans.append(PageSpan(number, pos, pos + len(text)))
            parts.append(text)
            pos += len(text)
        else:
            spans.append(PageSpan(number, pos, pos))
    if not parts:
        raise DocumentError(where, "no text layer — scanned PDF, needs OCR" if pages else "no text found (no pages)")
    hint = ""
    try:
        raw_title = reader.metadata.title if reader.metadata else None
        hint = " ".join(str(raw_title or "").split())
    except Exception:  # broken metadata only costs us the title hint
        hint = ""
    return _Parsed("\n\n".join(parts), pages=spans, title_hint=hint if _meaningful_pdf_title(hint, path) else "")


_PARSERS = {"pdf": _parse_pdf, "docx": _parse_docx, "html": _parse_html, "md": _parse_md, "txt": _parse_txt}


# ----- title and metadata -----------------------------------------------------------------


def clean_title(raw: str) -> str:
    """One line, no Markdown marks, no outer 《》 (inner ones become 〈〉), at most 120 characters."""
    title = " ".join(raw.split()).lstrip("#").strip()
    if title.startswith("《") and title.endswith("》") and title.count("《") == 1:
        title = title[1:-1].strip()
    title = title.replace("《", "〈").replace("》", "〉")
    if len(title) > _TITLE_MAX:  # a first line that is a whole paragraph: keep its first sentence or words
        end = re.search(r"[。！？]|[.!?](?=\s)", title)
        space = title.rfind(" ", 0, _TITLE_MAX)
        if end and end.start() < _TITLE_MAX:
            title = title[: end.start()]
        elif space > _TITLE_MAX // 2:
            title = title[:space]
    return title[:_TITLE_MAX].rstrip()


def _choose_title(parsed: _Parsed) -> str:
    first_line = next((ln for ln in parsed.text[:20000].split("\n") if ln.strip()), "")
    candidates = [parsed.title_hint, parsed.headings[0][2] if parsed.headings else "", first_line]
    return next((t for t in map(clean_title, candidates) if t), "")


_DOC_NUMBER = re.compile(
    r"(?:^|(?<=[\s：:（(，,]))([\u4e00-\u9fff]{1,12})\s*[〔\[［【（(]\s*((?:19|20)\d{2})\s*[〕\]］】）)]\s*(\d{1,5})\s*号"
    r"(?=$|[\s）),，。])"
)
_DOC_NUMBER_LABEL = re.compile(r"(?:发文字号|发文文号|文号)\s*[:：]\s*")
_ISSUER_LABEL = re.compile(
    r"(?:发文机关|发布机关|发文单位|制发机关|Issued by|Issuing (?:body|authority))\s*[:：]\s*(.+)", re.I
)
_ISSUER_END = re.compile(r"(?:人民政府|办公厅|办公室|委员会|厅|局|部|院|委|署|银行)$")
_STRUCTURAL_LINE = re.compile(f"^(?:第[{_CN_NUM}\\d]+[编章节条]|[{_CN_NUM}]+、|[（(][{_CN_NUM}]+[）)]|\\d+[.、．])")
_DATE_LABEL = re.compile(r"(?:成文日期|发布日期|印发日期|发文日期|Date(?: of issue)?)\s*[:：]\s*(.+)", re.I)
_MONTHS = {
    m: i
    for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1
    )
}
_MONTH_RE = (
    "(" + "|".join(m.capitalize() for m in _MONTHS) + "|" + "|".join(m[:3].capitalize() for m in _MONTHS) + r")\.?"
)
_ZH_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_DATE_PATTERNS = (
    re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile("([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"),
    re.compile(rf"\b{_MONTH_RE}\s+(\d{{1,2}}),?\s+((?:19|20)\d{{2}})\b"),
    re.compile(rf"\b(\d{{1,2}})\s+{_MONTH_RE}\s+((?:19|20)\d{{2}})\b"),
    re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b"),
)
_HEAD_LINES = 12
_TAIL_LINES = 6


def _zh_number(s: str) -> int:
    if s.isdigit():
        return int(s)
    if len(s) == 4 and all(c in _ZH_DIGITS for c in s):  # a year written digit by digit: 二〇二四
        return int("".join(str(_ZH_DIGITS[c]) for c in s))
    tens, _, units = s.partition("十")
    if "十" not in s:
        return _ZH_DIGITS.get(s, 0)
    return (_ZH_DIGITS.get(tens, 0) if tens else 1) * 10 + (_ZH_DIGITS.get(units, 0) if units else 0)


def _find_date(text: str) -> tuple[int, str] | None:
    """The earliest valid date in `text` as (position, YYYY-MM-DD)."""
    import datetime

    found: list[tuple[int, str]] = []
    for n, pattern in enumerate(_DATE_PATTERNS):
        for m in pattern.finditer(text):
            g = m.groups()
            if n < 2:
                y, mo, d = _zh_number(g[0]), _zh_number(g[1]), _zh_number(g[2])
            elif n == 2:
                y, mo, d = int(g[2]), _MONTHS_BY_PREFIX[g[0][:3].lower()], int(g[1])
            elif n == 3:
                y, mo, d = int(g[2]), _MONTHS_BY_PREFIX[g[1][:3].lower()], int(g[0])
            else:
                y, mo, d = int(g[0]), int(g[1]), int(g[2])
            try:
                found.append((m.start(), datetime.date(y, mo, d).isoformat()))
                break
            except ValueError:
                continue
    return min(found) if found else None


_MONTHS_BY_PREFIX = {m[:3]: i for m, i in _MONTHS.items()}


def _is_issuer_line(line: str) -> bool:
    return (
        2 <= len(line) <= 40
        and bool(_ISSUER_END.search(line))
        and not re.search(r"[，。：:；;、？！?!“”\"《》]", line)
        and not _STRUCTURAL_LINE.match(line)
        and not line.startswith("关于")
    )


def detect_meta(text: str) -> dict[str, str]:
    """文号 (doc_number), issuing body, date (YYYY-MM-DD) and language, from the head and the 落款 at the end."""
    head_text = text[:4000]
    head = [ln.strip() for ln in head_text.split("\n") if ln.strip()][:40]
    tail = [ln.strip() for ln in text[-2000:].split("\n") if ln.strip()][-_TAIL_LINES:]
    meta: dict[str, str] = {}

    for line in head:
        m = _DOC_NUMBER.search(_DOC_NUMBER_LABEL.sub(" ", line))
        if m and len(line) <= 60:
            meta["doc_number"] = f"{m.group(1)}〔{m.group(2)}〕{m.group(3)}号"
            break

    issuer = ""
    first = head[:_HEAD_LINES]
    for line in first + tail:
        m = _ISSUER_LABEL.search(line)
        if m:
            issuer = m.group(1).strip()
            break
    lines = first + tail
    if not issuer:  # the 落款: the issuing body on the line just above the date
        issuer = next(
            (ln for ln, nxt in zip(lines, lines[1:], strict=False) if _is_issuer_line(ln) and _is_date_line(nxt)), ""
        )
    if not issuer:
        issuer = next((ln for ln in first[:6] + tail if _is_issuer_line(ln)), "")
    if not issuer and head:
        m = re.match(
            r"(.{2,30}?(?:人民政府|办公厅|办公室|委员会|厅|局|部|院|委|署))(?=关于|转发|印发|批转|对)", head[0]
        )
        issuer = m.group(1) if m else ""
    if issuer:
        meta["issuer"] = " ".join(issuer.split())[:100]

    date = _labelled_date(lines)
    if not date:
        standalone = next((ln for ln in lines if _is_date_line(ln)), "")
        found = _find_date(standalone) or _find_date("\n".join(first)) or _find_date("\n".join(tail))
        date = found[1] if found else ""
    if date:
        meta["date"] = date

    sample = text[:200000]
    letters = len(sample) - len(re.findall(r"\s", sample))
    meta["language"] = "zh" if letters and len(_CJK_RE.findall(sample)) > 0.2 * letters else "en"
    return meta


def _labelled_date(lines: list[str]) -> str:
    for line in lines:
        m = _DATE_LABEL.search(line)
        found = _find_date(m.group(1)) if m else None
        if found:
            return found[1]
    return ""


def _is_date_line(line: str) -> bool:
    found = _find_date(line)
    return found is not None and len(line) <= 24 and found[0] <= 2
