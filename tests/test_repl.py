"""The chat REPL driven by scripted input, asserting on the transcript."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_chat(index_dir: Path, script: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "chat", "--llm", "extractive", "--index", str(index_dir)],
        input=script, capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_chat_transcript(small_index) -> None:
    transcript = run_chat(
        small_index.store.path,
        "/help\n对主导发布开源鸿蒙发行版的企业给予多少补助？\n/sources\n/open 1\n"
        "/filter doc=going-global-en\n/filter\n/filter clear\n/reset\n/bogus\n/quit\n这句不会被问到\n",
    )
    assert "/sources" in transcript and "/open N" in transcript  # help text
    assert "300万元" in transcript  # the answer
    assert "[1] 《广东省软件产业促进办法（示例）》" in transcript  # /sources lists passages by rank
    assert "score" not in transcript and "cited as [1]" in transcript  # no raw fusion scores; what [1] cites
    assert "第四条" in transcript
    assert "Filter: Filters(doc_ids=['going-global-en']" in transcript
    assert "Filter cleared." in transcript and "New conversation." in transcript
    assert "Unknown command /bogus" in transcript
    assert "这句不会被问到" not in transcript.split("/quit")[-1]


def test_chat_follow_up_and_refusal(small_index) -> None:
    transcript = run_chat(
        small_index.store.path,
        "本办法自什么时候起施行？\n根据《上海市数据条例》，数据交易所由谁设立？\n",
    )
    assert "2025年5月1日" in transcript
    assert "现有文件中没有找到能回答这个问题的内容" in transcript


def test_asof_sets_and_clears_the_date_of_the_editions(small_index) -> None:
    transcript = run_chat(small_index.store.path, "/asof 2010-01-01\n/asof 2010-13-45\n/asof\n/quit\n")
    assert "Editions in force on 2010-01-01." in transcript
    assert "YYYY-MM-DD" in transcript  # the bad date is refused with the expected form
    assert "Editions in force on today." in transcript
