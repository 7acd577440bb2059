"""Editions: documents with the same normalised title and the same issuer or region are
editions of one work.

Two same-titled documents whose jurisdictions are both known and differ (two cities' 实施细则,
a national law and a province's 实施办法) are different works. A document whose jurisdiction
is unknown joins the same-titled work only when exactly one jurisdiction is known among them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .dates import DocDates

NATIONAL = "national"
# Edition notes in titles: （2022年修正）, (2019修订), 【2024年版】, [试行] is kept (it is part of the name).
_EDITION_NOTE = re.compile(
    r"[（(【\[]\s*(?:(?:19|20)\d{2}\s*年?\s*(?:\d{1,2}\s*月\s*(?:\d{1,2}\s*日)?)?\s*)?"
    r"(?:第[一二三四五六七八九十]+次)?(?:修正|修订|修改|版|本|公布|发布|通过|印发)?(?:文本|本)?\s*[)）】\]]"
)
_DATE_SUFFIX = re.compile(r"[（(]\s*(?:19|20)\d{2}[-.年]\d{1,2}[-.月]\d{1,2}日?\s*[)）]")
_PUNCT = re.compile(r"[\s\W_]+")
_NATIONAL_BODY = re.compile(
    r"全国人民代表大会|国务院|中华人民共和国[^，。]{0,20}令|中共中央|中央军事委员会|最高人民法院|最高人民检察院"
    r"|国家[\u4e00-\u9fff]{1,12}?(?:局|委员会|部|署|办公室)|中国人民银行|[\u4e00-\u9fff]{1,10}部令"
    r"|^(?:国务院|中华人民共和国)"
)
_REGION = re.compile(
    r"([\u4e00-\u9fff]{2,7}?(?:特别行政区|自治区|自治州|自治县|省|市|县|盟|地区))"
    r"(?=第|人民|政府|人大|常务|经济特区|[\u4e00-\u9fff]*(?:条例|办法|规定|细则|决定))"
)
_TITLE_REGION = re.compile(r"^([\u4e00-\u9fff]{2,7}?(?:特别行政区|自治区|自治州|自治县|省|市|县))")
_SPECIAL_ZONE = re.compile(r"^([\u4e00-\u9fff]{2,3})经济特区")


def normalize_title(title: str) -> str:
    """Title without 中华人民共和国, edition notes such as （2022年修正）, punctuation or spaces."""
    t = unicodedata.normalize("NFKC", title).strip()
    t = _DATE_SUFFIX.sub("", t)
    t = _EDITION_NOTE.sub("", t)
    t = t.replace("中华人民共和国", "")
    return _PUNCT.sub("", t).lower()


def region_of(text: str) -> str | None:
    """ "national", a region name (广东省, 深圳市) or None, from an issuing body or history line."""
    if not text:
        return None
    if _NATIONAL_BODY.search(text):
        return NATIONAL
    m = _REGION.search(text)
    if m:
        return m.group(1)
    return None


def jurisdiction(title: str, meta: dict[str, str], dates: DocDates) -> str | None:
    """Who made the document, as a region: from its history lines, then its issuer, then its title."""
    for event in dates.history:
        found = region_of(event.text)
        # A province approving a city's regulation does not make it provincial; 国务院批准 is national.
        if found and (event.action != "批准" or found == NATIONAL):
            return found
    found = region_of(meta.get("issuer", ""))
    if found:
        return found
    doc_number = meta.get("doc_number", "")
    if doc_number.startswith("国"):
        return NATIONAL
    t = unicodedata.normalize("NFKC", title).strip()
    if _NATIONAL_BODY.match(t) or re.match(r"(?:19|20)\d{2}年中华人民共和国", t):
        return NATIONAL
    zone = _SPECIAL_ZONE.match(t)
    if zone:
        return zone.group(1) + "市"
    m = _TITLE_REGION.match(t)
    if m:
        return m.group(1)
    if t.startswith("中华人民共和国"):
        return NATIONAL
    return None


def work_id_for(norm_title: str, region: str | None) -> str:
    """A stable id of a work: its normalised title and jurisdiction, hashed."""
    key = f"{norm_title}|{region or '?'}"
    return "w-" + hashlib.sha1(key.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class DocKey:
    """What grouping needs of a document."""

    doc_id: str
    title: str
    region: str | None


def group_works(docs: Iterable[DocKey]) -> dict[str, str]:
    """doc_id -> work_id for every document (a document with no other edition is a work of one)."""
    by_title: dict[str, list[DocKey]] = {}
    for d in docs:
        by_title.setdefault(normalize_title(d.title) or d.doc_id, []).append(d)
    out: dict[str, str] = {}
    for norm, group in by_title.items():
        regions = {d.region for d in group if d.region}
        for d in group:
            region = d.region
            if region is None and len(regions) == 1:
                region = next(iter(regions))
            out[d.doc_id] = work_id_for(norm, region)
    return out
