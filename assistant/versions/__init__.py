"""Versions and validity: dates read from the documents, editions grouped into works, validity
as of a date, and article diffs between editions.

The API the rest of the assistant uses:
    library_for(catalog) -> Library      .work_of(doc_id), .editions_of(doc_id), .validity(doc_id, as_of),
                                         .info(doc_id, as_of), .excluded(as_of), .status_rows(as_of)
    diff_documents(old_text, new_text) -> Diff
    compare_documents(old_doc, new_doc, library) -> Comparison   (VersionError for different works)
    change_question(question, library) -> ChangeQuestion | None  (the two editions a change question means)
    change_summary(comparison) -> list[str]; earlier_wording(catalog, doc_id, section) -> EarlierWording | None
                                         (assistant.versions.answers: the answer stage's change summary and
                                         "the earlier edition said otherwise" line)
    works_html(library, as_of), diff_html(comparison)            (assistant.versions.html, for the web UI)
    parse_dates(text) -> DocDates
    version_meta(document) -> dict       (what ingest stores)
Nothing heavy is imported here.
"""

from __future__ import annotations

from .compare import Comparison, compare_documents
from .dates import DocDates, HistoryEvent, parse_date, parse_dates
from .diff import Diff, diff_documents
from .editions import normalize_title
from .library import (
    Library,
    VersionError,
    annotate_passages,
    as_of_date,
    build_library,
    document_versions,
    library_for,
    record_sidecars,
    version_meta,
)
from .questions import ChangeQuestion, change_question
from .sidecar import is_sidecar, parse_sidecar
from .validity import LABELS_EN, LABELS_ZH, Edition, Validity, label

__all__ = [
    "LABELS_EN",
    "LABELS_ZH",
    "ChangeQuestion",
    "Comparison",
    "Diff",
    "DocDates",
    "Edition",
    "HistoryEvent",
    "Library",
    "Validity",
    "VersionError",
    "annotate_passages",
    "as_of_date",
    "build_library",
    "change_question",
    "compare_documents",
    "diff_documents",
    "document_versions",
    "is_sidecar",
    "label",
    "library_for",
    "normalize_title",
    "parse_date",
    "parse_dates",
    "parse_sidecar",
    "record_sidecars",
    "version_meta",
]
