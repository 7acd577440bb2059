"""Retrieval benchmark: quality (hit@k, MRR) per stage on/off, latency, refusal calibration.

    .venv/bin/python bench/query.py [--dataset cn_policy_regs] [--index DIR] [--synthetic 100000]

Reads ../shared/datasets/<name> when present (says so when absent and falls back to the
sample corpus and eval/sample_suite.jsonl). Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.metrics import percentile  # noqa: E402
from assistant.runtime import configure_process  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"


def load_questions(dataset: str) -> tuple[Path, list[dict]]:
    if dataset == "sample":
        return ROOT / "corpus", [json.loads(x) for x in (ROOT / "eval" / "sample_suite.jsonl").open(encoding="utf-8")]
    d = SHARED / dataset
    if not d.is_dir():
        print(f"{d} is absent: falling back to the sample corpus.")
        return load_questions("sample")
    return d / "docs", [json.loads(x) for x in (d / "qa_dev.jsonl").open(encoding="utf-8")]


def score(ranked_docs: list[list[str]], questions: list[dict], k: int = 5) -> tuple[float, float, float]:
    hits1 = hits = rr = 0.0
    for docs, q in zip(ranked_docs, questions, strict=True):
        gold = {q["doc_id"], *(q.get("alt_doc_ids") or [])}
        seen: list[str] = list(dict.fromkeys(docs))
        for rank, d in enumerate(seen[:k], 1):
            if d in gold:
                hits += 1
                hits1 += rank == 1
                rr += 1 / rank
                break
    n = max(len(questions), 1)
    return hits1 / n, hits / n, rr / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dataset", default="cn_policy_regs")
    ap.add_argument("--index", type=Path, default=None, help="Index dir (default: /tmp/bench-<dataset>)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--synthetic", type=int, default=0, help="Also time retrieval on a synthetic index of N chunks")
    ap.add_argument("--no-peer", action="store_true", help="Skip the plain llama-index retriever")
    ap.add_argument(
        "--rerank", default="proxy", metavar="MODEL",
        help="CrossEncoder for the 'fused + rerank' row: a local path or hub name; 'proxy' (default) times the "
        "bundled all-MiniLM-L6-v2 weights as a cross-encoder (the size of the common ms-marco-MiniLM-L-6 "
        "rerankers; its scoring head is untrained, so only its latency is reported); 'none' skips the row",
    )
    args = ap.parse_args()
    configure_process()

    from assistant.config import load_settings
    from assistant.index import open_index
    from assistant.ingest import ingest
    from assistant.retrieval import Retriever

    docs_dir, questions = load_questions(args.dataset)
    index_dir = args.index or Path(f"/tmp/bench-{args.dataset}")
    settings = load_settings(store={"path": index_dir})
    t = time.perf_counter()
    report = ingest([docs_dir], settings)
    print(f"index: {index_dir} ({report.documents_total} docs, {report.chunks_total} chunks; ingest {time.perf_counter() - t:.1f}s)")
    answerable = [q for q in questions if q.get("answerable", True) and q.get("doc_id")]
    if args.limit:
        answerable = answerable[: args.limit]
    idx = open_index(settings)
    base = settings.retrieval
    configs = {
        "dense only": {"bm25": False, "title_boost": False, "article_boost": False, "neighbours": False},
        "bm25 only": {"dense": False, "title_boost": False, "article_boost": False, "neighbours": False},
        "fused (RRF)": {"title_boost": False, "article_boost": False, "neighbours": False},
        "fused + title": {"article_boost": False, "neighbours": False},
        "fused + title + article": {"neighbours": False},
        "full (default)": {},
    }
    reranker = load_reranker(args.rerank)
    if reranker is not None:
        configs["full + rerank"] = {}
    rows = []
    for name, overrides in configs.items():
        r = Retriever(idx, base.model_copy(update=overrides), reranker=reranker if "rerank" in name else None)
        r.retrieve(answerable[0]["question"])  # warm-up (model load, BM25 load)
        ranked, lat = [], []
        for q in answerable:
            s = time.perf_counter()
            res = r.retrieve(q["question"], top_k=5)
            lat.append(time.perf_counter() - s)
            ranked.append([p.doc_id for p in res.passages])
        h1, h5, mrr = score(ranked, answerable)
        if "rerank" in name and args.rerank == "proxy":
            name, h1, h5, mrr = "full + rerank (proxy)", float("nan"), float("nan"), float("nan")
        rows.append((name, h1, h5, mrr, statistics.median(lat) * 1000, (percentile(lat, 95) or 0.0) * 1000))
    if not args.no_peer:
        rows.append(peer_row(idx, answerable))
    print(f"\nRetrieval quality on {args.dataset}: {len(answerable)} answerable questions, top 5, gold = doc_id")
    print(f"| {'pipeline':26} | hit@1 | hit@5 |  MRR  | p50 ms | p95 ms |")
    print(f"|{'-' * 28}|-------|-------|-------|--------|--------|")
    for name, h1, h5, mrr, p50, p95 in rows:
        h1s, h5s, mrrs = ("  n/a" if x != x else f"{x:.3f}" for x in (h1, h5, mrr))  # NaN: not measured
        print(f"| {name:26} | {h1s} | {h5s} | {mrrs} | {p50:6.1f} | {p95:6.1f} |")
    calibrate(idx, settings, questions)
    if args.synthetic:
        synthetic_latency(args.synthetic, settings, reranker)


def load_reranker(name: str):
    """The CrossEncoder for the rerank rows, or None."""
    if name == "none":
        return None
    from sentence_transformers import CrossEncoder

    from assistant.embeddings import _resolve_st_path

    if name == "proxy":
        import logging

        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)  # "head newly initialised" is expected
        return CrossEncoder(_resolve_st_path("all-minilm-l6-v2"), num_labels=1, device="cpu")
    return CrossEncoder(name, device="cpu")


def peer_row(idx, questions: list[dict]) -> tuple:
    """llama-index's plain dense retriever (VectorStoreIndex over the same Chroma collection and embedder)."""
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from assistant.embeddings import as_llama_index

    store = ChromaVectorStore(chroma_collection=idx.store._col)
    li = VectorStoreIndex.from_vector_store(store, embed_model=as_llama_index(idx.embedder))
    retriever = li.as_retriever(similarity_top_k=5)
    retriever.retrieve(questions[0]["question"])
    ranked, lat = [], []
    for q in questions:
        s = time.perf_counter()
        nodes = retriever.retrieve(q["question"])
        lat.append(time.perf_counter() - s)
        ranked.append([n.node.metadata.get("doc_id", "") for n in nodes])
    h1, h5, mrr = score(ranked, questions)
    return ("llama-index dense (peer)", h1, h5, mrr, statistics.median(lat) * 1000, (percentile(lat, 95) or 0.0) * 1000)


def calibrate(idx, settings, questions: list[dict]) -> None:
    """Refusal accuracy / false-refusal rate of the evidence threshold, over every question."""
    from assistant import evidence
    from assistant.engine import Engine

    labelled = [q for q in questions if "answerable" in q]
    if not any(not q["answerable"] for q in labelled):
        return
    engine = Engine(settings.model_copy(deep=True), index=idx)
    data = []
    for q in labelled:
        res = engine.retrieve(q["question"])
        data.append((q["answerable"], res))
    print(f"\nRefusal calibration: {sum(not a for a, _ in data)} unanswerable, {sum(a for a, _ in data)} answerable")
    print("| threshold | refusal accuracy | false-refusal rate |")
    print("|-----------|------------------|--------------------|")
    for threshold in (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        engine.settings.retrieval.refusal_threshold = threshold
        refused = [
            (a, evidence.weak(res.passages, evidence.named_found(res.named_title_found, res.named_titles, res.passages), engine.settings.retrieval.refusal_threshold))
            for a, res in data
        ]
        unans = [r for a, r in refused if not a]
        ans = [r for a, r in refused if a]
        print(f"| {threshold:9.2f} | {sum(unans) / len(unans):16.3f} | {sum(ans) / max(len(ans), 1):18.3f} |")


def synthetic_latency(n: int, settings, reranker=None) -> None:
    """Retrieval latency on a synthetic index of n chunks (random sentences drawn from the sample corpus)."""
    import random

    import numpy as np

    from assistant.config import load_settings
    from assistant.index import open_index
    from assistant.ingest import keyword_tokens
    from assistant.retrieval import Retriever
    from assistant.textutil import split_sentences
    from assistant.types import Chunk, Document

    rng = random.Random(0)
    sentences = []
    for f in (ROOT / "corpus").glob("*.md"):
        text = f.read_text(encoding="utf-8")
        sentences += [text[s:e] for s, e in split_sentences(text) if e - s > 10]
    path = Path(f"/tmp/bench-synthetic-{n}")
    s = load_settings(store={"path": path})
    idx = open_index(s, create=True)
    if idx.catalog.counts()[1] < n:
        dim = idx.embedder.dim
        per_doc = 100
        t = time.perf_counter()
        for d in range(n // per_doc):
            texts = [" ".join(rng.sample(sentences, 3)) for _ in range(per_doc)]
            doc = Document(doc_id=f"syn-{d}", path="", title=f"合成文件{d}", text="\n".join(texts), doc_type="txt")
            chunks, pos = [], 0
            for i, tx in enumerate(texts):
                chunks.append(Chunk(chunk_id=f"syn-{d}#{i}", doc_id=doc.doc_id, ordinal=i, text=tx, start=pos, end=pos + len(tx)))
                pos += len(tx) + 1
            vecs = np.asarray([rng.gauss(0, 1) for _ in range(per_doc * dim)], dtype=np.float32).reshape(per_doc, dim)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            idx.catalog.begin_document(doc, "syn", chunks, [keyword_tokens(doc, c) for c in chunks])
            idx.store.add(chunks, vecs, {}, doc.title)
            idx.catalog.complete_document(doc.doc_id)
        idx.keywords.rebuild()
        print(f"built synthetic index of {n} chunks in {time.perf_counter() - t:.0f}s")
    queries = [" ".join(rng.sample(sentences, 1))[:30] for _ in range(50)]
    print(f"\nRetrieval latency, synthetic index of {idx.catalog.counts()[1]} chunks (50 queries)")
    print("| stage          | p50 ms | p95 ms |")
    print("|----------------|--------|--------|")
    stages = [("dense", {"bm25": False}), ("bm25", {"dense": False}), ("fused", {})]
    if reranker is not None:
        stages.append(("fused + rerank", {}))
    for name, overrides in stages:
        r = Retriever(idx, s.retrieval.model_copy(update=overrides), reranker=reranker if "rerank" in name else None)
        r.retrieve(queries[0])
        lat = []
        for q in queries:
            t = time.perf_counter()
            r.retrieve(q)
            lat.append(time.perf_counter() - t)
        print(f"| {name:14} | {statistics.median(lat) * 1000:6.1f} | {(percentile(lat, 95) or 0.0) * 1000:6.1f} |")


if __name__ == "__main__":
    main()
