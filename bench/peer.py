"""Side by side: our Engine vs. the plain llama-index pipeline a user would otherwise build.

The peer is `VectorStoreIndex` + `ChromaVectorStore` + the same embedding model
(`assistant.embeddings.as_llama_index`) + the default `SentenceSplitter` + `CitationQueryEngine`
with the same answer backend. Both sides read the same document text (our loaders), are asked
the same suite through the same runner, and are scored by the same metrics
(`assistant.evaluation`), so the rows of the table differ only in the pipeline.

    python bench/peer.py --dataset sample --llm extractive
    python bench/peer.py --dataset cn_policy_regs --llm extractive --limit 100
    python bench/peer.py --dataset sample --llm local --limit 8

Datasets other than `sample` are read from ../shared/datasets (or $ASSISTANT_DATASETS) when present.
Indexes and runs are cached under --work (default /tmp/peer-bench) and resumed on the next call;
--fresh discards earlier results (after a code change).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.runtime import configure_process  # noqa: E402

configure_process()

from llama_index.core import Document as LIDocument  # noqa: E402
from llama_index.core import StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata  # noqa: E402
from llama_index.core.llms.callbacks import llm_completion_callback  # noqa: E402
from llama_index.core.node_parser import SentenceSplitter  # noqa: E402
from llama_index.core.query_engine import CitationQueryEngine  # noqa: E402
from llama_index.core.schema import QueryBundle  # noqa: E402
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters  # noqa: E402

from assistant.citations import verify  # noqa: E402
from assistant.config import Settings, load_settings  # noqa: E402
from assistant.documents import discover, doc_id_for, load_document  # noqa: E402
from assistant.embeddings import as_llama_index, load_embedder  # noqa: E402
from assistant.engine import Engine  # noqa: E402
from assistant.errors import DocumentError  # noqa: E402
from assistant.evaluation import load_suite, run_suite  # noqa: E402
from assistant.evaluation.runner import RESULTS_FILE  # noqa: E402
from assistant.evaluation.suite import SuiteItem  # noqa: E402
from assistant.ingest import ingest  # noqa: E402
from assistant.llm import GenerationRequest, make_backend  # noqa: E402
from assistant.prompts import is_refusal  # noqa: E402
from assistant.textutil import language_of  # noqa: E402
from assistant.types import Answer, Filters, Passage  # noqa: E402

SHARED = Path(os.environ.get("ASSISTANT_DATASETS", ROOT.parent / "shared" / "datasets"))
DATASETS = ("sample", "cn_policy_regs", "policyqa_en", "bj_gov_faq_zh")
TOP_K = 5  # both sides; CitationQueryEngine's own default (2) would make hit@5 impossible
PEER_CHUNK = 1024  # SentenceSplitter's default chunk size; also the citation chunk size, so sources = chunks
TABLE = [
    ("hit@1", "hit_at_1"), ("hit@5", "hit_at_5"), ("MRR", "mrr"), ("contain", "answer_containment"),
    ("F1", "answer_f1"), ("choice", "choice_accuracy"), ("refusal", "refusal_accuracy"),
    ("false-ref", "false_refusal_rate"), ("cite-prec", "citation_precision"), ("p50 s", "latency_p50_s"),
]
# Refusals of a model not prompted with our refusal sentence.
PEER_REFUSALS = re.compile(
    r"^empty response|(?:do(?:es)? not|don't) (?:contain|mention|provide|specify|include)|not (?:mentioned|provided|specified)"
    r"|(?:没有|未)(?:提及|提到|找到|说明|规定)|无法(?:回答|确定)", re.I,
)


def dataset_paths(name: str) -> tuple[Path, Path]:
    """(documents folder, suite file) of a dataset; exits with a message when it is absent."""
    if name == "sample":
        return ROOT / "corpus", ROOT / "eval" / "sample_suite.jsonl"
    base = SHARED / name
    if not (base / "docs").is_dir() or not (base / "qa_dev.jsonl").is_file():
        sys.exit(f"Dataset {name} not found at {base} (benchmarks read ../shared/datasets when present).")
    return base / "docs", base / "qa_dev.jsonl"


def load_items(name: str, suite: Path) -> list[SuiteItem]:
    items = load_suite(suite)
    if name == "policyqa_en":  # questions about one website's policy: retrieve within it
        for item in items:
            item.scope = item.scope or item.gold_doc_ids
    return items


# ----- the peer ------------------------------------------------------------------------


class BackendLLM(CustomLLM):
    """A llama-index LLM over one of our `assistant.llm` backends (local llama.cpp, OpenAI-compatible, extractive).

    The extractive backend reads structured evidence, so the numbered sources and the query
    are parsed back out of CitationQueryEngine's prompt.
    """

    backend: Any
    context_window: int = 4096
    num_output: int = 320

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(context_window=self.context_window, num_output=self.num_output, model_name=self.backend.name)

    def _request(self, prompt: str) -> GenerationRequest:
        tail = prompt.rsplit("Now it's your turn", 1)[-1]
        query = tail.rsplit("Query:", 1)[-1].split("\nAnswer:", 1)[0].strip()
        sources = [(int(n), text.strip()) for n, text in re.findall(r"Source (\d+):\n(.*?)(?=\nSource \d+:\n|\n------)", tail, re.S)]
        return GenerationRequest(
            messages=[{"role": "user", "content": prompt}], question=query or prompt[-200:], evidence=sources,
            language=language_of(query or prompt), max_tokens=self.num_output, temperature=0.1,
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="".join(self.backend.generate(self._request(prompt))))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        text = ""
        for piece in self.backend.generate(self._request(prompt)):
            text += piece
            yield CompletionResponse(text=text, delta=piece)


def _chatml(system: str, user: str) -> str:
    # Qwen2.5's chat template (the bundled models are Qwen2.5 instruct).
    return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def has_llama_index_llama_cpp() -> bool:
    try:
        return importlib.util.find_spec("llama_index.llms.llama_cpp") is not None
    except ModuleNotFoundError:  # no llama_index.llms namespace at all
        return False


def peer_llm(settings: Settings) -> tuple[Any, str]:
    """The peer's LLM and a description: llama-index-llms-llama-cpp for `local` when installed, else BackendLLM."""
    if settings.llm.backend == "local" and has_llama_index_llama_cpp():
        from llama_index.llms.llama_cpp import LlamaCPP

        from assistant.llm import ensure_model

        llm = LlamaCPP(
            model_path=str(ensure_model(settings.llm.local_model)), temperature=settings.llm.temperature,
            max_new_tokens=settings.llm.max_tokens, context_window=settings.llm.n_ctx, verbose=False,
            model_kwargs={"n_threads": settings.llm.n_threads or os.cpu_count() or 1},
            completion_to_prompt=lambda text: _chatml("You are a helpful assistant.", text),
            messages_to_prompt=lambda msgs: _chatml(
                "\n".join(str(m.content) for m in msgs if m.role == "system") or "You are a helpful assistant.",
                "\n".join(str(m.content) for m in msgs if m.role != "system"),
            ),
        )
        return llm, f"llama-index-llms-llama-cpp LlamaCPP({settings.llm.local_model})"
    backend = make_backend(settings.llm)
    # The extractive backend has no context limit; a 4k window would split the sources over refine calls.
    window = 32768 if settings.llm.backend == "extractive" else settings.llm.n_ctx
    llm = BackendLLM(backend=backend, context_window=window, num_output=settings.llm.max_tokens)
    why = "" if settings.llm.backend != "local" else " (llama-index-llms-llama-cpp is not installed)"
    return llm, f"llama-index CustomLLM over our assistant.llm '{backend.name}' backend{why}"


def load_texts(docs: Path) -> list[LIDocument]:
    """The corpus as llama-index Documents, read with our loaders so both sides see the same text."""
    files, _ = discover([docs])
    out = []
    for file, root in files:
        try:
            doc = load_document(file, root)
        except DocumentError as exc:
            print(f"peer: skipped {exc}", file=sys.stderr)
            continue
        out.append(LIDocument(text=doc.text, id_=doc.doc_id, metadata={"doc_id": doc_id_for(file, root)},
                              excluded_embed_metadata_keys=["doc_id"], excluded_llm_metadata_keys=["doc_id"]))
    return out


def peer_index(docs: Path, work: Path, settings: Settings) -> VectorStoreIndex:
    """Build (or reopen) the peer's Chroma-backed VectorStoreIndex over `docs`."""
    import chromadb
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed = as_llama_index(load_embedder(settings.embedding.model, settings.embedding.batch_size))
    files = sorted((str(p.relative_to(docs)), p.stat().st_size) for p in docs.rglob("*") if p.is_file())
    key = hashlib.sha256(json.dumps([files, settings.embedding.model]).encode()).hexdigest()[:12]
    client = chromadb.PersistentClient(path=str(work / "peer-chroma"))
    collection = client.get_or_create_collection(f"peer-{key}")
    store = ChromaVectorStore(chroma_collection=collection)
    if collection.count():
        return VectorStoreIndex.from_vector_store(store, embed_model=embed)
    started = time.perf_counter()
    nodes = SentenceSplitter().get_nodes_from_documents(load_texts(docs))
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed)
    print(f"peer: indexed {len(nodes)} chunks in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return index


class PeerEngine:
    """The peer pipeline behind `Engine.stream`'s contract, so the same runner and metrics apply."""

    def __init__(self, index: VectorStoreIndex, llm: Any, similarity: Any) -> None:
        self.index, self.llm, self.similarity = index, llm, similarity

    def stream(self, question: str, history: Any = None, filters: Filters | None = None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {}
        if filters and filters.doc_ids:
            kwargs["filters"] = MetadataFilters(
                filters=[MetadataFilter(key="doc_id", operator=FilterOperator.IN, value=filters.doc_ids)]
            )
        engine = CitationQueryEngine.from_args(
            self.index, llm=self.llm, similarity_top_k=TOP_K, citation_chunk_size=PEER_CHUNK, streaming=True, **kwargs
        )
        bundle = QueryBundle(question)
        nodes = engine.retrieve(bundle)
        timings = {"retrieval": time.perf_counter() - started}
        response = engine.synthesize(bundle, nodes)
        raw = ""
        for piece in response.response_gen:  # type: ignore[union-attr]
            if piece and "first_token" not in timings:
                timings["first_token"] = time.perf_counter() - started
            raw += piece
            yield piece
        passages = [
            Passage(chunk_id=n.node.node_id, doc_id=str(n.node.metadata.get("doc_id", "")), score=float(n.score or 0.0),
                    text=re.sub(r"^Source \d+:\n", "", n.node.get_content()).strip())
            for n in response.source_nodes
        ]
        refused = is_refusal(raw) or bool(PEER_REFUSALS.search(raw.strip()[:200]))
        text, citations = verify(raw, passages, self.similarity) if not refused else (raw.strip(), [])
        timings["total"] = time.perf_counter() - started
        timings.setdefault("first_token", timings["total"])
        yield Answer(question=question, text=text, citations=citations, refused=refused, passages=passages,
                     timings=timings, language=language_of(question), backend=f"peer:{self.llm.metadata.model_name}")


# ----- main ------------------------------------------------------------------------------


def run_side(
    side: str, engine: Any, items: list[SuiteItem], work: Path, key: dict[str, Any], limit: int | None, fresh: bool
) -> tuple[dict[str, Any], Path]:
    """Run one pipeline over the suite into work/runs/<side>-<dataset>-<llm> (resumed when there)."""
    out = work / "runs" / f"{side}-{key['dataset']}-{key['llm']}"
    if fresh:
        (out / RESULTS_FILE).unlink(missing_ok=True)
    started = time.perf_counter()

    def progress(done: int, total: int, row: dict[str, Any] | None) -> None:
        if row is not None and (done % 10 == 0 or done == total):
            print(f"  {side}: {done}/{total} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    _, summary = run_suite(engine, items, out, settings_key={**key, "side": side}, limit=limit, progress=progress)
    return summary, out


def fmt(v: Any) -> str:
    """A table cell."""
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="sample")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--llm", choices=("extractive", "local", "openai"), default="extractive")
    parser.add_argument("--work", type=Path, default=Path("/tmp/peer-bench"), help="Cache for indexes and runs.")
    parser.add_argument("--sides", default="ours,peer", help="Which pipelines to run (comma-separated).")
    parser.add_argument("--fresh", action="store_true", help="Discard earlier results of these runs (after code changes).")
    args = parser.parse_args(argv)

    docs, suite = dataset_paths(args.dataset)
    items = load_items(args.dataset, suite)
    work = args.work / args.dataset
    work.mkdir(parents=True, exist_ok=True)
    settings = load_settings(store={"path": work / "ours-index"}, llm={"backend": args.llm})
    model = {"local": settings.llm.local_model, "openai": settings.llm.model}.get(args.llm)
    key = {"dataset": args.dataset, "llm": args.llm, "model": model, "embedding": settings.embedding.model, "top_k": TOP_K}
    print(f"Dataset {args.dataset}: {len(items)} questions (limit {args.limit}), docs {docs}", file=sys.stderr)
    summaries: dict[str, dict[str, Any]] = {}
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if "ours" in sides:
        report = ingest([docs], settings)
        print(f"ours: index {report.documents_total} docs / {report.chunks_total} chunks "
              f"({report.chunks_embedded} embedded now, {report.seconds:.0f} s)", file=sys.stderr)
        engine = Engine(settings)
        summaries["ours"], _ = run_side("ours", engine, items, work, key, args.limit, args.fresh)
        engine.close()
    if "peer" in sides:
        llm, described = peer_llm(settings)
        print(f"peer LLM: {described}", file=sys.stderr)
        embedder = load_embedder(settings.embedding.model, settings.embedding.batch_size)

        def similarity(claim: str, sentences: list[str]) -> list[float]:
            return [float(x) for x in embedder.embed_documents(sentences) @ embedder.embed_query(claim)]

        peer = PeerEngine(peer_index(docs, work, settings), llm, similarity)
        summaries["peer"], _ = run_side("peer", peer, items, work, key, args.limit, args.fresh)
        if isinstance(llm, BackendLLM):
            llm.backend.close()
    print(f"\n{args.dataset}, --llm {args.llm}{f' ({model})' if model else ''}, "
          f"{next(iter(summaries.values()))['questions']} questions, top_k {TOP_K}\n")
    print("| pipeline | " + " | ".join(label for label, _ in TABLE) + " |")
    print("|---" * (len(TABLE) + 1) + "|")
    for side, s in summaries.items():
        print(f"| {side} | " + " | ".join(fmt(s.get(k)) for _, k in TABLE) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
