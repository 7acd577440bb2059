"""Per-browser-session state of the web UI: the conversation, its filters and the selected source.

One `Session` lives in a `gr.State`, so Gradio gives every visitor their own copy;
nothing here is shared between users except the Engine the handlers hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..engine import Turn
from ..types import Answer, Citation, Filters, Passage

Phase = Literal["retrieving", "sources", "streaming", "done", "refused", "error"]


@dataclass
class ChatTurn:
    """One question and what the UI shows for it while and after it is answered."""

    question: str
    text: str = ""  # streamed raw text, replaced by the verified answer text at the end
    passages: list[Passage] = field(default_factory=list)
    answer: Answer | None = None
    phase: Phase = "retrieving"
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.phase in ("done", "refused", "error")

    def citations(self) -> dict[int, Citation]:
        """Supported citations of the final answer, by marker number."""
        if self.answer is None or self.answer.refused:
            return {}
        return {c.n: c for c in self.answer.citations if c.supported}

    def unsupported(self) -> list[int]:
        if self.answer is None:
            return []
        return [c.n for c in self.answer.citations if not c.supported]


@dataclass
class Session:
    """Everything one visitor's page knows: language, conversation, filters, selection."""

    lang: str = "zh"
    turns: list[ChatTurn] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    selected_turn: int | None = None
    selected_n: int | None = None

    def history(self) -> list[Turn]:
        """Finished, non-failed exchanges as the Engine takes them for follow-up questions."""
        out: list[Turn] = []
        for turn in self.turns:
            if turn.answer is None or turn.phase == "error":
                continue
            cited = [c.passage.title for c in turn.answer.citations if c.supported]
            titles = cited or [p.title for p in turn.answer.passages[:1]]
            out.append(Turn(question=turn.question, answer=turn.answer.text, doc_titles=titles))
        return out

    def reset(self) -> None:
        """Start a new conversation (filters and language stay)."""
        self.turns.clear()
        self.selected_turn = self.selected_n = None

    def turn(self, index: int | None) -> ChatTurn | None:
        if index is None or not 0 <= index < len(self.turns):
            return None
        return self.turns[index]
