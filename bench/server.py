"""Embedded vs server Chroma: ingest throughput and retrieval latency, same process, same corpus.

    .venv/bin/python bench/server.py [--docs corpus/] [--store http://127.0.0.1:8000] [--rounds 2]

Without --store a throwaway `chroma run` is started on a free port (and stopped at the end).
Embedding dominates ingest time and is the same for both stores, so texts are embedded once
up front (reported as its own row) and both ingests reuse those vectors: the ingest rows then
measure what the store changes (parsing, chunking, catalog, BM25 and the vector writes).
Queries are the sample suite's questions, retrieval only (no LLM). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.metrics import percentile  # noqa: E402
from assistant.local_servers import local_chroma  # noqa: E402
from assistant.runtime import configure_process  # noqa: E402


class MemoEmbedder:
    """The real embedder, remembering document vectors so a second ingest of the same texts costs no embedding."""

    def __init__(self, inner) -> None:  # inner: assistant.embeddings.Embedder
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.memo: dict[str, np.ndarray] = {}
        self.seconds = 0.0
        self.embedded = 0

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.inner.embed_documents(missing), strict=True):
                self.memo[text] = vector
            self.seconds += time.perf_counter() - started
            self.embedded += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.memo[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


@contextmanager
def chroma_server(url: str | None, workdir: Path) -> Iterator[tuple[str, int]]:
    """(host, port) of the server at `url`, or of one started here until the block ends."""
    if url:
        parsed = urlparse(url)
        yield parsed.hostname or "127.0.0.1", parsed.port or 8000
        return
    with local_chroma(workdir / "chroma-server") as server:
        yield server.host, server.port


def timed_store_writes(index) -> list[float]:
    """Wrap the index's VectorStore add/delete to sum the time spent writing vectors."""
    spent = [0.0]
    store = index.store
    for name in ("add", "delete_document"):
        method = getattr(store, name)

        def wrapper(*args, _method=method, **kwargs):
            started = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        setattr(store, name, wrapper)
    return spent


def bench_mode(mode: str, settings, docs: Path, embedder: MemoEmbedder, questions: list[str], rounds: int) -> dict:
    from assistant.index import open_index, wipe_index
    from assistant.ingest import ingest
    from assistant.retrieval import Retriever

    wipe_index(settings)
    index = open_index(settings, embedder=embedder, create=True)
    try:
        store_seconds = timed_store_writes(index)
        started = time.perf_counter()
        report = ingest([docs], settings, index=index)
        seconds = time.perf_counter() - started
        retriever = Retriever(index, settings.retrieval)
        retriever.retrieve(questions[0])  # warm-up: BM25 load, title cache, first HTTP connection
        vectors = [embedder.embed_query(q) for q in questions]
        total, store, dense_used = [], [], 0
        for _ in range(rounds):
            for q, v in zip(questions, vectors, strict=True):
                t = time.perf_counter()
                result = retriever.retrieve(q)
                total.append(time.perf_counter() - t)
                dense_used += "dense" in result.timings  # retrieval skips dense search for some questions
                t = time.perf_counter()
                index.store.search(v, settings.retrieval.candidates)
                store.append(time.perf_counter() - t)
        status = index.status()
    finally:
        index.close()
        wipe_index(settings)
    return {
        "mode": mode, "location": status["store_location"], "chunks": report.chunks_total, "seconds": seconds,
        "store_seconds": store_seconds[0], "total": total, "store": store, "dense_used": dense_used,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=Path, default=ROOT / "corpus")
    ap.add_argument("--store", default=None, help="URL of a running Chroma server (default: start one)")
    ap.add_argument("--rounds", type=int, default=2, help="Passes over the questions per mode")
    args = ap.parse_args()
    configure_process()

    from assistant.config import load_settings
    from assistant.embeddings import load_embedder
    from assistant.index import open_index
    from assistant.ingest import ingest

    questions = [json.loads(x)["question"] for x in (ROOT / "eval" / "sample_suite.jsonl").open(encoding="utf-8")]
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        work = Path(tmp)
        base = load_settings(store={"path": work / "warm"}, llm={"backend": "extractive"})
        embedder = MemoEmbedder(load_embedder(base.embedding.model, base.embedding.batch_size))
        embedder.inner.embed_documents(["warm-up"])
        warm = open_index(base, embedder=embedder, create=True)
        try:
            warm_report = ingest([args.docs], base, index=warm)
        finally:
            warm.close()
        rows = []
        with chroma_server(args.store, work) as (host, port):
            for mode, store in (
                ("embedded", {"path": work / "embedded"}),
                ("server", {"path": work / "server", "mode": "server", "host": host, "port": port}),
            ):
                settings = load_settings(store=store, llm={"backend": "extractive"})
                rows.append(bench_mode(mode, settings, args.docs, embedder, questions, args.rounds))

    print(f"corpus: {args.docs} ({warm_report.documents_total} docs, {warm_report.chunks_total} chunks); "
          f"{len(questions)} questions x {args.rounds} rounds; model {embedder.name}")
    print(f"embedding (once, shared by both modes): {embedder.embedded / embedder.seconds:.1f} chunks/s "
          f"({embedder.embedded} chunks in {embedder.seconds:.1f}s)\n")
    head = ("store", "ingest chunks/s*", "vector writes s", "query p50 ms", "query p95 ms", "store search p50 ms")
    print(" | ".join(f"{h:>19}" for h in head))
    print("-|-".join("-" * 19 for _ in head))
    for r in rows:
        cells = (
            r["mode"], f"{r['chunks'] / r['seconds']:.1f}", f"{r['store_seconds']:.2f}",
            f"{statistics.median(r['total']) * 1000:.1f}", f"{(percentile(r['total'], 95) or 0.0) * 1000:.1f}",
            f"{statistics.median(r['store']) * 1000:.1f}",
        )
        print(" | ".join(f"{c:>19}" for c in cells))
    n = len(rows[0]["total"])
    print(f"\n* embedding excluded (vectors reused). query = Retriever.retrieve (retrieval only, no LLM; dense search "
          f"ran for {rows[0]['dense_used']}/{n} questions). store search = VectorStore.search alone, "
          f"{load_settings().retrieval.candidates} candidates, precomputed query vector.")


if __name__ == "__main__":
    main()
