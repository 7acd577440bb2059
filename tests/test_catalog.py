"""The SQLite catalog: pending -> complete, what counts, chunk lookups, removal, a damaged file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.catalog import Catalog
from assistant.errors import IndexCorruptError
from assistant.textutil import make_chunk_id
from assistant.types import Chunk, Document, PageSpan


def doc(doc_id: str, text: str = "第一条 总则。\n第二条 附则。") -> Document:
    return Document(
        doc_id=doc_id,
        path=f"/corpus/{doc_id}.txt",
        title=f"《{doc_id}》",
        text=text,
        doc_type="txt",
        pages=[PageSpan(1, 0, len(text))],
        meta={"issuer": "国务院", "date": "2024-01-07"},
    )


def chunks_of(d: Document) -> list[Chunk]:
    out, pos = [], 0
    for n, line in enumerate(d.text.split("\n")):
        out.append(
            Chunk(
                chunk_id=make_chunk_id(d.doc_id, n), doc_id=d.doc_id, ordinal=n, text=line, start=pos,
                end=pos + len(line), section=f"第{n + 1}条", pages=[1],
            )
        )  # fmt: skip
        pos += len(line) + 1
    return out


@pytest.fixture
def catalog(tmp_path: Path):
    c = Catalog(tmp_path / "catalog.sqlite")
    yield c
    c.close()


def add(catalog: Catalog, d: Document, *, complete: bool = True) -> list[Chunk]:
    chunks = chunks_of(d)
    catalog.begin_document(d, "hash-" + d.doc_id, chunks, [[c.text] for c in chunks])
    if complete:
        catalog.complete_document(d.doc_id)
    return chunks


def test_pending_documents_do_not_count(catalog: Catalog) -> None:
    add(catalog, doc("a"), complete=False)
    assert catalog.counts() == (0, 0)
    assert catalog.document("a").status == "pending"
    assert list(catalog.complete_chunk_tokens()) == []
    assert catalog.chunks(["a#0"], complete_only=True) == {}
    assert set(catalog.chunks(["a#0"])) == {"a#0"}
    catalog.complete_document("a")
    assert catalog.counts() == (1, 2) and catalog.document("a").status == "complete"


def test_round_trip_of_documents_and_chunks(catalog: Catalog) -> None:
    d = doc("gd/measures")
    chunks = add(catalog, d)
    assert [r.doc_id for r in catalog.documents()] == ["gd/measures"]
    record = catalog.document("gd/measures")
    assert record is not None and record.meta == d.meta and record.content_hash == "hash-gd/measures"
    loaded = catalog.document_text("gd/measures")
    assert loaded is not None and loaded.text == d.text and loaded.pages == d.pages and loaded.meta == d.meta
    stored = catalog.doc_chunks("gd/measures")
    assert [r.chunk for r in stored] == chunks
    assert stored[0].title == d.title and stored[0].meta == d.meta
    at = catalog.chunk_at("gd/measures", 1)
    assert at is not None and at.chunk.text == "第二条 附则。"
    assert catalog.chunk_at("gd/measures", 9) is None
    assert catalog.document("absent") is None and catalog.document_text("absent") is None


def test_tokens_come_back_in_a_stable_order(catalog: Catalog) -> None:
    add(catalog, doc("b"))
    add(catalog, doc("a"))
    for page in (1, 3, 2000):  # read a page at a time, in the same order
        ids, tokens = zip(*catalog.complete_chunk_tokens(page=page), strict=True)
        assert ids == ("a#0", "a#1", "b#0", "b#1")
        assert tokens[0] == ["第一条 总则。"]


def test_generation_moves_on_every_change(catalog: Catalog) -> None:
    start = catalog.generation()
    add(catalog, doc("a"))
    after_add = catalog.generation()
    catalog.remove_document("a")
    assert start < after_add < catalog.generation()
    assert catalog.counts() == (0, 0) and catalog.doc_chunks("a") == []


def test_a_new_version_replaces_the_old_chunks(catalog: Catalog) -> None:
    add(catalog, doc("a"))
    add(catalog, doc("a", "第一条 新的总则。"))
    assert [r.chunk.text for r in catalog.doc_chunks("a")] == ["第一条 新的总则。"]
    assert catalog.counts() == (1, 1)


def test_info_values(catalog: Catalog) -> None:
    assert catalog.get_info("last_ingest") is None and catalog.get_info("last_ingest", "never") == "never"
    catalog.set_info(last_ingest="2026-01-01 10:00")
    assert catalog.get_info("last_ingest") == "2026-01-01 10:00"


def test_damaged_file_says_how_to_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        Catalog(path)
