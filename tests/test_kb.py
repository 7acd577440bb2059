"""Knowledge bases: `assistant kb list|create|remove`, `--kb NAME` on every command, no cross-talk, and
server mode, where two index folders with identical settings must not share a Chroma collection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import load_settings
from assistant.index import collection_name, open_index, wipe_index
from assistant.ingest import ingest
from tests.test_store_contract import chroma_server  # noqa: F401 (a fixture)

runner = CliRunner()
LOW_ALTITUDE = "深圳市低空经济促进办法（示例）\n\n第一条　对无人机研发企业给予最高50万元研发补贴。\n"


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_kb_commands_and_no_cross_talk(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    other = tmp_path / "other"
    other.mkdir()
    (other / "sz-low-altitude.txt").write_text(LOW_ALTITUDE, encoding="utf-8")
    assert invoke("ingest", small_corpus, "--index", index, "--json")[0] == 0
    code, out = invoke("ingest", other, "--index", index, "--kb", "lowalt", "--json")
    assert code == 1 and "No knowledge base 'lowalt'" in out and "assistant kb create lowalt" in out
    assert invoke("kb", "create", "lowalt", "--index", index)[0] == 0
    assert invoke("kb", "create", "lowalt", "--index", index)[0] == 2
    assert invoke("kb", "create", "../evil", "--index", index)[0] == 2
    assert invoke("ingest", other, "--index", index, "--kb", "lowalt", "--json")[0] == 0
    assert (index / "kb" / "lowalt").is_dir()
    code, out = invoke("kb", "list", "--index", index, "--json")
    assert code == 0
    listed = {row["name"]: row for row in json.loads(out)}
    assert listed["default"]["documents"] == 2 and listed["lowalt"]["documents"] == 1
    question = "无人机研发企业可以获得多少研发补贴？"
    code, out = invoke("ask", question, "--index", index, "--kb", "lowalt", "--llm", "extractive", "--json")
    there = json.loads(out)
    assert code == 0 and "50万元" in there["answer"]
    assert {c["doc_id"] for c in there["citations"]} == {"sz-low-altitude"}
    code, out = invoke("ask", question, "--index", index, "--llm", "extractive", "--json")
    here = json.loads(out)
    assert "50万元" not in here["answer"] and all(p["doc_id"] != "sz-low-altitude" for p in here["passages"])
    # A knowledge base's own settings file applies to it alone.
    (index / "kb" / "lowalt" / "assistant.toml").write_text("[retrieval]\ntop_k = 1\n", encoding="utf-8")
    code, out = invoke("ask", question, "--index", index, "--kb", "lowalt", "--llm", "extractive", "--json")
    assert code == 0 and len(json.loads(out)["passages"]) == 1
    code, out = invoke("ask", "开源鸿蒙", "--index", index, "--llm", "extractive", "--json")
    assert len(json.loads(out)["passages"]) > 1
    code, out = invoke("status", "--index", index, "--kb", "lowalt", "--json")
    assert json.loads(out)["documents"] == 1
    assert invoke("kb", "remove", "default", "--index", index, "--yes")[0] == 2
    assert invoke("kb", "remove", "lowalt", "--index", index, "--yes")[0] == 0
    assert not (index / "kb" / "lowalt").exists()
    assert invoke("kb", "remove", "lowalt", "--index", index, "--yes")[0] == 1
    assert json.loads(invoke("status", "--index", index, "--json")[1])["documents"] == 2  # default untouched


def test_kb_command_exit_codes(tmp_path: Path) -> None:
    """2 for a name that cannot be used (malformed, taken, the default one), 1 for one that does not exist."""
    index = tmp_path / "idx"
    assert invoke("kb", "create", "a", "--index", index)[0] == 0
    code, out = invoke("kb", "create", "a", "--index", index)
    assert code == 2 and "already exists" in out
    assert invoke("kb", "create", "../evil", "--index", index)[0] == 2
    code, out = invoke("kb", "remove", "default", "--index", index, "--yes")
    assert code == 2 and "cannot be removed" in out
    code, out = invoke("kb", "remove", "elsewhere", "--index", index, "--yes")
    assert code == 1 and "No knowledge base 'elsewhere'" in out
    declined = runner.invoke(app, ["kb", "remove", "a", "--index", str(index)], input="n\n")
    assert declined.exit_code == 1 and (index / "kb" / "a").is_dir()
    assert invoke("kb", "remove", "a", "--index", index, "--yes")[0] == 0 and not (index / "kb" / "a").exists()


def test_collection_names_embedded_unchanged_server_per_folder(tmp_path: Path) -> None:
    a = load_settings(store={"path": tmp_path / "a"})
    b = load_settings(store={"path": tmp_path / "b"})
    assert collection_name(a) == collection_name(b)  # embedded: each folder has its own chroma/, names unchanged
    sa = load_settings(store={"path": tmp_path / "a", "mode": "server"})
    sb = load_settings(store={"path": tmp_path / "b", "mode": "server"})
    assert collection_name(sa) != collection_name(sb)
    assert collection_name(sa) == collection_name(load_settings(store={"path": tmp_path / "x" / ".." / "a",
                                                                        "mode": "server"}))  # fmt: skip
    legacy = f"policy-{sa.index_fingerprint()}"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / f"{legacy}.catalog.sqlite3").touch()  # a server-mode index made before: keeps its name
    assert collection_name(sa) == legacy
    kb = load_settings(index=tmp_path / "a", kb="x")
    assert kb.store.path == tmp_path / "a" / "kb" / "x"


@pytest.mark.server
def test_two_folders_on_one_server_do_not_share_a_collection(
    chroma_server: tuple[str, int],  # noqa: F811
    small_corpus: Path,
    tmp_path: Path,
) -> None:
    host, port = chroma_server
    one, two = (load_settings(store={"path": tmp_path / n, "mode": "server", "host": host, "port": port},
                              llm={"backend": "extractive"}) for n in ("one", "two"))  # fmt: skip
    only_one = tmp_path / "only_one"
    shutil.copytree(small_corpus, only_one)
    (only_one / "going-global-en.md").unlink()
    try:
        assert ingest([small_corpus], one).ok and ingest([only_one], two).ok
        first, second = open_index(one), open_index(two)
        try:
            assert first.collection != second.collection
            assert first.store.count() == first.catalog.counts()[1] > second.store.count() == second.catalog.counts()[1]
        finally:
            first.close()
            second.close()
    finally:
        wipe_index(one)
        wipe_index(two)
