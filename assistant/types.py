"""Plain data types shared by every layer: documents, chunks, passages, answers.

These are the seams between ingestion, retrieval, answering and the front ends.
They carry no behaviour beyond (de)serialisation so that every module can depend
on them without pulling in models or stores.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import FilterError


@dataclass
class PageSpan:
    """A page of a paginated source: text[start:end] of the document is page `page` (1-based)."""

    page: int
    start: int
    end: int


@dataclass
class Document:
    """One loaded source file, as plain text plus what was detected about it."""

    doc_id: str
    path: str
    title: str
    text: str
    doc_type: str  # pdf | docx | html | md | txt
    pages: list[PageSpan] = field(default_factory=list)
    # Document-level metadata, when detectable: doc_number (文号), issuer, date (YYYY-MM-DD), language.
    meta: dict[str, str] = field(default_factory=dict)
    # Known headings (for formats that mark them up: Markdown, HTML, DOCX): (offset, level, heading text).
    headings: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class Chunk:
    """A piece of a document that is embedded and searched as one unit.

    `start`/`end` are character offsets into `Document.text`, so
    `document.text[start:end] == text` always holds.
    """

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    section: str = ""  # e.g. "第三章 促进措施 > 第十二条"
    pages: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Passage:
    """A retrieved chunk with its scores and document metadata, in rank order."""

    chunk_id: str
    doc_id: str
    text: str
    score: float
    title: str = ""
    section: str = ""
    pages: list[int] = field(default_factory=list)
    start: int = 0
    end: int = 0
    ordinal: int = 0
    meta: dict[str, Any] = field(default_factory=dict)  # the document's: doc_number, issuer, date, …
    stages: dict[str, float] = field(default_factory=dict)  # raw score per retrieval list ("dense", "bm25")
    evidence: float = 0.0  # how much of the question the passage answers, 0..1 (assistant.evidence.score)
    rerank: float | None = None  # cross-encoder score, when a reranker ran
    joined: str | None = None  # id of the next chunk of the same article, joined onto this one

    @property
    def page(self) -> int | None:
        return self.pages[0] if self.pages else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "score": round(self.score, 6),
            "title": self.title,
            "section": self.section,
            "page": self.page,
            "text": self.text,
        }


@dataclass
class Citation:
    """One [n] marker in an answer, resolved to the passage it points at and checked."""

    n: int
    passage: Passage
    quote: str  # the supporting span of the passage text
    span: tuple[int, int]  # offsets of `quote` inside passage.text
    supported: bool
    support: float = 0.0  # overlap score of the claim against the passage
    role: str = "answer"  # "answer", or "earlier_edition" for the line saying what a previous edition said

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.passage.doc_id,
            "chunk_id": self.passage.chunk_id,
            "title": self.passage.title,
            "section": self.passage.section,
            "page": self.passage.page,
            "quote": self.quote,
            "span": list(self.span),
            "supported": self.supported,
            "support": round(self.support, 4),
            "role": self.role,
            # The cited document's edition and validity as of the question's date (assistant.versions).
            "edition": self.passage.meta.get("edition"),
            "effective_date": self.passage.meta.get("effective_date"),
            "validity": self.passage.meta.get("validity"),
        }


@dataclass
class Answer:
    """What every front end shows: the text with [n] markers, its checked citations, and how it was made."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # retrieval, first_token, total (seconds)
    standalone_question: str = ""
    language: str = "zh"
    backend: str = ""
    error: str | None = None  # set when the LLM failed; passages are still returned
    unverified: str = ""  # the model's answer when it was not used (unsupported, off target, or a refusal)
    analysis: dict[str, Any] = field(default_factory=dict)  # what the question asks for (assistant.query.Analysis)
    quoted: bool = False  # the answer quotes the evidence because the model's did not answer the question
    not_stated: bool = False  # the documents say something related, but not the value asked for (the answer says so)
    option_scores: dict[str, float] = field(default_factory=dict)  # choice questions: the model's log-probabilities
    option_evidence: dict[str, float] = field(default_factory=dict)  # … and how well the evidence supports each (0..1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.text,
            "refused": self.refused,
            "language": self.language,
            "backend": self.backend,
            "error": self.error,
            "unverified_answer": self.unverified or None,
            "quoted": self.quoted,
            "not_stated": self.not_stated,
            "option_scores": self.option_scores or None,
            "option_evidence": self.option_evidence or None,
            "analysis": self.analysis,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class Filters:
    """Restrict retrieval to some documents, issuing bodies or a date range (inclusive, YYYY-MM-DD)."""

    doc_ids: list[str] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None
    # Answer as of this date (YYYY-MM-DD; None = today): editions superseded by then are not searched.
    as_of: str | None = None

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.issuers or self.date_from or self.date_to or self.as_of)

    @classmethod
    def parse(
        cls,
        spec: str = "",
        *,
        doc_ids: Iterable[str] = (),
        issuers: Iterable[str] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        as_of: str | None = None,
    ) -> Filters:
        """Checked Filters from `doc=a,b issuer=NAME from=YYYY-MM-DD to=YYYY-MM-DD as_of=YYYY-MM-DD` (the CLI's
        --filter, the REPL's /filter) and/or the same values given directly (the web UI's widgets; a date
        picker's time of day is dropped). The one place filters are read: every front end calls it.

        Raises FilterError for a malformed part, an unknown key, a date that is not a real YYYY-MM-DD date,
        or a range whose start is after its end.
        """
        values: dict[str, Any] = {
            "doc_ids": [v for v in doc_ids if v],
            "issuers": [v for v in issuers if v],
            "date_from": date_from,
            "date_to": date_to,
            "as_of": as_of,
        }
        for part in spec.split():
            key, _, value = part.partition("=")
            if not value:
                raise FilterError(f"Filter '{part}' should look like key=value (keys: {FILTER_KEYS_HELP}).", "syntax")
            if key not in FILTER_KEYS:
                raise FilterError(f"Unknown filter key '{key}' (use {FILTER_KEYS_HELP}).", "key", key)
            name = FILTER_KEYS[key]
            values[name] = [v for v in value.split(",") if v] if name in ("doc_ids", "issuers") else value
        for name in ("date_from", "date_to", "as_of"):
            values[name] = _checked_date(values[name])
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            raise FilterError(
                f"The start date {values['date_from']} is after the end date {values['date_to']}.", "range"
            )
        return cls(**values)


# The keys of a filter spec and the Filters fields they set.
FILTER_KEYS = {"doc": "doc_ids", "issuer": "issuers", "from": "date_from", "to": "date_to", "as_of": "as_of"}
FILTER_KEYS_HELP = ", ".join(FILTER_KEYS)
FILTER_KEYS["asof"] = "as_of"  # also accepted


def _checked_date(raw: str | None) -> str | None:
    """'2025-03-18' (or '2025-03-18 00:00' from a date picker) -> '2025-03-18'; None for empty; FilterError else."""
    value = str(raw or "").strip()[:10]
    if not value:
        return None
    try:
        if len(value) == 10:  # fromisoformat also takes 20250318
            return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise FilterError(f"Dates must look like YYYY-MM-DD (a real date): {raw}", "date", str(raw))
