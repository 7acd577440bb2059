"""The vector store: one Chroma collection, embedded on disk or on a Chroma server.

Vectors are computed by the caller (our embedder), so the collection never runs an
embedding function of its own and never downloads one. Chroma telemetry is off.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .config import StoreSettings
from .errors import IndexCorruptError, StoreUnavailableError
from .types import Chunk, Filters

CHROMA_SUBDIR = "chroma"


def date_to_int(date: str | None) -> int | None:
    """'2025-03-18' -> 20250318 (Chroma filters compare numbers, not strings)."""
    if not date:
        return None
    digits = date.replace("-", "")[:8]
    return int(digits) if digits.isdigit() and len(digits) == 8 else None


def make_client(settings: StoreSettings):
    """A Chroma client for the configured mode, with telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.mode == "server":
        headers = {}
        token = os.environ.get(settings.auth_token_env)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            client = chromadb.HttpClient(
                host=settings.host, port=settings.port, ssl=settings.ssl, headers=headers, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises a variety of connection errors
            scheme = "https" if settings.ssl else "http"
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {scheme}://{settings.host}:{settings.port} ({exc}). "
                "Start it with `chroma run --path DIR --port PORT` or use the embedded store."
            ) from exc
        return client
    path = settings.path / CHROMA_SUBDIR
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexCorruptError(
            f"The vector store in {path} cannot be opened ({exc}). Rebuild it with `assistant ingest --rebuild`."
        ) from exc


class VectorStore:
    """One Chroma collection holding the chunk vectors of one index."""

    def __init__(self, settings: StoreSettings, collection: str) -> None:
        self.settings = settings
        self.name = collection
        self._client = make_client(settings)
        try:
            self._col = self._client.get_or_create_collection(
                name=collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        except Exception as exc:
            raise IndexCorruptError(
                f"Collection {collection} cannot be opened ({exc}). Rebuild it with `assistant ingest --rebuild`."
            ) from exc

    @property
    def location(self) -> str:
        if self.settings.mode == "server":
            return f"{'https' if self.settings.ssl else 'http'}://{self.settings.host}:{self.settings.port}"
        return str(self.settings.path / CHROMA_SUBDIR)

    def count(self) -> int:
        return int(self._col.count())

    def add(self, chunks: list[Chunk], vectors: np.ndarray, doc_meta: dict[str, Any], title: str) -> None:
        """Upsert chunk vectors (ids are deterministic, so a repeated write never duplicates)."""
        if not chunks:
            return
        date = date_to_int(doc_meta.get("date"))
        metadatas = []
        for c in chunks:
            m: dict[str, Any] = {
                "doc_id": c.doc_id,
                "ordinal": c.ordinal,
                "section": c.section,
                "title": title,
                "issuer": doc_meta.get("issuer", ""),
                "pages": ",".join(str(p) for p in c.pages),
            }
            if date is not None:
                m["date"] = date
            metadatas.append(m)
        self._col.upsert(
            ids=[c.chunk_id for c in chunks],
            embeddings=np.asarray(vectors, dtype=np.float32).tolist(),
            documents=[c.text for c in chunks],
            metadatas=metadatas,
        )

    def delete_document(self, doc_id: str) -> None:
        self._col.delete(where={"doc_id": doc_id})

    def ids_for_document(self, doc_id: str) -> list[str]:
        return list(self._col.get(where={"doc_id": doc_id}, include=[])["ids"])

    def all_ids(self) -> list[str]:
        return list(self._col.get(include=[])["ids"])

    def search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """Top `k` (chunk_id, cosine similarity) for a query vector."""
        n = self.count()
        if n == 0:
            return []
        res = self._col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
            n_results=min(k, n),
            where=chroma_where(filters),
            include=["distances"],
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def drop(self) -> None:
        """Delete the whole collection (used by --rebuild)."""
        try:
            self._client.delete_collection(self.name)
        except Exception:  # already gone is fine for a rebuild
            pass


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """Translate Filters into a Chroma `where` clause (None when unfiltered)."""
    if filters is None or filters.is_empty():
        return None
    clauses: list[dict[str, Any]] = []
    if filters.doc_ids:
        clauses.append({"doc_id": {"$in": list(filters.doc_ids)}})
    if filters.issuers:
        clauses.append({"issuer": {"$in": list(filters.issuers)}})
    if (lo := date_to_int(filters.date_from)) is not None:
        clauses.append({"date": {"$gte": lo}})
    if (hi := date_to_int(filters.date_to)) is not None:
        clauses.append({"date": {"$lte": hi}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
