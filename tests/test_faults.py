"""Faults: a damaged index directory, an unreachable or vanishing Chroma server, and
questions asked while an ingest runs.

A damaged index either gives a one-line error that names the problem and the fix
(`assistant ingest --rebuild`), or recovers by itself (the BM25 index is rebuilt from
the catalog); `ingest --rebuild` then repairs it. The CLI runs as a real subprocess.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.catalog import Catalog
from assistant.engine import Engine
from assistant.errors import StoreUnavailableError
from assistant.index import collection_name, open_index
from assistant.ingest import ingest
from assistant.local_servers import free_port, local_chroma

from .conftest import make_settings
from .test_store_contract import NOTICE, index_ids

ROOT = Path(__file__).resolve().parent.parent
REBUILD_HINT = "assistant ingest --rebuild"
# Rich hard-wraps at 80 columns when stderr is not a terminal, which would split every message;
# a wide console lets the tests check that the message itself is one line (cli.fail should soft-wrap).
WIDE = {"COLUMNS": "500"}


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def assert_clean_error(out: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 1 and a single `Error: ...` line naming each needle; no traceback."""
    assert out.returncode == 1, (out.returncode, out.stdout[-500:], out.stderr[-2000:])
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path) -> tuple[Path, dict[str, list[str]]]:
    """(index dir, its chunk ids) of a clean embedded index over the small corpus; tests damage copies."""
    index_dir = tmp_path_factory.mktemp("clean") / "idx"
    settings = make_settings(index_dir)
    assert ingest([small_corpus], settings).ok
    return index_dir, index_ids(settings)


def _overwrite(path: Path, offset: int, length: int | None = None) -> None:
    size = path.stat().st_size
    n = (size - offset) if length is None else length
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(random.Random(7).randbytes(n))


def _catalog(d: Path) -> Path:
    return next(d.glob("*.catalog.sqlite3"))


def _bm25(d: Path) -> Path:
    return next(p for p in d.glob("*.bm25") if p.is_dir())


# name -> (damage, words the error must contain); None: the index must recover by itself.
DAMAGE: dict[str, tuple[Callable[[Path], None], list[str] | None]] = {
    "catalog_truncated": (lambda d: os.truncate(_catalog(d), 1000), ["catalog", "damaged"]),
    "catalog_not_sqlite": (lambda d: _overwrite(_catalog(d), 0, 100), ["catalog", "damaged"]),
    "catalog_pages_garbled": (lambda d: _overwrite(_catalog(d), 4096), ["catalog", "damaged"]),
    "chroma_garbled": (lambda d: _overwrite(d / "chroma" / "chroma.sqlite3", 0, 4096), ["vector store", "chroma"]),
    "chroma_deleted": (lambda d: shutil.rmtree(d / "chroma"), ["holds no vectors", "chroma"]),
    "bm25_deleted": (lambda d: shutil.rmtree(_bm25(d)), None),
    "bm25_meta_half_written": (lambda d: os.truncate(_bm25(d) / "meta.json", 30), None),
    "bm25_data_garbled": (lambda d: [_overwrite(f, 0, 16) for f in (_bm25(d) / "bm25").glob("*.npy")], None),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_index(kind: str, built: tuple[Path, dict], small_corpus: Path, tmp_path: Path) -> None:
    clean_dir, clean_ids = built
    index_dir = tmp_path / "idx"
    shutil.copytree(clean_dir, index_dir)
    damage, needles = DAMAGE[kind]
    damage(index_dir)
    where = ["--index", str(index_dir)]
    ask = ["ask", "对主导发布开源鸿蒙发行版的企业补助多少？", "--llm", "extractive", "--json"]
    if needles is None:
        out = cli(*ask, *where, env=WIDE)
        assert out.returncode == 0, out.stderr[-2000:]
        answer = json.loads(out.stdout)
        assert "300万元" in answer["answer"] and answer["citations"]
        meta = json.loads((_bm25(index_dir) / "meta.json").read_text())
        assert sorted(meta["ids"]) == clean_ids["bm25"]  # the saved BM25 index was rebuilt, not only patched in memory
    else:
        for args in (["status"], ask):
            assert_clean_error(cli(*args, *where, env=WIDE), *needles, REBUILD_HINT)
        report = ingest([small_corpus], make_settings(index_dir), rebuild=True)
        assert report.ok and len(report.added) == 2, report.failed
    ids = index_ids(make_settings(index_dir))
    assert ids == clean_ids


def test_unreachable_server(tmp_path: Path) -> None:
    """A dead port: every command exits 1 with one line naming the URL and the fix, and touches no local file."""
    port = free_port()  # bound and released: nothing listens there
    url = f"http://127.0.0.1:{port}"
    index_dir = tmp_path / "idx"
    settings = make_settings(index_dir, store={"mode": "server", "port": port})
    Catalog(index_dir / f"{collection_name(settings)}.catalog.sqlite3").close()  # an index exists locally
    before = sorted(p.name for p in index_dir.iterdir())
    for args in (
        ["status"],
        ["ask", "算力券面额最高多少？", "--llm", "extractive"],
        ["ingest", str(tmp_path)],
        ["ingest", str(tmp_path), "--rebuild"],
    ):
        line = assert_clean_error(
            cli(*args, "--index", str(index_dir), "--store", url, env=WIDE), url, "chroma run", "embedded store"
        )
        assert "Cannot reach the Chroma server" in line
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert not (index_dir / "chroma").exists()


def test_error_is_one_line_at_default_width(tmp_path: Path) -> None:
    env_free = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--index", str(tmp_path), "--store", f"http://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, cwd=ROOT, env=env_free, timeout=300,
    )
    assert_clean_error(out)


@pytest.mark.server
def test_server_goes_away(tmp_path: Path, small_corpus: Path) -> None:
    """A server that dies under a running Engine and ingest: StoreUnavailableError, not a chromadb traceback."""
    with local_chroma(tmp_path / "server") as server:
        port, proc = server.port, server.process
        settings = make_settings(tmp_path / "idx", store={"mode": "server", "port": port}, llm={"backend": "extractive"})
        assert ingest([small_corpus], settings).ok
        engine = Engine(settings)
        try:
            assert engine.ask("对主导发布开源鸿蒙发行版的企业补助多少？").citations
            vector = engine.index.embedder.embed_query("开源鸿蒙发行版补助")
            proc.terminate()
            proc.wait(timeout=20)
            lost = f"Lost the connection to the Chroma server at http://127.0.0.1:{port}"
            # Through the store directly: whether retrieval consults dense search depends on the question's language.
            with pytest.raises(StoreUnavailableError, match=lost):
                engine.index.store.search(vector, 5)
            with pytest.raises(StoreUnavailableError, match=lost):
                engine.index.status()
        finally:
            engine.close()
        with pytest.raises(StoreUnavailableError, match="Cannot reach"):
            ingest([small_corpus], settings)


# Answers given inside the pause that holds the first new document half-written.
ANSWERS_WHILE_HALF_WRITTEN = 8


@pytest.fixture(scope="module")
def concurrent_run(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """4 threads ask through one Engine while another thread ingests into the same index (as the web UI does).

    A small embedding batch makes each new document take several store writes. The overlap is made
    certain: the ingest's `store_written` failpoint (assistant/failpoints.py, patched in-process)
    pauses after the first batch of the first new document -- its catalog row pending, some of its
    vectors already in Chroma -- until the askers have given ANSWERS_WHILE_HALF_WRITTEN answers that
    began and ended inside the pause. Returns what the threads saw and the index's ids afterwards.
    """
    import assistant.ingest as ingest_module

    tmp_path = tmp_path_factory.mktemp("concurrent")
    docs = tmp_path / "docs"
    shutil.copytree(small_corpus, docs)
    settings = make_settings(tmp_path / "idx", llm={"backend": "extractive"}, embedding={"batch_size": 2})
    assert ingest([docs], settings).ok
    for n in range(3):
        body = NOTICE.replace("深圳市算力券管理办法（示例）", f"深圳市算力券管理办法（示例{n}）")
        (docs / f"vouchers-{n}.txt").write_text(body.replace("50万元", f"{50 + n}万元"), encoding="utf-8")
    engine = Engine(settings)
    questions = ["算力券面额最高多少？", "对主导发布开源鸿蒙发行版的企业补助多少？", "export credit insurance subsidy",
                 "软件人才专项每年培养多少人？"]
    errors: list[BaseException] = []
    partial: list[str] = []
    answered = [0]
    done = threading.Event()
    half_written = threading.Event()  # set only while the ingest is held inside a half-written document
    paused_once = threading.Event()
    during: list[str] = []  # questions answered entirely inside the pause
    at_pause: dict = {}
    real_failpoint = ingest_module.failpoint

    def pausing_failpoint(name: str) -> None:
        real_failpoint(name)
        if name != "store_written" or paused_once.is_set():
            return
        paused_once.set()
        records = engine.index.catalog.documents()
        at_pause["pending"] = sorted(d.doc_id for d in records if d.status != "complete")
        at_pause["vectors"] = sorted(engine.index.store.all_ids())
        half_written.set()
        deadline = time.monotonic() + 300
        while (len(during) < ANSWERS_WHILE_HALF_WRITTEN or questions[0] not in during) and (
            time.monotonic() < deadline and not errors
        ):
            time.sleep(0.05)
        half_written.clear()

    def asker(i: int) -> None:
        try:
            while not done.is_set():
                inside = half_written.is_set()
                answer = engine.ask(questions[i % len(questions)])
                answered[0] += 1
                if inside and half_written.is_set():  # one continuous pause: the whole answer fell inside it
                    during.append(answer.question)
                for p in answer.passages:
                    record = engine.index.catalog.document(p.doc_id)
                    # Documents only move pending -> complete here, so pending now means pending when retrieved.
                    if record is None or record.status != "complete":
                        partial.append(p.chunk_id)
                i += 1
        except BaseException as exc:  # collected; the tests re-raise it
            errors.append(exc)

    def ingester() -> None:
        try:
            report = ingest([docs], settings, index=engine.index, prune=False)
            assert sorted(report.added) == ["vouchers-0", "vouchers-1", "vouchers-2"], report
        except BaseException as exc:
            errors.append(exc)
        finally:
            time.sleep(1.0)  # a few more questions after the last write
            done.set()

    threads = [threading.Thread(target=asker, args=(i,)) for i in range(4)] + [threading.Thread(target=ingester)]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ingest_module, "failpoint", pausing_failpoint)
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=600)
        hung = any(t.is_alive() for t in threads)
    finally:
        done.set()
        half_written.clear()
        engine.close()
    return {"errors": errors, "partial": partial, "answered": answered[0], "hung": hung, "ids": index_ids(settings),
            "during": during, "at_pause": at_pause}


def test_questions_during_ingest(concurrent_run: dict) -> None:
    """No thread raises or hangs, and afterwards catalog, Chroma and BM25 hold the same chunk ids."""
    assert not concurrent_run["hung"], "a thread hung"
    if concurrent_run["errors"]:
        raise concurrent_run["errors"][0]
    assert concurrent_run["answered"] >= 4
    ids = concurrent_run["ids"]
    assert ids["catalog"] == ids["vectors"] == ids["bm25"]
    assert any(c.startswith("vouchers-2#") for c in ids["catalog"])


def test_answers_were_given_while_a_document_was_half_written(concurrent_run: dict) -> None:
    """The race was reached: during the pause one document was pending with part of its vectors
    stored, and questions -- including the one about that very document -- were answered then."""
    at_pause = concurrent_run["at_pause"]
    assert at_pause, "the ingest never reached a store write"
    assert at_pause["pending"] == ["vouchers-0"]
    written = [v for v in at_pause["vectors"] if v.startswith("vouchers-0#")]
    final = [c for c in concurrent_run["ids"]["catalog"] if c.startswith("vouchers-0#")]
    assert 0 < len(written) < len(final), (written, final)  # half written: some of its vectors, not all
    during = concurrent_run["during"]
    assert len(during) >= ANSWERS_WHILE_HALF_WRITTEN, during
    assert "算力券面额最高多少？" in during  # the question about the half-written document itself


def test_answers_only_from_complete_documents(concurrent_run: dict) -> None:
    partial = concurrent_run["partial"]
    assert not partial, f"passages from documents still being written: {sorted(set(partial))}"


def test_concurrent_bm25_rebuilds(built: tuple[Path, dict], tmp_path: Path) -> None:
    """Two Index objects on one directory (ingest's and the Engine's, or two processes) rebuilding BM25 at once."""
    shutil.copytree(built[0], tmp_path / "idx")
    settings = make_settings(tmp_path / "idx")
    indexes = [open_index(settings), open_index(settings)]
    errors: list[BaseException] = []

    def rebuild(i: int) -> None:
        for _ in range(20):
            try:
                indexes[i % 2].keywords.rebuild()
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=rebuild, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for idx in indexes:
        idx.close()
    if errors:
        raise errors[0]
    assert index_ids(settings)["bm25"] == built[1]["bm25"]
