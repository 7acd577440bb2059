"""The catalog: a SQLite manifest of documents and their chunks, kept beside the vector store.

It is the source of truth for what the index holds. Each document row moves
`pending` -> `complete`; a document left `pending` by a crash is redone on the next
ingest, so the vector store can always be brought back in line with it. Chunk texts
and their BM25 tokens live here too, so the keyword index can be rebuilt without
re-reading or re-tokenising any file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import IndexCorruptError
from .types import Chunk, Document, PageSpan

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'complete')),
    n_chunks INTEGER NOT NULL DEFAULT 0,
    meta TEXT NOT NULL DEFAULT '{}',
    pages TEXT NOT NULL DEFAULT '[]',
    text TEXT NOT NULL DEFAULT '',
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    section TEXT NOT NULL,
    pages TEXT NOT NULL,
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, ordinal);
"""


@dataclass
class DocumentRecord:
    """A document as the catalog knows it (without its full text unless asked)."""

    doc_id: str
    path: str
    title: str
    doc_type: str
    content_hash: str
    status: str
    n_chunks: int
    meta: dict[str, str] = field(default_factory=dict)
    ingested_at: float = 0.0


@dataclass
class ChunkRecord:
    """A stored chunk with its document's title and metadata joined in."""

    chunk: Chunk
    title: str
    meta: dict[str, str]
    tokens: list[str] = field(default_factory=list)


class Catalog:
    """SQLite manifest of one index (one collection). Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(
                f"The index catalog {path} is damaged ({exc}). Rebuild it with `assistant ingest --rebuild`."
            ) from exc
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except (sqlite3.IntegrityError, sqlite3.OperationalError):  # a bug or a lock, not damage
                raise
            except sqlite3.DatabaseError as exc:
                raise IndexCorruptError(
                    f"The index catalog {self.path} is damaged ({exc}). Rebuild it with `assistant ingest --rebuild`."
                ) from exc

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(args)).fetchall()
            except sqlite3.DatabaseError as exc:
                raise IndexCorruptError(
                    f"The index catalog {self.path} is damaged ({exc}). Rebuild it with `assistant ingest --rebuild`."
                ) from exc

    # ----- info -----
    def get_info(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM info WHERE key=?", (key,))
        return rows[0][0] if rows else default

    def set_info(self, **values: str) -> None:
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO info(key, value) VALUES (?, ?)", list(values.items()))

    def generation(self) -> int:
        """A counter bumped on every change of the chunk set (the BM25 index records the one it was built from)."""
        return int(self.get_info("generation", "0") or 0)

    # ----- documents -----
    def documents(self) -> list[DocumentRecord]:
        rows = self._query(
            "SELECT doc_id, path, title, doc_type, content_hash, status, n_chunks, meta, ingested_at"
            " FROM documents ORDER BY doc_id"
        )
        return [
            DocumentRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8]) for r in rows
        ]

    def document(self, doc_id: str) -> DocumentRecord | None:
        return next((d for d in self.documents() if d.doc_id == doc_id), None)

    def document_text(self, doc_id: str) -> Document | None:
        rows = self._query(
            "SELECT doc_id, path, title, doc_type, meta, pages, text FROM documents WHERE doc_id=?", (doc_id,)
        )
        if not rows:
            return None
        r = rows[0]
        pages = [PageSpan(**p) for p in json.loads(r[5])]
        return Document(doc_id=r[0], path=r[1], title=r[2], doc_type=r[3], text=r[6], pages=pages, meta=json.loads(r[4]))

    def begin_document(self, doc: Document, content_hash: str, chunks: list[Chunk], tokens: list[list[str]]) -> None:
        """Record `doc` as pending with its new chunks, replacing any earlier version, in one transaction."""
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.doc_id,))
            db.execute(
                "INSERT OR REPLACE INTO documents(doc_id, path, title, doc_type, content_hash, status, n_chunks,"
                " meta, pages, text, ingested_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                (
                    doc.doc_id,
                    doc.path,
                    doc.title,
                    doc.doc_type,
                    content_hash,
                    len(chunks),
                    json.dumps(doc.meta, ensure_ascii=False),
                    json.dumps([p.__dict__ for p in doc.pages]),
                    doc.text,
                    now,
                ),
            )
            db.executemany(
                'INSERT INTO chunks(chunk_id, doc_id, ordinal, text, start, "end", section, pages, tokens)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (c.chunk_id, c.doc_id, c.ordinal, c.text, c.start, c.end, c.section, json.dumps(c.pages),
                     json.dumps(t, ensure_ascii=False))
                    for c, t in zip(chunks, tokens, strict=True)
                ],
            )

    def complete_document(self, doc_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE documents SET status='complete' WHERE doc_id=?", (doc_id,))
            db.execute(
                "INSERT INTO info(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
                " DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    def remove_document(self, doc_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            db.execute(
                "INSERT INTO info(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
                " DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    # ----- chunks -----
    _CHUNK_SELECT = (
        'SELECT c.chunk_id, c.doc_id, c.ordinal, c.text, c.start, c."end", c.section, c.pages, d.title, d.meta'
        " FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
    )

    @staticmethod
    def _record(row: tuple, tokens: str | None = None) -> ChunkRecord:
        chunk = Chunk(
            chunk_id=row[0], doc_id=row[1], ordinal=row[2], text=row[3], start=row[4], end=row[5],
            section=row[6], pages=json.loads(row[7]),
        )
        return ChunkRecord(chunk=chunk, title=row[8], meta=json.loads(row[9]), tokens=json.loads(tokens) if tokens else [])

    def chunks(self, chunk_ids: list[str], *, complete_only: bool = False) -> dict[str, ChunkRecord]:
        """Chunk records by id (missing ids are left out; with `complete_only`, so are chunks of pending documents)."""
        out: dict[str, ChunkRecord] = {}
        status = " AND d.status='complete'" if complete_only else ""
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for row in self._query(f"{self._CHUNK_SELECT} WHERE c.chunk_id IN ({marks}){status}", part):
                out[row[0]] = self._record(row)
        return out

    def doc_chunks(self, doc_id: str) -> list[ChunkRecord]:
        rows = self._query(f"{self._CHUNK_SELECT} WHERE c.doc_id=? ORDER BY c.ordinal", (doc_id,))
        return [self._record(r) for r in rows]

    def chunk_at(self, doc_id: str, ordinal: int) -> ChunkRecord | None:
        rows = self._query(f"{self._CHUNK_SELECT} WHERE c.doc_id=? AND c.ordinal=?", (doc_id, ordinal))
        return self._record(rows[0]) if rows else None

    def complete_chunk_tokens(self, page: int = 2000) -> Iterator[tuple[str, list[str]]]:
        """(chunk id, tokens) of every chunk of a complete document, in a stable order (for BM25), read `page` rows
        at a time: a large index never has all its tokens in memory as text at once."""
        after: tuple[str, int] = ("", -1)
        while True:
            rows = self._query(
                "SELECT c.chunk_id, c.tokens, c.doc_id, c.ordinal FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
                " WHERE d.status='complete' AND (c.doc_id, c.ordinal) > (?, ?) ORDER BY c.doc_id, c.ordinal LIMIT ?",
                (*after, page),
            )
            for chunk_id, tokens, _, _ in rows:
                yield chunk_id, json.loads(tokens)
            if len(rows) < page:
                return
            after = (rows[-1][2], rows[-1][3])

    def chunk_ids_by_document(self) -> dict[str, list[str]]:
        """doc_id -> chunk ids, for every complete document (retrieval's edition filter needs no chunk texts)."""
        out: dict[str, list[str]] = {}
        rows = self._query(
            "SELECT c.doc_id, c.chunk_id FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
            " WHERE d.status='complete' ORDER BY c.doc_id, c.ordinal"
        )
        for doc_id, chunk_id in rows:
            out.setdefault(doc_id, []).append(chunk_id)
        return out

    def counts(self) -> tuple[int, int]:
        """(complete documents, their chunks)."""
        rows = self._query("SELECT COUNT(*), COALESCE(SUM(n_chunks), 0) FROM documents WHERE status='complete'")
        return int(rows[0][0]), int(rows[0][1])
