"""The vector store on its own: filters as Chroma `where` clauses, and one embedded collection
(real Chroma on disk) written, searched, filtered and emptied. The same behaviour through the
whole pipeline, on the embedded store and a server, is tests/test_store_contract.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import StoreSettings
from assistant.errors import StoreUnavailableError
from assistant.store import VectorStore, chroma_where, date_to_int, server_url, unreachable
from assistant.textutil import make_chunk_id
from assistant.types import Chunk, Filters

DIM = 8


def test_dates_become_numbers() -> None:
    assert date_to_int("2025-03-18") == 20250318
    assert date_to_int(None) is None and date_to_int("") is None and date_to_int("2025-03") is None


def test_filters_as_where_clauses() -> None:
    assert chroma_where(None) is None and chroma_where(Filters()) is None
    assert chroma_where(Filters(doc_ids=["a"])) == {"doc_id": {"$in": ["a"]}}
    assert chroma_where(Filters(issuers=["国务院"], date_from="2024-01-01", date_to="2024-12-31")) == {
        "$and": [
            {"issuer": {"$in": ["国务院"]}},
            {"date": {"$gte": 20240101}},
            {"date": {"$lte": 20241231}},
        ]
    }


def test_unreachable_server_message_says_what_to_do() -> None:
    settings = StoreSettings(mode="server", host="127.0.0.1", port=9, ssl=True)
    assert server_url(settings) == "https://127.0.0.1:9"
    error = unreachable(settings, ConnectionRefusedError("refused"))
    assert isinstance(error, StoreUnavailableError)
    assert "https://127.0.0.1:9" in str(error) and "chroma run" in str(error)


def chunks(doc_id: str, n: int) -> list[Chunk]:
    return [Chunk(make_chunk_id(doc_id, i), doc_id, i, f"{doc_id} {i}", 0, 1, section="第一条", pages=[1]) for i in range(n)]


def unit(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1.0
    return v


@pytest.fixture
def store(tmp_path: Path):
    s = VectorStore(StoreSettings(path=tmp_path), "test_collection")
    yield s
    s.drop()


def test_write_search_filter_delete(store: VectorStore) -> None:
    assert store.count() == 0 and store.search(unit(0), 5) == []
    store.add(chunks("a", 2), np.stack([unit(0), unit(1)]), {"issuer": "国务院", "date": "2024-01-07"}, "A")
    store.add(chunks("b", 2), np.stack([unit(2), unit(3)]), {"issuer": "省政府", "date": "2025-06-01"}, "B")
    store.add(chunks("a", 2), np.stack([unit(0), unit(1)]), {"issuer": "国务院", "date": "2024-01-07"}, "A")
    assert store.count() == 4  # the same ids written again replace, never duplicate
    best, score = store.search(unit(2), 1)[0]
    assert best == "b#0" and score == pytest.approx(1.0, abs=1e-5)
    assert {c for c, _ in store.search(unit(2), 5, Filters(doc_ids=["a"]))} == {"a#0", "a#1"}
    assert {c for c, _ in store.search(unit(2), 5, Filters(date_to="2024-12-31"))} == {"a#0", "a#1"}
    assert {c for c, _ in store.search(unit(0), 5, Filters(issuers=["省政府"]))} == {"b#0", "b#1"}
    assert sorted(store.ids_for_document("b")) == ["b#0", "b#1"]
    store.delete_document("b")
    assert sorted(store.all_ids()) == ["a#0", "a#1"]
    assert store.location.endswith("chroma")
