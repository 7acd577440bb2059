"""Quality gate: the real engine on the sample corpus and reference suite must keep its measured quality.

The corpus is ingested into a temporary index (real embedder, real Chroma), then
eval/sample_suite.jsonl runs through `Engine` exactly as `assistant eval` runs it. Each
threshold is the figure measured when it was set, minus a small margin for harmless
changes; the measured figure is written beside it. If a change improves a metric, raise
its threshold; if a threshold has to go down, say why in the commit.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from assistant.engine import Engine
from assistant.evaluation import load_suite, run_suite
from assistant.ingest import ingest
from assistant.llm import BUNDLED_MODELS

from .conftest import CORPUS, ROOT, make_settings

SUITE = ROOT / "eval" / "sample_suite.jsonl"
# The default refusal_threshold (0.1, an evidence floor) refuses few of this suite's unanswerable questions with
# the extractive backend (refusal accuracy 0.07), so refusal is gated in a second run at this threshold, where
# evidence-based refusal does most of the work (0.20: 0.21/0.15, 0.30: 0.50/0.18, 0.35: 0.71/0.24 refusal
# accuracy / false-refusal rate on this suite).
REFUSAL_THRESHOLD = 0.35
# Questions for the local-LLM gate: Chinese and English factoid, true/false, multiple choice, unanswerable.
LLM_IDS = ["sample-001", "sample-008", "sample-013", "sample-017", "sample-022", "sample-048", "sample-056", "sample-067"]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("gate_index")
    report = ingest([CORPUS], make_settings(index_dir))
    assert report.ok, report.failed
    return index_dir


def evaluate(
    index_dir: Path, out: Path, backend: str, ids: list[str] | None = None, llm: dict[str, Any] | None = None,
    **retrieval: Any,
) -> dict[str, Any]:
    """Run the suite (or the questions `ids`) through the real Engine, as `assistant eval` does; the summary."""
    settings = make_settings(index_dir, llm={"backend": backend, **(llm or {})}, retrieval=retrieval)
    items = load_suite(SUITE)
    if ids is not None:
        items = [i for i in items if i.id in ids]
        assert len(items) == len(ids), "the gate's questions are missing from the suite"
    engine = Engine(settings)
    try:
        _, summary = run_suite(engine, items, out)
    finally:
        engine.close()
    print({k: v for k, v in summary.items() if not isinstance(v, dict)})  # shown with -s or on failure
    return summary


# Margins are about two questions' worth (55 answerable, 45 free-text, 10 choice, 14 unanswerable items).


def test_extractive_quality_gate(sample_index: Path, tmp_path: Path) -> None:
    s = evaluate(sample_index, tmp_path / "run", "extractive")
    assert s["questions"] >= 48 and s["errors"] == 0
    assert s["hit_at_5"] >= 0.94  # measured 0.982
    assert s["mrr"] >= 0.87  # measured 0.905
    assert s["evidence_hit_at_5"] >= 0.90  # measured 0.945
    assert s["answer_containment"] >= 0.57  # measured 0.622
    assert s["answer_f1"] >= 0.08  # measured 0.099 (extractive answers quote whole sentences: low precision)
    assert s["choice_accuracy"] >= 0.6  # measured 0.800
    assert s["citation_precision"] >= 0.96  # measured 1.000
    assert s["citation_validity"] >= 0.99  # measured 1.000
    assert s["false_refusal_rate"] <= 0.13  # measured 0.091
    # refusal_accuracy measured 0.071 here: gated below.


def test_extractive_refusal_gate(sample_index: Path, tmp_path: Path) -> None:
    s = evaluate(sample_index, tmp_path / "run", "extractive", refusal_threshold=REFUSAL_THRESHOLD)
    assert s["refusal_accuracy"] >= 0.57  # measured 0.714
    assert s["false_refusal_rate"] <= 0.28  # measured 0.236
    assert s["hit_at_5"] >= 0.94  # measured 0.982: refusing does not change retrieval


def local_model_installed() -> bool:
    """The bundled model's packages and llama-cpp-python are installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    model = BUNDLED_MODELS["qwen2.5-coder-0.5b"]
    try:
        return all(metadata.version(dist) == version for dist, version in model.parts)
    except metadata.PackageNotFoundError:
        return False


@pytest.mark.llm
@pytest.mark.skipif(not local_model_installed(), reason="the bundled local model packages are not installed")
def test_local_llm_quality_gate(sample_index: Path, tmp_path: Path) -> None:
    # Pinned to the model the thresholds were measured with (the shipped default is the 1.5B; its answers are
    # checked in tests/test_answer_e2e.py).
    s = evaluate(sample_index, tmp_path / "run", "local", LLM_IDS, llm={"local_model": "qwen2.5-coder-0.5b"})
    # Measured with qwen2.5-coder-0.5b (context_tokens 120): 4 of 8 passed, containment 0.750, false refusals 0.000,
    # first token p50 1.5 s on a quiet machine (13.6 s per question under load before prompt compression).
    # Margins are one question's worth. The model answered both unanswerable questions (refusal accuracy 0.0),
    # so refusal is not gated here; see test_extractive_refusal_gate.
    assert s["questions"] == len(LLM_IDS) and s["errors"] == 0
    assert s["passed"] >= 3  # measured 4 of 8
    assert s["hit_at_5"] >= 0.99  # measured 1.000
    assert s["answer_containment"] >= 0.5  # measured 0.750 (3 of 4 free-text questions)
    assert s["false_refusal_rate"] <= 0.17  # measured 0.000 (of 6)
    assert s["citation_validity"] is None or s["citation_validity"] >= 0.99  # measured 1.000
    assert s["citation_precision"] is None or s["citation_precision"] >= 0.5  # measured 1.000
    assert s["citation_recall"] >= 0.5  # measured 0.750 (the model's own markers: 0.188; verification adds the rest)
