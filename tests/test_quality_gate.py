"""Quality gate: the real engine on the sample corpus and reference suite must keep its measured quality.

The corpus is ingested into a temporary index (real embedder, real Chroma), then
eval/sample_suite.jsonl runs through `Engine` exactly as `assistant eval` runs it. Each
threshold is the figure measured when it was set, minus a small margin for harmless
changes; the measured figure is written beside it. If a change improves a metric, raise
its threshold; if a threshold has to go down, say why in the commit.
"""

from __future__ import annotations

import hashlib
import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from assistant.config import LLMSettings
from assistant.engine import Engine
from assistant.evaluation import load_suite, run_suite
from assistant.ingest import ingest
from assistant.llm import BUNDLED_MODELS

from .conftest import CORPUS, ROOT, make_settings

SUITE = ROOT / "eval" / "sample_suite.jsonl"
DEFAULT_MODEL = LLMSettings().local_model
# The gate is only as good as its suite: deleting or editing items (the unanswerable ones, say) must fail it.
SUITE_SHA256 = "e83f40d4ee3f0608e6d4663337a857922a6b2bd208ac8ba4d35eed606fd7eb36"
SUITE_ITEMS = 69
# Local-LLM gate thresholds: measured with the shipped 1.5B at the shipped settings (20 questions: 10 free-text,
# 6 choice/true-false, 4 unanswerable), minus one question's worth. Measured: 18 of 20 passed, containment 0.900,
# choice accuracy 1.000, refusal accuracy 0.750, false refusals 0.000, citation precision 0.967, recall 0.813.
PASSED_MIN = 16
CONTAINMENT_MIN = 0.8
CHOICE_MIN = 0.83
REFUSAL_MIN = 0.5
FALSE_REFUSAL_MAX = 0.07
CITATION_PRECISION_MIN = 0.9
CITATION_RECALL_MIN = 0.7
# The local-LLM gate: zh and en facts, true/false and multiple choice, and unanswerable questions (Chinese and
# English), so that no one lucky answer passes it. Runtime: ~20 questions x 5-15 s with the 1.5B on 2 cores.
LLM_IDS = [
    "sample-001", "sample-002", "sample-008", "sample-013", "sample-014", "sample-017", "sample-022", "sample-027",
    "sample-032", "sample-039", "sample-040", "sample-041", "sample-046", "sample-049", "sample-053", "sample-055",
    "sample-056", "sample-060", "sample-067", "sample-069",
]  # fmt: skip


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


def test_the_suite_is_the_one_the_thresholds_were_measured_on() -> None:
    assert hashlib.sha256(SUITE.read_bytes()).hexdigest() == SUITE_SHA256, (
        "eval/sample_suite.jsonl changed: re-measure the gates below and update SUITE_SHA256 and the thresholds"
    )
    assert len(load_suite(SUITE)) == SUITE_ITEMS


# Extractive backend at the settings a user gets (nothing overridden). Margins are about one question's worth
# (55 answerable: 45 free-text, 10 choice; 14 unanswerable).


def test_extractive_quality_gate(sample_index: Path, tmp_path: Path) -> None:
    s = evaluate(sample_index, tmp_path / "run", "extractive")
    assert s["questions"] == SUITE_ITEMS and s["errors"] == 0
    assert s["hit_at_5"] >= 0.94  # measured 0.964
    assert s["mrr"] >= 0.87  # measured 0.896
    assert s["answer_containment"] >= 0.78  # measured 0.822
    assert s["key_fact_recall"] >= 0.78  # measured 0.830
    assert s["choice_accuracy"] >= 0.7  # measured 0.800
    assert s["citation_precision"] >= 0.98  # measured 1.000
    assert s["citation_validity"] >= 0.99  # measured 1.000
    assert s["refusal_accuracy"] >= 0.78  # measured 0.857 (12 of 14)
    assert s["false_refusal_rate"] <= 0.10  # measured 0.073 (4 of 55, English questions over Chinese passages)


def local_model_installed() -> bool:
    """The shipped default model's packages and llama-cpp-python are installed (`make test` installs them)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    model = BUNDLED_MODELS[DEFAULT_MODEL]
    try:
        return all(metadata.version(dist) == version for dist, version in model.parts)
    except metadata.PackageNotFoundError:
        return False


@pytest.mark.llm
def test_local_llm_quality_gate(sample_index: Path, tmp_path: Path) -> None:
    # The model users get, at the shipped settings. CI requires this test to run (.ci/check_junit.py).
    assert local_model_installed(), "the bundled local model packages are not installed (make install)"
    s = evaluate(sample_index, tmp_path / "run", "local", LLM_IDS)
    assert s["questions"] == len(LLM_IDS) and s["errors"] == 0
    assert s["passed"] >= PASSED_MIN
    assert s["hit_at_5"] >= 0.99  # measured 1.000
    assert s["answer_containment"] >= CONTAINMENT_MIN
    assert s["choice_accuracy"] >= CHOICE_MIN
    assert s["refusal_accuracy"] >= REFUSAL_MIN
    assert s["false_refusal_rate"] <= FALSE_REFUSAL_MAX
    assert s["citation_validity"] >= 0.99  # measured 1.000
    assert s["citation_precision"] >= CITATION_PRECISION_MIN
    assert s["citation_recall"] >= CITATION_RECALL_MIN
