"""The command line, driven in process with typer's CliRunner over real indexes (extractive answers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_help_lists_every_command() -> None:
    code, out = invoke("--help")
    assert code == 0
    for command in ("ingest", "status", "ask", "chat", "serve", "eval", "diff"):
        assert command in out


def test_ingest_then_status_and_unchanged_reingest(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    code, out = invoke("ingest", small_corpus, "--index", index, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert len(report["added"]) == 2 and not report["failed"]
    code, out = invoke("status", "--index", index, "--json")
    assert code == 0, out
    status = json.loads(out)
    assert status["documents"] == 2
    assert {d["doc_id"] for d in status["documents_list"]} == {"gd-software-measures", "going-global-en"}
    code, out = invoke("ingest", small_corpus, "--index", index, "--json")
    assert code == 0 and len(json.loads(out)["unchanged"]) == 2


def test_ingest_of_a_bad_file_exits_1(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    code, out = invoke("ingest", tmp_path / "docs", "--index", tmp_path / "idx", "--json")
    assert code == 1 and "broken.pdf" in out


def test_ask_json(small_index) -> None:
    code, out = invoke("ask", "首次认定的国家级工业软件重点项目奖励多少？", "--json", "--llm", "extractive", "--index", small_index.store.path)
    assert code == 0, out
    answer = json.loads(out)
    assert answer["passages"] and answer["passages"][0]["doc_id"] == "gd-software-measures"
    assert set(answer["timings"]) >= {"retrieval", "total"}


def test_ask_filter_keeps_to_the_document(small_index) -> None:
    code, out = invoke(
        "ask", "overseas trade fairs subsidy", "--json", "--llm", "extractive", "--filter", "doc=going-global-en",
        "--index", small_index.store.path,
    )  # fmt: skip
    assert code == 0, out
    assert {p["doc_id"] for p in json.loads(out)["passages"]} == {"going-global-en"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("ask", "q", "--llm", "gpt"), 2, "--llm"),
        (("ask", "q", "--llm", "extractive", "--filter", "from=2024-13-01"), 1, "YYYY-MM-DD"),
        (("ask", "q", "--llm", "extractive", "--filter", "title=x"), 1, "Unknown filter key"),
        (("status", "--store", "http://"), 1, "store_url"),
        (("status", "--config", "/nonexistent/assistant.toml"), 1, "does not exist"),
    ],
)
def test_usage_errors_say_what_is_wrong(args: tuple[str, ...], code: int, message: str, tmp_path: Path) -> None:
    exit_code, out = invoke(*args, "--index", tmp_path / "idx")
    assert exit_code == code and message in out, out


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    code, out = invoke("ask", "问题", "--llm", "extractive", "--index", tmp_path / "none")
    assert code == 1 and "assistant ingest" in out
