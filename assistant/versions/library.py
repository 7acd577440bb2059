"""The versions view of a whole index: every document as an edition of a work, with its validity
as of any date. Built from the catalog (what ingest stored, plus the sidecar rows) and cached
until the catalog changes.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import AssistantError
from ..types import Document, Passage
from .dates import DocDates, from_iso, iso, parse_dates
from .editions import DocKey, group_works, jurisdiction, normalize_title
from .sidecar import read_sidecars
from .validity import Edition, Validity, compute_validity, label

META_KEY = "versions"  # Document.meta key holding the detected dates (JSON)
SIDECAR_INFO_KEY = "versions_sidecar"  # catalog info key holding the sidecar rows (JSON)


class VersionError(AssistantError):
    """A versions request cannot be served (unknown document, documents of different works)."""


def version_meta(doc: Document) -> dict[str, str]:
    """What ingest stores about a document's dates and jurisdiction: {"versions": JSON}."""
    dates = parse_dates(doc.text)
    data: dict[str, Any] = dates.to_meta()
    region = jurisdiction(doc.title, doc.meta, dates)
    if region:
        data["region"] = region
    return {META_KEY: json.dumps(data, ensure_ascii=False, sort_keys=True)}


def _meta_of(doc_meta: dict[str, Any]) -> dict[str, str] | None:
    raw = doc_meta.get(META_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass
class DocInput:
    """A document as the library needs it: id, title and metadata (with the `versions` field)."""

    doc_id: str
    title: str
    meta: dict[str, Any]


@dataclass
class Library:
    """Editions and works of one index; validity is computed per call, as of a date."""

    editions: dict[str, Edition] = field(default_factory=dict)
    works: dict[str, list[str]] = field(default_factory=dict)  # work_id -> doc_ids, oldest edition first

    # ----- lookups -----
    def edition(self, doc_id: str) -> Edition:
        try:
            return self.editions[doc_id]
        except KeyError:
            raise VersionError(f"No document '{doc_id}' in the index — see `assistant status` for the ids.") from None

    def work_of(self, doc_id: str) -> str:
        """The work_id of a document."""
        return self.edition(doc_id).work_id

    def editions_of(self, doc_id_or_work: str) -> list[Edition]:
        """Every indexed edition of the document's work (or of a work_id), oldest first."""
        work = doc_id_or_work if doc_id_or_work in self.works else self.work_of(doc_id_or_work)
        return [self.editions[d] for d in self.works[work]]

    def _later(self, ed: Edition) -> list[Edition]:
        out = [self.editions[d] for d in ed.superseded_by if d in self.editions]
        if ed.order is not None:
            out += [
                e
                for e in self.editions_of(ed.work_id)
                if e.doc_id != ed.doc_id and e.order is not None and e.order > ed.order
            ]
        return out

    def validity(self, doc_id: str, as_of: dt.date | None = None) -> Validity:
        """in_force | superseded | repealed | not_yet_effective | unknown, as of `as_of` (today when None)."""
        ed = self.edition(doc_id)
        return compute_validity(ed, as_of, self._later(ed))

    def in_force(self, doc_id: str, as_of: dt.date | None = None) -> list[Edition]:
        """The editions of the document's work in force on `as_of`."""
        return [e for e in self.editions_of(doc_id) if self.validity(e.doc_id, as_of) == "in_force"]

    def info(self, doc_id: str, as_of: dt.date | None = None, language: str = "zh") -> dict[str, Any]:
        """work_id, edition, effective_date, validity (+ its label) and the other editions of a document."""
        ed = self.edition(doc_id)
        v = self.validity(doc_id, as_of)
        return {
            "work_id": ed.work_id,
            "edition": ed.edition,
            "edition_date": iso(ed.edition_date),
            "effective_date": iso(ed.effective),
            "validity": v,
            "validity_label": label(v, language),
            "repealed_date": iso(ed.repealed),
            "repealed_by": ed.repealed_by,
            "editions": [e.doc_id for e in self.editions_of(doc_id)],
        }

    def excluded(self, as_of: dt.date | None = None) -> set[str]:
        """Documents retrieval leaves out on `as_of`: editions superseded by then, and editions not yet
        effective while another edition of their work is in force."""
        out: set[str] = set()
        for doc_ids in self.works.values():
            if len(doc_ids) < 2 and not any(self.editions[d].superseded_by for d in doc_ids):
                continue
            states = {d: self.validity(d, as_of) for d in doc_ids}
            any_in_force = "in_force" in states.values()
            for d, v in states.items():
                if v == "superseded" or (v == "not_yet_effective" and any_in_force):
                    out.add(d)
        return out

    def status_rows(self, as_of: dt.date | None = None) -> list[dict[str, Any]]:
        """One row per document for `assistant status --json`."""
        return [{"doc_id": d, **self.info(d, as_of)} for d in sorted(self.editions)]


def build_library(docs: Iterable[DocInput], sidecar: dict[str, dict[str, str]] | None = None) -> Library:
    """Group documents into works and collect each edition's dates, repeals and sidecar overrides."""
    docs = list(docs)
    sidecar = sidecar or {}
    parsed: dict[str, tuple[DocDates, dict[str, str]]] = {}
    for d in docs:
        data = _meta_of(d.meta) or {}
        parsed[d.doc_id] = (DocDates.from_meta(data), data)
    work_ids = group_works(DocKey(d.doc_id, d.title, parsed[d.doc_id][1].get("region")) for d in docs)
    lib = Library()
    titles: dict[str, list[str]] = {}
    for d in docs:
        dates, _ = parsed[d.doc_id]
        row = sidecar.get(d.doc_id, {})
        ed = Edition(
            doc_id=d.doc_id,
            title=d.title,
            work_id=work_ids[d.doc_id],
            edition=row.get("edition") or dates.edition,
            edition_date=dates.edition_date,
            effective=from_iso(row.get("effective")) or dates.effective,
            issued=dates.issued,
            repealed=from_iso(row.get("repealed")),
            declared=row.get("validity"),
        )
        lib.editions[d.doc_id] = ed
        lib.works.setdefault(ed.work_id, []).append(d.doc_id)
        titles.setdefault(normalize_title(d.title), []).append(d.doc_id)
    for d in docs:
        for old in (sidecar.get(d.doc_id, {}).get("supersedes") or "").replace("|", ";").split(";"):
            if old.strip() in lib.editions:
                lib.editions[old.strip()].superseded_by.append(d.doc_id)
    # 《…》同时废止 in one document repeals the same-titled documents of *another* work that predate it
    # (its own work's older editions are superseded instead).
    for d in docs:
        new = lib.editions[d.doc_id]
        when = new.start
        for title in parsed[d.doc_id][0].repeals:
            for old_id in titles.get(normalize_title(title), []):
                prior = lib.editions[old_id]
                if prior.work_id == new.work_id or when is None or prior.order is None or prior.order >= when:
                    continue
                if prior.repealed is None or when < prior.repealed:
                    prior.repealed, prior.repealed_by = when, d.doc_id
    for ids in lib.works.values():
        ids.sort(key=lambda i: (lib.editions[i].order or dt.date.min, i))
    return lib


class _CatalogLike(Protocol):
    def documents(self) -> list[Any]: ...
    def document_text(self, doc_id: str) -> Document | None: ...
    def generation(self) -> int: ...
    def get_info(self, key: str, default: str | None = None) -> str | None: ...


# Per catalog object (weakly: a closed index's entry goes with it; ids of dead objects get reused).
_cache: weakref.WeakKeyDictionary[Any, tuple[tuple[int, str], Library]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def library_for(catalog: _CatalogLike) -> Library:
    """The library of an index's catalog, rebuilt only when its documents or sidecar rows change.

    Documents ingested before dates were detected (no `versions` meta field) are parsed from their
    stored text once.
    """
    raw_sidecar = catalog.get_info(SIDECAR_INFO_KEY, "") or ""
    key = (catalog.generation(), raw_sidecar)
    with _cache_lock:
        hit = _cache.get(catalog)
        if hit and hit[0] == key:
            return hit[1]
    inputs = []
    for rec in catalog.documents():
        if rec.status != "complete":
            continue
        meta = dict(rec.meta)
        if META_KEY not in meta:
            doc = catalog.document_text(rec.doc_id)
            if doc is not None:
                meta.update(version_meta(doc))
        inputs.append(DocInput(rec.doc_id, rec.title, meta))
    try:
        sidecar = json.loads(raw_sidecar) if raw_sidecar else {}
    except ValueError:
        sidecar = {}
    lib = build_library(inputs, sidecar)
    with _cache_lock:
        _cache[catalog] = (key, lib)
    return lib


def as_of_date(value: str | dt.date | None) -> dt.date | None:
    """A Filters.as_of value ("YYYY-MM-DD") as a date; None means today."""
    if value is None or isinstance(value, dt.date):
        return value
    day = from_iso(value)
    if day is None:
        raise VersionError(f"'{value}' is not a date; write the as-of date as YYYY-MM-DD, e.g. 2020-01-01.")
    return day


def annotate_passages(catalog: _CatalogLike, passages: list[Passage], as_of: str | dt.date | None = None) -> None:
    """Put each passage's edition, effective_date, validity and work_id into its meta (for citations)."""
    if not passages:
        return
    lib = library_for(catalog)
    day = as_of_date(as_of)
    for p in passages:
        if p.doc_id in lib.editions:
            info = lib.info(p.doc_id, day)
            for k in ("work_id", "edition", "effective_date", "validity", "validity_label"):
                p.meta[k] = info[k]


class _InfoStore(Protocol):
    def get_info(self, key: str, default: str | None = None) -> str | None: ...
    def set_info(self, **values: str) -> None: ...


def record_sidecars(catalog: _InfoStore, paths: list[Path], ingested: set[str]) -> list[tuple[str, str]]:
    """Store the rows of the `corpus.meta.csv` files under `paths` in the catalog, for `library_for`.

    Rows for documents of this ingest are replaced (dropped when no sidecar is found now); rows
    for other documents stay. Returns (path, reason) for every malformed row, as ingest reports them.
    """
    rows, problems, found = read_sidecars([Path(p) for p in paths])
    try:
        old = json.loads(catalog.get_info(SIDECAR_INFO_KEY, "") or "{}")
    except ValueError:
        old = {}
    merged = {k: v for k, v in old.items() if k not in ingested and k not in rows} if found or old else {}
    merged.update(rows)
    if merged != old:
        catalog.set_info(**{SIDECAR_INFO_KEY: json.dumps(merged, ensure_ascii=False, sort_keys=True)})
    return [(f"{p.path}:{p.line}", p.reason) for p in problems]


def document_versions(catalog: _CatalogLike, as_of: str | dt.date | None = None) -> dict[str, dict[str, Any]]:
    """doc_id -> work_id, edition, effective_date, validity (+ label, history) for `assistant status --json`."""
    lib = library_for(catalog)
    day = as_of_date(as_of)
    out: dict[str, dict[str, Any]] = {}
    for rec in catalog.documents():
        if rec.doc_id not in lib.editions:
            continue
        data = _meta_of(rec.meta) or {}
        detail = {
            "issued": data.get("issued"),
            "stated_effective": data.get("stated_effective"),
            "region": data.get("region"),
            "history": json.loads(data.get("history") or "[]"),
            "repeals": json.loads(data.get("repeals") or "[]"),
        }
        out[rec.doc_id] = {**lib.info(rec.doc_id, day), META_KEY: detail}
    return out
