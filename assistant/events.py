"""What `Engine.stream` yields: the sources first, then answer text as it is generated, then the checked answer.

Front ends react to each event as it comes (show the sources at once, print tokens); those that
only want the result call `collect()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .types import Answer, Passage


@dataclass
class Sources:
    """Retrieval is done: the passages the answer will draw on, and what was understood of the question."""

    passages: list[Passage]
    analysis: dict[str, Any] = field(default_factory=dict)


@dataclass
class Token:
    """A piece of answer text as the model produced it (before verification)."""

    text: str


@dataclass
class Final:
    """The verified answer; always the last event."""

    answer: Answer


Event = Sources | Token | Final


def collect(
    events: Iterable[Event],
    *,
    on_token: Callable[[str], None] | None = None,
    on_sources: Callable[[list[Passage]], None] | None = None,
) -> Answer:
    """Consume a stream of events and return its final Answer, calling the callbacks on the way.

    Raises AssistantError-free RuntimeError only for a stream that ends without a `Final`, which
    `Engine.stream` never does.
    """
    answer: Answer | None = None
    for event in events:
        if isinstance(event, Token):
            if on_token is not None:
                on_token(event.text)
        elif isinstance(event, Sources):
            if on_sources is not None:
                on_sources(event.passages)
        else:
            answer = event.answer
    if answer is None:
        raise RuntimeError("the answer stream ended without a final answer")
    return answer
