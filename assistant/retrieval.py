"""Hybrid retrieval: dense (Chroma) + BM25, reciprocal rank fusion, title/article matching,
neighbour expansion and an optional cross-encoder. Every stage can be switched off in
`RetrievalSettings` so its effect can be measured (bench/query.py).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from .answering import subject_units
from .catalog import ChunkRecord
from .config import RetrievalSettings
from .evidence import score as evidence_score
from .glossary import chinese_query, names_title
from .index import Index
from .query import FACT, Query, value_pattern
from .store import date_to_int
from .textutil import (
    ARTICLE_LABEL,
    cn_number,
    content_units,
    language_of,
    normalize,
    section_label,
    units,
    weighted_coverage,
)
from .types import Filters, Passage
from .versions.filtering import chunks_except, excluded_editions
from .versions.library import annotate_passages

_TITLE_QUOTE = re.compile(r"《([^》]{2,80})》")
_ARTICLE_EN = re.compile(r"(?<![a-z])article\s+(\d+)\b", re.I)


def article_numbers(text: str) -> set[int]:
    """The numbers of the articles `text` names: 第十二条 and Article 12 are both 12."""
    found = {cn_number(m.group(1)) for m in ARTICLE_LABEL.finditer(text)} | {int(m) for m in _ARTICLE_EN.findall(text)}
    return {n for n in found if n}


@dataclass
class RetrievalResult:
    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    named_titles: list[str] = field(default_factory=list)  # policy titles the question names (《…》)
    named_title_found: bool | None = None  # None when the question names no title
    named_docs: set[str] = field(default_factory=set)  # documents whose title the question names
    idf: dict[str, float] = field(default_factory=dict)  # weights of the question's content units


class Retriever:
    """Turns a question into ranked passages from one index."""

    def __init__(self, index: Index, settings: RetrievalSettings, reranker: object | None = None) -> None:
        self.index = index
        self.settings = settings
        self._reranker = reranker
        if settings.reranker and reranker is None:
            from sentence_transformers import CrossEncoder

            self._reranker = CrossEncoder(settings.reranker, device="cpu")
        self._titles: dict[str, tuple[str, set[str]]] | None = None
        self._titles_generation = -1

    # ----- helpers -----
    def _doc_titles(self) -> dict[str, tuple[str, set[str]]]:
        """doc_id -> (normalised title, its content units), cached until the index changes."""
        generation = self.index.catalog.generation()
        if self._titles is None or generation != self._titles_generation:
            self._titles = {
                d.doc_id: (normalize(d.title), content_units(d.title))
                for d in self.index.catalog.documents()
                if d.status == "complete"
            }
            self._titles_generation = generation
        return self._titles

    def _allowed_chunks(self, filters: Filters, question: str = "") -> set[str] | None:
        """Chunk ids retrieval may return; None when nothing restricts it.

        Superseded editions of a work are left out as of `filters.as_of` (today by default), except
        the two editions a change question ("…2022年修改了什么？") compares.
        """
        excluded = excluded_editions(self.index.catalog, filters, question)
        if not (filters.doc_ids or filters.issuers or filters.date_from or filters.date_to):
            return chunks_except(self.index.catalog, excluded) if excluded else None
        allowed_docs = []
        lo, hi = date_to_int(filters.date_from), date_to_int(filters.date_to)
        for d in self.index.catalog.documents():
            if d.doc_id in excluded:
                continue
            if filters.doc_ids and d.doc_id not in filters.doc_ids:
                continue
            if filters.issuers and d.meta.get("issuer", "") not in filters.issuers:
                continue
            date = date_to_int(d.meta.get("date"))
            if (lo is not None or hi is not None) and date is None:
                continue
            if lo is not None and date is not None and date < lo:
                continue
            if hi is not None and date is not None and date > hi:
                continue
            allowed_docs.append(d.doc_id)
        return {c.chunk.chunk_id for doc_id in allowed_docs for c in self.index.catalog.doc_chunks(doc_id)}

    def title_matches(self, question: str) -> tuple[dict[str, float], list[str]]:
        """Documents the question names, with a match strength in (0, 1]; and the 《titles》 it quotes."""
        titles = self._doc_titles()
        # 《条例》 or 《实施细则》 alone names no particular policy.
        quoted = [q for q in _TITLE_QUOTE.findall(question) if len(q) >= 5]
        q_norm = normalize(question)
        quoted_norm = [normalize(q) for q in quoted]
        quoted_units = [content_units(q) for q in quoted]
        matches: dict[str, float] = {}
        english = language_of(question) == "en"
        named_in_words: list[str] = []
        for doc_id, (t_norm, t_units) in titles.items():
            if len(t_norm) >= 6 and t_norm in q_norm or any(q in t_norm for q in quoted_norm):
                matches[doc_id] = 1.0
                continue
            if english and names_title(question, t_norm):  # "the rare earth regulation": 《稀土管理条例》
                named_in_words.append(doc_id)
                continue
            for q_units in quoted_units:
                if not q_units or not t_units:
                    continue
                shared = len(q_units & t_units)
                score = min(shared / len(q_units), shared / len(t_units))
                if score >= 0.6:
                    matches[doc_id] = max(matches.get(doc_id, 0.0), score)
        if 0 < len(named_in_words) <= 2:  # "the data regulation" names no one document
            matches.update({d: max(matches.get(d, 0.0), 0.8) for d in named_in_words})
        return matches, quoted

    def _dense_weight(self, language: str) -> float:
        """Fusion weight of the dense list: full for English questions, `dense_weight_min` for Chinese ones.

        Measured (bench/query.py): on Chinese questions over Chinese regulations BM25 (jieba words +
        character bigrams) alone beats every dense mix, while English questions — often about Chinese
        documents, where keywords cannot match — need the multilingual dense list.
        """
        s = self.settings
        if not s.bm25:
            return s.dense_weight
        return s.dense_weight_min if language == "zh" else s.dense_weight

    # ----- main -----
    def retrieve(self, query: str | Query, filters: Filters | None = None, top_k: int | None = None) -> RetrievalResult:
        """The top passages for a question (a plain string is analysed here), each with its evidence score."""
        if isinstance(query, str):
            query = Query.make(query)
        question = query.retrieval_text
        s = self.settings
        k = top_k or s.top_k
        timings: dict[str, float] = {}
        allowed = self._allowed_chunks(filters or Filters(), question)
        lists: list[tuple[list[tuple[str, float]], float, str]] = []
        dense_weight = self._dense_weight(language_of(question)) if s.dense else 0.0
        if dense_weight > 0:
            t = time.perf_counter()
            vector = query.vector(self.index.embedder.embed_query)
            timings["embed"] = time.perf_counter() - t
            t = time.perf_counter()
            dense = self.index.store.search(vector, s.candidates, filters)
            dense = dense if allowed is None else [hit for hit in dense if hit[0] in allowed]
            timings["dense"] = time.perf_counter() - t
            lists.append((dense, dense_weight, "dense"))
        if s.bm25:
            t = time.perf_counter()
            sparse = self.index.keywords.search(question, s.candidates, allowed)
            timings["bm25"] = time.perf_counter() - t
            lists.append((sparse, s.bm25_weight, "bm25"))
            # An English question over Chinese documents: its key terms' Chinese counterparts, searched as keywords.
            bridge = chinese_query(question) if language_of(question) == "en" else ""
            if bridge:
                t = time.perf_counter()
                lists.append((self.index.keywords.search(bridge, s.candidates, allowed), s.bm25_weight, "bm25_zh"))
                timings["bm25_zh"] = time.perf_counter() - t
        t = time.perf_counter()
        fused: dict[str, float] = {}
        stage: dict[str, dict[str, float]] = {}
        for ranked, weight, name in lists:
            for rank, (cid, score) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + weight / (s.rrf_k + rank + 1)
                stage.setdefault(cid, {})[name] = score
        matches, quoted = self.title_matches(question) if s.title_boost else ({}, _TITLE_QUOTE.findall(question))
        if allowed is not None:
            matches = {d: v for d, v in matches.items() if any(c.startswith(d + "#") for c in allowed)}
        records = self.index.catalog.chunks(list(fused), complete_only=True)
        # Title match: the named document's chunks rise; its best chunks are pulled in even if neither list had them.
        if matches:
            boost = 2.0 / (s.rrf_k + 1)
            for cid in list(fused):
                rec = records.get(cid)
                if rec and rec.chunk.doc_id in matches:
                    fused[cid] += boost * matches[rec.chunk.doc_id]
            if s.bm25:
                allowed_named = {c.chunk.chunk_id for d in matches for c in self.index.catalog.doc_chunks(d)}
                for cid, score in self.index.keywords.search(question, 5, allowed_named):
                    if cid not in fused:
                        fused[cid] = boost * matches.get(cid.split("#")[0], 0.5) + 0.5 / (s.rrf_k + 10)
                        stage.setdefault(cid, {})["bm25"] = score
                records.update(self.index.catalog.chunks([c for c in fused if c not in records], complete_only=True))
        wanted_articles = article_numbers(question) if s.article_boost else set()
        if wanted_articles:
            for cid in list(fused):
                rec = records.get(cid)
                if rec and article_numbers(section_label(rec.chunk.section)) & wanted_articles:
                    fused[cid] += 1.0 / (s.rrf_k + 1) * (2.0 if rec.chunk.doc_id in matches else 1.0)
            if matches:  # the named article of the named document, even if no list found it
                for doc_id in matches:
                    for rec in self.index.catalog.doc_chunks(doc_id):
                        tail = section_label(rec.chunk.section)
                        if article_numbers(tail) & wanted_articles and rec.chunk.chunk_id not in fused:
                            fused[rec.chunk.chunk_id] = 2.5 / (s.rrf_k + 1)
                            records[rec.chunk.chunk_id] = rec
        ranked_ids = sorted(fused, key=lambda c: -fused[c])
        timings["fuse"] = time.perf_counter() - t
        pool = ranked_ids[: max(k * 3, 10)] if self._reranker is not None else ranked_ids[:k]
        passages = []
        for cid in pool:
            rec = records.get(cid)
            if rec is None:  # vector without catalog row (e.g. ingest in progress): skip
                continue
            c = rec.chunk
            passages.append(
                Passage(
                    chunk_id=cid, doc_id=c.doc_id, text=c.text, score=fused[cid], title=rec.title, section=c.section,
                    pages=c.pages, start=c.start, end=c.end, ordinal=c.ordinal,
                    meta=dict(rec.meta), stages=stage.get(cid, {}),
                )
            )
        if self._reranker is not None and passages:
            t = time.perf_counter()
            scores = self._reranker.predict([(question, p.text) for p in passages])  # type: ignore[attr-defined]
            for p, sc in zip(passages, scores, strict=True):
                p.rerank = float(sc)
                p.score = float(sc)
            passages.sort(key=lambda p: -p.score)
            passages = passages[:k]
            timings["rerank"] = time.perf_counter() - t
        if s.neighbours:
            self._expand(passages)
        if not query.idf:
            query.idf = self.index.keywords.idf(sorted(query.units | content_units(question)))
        weights = query.idf
        if passages and (extra := self._value_passage(query, passages, allowed)) is not None:
            passages.append(extra)
        for p in passages:
            p.evidence = evidence_score(query, p)
        annotate_passages(self.index.catalog, passages, filters.as_of if filters else None)
        return RetrievalResult(
            passages=passages,
            timings=timings,
            named_titles=quoted,
            named_title_found=(bool(matches) if quoted else None),
            named_docs=set(matches),
            idf=weights,
        )

    def _value_passage(self, query: Query, passages: list[Passage], allowed: set[str] | None) -> Passage | None:
        """For a fact question ("违法实施经营者集中的罚款是多少？") whose kind of value no passage found states: the chunk
        of the leading document that states one and shares most of the question (at least 0.3, IDF-weighted), or None.
        Retrieval ranks by the words the question shares, and the article with the figure may say it otherwise."""
        a = query.analysis
        pattern = value_pattern(a.attribute, a.unit) if a.type == FACT else None
        if pattern is None or any(pattern.search(p.text) for p in passages):
            return None
        have = {p.chunk_id for p in passages}
        wanted = subject_units(query)
        best: tuple[float, ChunkRecord] | None = None
        for rec in self.index.catalog.doc_chunks(passages[0].doc_id):
            c = rec.chunk
            if c.chunk_id in have or (allowed is not None and c.chunk_id not in allowed) or not pattern.search(c.text):
                continue
            sc = weighted_coverage(wanted, set(units(f"{c.section}\n{c.text}")), query.idf)
            if sc >= 0.3 and (best is None or sc > best[0]):
                best = (sc, rec)
        if best is None:
            return None
        rec, c = best[1], best[1].chunk
        return Passage(
            chunk_id=c.chunk_id, doc_id=c.doc_id, text=c.text, score=min(p.score for p in passages), title=rec.title,
            section=c.section, pages=c.pages, start=c.start, end=c.end, ordinal=c.ordinal, meta=dict(rec.meta),
            stages={"value": best[0]},
        )

    def _expand(self, passages: list[Passage]) -> None:
        """Join the next chunk of the same article when an article was split across chunks."""
        seen = {p.chunk_id for p in passages}
        for p in passages:
            if not p.section:
                continue
            nxt = self.index.catalog.chunk_at(p.doc_id, p.ordinal + 1)
            if nxt is None or nxt.chunk.section != p.section or nxt.chunk.chunk_id in seen:
                continue
            doc = self.index.catalog.document_text(p.doc_id)
            if doc is None:
                continue
            p.text = doc.text[p.start : nxt.chunk.end]
            p.end = nxt.chunk.end
            p.pages = sorted(set(p.pages) | set(nxt.chunk.pages))
            p.joined = nxt.chunk.chunk_id
            seen.add(nxt.chunk.chunk_id)
