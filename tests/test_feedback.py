"""Feedback: /good and /bad REASON in the REPL, stored with question, answer, passages and settings; and
`assistant feedback export` writing a suite that `assistant eval` reads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import app
from assistant.evaluation.suite import load_suite
from assistant.feedback import FEEDBACK_FILE, to_suite

ROOT = Path(__file__).resolve().parent.parent


def test_repl_feedback_then_suite(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = tmp_path / "index"
    shutil.copytree(small_index.store.path, index)
    script = ("/good\n对主导发布开源鸿蒙发行版的企业给予多少补助？\n/good\n本办法自什么时候起施行？\n/bad 应为2025年5月1日\n"
              "火星基地建设补贴是多少？\n/good\n/bad\n/quit\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "assistant", "chat", "--llm", "extractive", "--index", str(index)],
                         input=script, capture_output=True, text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("feedback saved") == 4 and "No answer yet." in out.stdout
    records = [json.loads(line) for line in (index / FEEDBACK_FILE).read_text(encoding="utf-8").splitlines()]
    assert [r["rating"] for r in records] == ["good", "bad", "good", "bad"]
    first = records[0]
    assert "300万元" in first["answer"] and first["passages"] and first["citations"][0]["supported"]
    assert first["settings"]["answer backend"] == "extractive" and first["source"] == "repl"
    assert records[1]["reason"] == "应为2025年5月1日"

    suite = tmp_path / "feedback_suite.jsonl"
    result = CliRunner().invoke(app, ["feedback", "export", str(suite), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "1 👎 on refusals without a reason left out" in " ".join(result.output.split())  # the console wraps lines
    items = load_suite(suite)  # the eval format, validated by the evaluation runner's own reader
    assert [i.answerable for i in items] == [True, True, False]
    assert "300万元" in items[0].answers[0] and "[1]" not in items[0].answers[0]
    assert items[0].doc_id == "gd-software-measures" and items[0].evidence
    assert items[1].answers == ["应为2025年5月1日"] and items[1].extra["regression"]["bad_answer"]
    assert items[2].question_type == "unanswerable"
    run = CliRunner().invoke(app, ["eval", str(suite), "--index", str(index), "--llm", "extractive", "--out",
                                   str(tmp_path / "run"), "--json"])  # fmt: skip
    assert run.exit_code == 0, run.output  # `assistant eval` runs the exported suite
    assert json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    empty = CliRunner().invoke(app, ["feedback", "export", str(tmp_path / "x.jsonl"), "--index", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "No usable feedback" in empty.output


def test_bad_answer_without_reason_becomes_unanswerable() -> None:
    record = {"id": "x", "rating": "bad", "reason": "", "question": "q?", "standalone_question": "q?", "answer": "a [1]",
              "refused": False, "language": "en", "citations": [{"doc_id": "d", "supported": True, "quote": "a"}]}
    (item,) = to_suite([record]).items
    assert item["answerable"] is False and item["regression"]["cited"] == ["d"]


def test_web_feedback_and_knowledge_bases(small_index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import gradio as gr
    import pytest

    from assistant.api.library import Library
    from assistant.engine import Engine
    from assistant.web import actions
    from assistant.web.session import ChatTurn, Session

    index = tmp_path / "index"
    shutil.copytree(small_index.store.path, index)
    settings = small_index.model_copy(deep=True)
    settings.store.path = index
    engine = Engine.open(settings)
    try:
        library = Library(engine)
        session = Session(lang="en")
        assert actions.feedback(library, session, "good", "") == ""  # no answer yet: a warning, nothing stored
        assert not (index / FEEDBACK_FILE).exists()
        answer = engine.ask("对主导发布开源鸿蒙发行版的企业给予多少补助？")
        session.turns.append(ChatTurn(question=answer.question, text=answer.text, answer=answer, phase="done"))
        assert actions.feedback(library, session, "bad", "应为300万元") == ""
        (stored,) = [json.loads(line) for line in (index / FEEDBACK_FILE).read_text(encoding="utf-8").splitlines()]
        assert stored["rating"] == "bad" and stored["reason"] == "应为300万元" and stored["source"] == "web"
        html = actions.kb_create(library, "team-a", "en")
        assert "team-a" in html and (index / "kb" / "team-a").is_dir() and "team-a" in actions.kb_names(library)
        with pytest.raises(gr.Error):
            actions.kb_create(library, "../x", "en")
        with pytest.raises(gr.Error):
            actions.kb_remove(library, "default", "en")
        assert "team-a" not in actions.kb_remove(library, "team-a", "en") and not (index / "kb" / "team-a").exists()
    finally:
        engine.close()
