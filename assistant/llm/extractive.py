"""The extractive backend: answers by quoting the best supporting sentences, with citations. No LLM.

Useful where no model is available, and as the fast mode: its answers are verbatim
source sentences, so every citation it writes is supported by construction.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..glossary import term_share
from ..prompts import refusal_sentence
from ..textutil import content_units, coverage, language_of, split_sentences
from .base import GenerationRequest

MIN_COVERAGE = 0.15  # below this no sentence is related enough to quote


class ExtractiveBackend:
    """Picks the one or two evidence sentences that cover the question best."""

    name = "extractive"

    def __init__(self, max_sentences: int = 2) -> None:
        self.max_sentences = max_sentences

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        scored: list[tuple[float, int, str]] = []
        for n, text in request.evidence:
            # Across languages words cannot be compared, but key terms can: "penalties" wants the article with 处罚.
            across = language_of(text) != language_of(request.question)
            share = (term_share(request.question, text) or 0.0) if across and request.language == "en" else 0.0
            for s, e in split_sentences(text):
                sentence = text[s:e].strip(" …")
                # Headings are labels, not statements: never quote one as an answer.
                if sentence.startswith("#") or len(content_units(sentence)) < 3:
                    continue
                # Prefer sentences that share the question's words; a small bonus for earlier passages.
                score = (share if across else coverage(request.question, sentence)) - 0.01 * n
                scored.append((score, n, sentence))
        scored.sort(key=lambda x: -x[0])
        if not scored or scored[0][0] < MIN_COVERAGE and language_of(request.question) == language_of(scored[0][2]):
            yield refusal_sentence(request.language)
            return
        chosen = [scored[0]]
        for cand in scored[1 : 6]:
            if len(chosen) >= self.max_sentences:
                break
            if cand[0] >= 0.6 * scored[0][0] and cand[2] != chosen[0][2]:
                chosen.append(cand)
        lead = "According to the documents: " if request.language == "en" and language_of(chosen[0][2]) == "zh" else ""
        yield lead
        for i, (_, n, sentence) in enumerate(chosen):
            yield ("" if i == 0 else " ") + sentence + f"[{n}]"

    def option_scores(self, request: GenerationRequest, options: list[str]) -> list[float]:
        """No model, no opinion: every option scores 0, so the engine picks by the evidence alone."""
        return [0.0] * len(options)

    def close(self) -> None:
        return None
