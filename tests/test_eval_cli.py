"""`assistant eval` through the command line (typer's CliRunner on the real `assistant` app).

A tiny suite written here, a small corpus ingested by `--corpus` into a tmp index (real Chroma,
real embedder), extractive answers: a normal run and its files, `--compare` with a regression,
`--scope-to-doc`, and resuming after an interrupt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant import cli

SUITE = [
    {"id": "q-harmony", "question": "对主导发布开源鸿蒙发行版的企业最高补助多少？", "answer": "300万元",
     "doc_id": "gd-software-measures", "answerable": True, "language": "zh"},
    {"id": "q-talent", "question": "软件人才专项每年培养多少名高端软件人才？", "answer": "2000名",
     "doc_id": "gd-software-measures", "answerable": True, "language": "zh"},
    {"id": "q-insurance", "question": "What export credit insurance premium subsidy can software companies receive?",
     "answer": "60 percent", "doc_id": "going-global-en", "answerable": True, "language": "en"},
    {"id": "q-fairs", "question": "How much may each company receive per year for booths at overseas trade fairs?",
     "answer": "200,000 yuan", "doc_id": "going-global-en", "answerable": True, "language": "en"},
]  # fmt: skip


def write_suite(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def app() -> Any:
    """The `assistant` typer app, with `eval` registered (as `python -m assistant` has it)."""
    register = getattr(cli, "_register_optional_commands", None)
    if register is not None:  # older cli.py registered serve/eval lazily
        register()
    return cli.app


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval_cli")
    return {"root": root, "corpus": small_corpus, "index": root / "index",
            "suite": write_suite(root / "suite.jsonl", SUITE)}  # fmt: skip


def invoke(app: Any, ws: dict[str, Path], *args: str) -> Any:
    base = ["eval", str(ws["suite"]), "--index", str(ws["index"]), "--llm", "extractive"]
    result = CliRunner().invoke(app, [*base, *args], catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def first_run(app: Any, workspace: dict[str, Path]) -> tuple[Path, Any]:
    """A normal run that ingests the corpus itself (`--corpus`) into an index that does not exist yet."""
    assert not workspace["index"].exists()
    out = workspace["root"] / "run1"
    result = invoke(app, workspace, "--corpus", str(workspace["corpus"]), "--out", str(out), "--json")
    return out, result


def test_normal_run_with_corpus(first_run: tuple[Path, Any], workspace: dict[str, Path]) -> None:
    out, result = first_run
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["questions"] == len(SUITE)
    for name in ("results.jsonl", "summary.json", "report.md", "report.html", "ragas.jsonl", "run.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["questions"] == len(SUITE)
    got = rows(out)
    assert [r["id"] for r in got] == [i["id"] for i in SUITE]
    # --corpus built the index: the gold documents were retrieved and the answers hold the gold figures.
    by_id = {r["id"]: r for r in got}
    assert by_id["q-harmony"]["passed"] and "300万元" in by_id["q-harmony"]["answer"]
    assert by_id["q-talent"]["passed"] and "2000" in by_id["q-talent"]["answer"]
    assert sum(r["passed"] for r in got) >= 3
    assert "Ingested" in result.stderr and "2 added" in result.stderr
    run_info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run_info["settings"]["backend"] == "extractive" and run_info["settings"]["scope_to_doc"] is False


def test_compare_reports_deltas_and_regressions(app: Any, first_run: tuple[Path, Any], workspace: dict[str, Path]) -> None:
    old, first = first_run
    assert first.exit_code == 0, first.output
    # The same questions, but the gold answer of one changed so that its answer no longer passes.
    changed = [dict(i, answer="999万元") if i["id"] == "q-harmony" else i for i in SUITE]
    suite = write_suite(workspace["root"] / "changed.jsonl", changed)
    out = workspace["root"] / "run2"
    result = CliRunner().invoke(
        app, ["eval", str(suite), "--index", str(workspace["index"]), "--llm", "extractive", "--out", str(out),
              "--compare", str(old)],  # fmt: skip
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "Compared with the earlier run (4 common questions)" in result.stdout
    assert "regressions: 1" in result.stdout and "q-harmony" in result.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    compare = summary["compare"]
    assert compare["run"] == str(old) and compare["common_questions"] == len(SUITE)
    assert [r["id"] for r in compare["regressions"]] == ["q-harmony"] and compare["improvements"] == []
    # An earlier run that does not exist is a clear error.
    missing = invoke(app, workspace, "--out", str(workspace["root"] / "run3"), "--compare", str(workspace["root"] / "nope"))
    assert missing.exit_code == 1 and "No earlier run" in missing.stderr


def test_scope_to_doc_restricts_each_question_to_its_gold_documents(
    app: Any, first_run: tuple[Path, Any], workspace: dict[str, Path]
) -> None:
    assert first_run[1].exit_code == 0, first_run[1].output
    unscoped = {r["id"]: r for r in rows(first_run[0])}
    out = workspace["root"] / "scoped"
    result = invoke(app, workspace, "--out", str(out), "--scope-to-doc")
    assert result.exit_code == 0, result.output
    scoped = {r["id"]: r for r in rows(out)}
    for item in SUITE:
        docs = {p["doc_id"] for p in scoped[item["id"]]["passages"]}
        assert docs == {item["doc_id"]}, (item["id"], docs)
    # Without the flag the same questions also retrieve passages of the other document.
    assert any({p["doc_id"] for p in r["passages"]} != {SUITE_DOC[i]} for i, r in unscoped.items())
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["settings"]["scope_to_doc"] is True


SUITE_DOC = {i["id"]: i["doc_id"] for i in SUITE}


def test_resume_after_an_interrupt(
    app: Any, first_run: tuple[Path, Any], workspace: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the 3rd question: exit 130, two results kept; a kill then tears a line; the same
    command resumes, asks only the two missing questions, and the results match a run without interruption."""
    from assistant.engine import Engine

    assert first_run[1].exit_code == 0, first_run[1].output
    out = workspace["root"] / "interrupted"
    real_stream = Engine.stream
    asked: list[str] = []

    def interrupting(self: Engine, question: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(question)
        if len(asked) == 3:
            raise KeyboardInterrupt
        return real_stream(self, question, *args, **kwargs)

    monkeypatch.setattr(Engine, "stream", interrupting)
    stopped = invoke(app, workspace, "--out", str(out))
    assert stopped.exit_code == 130, stopped.output
    assert "Interrupted" in stopped.stderr and f"--out {out}" in stopped.stderr
    assert [r["id"] for r in rows(out)] == ["q-harmony", "q-talent"]
    with (out / "results.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "q-insurance", "question": "What exp')  # what a kill in the middle of a write leaves

    asked.clear()
    monkeypatch.setattr(Engine, "stream", lambda self, q, *a, **k: (asked.append(q), real_stream(self, q, *a, **k))[1])
    resumed = invoke(app, workspace, "--out", str(out), "--json")
    assert resumed.exit_code == 0, resumed.output
    assert "Resuming: 2 of 4 questions already done" in resumed.stderr
    assert asked == [SUITE[2]["question"], SUITE[3]["question"]]
    final = rows(out)
    assert [r["id"] for r in final] == [i["id"] for i in SUITE]
    reference = {r["id"]: r for r in rows(first_run[0])}
    assert [(r["answer"], r["passed"]) for r in final] == [(reference[r["id"]]["answer"], reference[r["id"]]["passed"])
                                                            for r in final]
    assert json.loads(resumed.stdout)["questions"] == len(SUITE)
