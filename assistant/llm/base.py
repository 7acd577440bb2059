"""The one small interface every answer generator implements: local llama.cpp, an
OpenAI-compatible server, or the extractive fallback.

A backend takes a fully rendered request and yields text pieces as they are generated,
so front ends can stream. Failures are raised as `LLMError` (or `ModelUnavailableError`
when a model cannot be loaded), never as library-specific exceptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass
class GenerationRequest:
    """Everything a backend needs to produce one answer.

    `messages` is what generative backends send; `question` and `evidence` are the same
    content in structured form, for backends that do not prompt a model (extractive).
    """

    messages: list[dict[str, str]]
    question: str
    evidence: list[tuple[int, str]] = field(default_factory=list)
    language: str = "zh"
    max_tokens: int = 320
    temperature: float = 0.1
    stop: list[str] | None = None


@runtime_checkable
class LLMBackend(Protocol):
    """A text generator behind one small interface."""

    name: str

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer's text pieces as they are produced.

        Closing the iterator early stops generation. Raises `LLMError` (or
        `ModelUnavailableError` for a model that cannot be loaded).
        """
        ...

    def close(self) -> None:
        """Release the model or connections; the backend may be used again afterwards."""
        ...
