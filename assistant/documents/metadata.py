"""What a document says about itself: its title, 文号, issuing body, date and language."""

from __future__ import annotations

import datetime
import re

from ..textutil import CJK_SCRIPT, CN_NUMERALS, HAN, cn_number
from .parsed import Parsed

_TITLE_MAX = 120
_CJK_RE = re.compile(f"[{CJK_SCRIPT}]")


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


def choose_title(parsed: Parsed) -> str:
    first_line = next((ln for ln in parsed.text[:20000].split("\n") if ln.strip()), "")
    candidates = [parsed.title_hint, parsed.headings[0][2] if parsed.headings else "", first_line]
    return next((t for t in map(clean_title, candidates) if t), "")


_DOC_NUMBER = re.compile(
    r"(?:^|(?<=[\s：:（(，,]))(["
    + HAN
    + r"]{1,12})\s*[〔\[［【（(]\s*((?:19|20)\d{2})\s*[〕\]］】）)]\s*(\d{1,5})\s*号"
    r"(?=$|[\s）),，。])"
)
_DOC_NUMBER_LABEL = re.compile(r"(?:发文字号|发文文号|文号)\s*[:：]\s*")
_ISSUER_LABEL = re.compile(
    r"(?:发文机关|发布机关|发文单位|制发机关|Issued by|Issuing (?:body|authority))\s*[:：]\s*(.+)", re.I
)
_ISSUER_END = re.compile(r"(?:人民政府|办公厅|办公室|委员会|厅|局|部|院|委|署|银行)$")
_STRUCTURAL_LINE = re.compile(
    f"^(?:第[{CN_NUMERALS}\\d]+[编章节条]|[{CN_NUMERALS}]+、|[（(][{CN_NUMERALS}]+[）)]|\\d+[.、．])"
)
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
_DATE_PATTERNS = (
    re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile("([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"),
    re.compile(rf"\b{_MONTH_RE}\s+(\d{{1,2}}),?\s+((?:19|20)\d{{2}})\b"),
    re.compile(rf"\b(\d{{1,2}})\s+{_MONTH_RE}\s+((?:19|20)\d{{2}})\b"),
    re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b"),
)
_HEAD_LINES = 12
_TAIL_LINES = 6


def _find_date(text: str) -> tuple[int, str] | None:
    """The earliest valid date in `text` as (position, YYYY-MM-DD)."""
    found: list[tuple[int, str]] = []
    for n, pattern in enumerate(_DATE_PATTERNS):
        for m in pattern.finditer(text):
            g = m.groups()
            if n < 2:
                y, mo, d = cn_number(g[0]) or 0, cn_number(g[1]) or 0, cn_number(g[2]) or 0
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
        and _find_date(line) is None  # "1984年1月7日 国务院" is a date line, not the issuer's name
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
    if not issuer:  # the issuing body and the date on one line: "国务院 1984年1月7日"
        issuer = next((part for ln in lines for part in _issuer_beside_date(ln)), "")
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


def _issuer_beside_date(line: str) -> list[str]:
    """The issuer of a line that holds only an issuing body and a date, separated by space or brackets."""
    if len(line) > 50 or _find_date(line) is None:
        return []
    parts = [p for p in re.split(r"[\s（）()]+", line) if p]
    rest = [p for p in parts if _find_date(p) is None]
    return rest if len(rest) == 1 and len(parts) == 2 and _is_issuer_line(rest[0]) else []


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
