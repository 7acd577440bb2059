"""The on-disk cache of recognised pages, keyed by a file's content hash and the page number, so an
ingest killed in the middle of a 300-page scan resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from .recognition import PageOCR

CACHE_VERSION = 1


def content_key(path: Path) -> str:
    """A cache key for a file: the sha256 of its bytes (so a renamed or copied file keeps its OCR)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32]


class PageCache:
    """Recognised pages on disk: `<dir>/<content key>/<page>.json`, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _file(self, key: str, page: int) -> Path:
        return self.directory / key / f"{page}.json"

    def get(self, key: str, page: int) -> PageOCR | None:
        try:
            data = json.loads(self._file(key, page).read_text(encoding="utf-8"))
            os.utime(self.directory / key)  # in use: `prune` keeps it
        except (OSError, ValueError):
            return None
        if data.pop("v", None) != CACHE_VERSION:
            return None
        try:
            return PageOCR(**data)
        except TypeError:
            return None

    def put(self, key: str, result: PageOCR) -> None:
        folder = self.directory / key
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"v": CACHE_VERSION, **asdict(result)}, f, ensure_ascii=False)
        os.replace(tmp, self._file(key, result.page))

    def drop(self, key: str) -> None:
        """Forget a file's pages."""
        shutil.rmtree(self.directory / key, ignore_errors=True)

    def prune(self, keep: set[str], before: float) -> int:
        """Drop the pages of files that are neither in `keep` (the content keys of indexed documents that were
        recognised) nor used since `before` (a time.time(): an ingest's start, so a file that failed this run or
        is still to be indexed keeps its pages); returns how many files' pages were dropped."""
        if not self.directory.is_dir():
            return 0
        dropped = 0
        for folder in self.directory.iterdir():
            try:
                stale = folder.is_dir() and folder.name not in keep and folder.stat().st_mtime < before
            except OSError:
                continue
            if stale:
                self.drop(folder.name)
                dropped += 1
        return dropped
