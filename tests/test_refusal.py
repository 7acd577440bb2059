"""Nothing retrieved -> the refusal, through `Engine.ask` and `assistant ask` (real index, extractive backend).

A filter that excludes every document leaves retrieval empty; the answer must then be the
refusal sentence with no citation -- never text made up from nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.engine import Engine
from assistant.prompts import refusal_sentence
from assistant.types import Filters

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "对主导发布开源鸿蒙发行版的企业补助多少？"


@pytest.fixture(scope="module")
def engine(small_index) -> Engine:
    engine = Engine(small_index)
    yield engine
    engine.close()


def test_the_question_is_answered_without_a_filter(engine: Engine) -> None:
    """The control: the same question does get an answer, so the refusals below come from the filter."""
    answer = engine.ask(QUESTION)
    assert not answer.refused and "300万元" in answer.text and answer.citations


@pytest.mark.parametrize(
    ("question", "filters"),
    [
        (QUESTION, Filters(doc_ids=["no-such-document"])),
        (QUESTION, Filters(date_from="2030-01-01")),
        (QUESTION, Filters(issuers=["不存在的发文机关"])),
        ("What export credit insurance premium subsidy can software companies receive?",
         Filters(date_to="1999-12-31")),
    ],  # fmt: skip
    ids=["unknown-doc", "future-dates", "unknown-issuer", "english-past-dates"],
)
def test_a_filter_that_excludes_everything_gives_the_refusal(engine: Engine, question: str, filters: Filters) -> None:
    answer = engine.ask(question, filters=filters)
    assert answer.passages == []
    assert answer.refused
    assert answer.text == refusal_sentence(answer.language)
    assert not answer.citations and not answer.error


def test_cli_ask_with_an_excluding_filter_refuses(small_index) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", QUESTION, "--json", "--llm", "extractive",
         "--filter", "doc=no-such-document", "--index", str(small_index.store.path)],  # fmt: skip
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    answer = json.loads(out.stdout)
    assert answer["refused"] is True and answer["citations"] == [] and answer["passages"] == []
    assert answer["answer"] == refusal_sentence("zh")
