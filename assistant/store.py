"""The vector store: one Chroma collection, embedded on disk or on a Chroma server.

Vectors are computed by the caller (our embedder), so the collection never runs an
embedding function of its own and never downloads one. Chroma telemetry is off.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import StoreSettings
from .errors import IndexCorruptError, IndexMissingError, StoreUnavailableError
from .types import Chunk, Filters

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.types import Metadata

CHROMA_SUBDIR = "chroma"


def date_to_int(date: str | None) -> int | None:
    """'2025-03-18' -> 20250318 (Chroma filters compare numbers, not strings)."""
    if not date:
        return None
    digits = date.replace("-", "")[:8]
    return int(digits) if digits.isdigit() and len(digits) == 8 else None


def server_url(settings: StoreSettings) -> str:
    return f"{'https' if settings.ssl else 'http'}://{settings.host}:{settings.port}"


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception: chromadb wraps "connection refused" in a generic ValueError."""
    while (inner := exc.__cause__ or exc.__context__) is not None and inner is not exc:
        exc = inner
    return exc


def unreachable(settings: StoreSettings, exc: BaseException, *, lost: bool = False) -> StoreUnavailableError:
    """The error for a Chroma server that cannot be reached: names the URL and how to fix it."""
    root = _root_cause(exc)
    what = "Lost the connection to" if lost else "Cannot reach"
    return StoreUnavailableError(
        f"{what} the Chroma server at {server_url(settings)} ({type(root).__name__}: {root}). "
        f"Start it with `chroma run --path DIR --host {settings.host} --port {settings.port}`, "
        "or drop --store / ASSISTANT_STORE_URL to use the embedded store."
    )


def _forget_embedded(path: Path) -> None:
    """Evict chromadb's per-process cached client system for `path`.

    chromadb caches one System per directory, even one whose start failed on a damaged
    file, so without this a rebuild in the same process would reuse the broken one.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)


def make_client(settings: StoreSettings) -> ClientAPI:
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
            raise unreachable(settings, exc) from exc
        return client
    path = settings.path / CHROMA_SUBDIR
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        _forget_embedded(path)
        raise IndexCorruptError(
            f"The vector store in {path} cannot be opened ({exc}). Rebuild it with `assistant ingest --rebuild`."
        ) from exc


def drop_collection(settings: StoreSettings, name: str) -> None:
    """Delete collection `name` (for `ingest --rebuild`); a collection that does not exist is fine.

    Server mode: an unreachable server raises StoreUnavailableError, never touches local files.
    Embedded mode: a store too damaged to open or to drop from raises IndexCorruptError;
    `destroy_embedded` is then the way out.
    """
    from chromadb.errors import NotFoundError

    client = make_client(settings)
    try:
        client.delete_collection(name)
    except NotFoundError:
        return
    except Exception as exc:
        if settings.mode == "server":
            if _is_transport_error(exc):
                raise unreachable(settings, exc, lost=True) from exc
            raise StoreUnavailableError(
                f"The Chroma server at {server_url(settings)} refused to drop collection {name} ({exc})."
            ) from exc
        raise IndexCorruptError(f"Collection {name} in {settings.path / CHROMA_SUBDIR} cannot be dropped ({exc}).") from exc


def destroy_embedded(settings: StoreSettings) -> None:
    """Remove the whole embedded Chroma directory (every collection in it): the last resort for a damaged store."""
    path = settings.path / CHROMA_SUBDIR
    _forget_embedded(path)
    shutil.rmtree(path, ignore_errors=True)


def _is_transport_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError) or isinstance(_root_cause(exc), (httpx.TransportError, ConnectionError))


class VectorStore:
    """One Chroma collection holding the chunk vectors of one index."""

    def __init__(self, settings: StoreSettings, collection: str) -> None:
        self.settings = settings
        self.name = collection
        self._client = make_client(settings)
        try:
            with self._guard():
                self._col = self._client.get_or_create_collection(
                    name=collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
        except StoreUnavailableError:
            raise
        except Exception as exc:
            if settings.mode == "server":  # the server answered but refused: auth, quota, version
                raise StoreUnavailableError(
                    f"The Chroma server at {server_url(settings)} refused to open collection {collection} ({exc}). "
                    f"If it requires a token, put it in ${settings.auth_token_env}."
                ) from exc
            raise IndexCorruptError(
                f"Collection {collection} in {self.location} cannot be opened ({exc}). "
                "Rebuild it with `assistant ingest --rebuild`."
            ) from exc

    @property
    def location(self) -> str:
        if self.settings.mode == "server":
            return server_url(self.settings)
        return str(self.settings.path / CHROMA_SUBDIR)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn the errors of a server that went away mid-run into StoreUnavailableError.

        A collection dropped under us (`ingest --rebuild` by another process) becomes
        IndexMissingError instead of a chromadb traceback. No transparent reopen: that
        rebuild also replaced the catalog file this index holds open.
        """
        from chromadb.errors import NotFoundError

        try:
            yield
        except NotFoundError as exc:
            raise IndexMissingError(
                f"Collection {self.name} is gone from {self.location}: an `assistant ingest --rebuild` elsewhere "
                "dropped it while this index was open. Run the command again (or restart `assistant serve`) "
                "once that ingest has finished."
            ) from exc
        except Exception as exc:
            if self.settings.mode == "server" and _is_transport_error(exc):
                raise unreachable(self.settings, exc, lost=True) from exc
            raise

    def count(self) -> int:
        with self._guard():
            return int(self._col.count())

    def add(self, chunks: list[Chunk], vectors: np.ndarray, doc_meta: dict[str, Any], title: str) -> None:
        """Upsert chunk vectors (ids are deterministic, so a repeated write never duplicates)."""
        if not chunks:
            return
        date = date_to_int(doc_meta.get("date"))
        metadatas: list[Metadata] = []
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
        with self._guard():
            self._col.upsert(
                ids=[c.chunk_id for c in chunks],
                embeddings=np.asarray(vectors, dtype=np.float32).tolist(),
                documents=[c.text for c in chunks],
                metadatas=metadatas,
            )

    def delete_document(self, doc_id: str) -> None:
        with self._guard():
            self._col.delete(where={"doc_id": doc_id})

    def ids_for_document(self, doc_id: str) -> list[str]:
        with self._guard():
            return list(self._col.get(where={"doc_id": doc_id}, include=[])["ids"])

    def all_ids(self) -> list[str]:
        with self._guard():
            return list(self._col.get(include=[])["ids"])

    def search(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """Top `k` (chunk_id, cosine similarity) for a query vector."""
        n = self.count()
        if n == 0:
            return []
        with self._guard():
            res = self._col.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                n_results=min(k, n),
                where=chroma_where(filters),
                include=["distances"],
            )
        distances = (res["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], distances, strict=True)]

    def drop(self) -> None:
        """Delete the whole collection (used by --rebuild)."""
        drop_collection(self.settings, self.name)


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
