"""One contract for both vector stores: ingest, retrieve, delete, incremental re-ingest, filters.

Every test runs against the embedded store (Chroma on disk) and a real Chroma server.
The server is the one CI started (env ASSISTANT_TEST_CHROMA_URL) or, without it, one this
module starts with the venv's `chroma run` for the session. Tests on one server share
collection names (names come from settings), so each test drops its collection first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.config import Settings
from assistant.engine import Engine
from assistant.errors import IndexMissingError
from assistant.index import collection_name, open_index, wipe_index
from assistant.ingest import ingest
from assistant.local_servers import heartbeat_ok, local_chroma
from assistant.store import drop_collection, make_client
from assistant.types import Filters

from .conftest import PLAN_EN, REGULATION, make_settings

ROOT = Path(__file__).resolve().parent.parent
CHROMA_URL_ENV = "ASSISTANT_TEST_CHROMA_URL"
SERVER_START_TIMEOUT_S = 60.0

# A third document with its own issuer and date, so filters have something to separate.
NOTICE = """深圳市算力券管理办法（示例）
深工信〔2024〕7号
深圳市工业和信息化局
2024年9月15日

第一条　为降低中小企业使用算力的成本，制定本办法。

第二条　算力券面额最高50万元，可用于购买智能算力服务。

第三条　本办法自发布之日起施行。
"""


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(host, port) of a live Chroma server: CI's, or one started here for the session."""
    url = os.environ.get(CHROMA_URL_ENV)
    if url:
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 8000
        assert heartbeat_ok(host, port), f"{CHROMA_URL_ENV}={url} but no Chroma server answers there"
        yield host, port
        return
    try:
        with local_chroma(tmp_path_factory.mktemp("chroma_server"), timeout_s=SERVER_START_TIMEOUT_S) as server:
            yield server.host, server.port
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh index of the parametrized store kind, its collection empty."""
    store: dict = {"path": tmp_path / "idx"}
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        store.update(mode="server", host=host, port=port)
    settings = make_settings(tmp_path / "idx", store=store, llm={"backend": "extractive"})
    wipe_index(settings)  # another test on the same server used the same collection name
    yield settings
    wipe_index(settings)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "gd-software-measures.txt").write_text(REGULATION, encoding="utf-8")
    (d / "going-global-en.md").write_text(PLAN_EN, encoding="utf-8")
    (d / "sz-computing-vouchers.txt").write_text(NOTICE, encoding="utf-8")
    return d


def index_ids(settings: Settings) -> dict[str, list[str]]:
    """Chunk ids as the catalog, the vector store and BM25 each hold them."""
    idx = open_index(settings)
    try:
        catalog = sorted(c.chunk.chunk_id for d in idx.catalog.documents() for c in idx.catalog.doc_chunks(d.doc_id))
        idx.keywords.search("软件", 1)  # loads (or rebuilds) the saved BM25 index
        return {"catalog": catalog, "vectors": sorted(idx.store.all_ids()), "bm25": sorted(idx.keywords._ids)}
    finally:
        idx.close()


def assert_consistent(settings: Settings) -> list[str]:
    ids = index_ids(settings)
    assert ids["catalog"] == ids["vectors"] == ids["bm25"], ids
    return ids["catalog"]


def top_doc(engine: Engine, question: str, filters: Filters | None = None) -> str:
    passages = engine.retrieve(question, filters).passages
    assert passages, question
    return passages[0].doc_id


def test_ingest_and_retrieve(store_settings: Settings, corpus: Path) -> None:
    report = ingest([corpus], store_settings)
    assert report.ok, report.failed
    assert sorted(report.added) == ["gd-software-measures", "going-global-en", "sz-computing-vouchers"]
    ids = assert_consistent(store_settings)
    assert len(ids) == report.chunks_total == report.chunks_embedded
    engine = Engine(store_settings)
    try:
        info = engine.index.status()
        assert info["store_mode"] == store_settings.store.mode
        assert info["vectors"] == info["chunks"] == len(ids)
        assert top_doc(engine, "主导发布开源鸿蒙发行版的企业补助多少？") == "gd-software-measures"
        assert top_doc(engine, "How much is the export credit insurance subsidy?") == "going-global-en"
        # Dense search alone finds the passage too (the store, not only BM25, answers).
        vector = engine.index.embedder.embed_query("算力券面额最高多少")
        dense = engine.index.store.search(vector, 3)
        assert dense and dense[0][0].startswith("sz-computing-vouchers#")
        assert all(-1.0 <= score <= 1.0 for _, score in dense)
        answer = engine.ask("算力券面额最高多少？")
        assert not answer.refused and answer.citations
        assert answer.citations[0].passage.doc_id == "sz-computing-vouchers"
    finally:
        engine.close()


def test_delete_document(store_settings: Settings, corpus: Path) -> None:
    assert ingest([corpus], store_settings).ok
    (corpus / "sz-computing-vouchers.txt").unlink()
    report = ingest([corpus], store_settings)
    assert report.removed == ["sz-computing-vouchers"]
    ids = assert_consistent(store_settings)
    assert ids and not any(c.startswith("sz-computing-vouchers#") for c in ids)
    engine = Engine(store_settings)
    try:
        vector = engine.index.embedder.embed_query("算力券面额最高多少")
        assert not any(c.startswith("sz-computing-vouchers#") for c, _ in engine.index.store.search(vector, 20))
        assert engine.index.store.ids_for_document("sz-computing-vouchers") == []
    finally:
        engine.close()


def test_incremental_reingest(store_settings: Settings, corpus: Path) -> None:
    first = ingest([corpus], store_settings)
    again = ingest([corpus], store_settings)
    assert again.chunks_embedded == 0 and len(again.unchanged) == 3
    changed = NOTICE.replace("最高50万元", "最高80万元").replace("第三条　本办法自发布之日起施行。\n", "")
    (corpus / "sz-computing-vouchers.txt").write_text(changed, encoding="utf-8")
    report = ingest([corpus], store_settings)
    assert report.updated == ["sz-computing-vouchers"] and len(report.unchanged) == 2
    ids = assert_consistent(store_settings)
    notice_ids = [c for c in ids if c.startswith("sz-computing-vouchers#")]
    assert report.chunks_embedded == len(notice_ids)
    assert report.chunks_total == first.chunks_total - 1  # the dropped article's chunk left every store
    engine = Engine(store_settings)
    try:
        passages = engine.retrieve("算力券面额最高多少").passages
        texts = " ".join(p.text for p in passages if p.doc_id == "sz-computing-vouchers")
        assert "80万元" in texts and "50万元" not in texts
    finally:
        engine.close()


def test_filters(store_settings: Settings, corpus: Path) -> None:
    assert ingest([corpus], store_settings).ok
    engine = Engine(store_settings)
    try:
        docs = {d.doc_id: d.meta for d in engine.index.catalog.documents()}
        assert docs["sz-computing-vouchers"]["date"] == "2024-09-15"
        vector = engine.index.embedder.embed_query("企业可以获得多少补助")
        cases = {
            "doc": (Filters(doc_ids=["going-global-en"]), {"going-global-en"}),
            "issuer": (Filters(issuers=[docs["sz-computing-vouchers"]["issuer"]]), {"sz-computing-vouchers"}),
            "from": (Filters(date_from="2025-01-01"), {"gd-software-measures", "going-global-en"}),
            "to": (Filters(date_to="2024-12-31"), {"sz-computing-vouchers"}),
            "range": (Filters(date_from="2025-05-01", date_to="2025-12-31"), {"going-global-en"}),
        }
        for name, (filters, allowed) in cases.items():
            dense = {c.split("#")[0] for c, _ in engine.index.store.search(vector, 20, filters)}
            assert dense == allowed, name
            hybrid = {p.doc_id for p in engine.retrieve("企业可以获得多少补助 subsidy", filters).passages}
            assert hybrid and hybrid <= allowed, name
        nothing = Filters(date_from="2030-01-01")
        assert engine.index.store.search(vector, 20, nothing) == []
        assert engine.retrieve("企业可以获得多少补助", nothing).passages == []
    finally:
        engine.close()


def test_rebuild_drops_the_collection(store_settings: Settings, corpus: Path) -> None:
    assert ingest([corpus], store_settings).ok
    before = assert_consistent(store_settings)
    name = collection_name(store_settings)
    wipe_index(store_settings)
    assert name not in [c.name for c in make_client(store_settings.store).list_collections()]
    with pytest.raises(IndexMissingError):
        open_index(store_settings)
    report = ingest([corpus], store_settings, rebuild=True)
    assert len(report.added) == 3
    assert assert_consistent(store_settings) == before
    if store_settings.store.mode == "server":  # the vectors live on the server, never in a local chroma/ dir
        assert not (store_settings.store.path / "chroma").exists()


def test_collection_dropped_under_an_open_engine(store_settings: Settings, corpus: Path) -> None:
    """Another process's `ingest --rebuild` drops the collection: a clear IndexMissingError, not a chromadb one."""
    assert ingest([corpus], store_settings).ok
    engine = Engine(store_settings)
    try:
        assert engine.ask("算力券面额最高多少？").citations
        vector = engine.index.embedder.embed_query("算力券面额最高多少")
        drop_collection(store_settings.store, collection_name(store_settings))
        with pytest.raises(IndexMissingError, match="ingest --rebuild"):
            engine.index.store.search(vector, 5)
        with pytest.raises(IndexMissingError, match="ingest --rebuild"):
            engine.index.status()
    finally:
        engine.close()


@pytest.mark.server
def test_cli_end_to_end_on_server(chroma_server: tuple[str, int], tmp_path: Path, corpus: Path) -> None:
    """ingest / status / ask through the CLI with --store http://HOST:PORT (and the env variable)."""
    host, port = chroma_server
    index_dir = tmp_path / "idx"
    wipe_index(make_settings(index_dir, store={"mode": "server", "host": host, "port": port}))
    url = f"http://{host}:{port}"
    base = [sys.executable, "-m", "assistant"]

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args, "--index", str(index_dir)], capture_output=True, text=True, cwd=ROOT, timeout=600,
            env={**os.environ, **(env or {})},
        )

    out = run("ingest", str(corpus), "--store", url, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["chunks"] > 0
    status = run("status", "--json", env={"ASSISTANT_STORE_URL": url})
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["store_mode"] == "server" and info["store_location"] == url
    assert info["vectors"] == info["chunks"] > 0
    assert not (index_dir / "chroma").exists()
    ask = run("ask", "算力券面额最高多少？", "--llm", "extractive", "--json", "--store", url)
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert not answer["refused"] and "50万元" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "sz-computing-vouchers"
    shutil.rmtree(index_dir)
    wipe_index(make_settings(index_dir, store={"mode": "server", "host": host, "port": port}))
