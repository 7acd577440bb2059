"""Process-level set-up done by entry points (never at import): offline mode and no phone-home."""

from __future__ import annotations

import logging
import os
import warnings

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "DO_NOT_TRACK": "1",
    # llama.cpp's OpenMP threads busy-wait by default: 2-4x slower generation when anything else wants
    # the cores (bench/llm.py --tune). torch loads the same OpenMP runtime, so this must be set first.
    "OMP_WAIT_POLICY": "PASSIVE",
}


def configure_process() -> None:
    """Offline, no telemetry, quiet third-party loggers. Users with internet may override HF_HUB_OFFLINE."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    for noisy in ("chromadb", "jieba", "httpx", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
