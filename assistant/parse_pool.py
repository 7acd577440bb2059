"""Reading files for an ingest: in parser processes, while the ingest process embeds.

`parse` is what becomes of one file before it is chunked: `load_document` (OCR included) and
its `version_meta`. A parser from `open_parser` hands those back in file order, one
`take(job)` per file. `InlineParser` parses a file when it is taken, in the calling process.
`PoolParser` has worker processes parse the next files while the ingest process chunks, embeds
and writes (at most `AHEAD_PER_WORKER` files a worker not taken yet, so memory stays flat however
large the folder). A worker is a fresh interpreter (`python -c`, not a fork and not multiprocessing's
spawn, which would run the caller's main script again) that imports the parsers only, never
the embedding model, Chroma or torch; it gets one file at a time over a socket and sends back
the document, the `DocumentError`, or its OCR page progress, which is relayed to the ingest's
progress callback. A worker that dies (a parser library crashing on a file, the OOM killer)
is known by the file it had: that file is reported as failed and a new worker takes its place.
A worker ends when the ingest process is gone.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Protocol

from .documents import load_document
from .errors import DocumentError
from .failpoints import kill_with
from .ocr import OCROptions, file_progress
from .types import Document
from .versions import version_meta

# progress(done_files, total_files, current_file_name)
ProgressFn = Callable[[int, int, str], None]
Parsed = tuple[Document, dict[str, str]]  # a loaded document and its version metadata (assistant.versions)
ParseFn = Callable[[Path, Path, OCROptions | None], Parsed]

# Files parsed or being parsed but not taken yet, per worker: while one slow file (a long OCR) is awaited, the other
# workers read this far ahead. It bounds the parsed documents held in memory.
AHEAD_PER_WORKER = 2
_POLL_SECONDS = 0.25  # how often relayed OCR progress is shown while the ingest process waits for a file
CRASHED = "the parser process stopped while reading this file (it crashed or ran out of memory)"


@dataclass(frozen=True)
class ParseJob:
    """One file to parse; `n` is its place among the ingest's files (for progress)."""

    n: int
    file: Path
    root: Path


def parse(file: Path, root: Path, ocr: OCROptions | None) -> Parsed:
    """Read one file as ingest needs it; raises `DocumentError` for a bad file."""
    doc = load_document(file, root, ocr=ocr)
    return doc, version_meta(doc)


@dataclass(frozen=True)
class ParseSetup:
    """How an ingest's files are parsed: its OCR options (None: no OCR), its progress callback and file count (OCR
    page progress is shown through it), and the task run on each file (`parse` but in tests)."""

    ocr: OCROptions | None
    progress: ProgressFn | None
    total: int
    task: ParseFn = parse


class Parser(Protocol):
    """Parsed files, handed out in the order of the jobs the parser was opened with."""

    def take(self, job: ParseJob) -> Parsed:
        """The parsed file of `job`, the next job not taken yet; raises `DocumentError` for a bad file."""
        ...

    def close(self) -> None:
        """Stop parsing; jobs not taken are abandoned."""
        ...


def open_parser(jobs: list[ParseJob], workers: int, setup: ParseSetup) -> Parser:
    """A pool of up to `workers` processes for `jobs`, or parsing in this process (no workers, or fewer than two
    files to parse: starting a process costs more than it saves)."""
    if workers >= 1 and len(jobs) >= 2:
        return PoolParser(jobs, min(workers, len(jobs)), setup)
    return InlineParser(setup)


class InlineParser:
    """Parses each file when it is taken, in this process."""

    def __init__(self, setup: ParseSetup) -> None:
        self._setup = setup

    def take(self, job: ParseJob) -> Parsed:
        ocr, progress, total = self._setup.ocr, self._setup.progress, self._setup.total
        return self._setup.task(job.file, job.root, ocr.for_file(progress, job.n, total) if ocr else None)

    def close(self) -> None:
        pass


_WORKER = "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); from assistant.parse_pool import serve; serve(int(sys.argv[2]))"


class _Worker:
    """One parser process and its connection; `job` is the file it is parsing, if any."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WORKER, json.dumps([str(p) for p in sys.path]), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # whatever a parser library prints must not end up in `ingest --json`
            )
            self.conn = Connection(ours.detach())
        self.job: ParseJob | None = None

    def send(self, job: ParseJob, task: ParseFn, ocr: OCROptions | None, relay: bool) -> None:
        self.job = job
        self.conn.send((task, job, ocr, relay))

    def stop(self) -> None:
        self.conn.close()  # a waiting worker ends at the closed connection; a busy one is not waited for
        if self.job is not None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class PoolParser:
    """Parses files ahead, in order, in worker processes."""

    def __init__(self, jobs: list[ParseJob], workers: int, setup: ParseSetup) -> None:
        self._waiting = deque(jobs)
        self._progress, self._total, self._task = setup.progress, setup.total, setup.task
        self._ocr = replace(setup.ocr, progress=None) if setup.ocr else None  # a worker sends its page progress instead
        self._limit = workers * AHEAD_PER_WORKER
        self._done: dict[int, tuple[Parsed | None, BaseException | None]] = {}  # parsed, not taken yet
        self._workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self._workers.append(_Worker())
        except BaseException:
            self.close()
            raise
        self._dispatch()

    def _dispatch(self) -> None:
        """Give idle workers the next files, while fewer than `_limit` are parsed or being parsed."""
        for worker in self._workers:
            busy = sum(w.job is not None for w in self._workers)
            if worker.job is None and self._waiting and len(self._done) + busy < self._limit:
                worker.send(self._waiting.popleft(), self._task, self._ocr, self._progress is not None)

    def take(self, job: ParseJob) -> Parsed:
        while job.n not in self._done:
            if not any(w.job is not None for w in self._workers):
                raise RuntimeError(f"{job.file} was not given to a parser (jobs taken out of order?)")
            self._receive(job)
        parsed, error = self._done.pop(job.n)
        self._dispatch()
        if error is not None:
            raise error
        assert parsed is not None
        return parsed

    def _receive(self, head: ParseJob) -> None:
        """Wait for messages from the busy workers; OCR progress is shown as progress of `head`, the file awaited."""
        busy = {w.conn: w for w in self._workers if w.job is not None}
        for conn in wait(list(busy), timeout=_POLL_SECONDS):
            worker = busy[conn]  # type: ignore[index]
            job = worker.job
            assert job is not None
            try:
                kind, *payload = worker.conn.recv()
            except (EOFError, OSError):  # the worker died with this file: it alone is reported
                self._done[job.n] = (None, DocumentError(str(job.file), CRASHED))
                worker.job = None
                worker.stop()
                self._workers[self._workers.index(worker)] = _Worker()
                continue
            if kind == "page":
                if self._progress is not None:
                    file_progress(self._progress, head.n, self._total)(*payload)
                continue
            self._done[job.n] = (payload[0], None) if kind == "parsed" else (None, payload[0])
            worker.job = None
        self._dispatch()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers = []


# ----- in a worker process -----------------------------------------------------------------


def serve(fd: int) -> None:
    """A parser process: parse the files that come over the connection on `fd`, one at a time, until it closes."""
    conn = Connection(fd)
    ingest_pid = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the ingest process, which stops its workers
    kill_with(ingest_pid)  # a failpoint reached here stops the whole ingest (assistant.failpoints)
    threading.Thread(target=_exit_with, args=(ingest_pid,), daemon=True).start()
    while True:
        try:
            task, job, ocr, relay = conn.recv()
        except (EOFError, OSError):  # the ingest process is done with this worker, or gone
            return
        if ocr is not None and relay:
            ocr = replace(ocr, progress=lambda page, pages, what: conn.send(("page", page, pages, what)))
        try:
            message = ("parsed", task(job.file, job.root, ocr))
        except Exception as exc:  # a DocumentError, or a bug: raised again in the ingest process
            message = ("failed", exc if _picklable(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            conn.send(message)
        except OSError:  # the ingest process is gone
            return


def _picklable(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True


def _exit_with(ingest_pid: int) -> None:
    """End this worker once the ingest process is gone (killed): an orphan would parse on, holding its pipes open."""
    while os.getppid() == ingest_pid:
        time.sleep(0.5)
    os._exit(1)
