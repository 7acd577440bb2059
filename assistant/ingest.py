"""Ingestion: files -> documents -> chunks -> vectors + keywords, incremental and crash-safe.

Per document the catalog row goes `pending` (with its new chunks) before the vector
store is touched and `complete` after; a document found `pending` is redone, and
vector ids are deterministic, so a run killed at any point is finished by the next
one with no duplicate and no missing chunk. Unchanged documents (same content hash
under the same index fingerprint) are not re-read, re-chunked or re-embedded.

Files are parsed ahead in parser processes (`assistant.parse_pool`, `[ingest] workers`); this
process takes the parsed documents in file order and does everything that writes, so the
states, failpoints and messages are the same with or without workers.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from .attachments import attachment_meta, attachments_last
from .bm25 import tokenize
from .catalog import DocumentRecord
from .chunking import chunk_document
from .config import Settings
from .documents import discover, doc_id_for
from .errors import DocumentError
from .failpoints import failpoint
from .index import Index, open_index, token_limit, wipe_index
from .ocr import OCROptions
from .parse_pool import ParseJob, ParseSetup, ProgressFn, open_parser
from .types import Chunk, Document
from .versions import is_sidecar, record_sidecars


@dataclass
class IngestReport:
    """The outcome of one ingest run, per document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks_embedded: int = 0
    seconds: float = 0.0
    chunks_total: int = 0
    documents_total: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 3),
            "documents": self.documents_total,
            "chunks": self.chunks_total,
        }


def file_hash(path: Path, fingerprint: str) -> str:
    h = hashlib.sha256(fingerprint.encode())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def embedding_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: its document title and section path give it context."""
    head = " ".join(x for x in (doc.title, chunk.section) if x)
    return f"{head}\n{chunk.text}" if head else chunk.text


def keyword_tokens(doc: Document, chunk: Chunk) -> list[str]:
    """BM25 tokens of a chunk, with the title and section so questions naming the policy or article match."""
    return tokenize(f"{doc.title}\n{chunk.section}\n{chunk.text}")


def chunk_for_index(doc: Document, settings: Settings, index: Index) -> list[Chunk]:
    return chunk_document(
        doc,
        max_chars=settings.chunking.max_chars,
        min_chars=settings.chunking.min_chars,
        overlap_sentences=settings.chunking.overlap_sentences,
        token_len=index.embedder.count_tokens,
        max_tokens=token_limit(settings, index.embedder),
    )


def index_document(index: Index, doc: Document, content_hash: str) -> int:
    """Replace `doc` in the index; returns the number of chunks embedded."""
    chunks = chunk_for_index(doc, index.settings, index)
    tokens = [keyword_tokens(doc, c) for c in chunks]
    failpoint("chunked")
    index.catalog.begin_document(doc, content_hash, chunks, tokens)
    failpoint("catalog_pending")
    index.store.delete_document(doc.doc_id)
    failpoint("store_deleted")
    batch = max(index.settings.embedding.batch_size, 1)
    for i in range(0, len(chunks), batch):
        part = chunks[i : i + batch]
        vectors = index.embedder.embed_documents([embedding_text(doc, c) for c in part])
        failpoint("embedded")
        index.store.add(part, vectors, doc.meta, doc.title)
        failpoint("store_written")
    index.catalog.complete_document(doc.doc_id)
    failpoint("document_complete")
    return len(chunks)


@dataclass
class _Step:
    """What ingest does with one file, decided before any file is parsed."""

    job: ParseJob
    doc_id: str
    skip: str = ""  # why the file is reported as failed and left alone
    content_hash: str = ""
    unchanged: bool = False


def _plan(files: list[tuple[Path, Path]], known: dict[str, DocumentRecord], fingerprint: str) -> list[_Step]:
    """One step a file, in order: files holding a taken document id are skipped, unchanged ones left as they are."""
    steps: list[_Step] = []
    seen: dict[str, Path] = {}
    for n, (file, root) in enumerate(files):
        step = _Step(ParseJob(n, file, root), doc_id_for(file, root))
        steps.append(step)
        doc_id = step.doc_id
        if doc_id in seen:
            step.skip = f"same document id '{doc_id}' as {seen[doc_id]}; rename one of them (skipped)"
            continue
        seen[doc_id] = file
        record = known.get(doc_id)
        if record and record.path and Path(record.path) != file.resolve() and Path(record.path).exists():
            # Another folder's file already holds this id: replacing it would silently drop that document.
            step.skip = f"same document id '{doc_id}' as {record.path}, already indexed; rename one of them (skipped)"
            continue
        try:
            step.content_hash = file_hash(file, fingerprint)
        except OSError as exc:  # vanished or unreadable since discovery
            step.skip = f"cannot read file: {exc.strerror or exc}"
            continue
        step.unchanged = bool(record and record.status == "complete" and record.content_hash == step.content_hash)
    return steps


def _index_files(
    index: Index,
    settings: Settings,
    files: list[tuple[Path, Path]],
    known: dict[str, DocumentRecord],
    report: IngestReport,
    progress: ProgressFn | None,
) -> set[str]:
    """(Re)index the new and changed files, in order, as `open_parser` hands them over; returns the files' doc ids."""
    steps = _plan(files, known, settings.index_fingerprint())
    all_ids = {step.doc_id for step in steps}
    titles = {d.doc_id: d.title for d in known.values()}
    jobs = [step.job for step in steps if not step.skip and not step.unchanged]
    ocr = OCROptions.from_settings(settings)  # None when [ocr] enabled = false
    setup = ParseSetup(ocr, progress, len(files))
    with closing(open_parser(jobs, settings.ingest.workers, setup)) as parser:
        for step in steps:
            file, doc_id = step.job.file, step.doc_id
            if progress:
                progress(step.job.n, len(files), file.name)
            if step.skip:
                report.failed.append((str(file), step.skip))
                continue
            if step.unchanged:
                report.unchanged.append(doc_id)
                continue
            try:
                doc, versions = parser.take(step.job)
                # The parent's title is known here (attachments come last), and only here: it is not the parser's.
                doc.meta.update(attachment_meta(doc_id, all_ids, titles))  # 附件 files name their parent
                titles[doc_id] = doc.title
                doc.meta.update(versions)  # dates, history, repeals, region (assistant.versions)
                failpoint("parsed")
                doc.path = str(file.resolve())  # absolute, so a later run can tell the file was removed
                report.chunks_embedded += index_document(index, doc, step.content_hash)
            except DocumentError as exc:
                report.failed.append((exc.path, exc.reason))
                continue
            except OSError as exc:  # vanished or unreadable between discovery and reading
                report.failed.append((str(file), f"cannot read file: {exc.strerror or exc}"))
                continue
            (report.updated if doc_id in known else report.added).append(doc_id)
    return all_ids


def _prune_ocr_cache(index: Index, settings: Settings, since: float) -> None:
    """Drop the recognised pages of files that are no longer indexed (removed or changed), unless this ingest used
    them: the cache is what lets a killed OCR resume and a rebuild skip recognition, not an archive."""
    ocr = OCROptions.from_settings(settings)
    cache = ocr.cache() if ocr is not None else None
    if cache is None or not cache.directory.is_dir():
        return
    keep = {record.meta["ocr_key"] for record in index.catalog.documents() if record.meta.get("ocr_key")}
    cache.prune(keep, since)


def remove_document(index: Index, doc_id: str) -> None:
    index.store.delete_document(doc_id)
    index.catalog.remove_document(doc_id)


def ingest(
    paths: list[Path],
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: ProgressFn | None = None,
    index: Index | None = None,
    prune: bool = True,
) -> IngestReport:
    """Bring the index in line with the files under `paths`.

    New and changed documents are (re)indexed, documents that vanished from a folder
    that was ingested are removed (when `prune`), every bad file is reported in
    `failed` and the rest is still indexed.
    """
    started, since = time.perf_counter(), time.time()
    report = IngestReport()
    if rebuild:
        wipe_index(settings)
    own_index = index is None
    index = index or open_index(settings, create=True)
    try:
        files, errors = discover(paths)
        files = attachments_last(files)  # a parent's title is known when its attachment files are linked to it
        errors = [e for e in errors if not is_sidecar(e.path)]  # corpus.meta.csv is read below, not a document
        report.failed.extend((e.path, e.reason) for e in errors)
        known = {d.doc_id: d for d in index.catalog.documents()}
        seen = _index_files(index, settings, files, known, report, progress)
        if progress:
            progress(len(files), len(files), "")
        if prune:
            roots = {root.resolve() for _, root in files} | {p.resolve() for p in paths if p.is_dir()}
            for doc_id, record in known.items():
                if doc_id in seen or not record.path:
                    continue
                source = Path(record.path)
                if any(source.is_relative_to(r) for r in roots) and not source.exists():
                    failpoint("pruning")
                    remove_document(index, doc_id)
                    report.removed.append(doc_id)
        # A document left pending by an earlier crash whose file is gone must not linger half-indexed.
        for record in index.catalog.documents():
            if record.status != "complete" and record.doc_id not in seen:
                remove_document(index, record.doc_id)
                report.removed.append(record.doc_id)
        report.failed.extend(record_sidecars(index.catalog, paths, seen))
        _prune_ocr_cache(index, settings, since)
        failpoint("before_bm25")
        if not index.keywords.is_current():  # an unchanged folder re-ingests without rebuilding BM25
            index.keywords.rebuild()
        index.catalog.set_info(last_ingest=str(time.time()))
        report.documents_total, report.chunks_total = index.catalog.counts()
    finally:
        if own_index:
            index.close()
    report.seconds = time.perf_counter() - started
    return report
