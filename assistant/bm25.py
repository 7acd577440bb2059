"""Keyword search: bm25s over jieba tokens (Chinese) and lower-cased words (English).

The index is persisted under the index directory and rebuilt by ingest from the
tokens stored in the catalog (no file is re-read or re-tokenised). Opening it is
a load from disk; a query never rebuilds it, except once when the saved copy is
missing or older than the catalog (e.g. after a crash mid-write).
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import threading
from pathlib import Path

import numpy as np

from .catalog import Catalog
from .failpoints import failpoint
from .textutil import EN_STOP, HAN, ZH_STOP_WORDS

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w", re.UNICODE)
# Function words that carry no retrieval signal in policy text.
_STOP = ZH_STOP_WORDS | EN_STOP
_HAN_RUN = re.compile(f"[{HAN}]{{2,}}")
# Question and function words: their absence from the documents says nothing about the subject.
_ASKING = re.compile(r"几|多少|什么|哪|怎|谁|吗|呢|何时|何种|何地|为何|时候|多长|多大|多高|文号|字号|名称|标题|现行|当时|此前|最新|如何|是否|能否|可否|可以|需要|应当|应该|规定|有关|相关|方面|情况|问题|具体|目前|现在")
_HAN_BIGRAM = re.compile(f"[{HAN}]{{2}}")

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba():
    global _jieba_ready
    import jieba

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba_ready = True
    return jieba


def tokenize(text: str) -> list[str]:
    """Search tokens for `text`: jieba search-mode words for Chinese, lower-cased words for English.

    Chinese text also gets its character bigrams, which keeps recall for terms jieba
    splits differently in the question and in the document (measured in bench/query.py).
    """
    text = text.lower()
    tokens = [w for w in _jieba().lcut_for_search(text) if _WORD.search(w) and w not in _STOP]
    bigrams: list[str] = []
    for run in _HAN_RUN.findall(text):
        bigrams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens + ["#" + b for b in bigrams]


class KeywordIndex:
    """A bm25s index over the complete chunks of one catalog."""

    def __init__(self, directory: Path, catalog: Catalog) -> None:
        self.directory = directory
        self.catalog = catalog
        self._lock = threading.RLock()  # rebuild() runs both inside _load_or_build and from ingest
        self._bm25 = None
        self._ids: list[str] = []
        self._generation = -1

    def _load_or_build(self) -> None:
        generation = self.catalog.generation()
        if self._bm25 is not None and self._generation == generation:
            return
        meta_file = self.directory / "meta.json"
        if meta_file.is_file():
            try:
                meta = json.loads(meta_file.read_text())
                if meta.get("generation") == generation:
                    import bm25s

                    self._bm25 = bm25s.BM25.load(str(self.directory / "bm25"), show_progress=False)
                    self._ids = meta["ids"]
                    self._generation = generation
                    return
            except (OSError, ValueError, KeyError) as exc:
                log.warning("BM25 index in %s unreadable (%s); rebuilding from the catalog", self.directory, exc)
        self.rebuild()

    def is_current(self) -> bool:
        """Whether the saved index was built from the catalog as it is now (same generation)."""
        try:
            meta = json.loads((self.directory / "meta.json").read_text())
        except (OSError, ValueError):
            return False
        return bool(meta.get("generation") == self.catalog.generation())

    def rebuild(self) -> None:
        """Build from the catalog's stored tokens and save atomically (write aside, then rename).

        One writer at a time: a thread lock within the process, an exclusive file lock across
        processes (a CLI ingest next to a running web UI), and a temporary directory of its own.
        """
        import fcntl
        import tempfile

        import bm25s

        with self._lock:
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.directory.with_name(self.directory.name + ".lock")
            with lock_path.open("a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                for stale in self.directory.parent.glob(self.directory.name + ".tmp*"):  # left by a crashed writer
                    shutil.rmtree(stale, ignore_errors=True)
                generation = self.catalog.generation()
                # Token ids, not strings: a chunk's list holds the vocabulary's own int objects (8 bytes a token), so
                # a 100,000-chunk index is built in a few hundred MB instead of gigabytes of token strings.
                ids: list[str] = []
                vocab: dict[str, int] = {}
                corpus: list[list[int]] = []
                for chunk_id, tokens in self.catalog.complete_chunk_tokens():
                    ids.append(chunk_id)
                    corpus.append([vocab.setdefault(t, len(vocab)) for t in tokens])
                bm25 = bm25s.BM25()
                if ids:
                    bm25.index((corpus, vocab), show_progress=False)
                del corpus
                tmp = Path(tempfile.mkdtemp(prefix=self.directory.name + ".tmp", dir=self.directory.parent))
                if ids:
                    bm25.save(str(tmp / "bm25"), show_progress=False)
                failpoint("bm25_half_written")
                (tmp / "meta.json").write_text(json.dumps({"generation": generation, "ids": ids}))
                old = self.directory.with_name(self.directory.name + ".old")
                shutil.rmtree(old, ignore_errors=True)
                if self.directory.exists():
                    self.directory.rename(old)
                failpoint("bm25_swapping")
                tmp.rename(self.directory)
                shutil.rmtree(old, ignore_errors=True)
                self._bm25 = bm25 if ids else None
                self._ids = ids
                self._generation = generation

    def idf(self, units: list[str]) -> dict[str, float]:
        """Inverse document frequency of comparison units (Chinese bigrams, English words) over the chunks.

        A unit that occurs nowhere gets the highest weight: a question about something
        the documents never mention is the clearest sign they cannot answer it.
        """
        with self._lock:
            self._load_or_build()
            bm25 = self._bm25
        if bm25 is None:
            return {u: 1.0 for u in units}
        n = int(bm25.scores["num_docs"])
        indptr = bm25.scores["indptr"]
        vocab = bm25.vocab_dict
        out = {}
        for u in units:
            key = "#" + u if _HAN_BIGRAM.fullmatch(u) else u
            t = vocab.get(key)
            df = int(indptr[t + 1] - indptr[t]) if t is not None else 0
            out[u] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    def unknown_words(self, text: str) -> list[str]:
        """Nouns of `text` (jieba, two or more Chinese characters) that no indexed chunk contains, neither as a
        word nor as the run of character bigrams inside it: the things the documents never mention ("区块链")."""
        with self._lock:
            self._load_or_build()
            bm25 = self._bm25
        if bm25 is None:
            return []
        _jieba()  # initialised once, under the lock
        from jieba import posseg

        vocab = bm25.vocab_dict
        out = []
        for word, flag in posseg.lcut(text.lower()):
            if not flag.startswith(("n", "vn", "l", "j")) or word in out:
                continue
            if len(word) < 2 or word in _STOP or _ASKING.search(word) or not _HAN_RUN.fullmatch(word) or word in vocab:
                continue
            if any("#" + word[i : i + 2] not in vocab for i in range(len(word) - 1)):
                out.append(word)
        return out

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Top `k` (chunk_id, score) for `query`, optionally only among `allowed` chunk ids."""
        with self._lock:
            self._load_or_build()
            bm25, ids = self._bm25, self._ids
        tokens = tokenize(query)
        if bm25 is None or not ids or not tokens:
            return []
        scores = bm25.get_scores(tokens)
        if allowed is not None:
            mask = np.fromiter((i in allowed for i in ids), dtype=bool, count=len(ids))
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]
