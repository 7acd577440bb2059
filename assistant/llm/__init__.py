"""Answer generators behind one interface: local llama.cpp, OpenAI-compatible HTTP, extractive.

Building a backend is cheap: models load and connections open on first use.
"""

from __future__ import annotations

from pathlib import Path

from ..config import LLMSettings
from ..errors import ConfigError
from .base import GenerationRequest, LLMBackend
from .models import BUNDLED_MODELS, ensure_model

__all__ = ["BUNDLED_MODELS", "GenerationRequest", "LLMBackend", "ensure_model", "make_backend"]


def make_backend(settings: LLMSettings, backend: str | None = None, cache_dir: Path | None = None) -> LLMBackend:
    """Build the backend named by `backend` (default: `settings.backend`) without loading anything.

    `cache_dir` is where bundled local models are assembled (default: `$ASSISTANT_CACHE_DIR`
    or `~/.cache/policy-assistant/models`).
    """
    kind = backend or settings.backend
    if kind == "local":
        from .local import LocalLlamaBackend

        return LocalLlamaBackend.from_settings(settings, cache_dir=cache_dir)
    if kind == "openai":
        from .openai_compat import OpenAICompatBackend

        return OpenAICompatBackend.from_settings(settings)
    if kind == "extractive":
        from .extractive import ExtractiveBackend

        return ExtractiveBackend()
    raise ConfigError(f"Unknown LLM backend '{kind}'. Use 'local', 'openai' or 'extractive' (llm.backend).")
