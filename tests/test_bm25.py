"""Keyword search: tokens, search over a real catalog, filters, IDF, the saved index and its rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.bm25 import KeywordIndex, tokenize
from assistant.catalog import Catalog
from assistant.textutil import make_chunk_id
from assistant.types import Chunk, Document

TEXTS = {
    "compute": ["算力券面额最高50万元，可用于购买智能算力服务。", "本办法自发布之日起施行。"],
    "software": ["支持首版次软件产品推广应用，给予最高200万元奖励。", "Software exports receive a subsidy of 5%."],
}


def add(catalog: Catalog, doc_id: str, texts: list[str]) -> None:
    text = "\n".join(texts)
    doc = Document(doc_id=doc_id, path=doc_id, title=doc_id, text=text, doc_type="txt")
    chunks, pos = [], 0
    for n, t in enumerate(texts):
        chunks.append(Chunk(make_chunk_id(doc_id, n), doc_id, n, t, pos, pos + len(t)))
        pos += len(t) + 1
    catalog.begin_document(doc, "h", chunks, [tokenize(c.text) for c in chunks])
    catalog.complete_document(doc_id)


@pytest.fixture
def index(tmp_path: Path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    for doc_id, texts in TEXTS.items():
        add(catalog, doc_id, texts)
    keywords = KeywordIndex(tmp_path / "bm25", catalog)
    keywords.rebuild()
    yield keywords
    catalog.close()


def test_tokens_drop_stop_words_and_add_bigrams() -> None:
    tokens = tokenize("关于算力券的规定是什么 What is the subsidy")
    assert "的" not in tokens and "什么" not in tokens and "the" not in tokens and "what" not in tokens
    assert "subsidy" in tokens and "算力券" in tokens
    assert "#算力" in tokens and "#力券" in tokens  # character bigrams are marked apart from jieba words


def test_search_finds_the_chunk_and_respects_allowed(index: KeywordIndex) -> None:
    hits = index.search("算力券面额是多少", 3)
    assert hits[0][0] == "compute#0" and hits[0][1] > 0
    assert index.search("software subsidy", 1)[0][0] == "software#1"
    assert all(cid.startswith("software#") for cid, _ in index.search("算力券面额", 5, allowed={"software#0"}))
    assert index.search("的", 5) == []  # only stop words: nothing to search for


def test_idf_weights_rare_units_higher(index: KeywordIndex) -> None:
    weights = index.idf(["算力", "万元", "量子"])
    assert weights["量子"] > weights["算力"] > weights["万元"]  # unseen > in one chunk > in two


def test_saved_index_is_loaded_and_rebuilt_after_a_change(index: KeywordIndex, tmp_path: Path) -> None:
    meta = json.loads((tmp_path / "bm25" / "meta.json").read_text())
    assert meta["ids"] == ["compute#0", "compute#1", "software#0", "software#1"]
    reopened = KeywordIndex(tmp_path / "bm25", index.catalog)
    assert reopened.search("首版次软件", 1)[0][0] == "software#0"
    add(index.catalog, "quantum", ["量子计算研发给予专项资金支持。"])  # a new generation of the catalog
    assert reopened.search("量子计算", 1)[0][0] == "quantum#0"
    assert json.loads((tmp_path / "bm25" / "meta.json").read_text())["generation"] == index.catalog.generation()


def test_empty_catalog_searches_to_nothing(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    keywords = KeywordIndex(tmp_path / "bm25", catalog)
    assert keywords.search("算力", 5) == [] and keywords.idf(["算力"]) == {"算力": 1.0}
    catalog.close()
