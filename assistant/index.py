"""Opening an index: the catalog, the Chroma collection and the BM25 side index, named by settings.

Layout under `store.path` (default `index/`):
    chroma/                          the embedded Chroma store (embedded mode only; in server
                                     mode the collection lives on the server)
    <collection>.catalog.sqlite3     manifest of documents, chunk texts and BM25 tokens
    <collection>.bm25/               the saved bm25s index
The collection name carries a hash of the embedding model and chunking settings, so
an index built with other settings is never silently reused.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bm25 import KeywordIndex
from .catalog import Catalog
from .config import Settings
from .embeddings import Embedder, load_embedder
from .errors import IndexCorruptError, IndexMissingError
from .store import VectorStore, destroy_embedded, drop_collection


def collection_name(settings: Settings) -> str:
    """`policy-<settings hash>`; in server mode also a hash of the index folder, so two index folders (two
    knowledge bases) sharing one Chroma server never share a collection. A server-mode index made before
    that (its catalog carries the old name) keeps its name."""
    name = f"policy-{settings.index_fingerprint()}"
    if settings.store.mode != "server":
        return name  # embedded: the collection lives in the folder's own chroma/
    folder = hashlib.sha256(str(settings.store.path.resolve()).encode()).hexdigest()[:8]
    if (settings.store.path / f"{name}.catalog.sqlite3").is_file():
        return name
    return f"{name}-{folder}"


def token_limit(settings: Settings, embedder: Embedder) -> int:
    cap = settings.embedding.max_tokens
    return min(cap, embedder.max_tokens) if cap else embedder.max_tokens


@dataclass
class Index:
    """Everything one index consists of, opened together."""

    settings: Settings
    embedder: Embedder
    catalog: Catalog
    store: VectorStore
    keywords: KeywordIndex

    @property
    def collection(self) -> str:
        return self.store.name

    def status(self) -> dict[str, Any]:
        """What is indexed: the fields `assistant status --json` prints."""
        docs, chunks = self.catalog.counts()
        last = self.catalog.get_info("last_ingest")
        return {
            "documents": docs,
            "chunks": chunks,
            "vectors": self.store.count(),
            "embedding_model": self.embedder.name,
            "embedding_dim": self.embedder.dim,
            "collection": self.collection,
            "path": str(self.settings.store.path),
            "store_mode": self.settings.store.mode,
            "store_location": self.store.location,
            "last_ingest": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(last))) if last else None,
            "pending": [d.doc_id for d in self.catalog.documents() if d.status != "complete"],
        }

    def close(self) -> None:
        self.catalog.close()


def _paths(settings: Settings) -> tuple[Path, Path]:
    base = settings.store.path
    name = collection_name(settings)
    return base / f"{name}.catalog.sqlite3", base / f"{name}.bm25"


def open_index(settings: Settings, *, embedder: Embedder | None = None, create: bool = False) -> Index:
    """Open the index for `settings`. Without `create`, a missing index raises IndexMissingError.

    The catalog and the vector store are opened before the embedding model is loaded, so a
    damaged index or an unreachable Chroma server is reported at once, not after a model load.
    """
    catalog_path, bm25_dir = _paths(settings)
    if not create and not catalog_path.is_file():
        raise IndexMissingError(
            f"No index for these settings in {settings.store.path}/ (collection {collection_name(settings)}). "
            "Run `assistant ingest corpus/` first (or pass --index DIR)."
        )
    catalog = Catalog(catalog_path)
    try:
        store = VectorStore(settings.store, collection_name(settings))
        _check_vectors(catalog, store)
        embedder = embedder or load_embedder(settings.embedding.model, settings.embedding.batch_size)
        try:
            catalog.set_info(embedding_model=embedder.name, collection=store.name)
        except (sqlite3.IntegrityError, sqlite3.OperationalError):  # e.g. "database is locked": not damage
            raise
        except sqlite3.DatabaseError as exc:  # a damaged page can pass the open and fail the first write
            raise IndexCorruptError(
                f"The index catalog {catalog_path} is damaged ({exc}). Rebuild it with `assistant ingest --rebuild`."
            ) from exc
    except BaseException:
        catalog.close()
        raise
    return Index(settings, embedder, catalog, store, KeywordIndex(bm25_dir, catalog))


def _check_vectors(catalog: Catalog, store: VectorStore) -> None:
    """Refuse an index whose catalog lists chunks while the vector store holds none.

    That is a deleted chroma/ directory, a Chroma server whose data was lost, or another
    server than the one the index was built on; answering from BM25 alone would hide it.
    """
    _, chunks = catalog.counts()
    if chunks and store.count() == 0:
        raise IndexCorruptError(
            f"The vector store {store.location} holds no vectors for collection {store.name}, but the catalog "
            f"{catalog.path} lists {chunks} chunks (vector data deleted, or a different Chroma server?). "
            "Rebuild it with `assistant ingest --rebuild`."
        )


def wipe_index(settings: Settings) -> None:
    """Remove this settings' collection, catalog and BM25 index (for `ingest --rebuild`).

    Server mode drops the collection on the server (an unreachable server is an error, not
    a reason to delete local files); embedded mode removes the whole chroma/ directory only
    when it is too damaged to drop one collection from.
    """
    catalog_path, bm25_dir = _paths(settings)
    try:
        drop_collection(settings.store, collection_name(settings))
    except IndexCorruptError:
        if settings.store.mode == "server":
            raise
        destroy_embedded(settings.store)  # a damaged store is exactly what a rebuild is for
    for suffix in ("", "-wal", "-shm"):
        Path(str(catalog_path) + suffix).unlink(missing_ok=True)
    # .tmp* also matches per-writer temporary directories (a rebuild that gives each writer its own).
    for d in (bm25_dir, bm25_dir.with_name(bm25_dir.name + ".old"), *bm25_dir.parent.glob(bm25_dir.name + ".tmp*")):
        shutil.rmtree(d, ignore_errors=True)
