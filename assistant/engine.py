"""The Engine: one object that every front end (CLI, REPL, web UI, evaluation) asks.

    question -> condense (with history) -> retrieve -> refuse if the evidence is weak
             -> best sentences as numbered evidence -> LLM (streamed) -> verify citations -> Answer
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

from .citations import claims_support, verify
from .config import Settings
from .errors import AssistantError, LLMError
from .evidence import Evidence, passage_header
from .evidence import select as select_evidence
from .index import Index, open_index
from .llm import GenerationRequest, LLMBackend, make_backend
from .prompts import answer_messages, is_refusal, refusal_sentence, render
from .retrieval import RetrievalResult, Retriever
from .textutil import content_units, language_of
from .types import Answer, Filters, Passage


@dataclass
class Turn:
    """One exchange of a conversation, as front ends keep it."""

    question: str
    answer: str
    doc_titles: list[str]


PassagesCallback = Callable[[list[Passage]], None]

_REFERRING = re.compile(
    r"它|其|该|这个|这些|这项|这一|上述|此|那么|那|还有|呢[？?]?$|\b(?:it|its|this|that|these|those|they|them|there)\b",
    re.I,
)


def is_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation: it refers back ("its second article") or is a fragment.

    A question that names its own policy (《…》) or is long enough to stand alone is left as it is,
    so a new topic in the same conversation is not dragged back to the last answer's documents.
    """
    if "《" in question:
        return False
    short = len(re.findall(r"[\u4e00-\u9fff]", question)) < 8 and len(re.findall(r"[A-Za-z]+", question)) < 5
    return short or bool(_REFERRING.search(question))


class Engine:
    """Owns the index, retriever, LLM backend and prompts. Thread-safe for concurrent questions."""

    def __init__(self, settings: Settings, *, index: Index | None = None, backend: LLMBackend | None = None) -> None:
        self.settings = settings
        self.index = index or open_index(settings)
        self.retriever = Retriever(self.index, settings.retrieval)
        self._backends: dict[str, LLMBackend] = {}
        if backend is not None:
            self._backends[settings.llm.backend] = backend
        self._lock = threading.Lock()

    # ----- collaborators -----
    def backend(self, name: str | None = None) -> LLMBackend:
        kind = name or self.settings.llm.backend
        with self._lock:
            if kind not in self._backends:
                self._backends[kind] = make_backend(self.settings.llm, kind)
            return self._backends[kind]

    def similarity(self, claim: str, sentences: list[str]) -> list[float]:
        """Cosine similarity of a claim and candidate sentences with the (multilingual) embedder."""
        q = self.index.embedder.embed_query(claim)
        return [float(x) for x in self.index.embedder.embed_documents(sentences) @ q]

    def warm_up(self, language: str = "zh") -> float:
        """Load the local model and let it read the answer prompt's fixed opening (the system prompt).

        llama.cpp keeps what it has read and reuses the longest shared prefix, so the first
        question then pays only for its own evidence and words (the ~265-token system message takes
        ~7 s to read with the 1.5B on 2 cores).
        Front ends call this in the background at start; other backends need nothing. Failures are
        left for the first question to report. Returns the seconds spent.
        """
        started = time.perf_counter()
        if self.settings.llm.backend != "local":
            return 0.0
        messages = answer_messages(language, evidence="", question="")
        try:
            for _ in self.backend().generate(GenerationRequest(messages=messages, question="", max_tokens=1)):
                pass
        except AssistantError:
            pass
        return time.perf_counter() - started

    # ----- steps -----
    def condense(self, question: str, history: list[Turn] | None, backend: str | None = None) -> str:
        """A standalone version of a follow-up question.

        With a generative backend and `llm.condense = "llm"`, the model rewrites it; otherwise
        the follow-up is joined with the documents the last answer drew on, which is what
        retrieval needs ("its second article" + 《that policy》).
        """
        if not history:
            return question
        last = history[-1]
        mode = self.settings.llm.condense
        kind = backend or self.settings.llm.backend
        if mode == "llm" or (mode == "auto" and kind == "openai"):
            lang = language_of(question)
            transcript = "\n".join(f"Q: {t.question}\nA: {t.answer[:300]}" for t in history[-3:])
            try:
                text = "".join(
                    self.backend(kind).generate(
                        GenerationRequest(
                            messages=render("condense", lang, history=transcript, question=question),
                            question=question, language=lang, max_tokens=80, temperature=0.0,
                        )
                    )
                ).strip()
                if text:
                    return text.splitlines()[0]
            except LLMError:
                pass  # fall back to the heuristic below
        if not is_follow_up(question):
            return question
        context = " ".join(f"《{t}》" for t in dict.fromkeys(last.doc_titles)) or last.question
        return f"{question} {context}"

    def retrieve(self, question: str, filters: Filters | None = None, top_k: int | None = None) -> RetrievalResult:
        return self.retriever.retrieve(question, filters, top_k)

    def weak_evidence(self, question: str, result: RetrievalResult) -> bool:
        """Refuse without asking the LLM: nothing found, the named policy is not indexed, or low evidence."""
        if not result.passages:
            return True
        if result.named_title_found is False:
            return True
        threshold = self.settings.retrieval.refusal_threshold
        if threshold <= 0:
            return False
        best = max(float(p.meta.get("evidence", 0.0)) for p in result.passages[:3])
        return best < threshold

    def evidence_passages(self, question: str, passages: list[Passage]) -> list[int]:
        """Numbers (1-based, rank order) of the passages worth showing the LLM.

        Every prompt token costs time on a CPU (~35-90 tokens/s), and a small model answers
        better from less: passages that share far less of the question than the best one are
        left out. Passages in another language than the question are kept (the overlap
        cannot judge them).
        """
        lang = language_of(question)
        scores = [float(p.meta.get("evidence", 0.0)) for p in passages]
        same = [sc for p, sc in zip(passages, scores, strict=True) if language_of(p.text) == lang]
        best = max(same, default=0.0)
        keep = [
            i + 1
            for i, (p, sc) in enumerate(zip(passages, scores, strict=True))
            if language_of(p.text) != lang or sc >= self.settings.llm.evidence_ratio * best
        ]
        return keep[: self.settings.llm.max_passages] or [1]

    def build_request(
        self,
        question: str,
        passages: list[Passage],
        language: str,
        *,
        compress: bool = True,
        idf: dict[str, float] | None = None,
    ) -> GenerationRequest:
        """The LLM request: the chosen passages' best sentences as numbered, quoted evidence.

        Evidence keeps each passage's number in `passages`, so [n] in the answer maps back to it.
        `compress` (for generative backends) keeps only the sentences that fit `llm.context_tokens`;
        without it each chosen passage is given whole (the extractive backend picks its own sentences).
        `idf` is the question's word weights when retrieval has them already (`RetrievalResult.idf`).
        """
        numbers = self.evidence_passages(question, passages) if passages else []
        if compress:
            if idf is None:
                idf = self.index.keywords.idf(sorted(content_units(question)))
            chosen = select_evidence(
                question, passages, numbers, self.settings.llm.context_tokens, idf=idf, similarity=self.similarity
            )
        else:
            chosen = [Evidence(n, passage_header(passages[n - 1], True), passages[n - 1].text) for n in numbers]
        evidence = [(e.number, e.text) for e in chosen]
        blocks = [f"[{e.number}] {e.header}\n{e.text}" if e.header else f"[{e.number}]\n{e.text}" for e in chosen]
        messages = answer_messages(language, evidence="\n\n".join(blocks), question=question)
        return GenerationRequest(
            messages=messages, question=question, evidence=evidence, language=language,
            max_tokens=self.settings.llm.max_tokens, temperature=self.settings.llm.temperature,
        )

    # ----- answering -----
    def stream(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: Filters | None = None,
        *,
        backend: str | None = None,
        on_passages: PassagesCallback | None = None,
        top_k: int | None = None,
    ) -> Generator[str | Answer, None, None]:
        """Yield the answer text as it is generated, then the final, verified `Answer`.

        `on_passages` is called with the retrieved passages before generation starts, so a
        front end can show the sources first.
        """
        question = question.strip()
        if not question:
            raise AssistantError("The question is empty.")
        started = time.perf_counter()
        language = language_of(question)
        standalone = self.condense(question, history, backend)
        t = time.perf_counter()
        result = self.retrieve(standalone, filters, top_k)
        timings = {"condense": t - started, "retrieval": time.perf_counter() - t, **{f"retrieval_{k}": v for k, v in result.timings.items()}}
        passages = result.passages
        if on_passages:
            on_passages(passages)
        kind = backend or self.settings.llm.backend
        answer = Answer(question=question, text="", passages=passages, standalone_question=standalone, language=language)
        if self.weak_evidence(standalone, result):
            answer.text, answer.refused = refusal_sentence(language), True
            answer.backend = kind
            timings["first_token"] = time.perf_counter() - started
            yield answer.text
        else:
            llm = self.backend(kind)
            answer.backend = llm.name
            request = self.build_request(
                standalone, passages, language, compress=kind != "extractive", idf=result.idf
            )
            raw: list[str] = []
            try:
                for piece in llm.generate(request):
                    if not piece:
                        continue
                    if not raw:
                        timings["first_token"] = time.perf_counter() - started
                    raw.append(piece)
                    yield piece
            except LLMError as exc:
                answer.error = str(exc)
            text = "".join(raw).strip()
            if answer.error and not text:
                answer.text = ""
            elif is_refusal(text, language):
                answer.text, answer.refused = refusal_sentence(language), True
            else:
                answer.text, answer.citations = verify(text, passages, self.similarity)
                answer.text = _tidy(answer.text)
                supported, checkable = claims_support(answer.text, answer.citations)
                if checkable and not supported and not _CHOICE_LEAD.match(answer.text):
                    # Not one statement is backed by a passage: that is invention, not an answer. (An answer
                    # that leads with a choice or verdict keeps it: its reasons may not verify, the pick stands.)
                    answer.unverified = answer.text
                    answer.text, answer.refused = refusal_sentence(language), True
        timings["total"] = time.perf_counter() - started
        timings.setdefault("first_token", timings["total"])
        answer.timings = timings
        yield answer

    def ask(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None, **kw) -> Answer:
        """The complete, verified answer (no streaming)."""
        final: Answer | None = None
        for item in self.stream(question, history, filters, **kw):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def close(self) -> None:
        for b in self._backends.values():
            b.close()
        self.index.close()


# "B. …", "正确。…", "正确选项的字母是A", "True, because …": the answer to a choice or true/false question.
_CHOICE_LEAD = re.compile(
    r"^\s*(?:[A-Da-d](?:[.、．:：)）\s]|$)|正确|错误|对[。，,.]|错[。，,.]|true\b|false\b|yes\b|no\b|答案|选项)", re.I
)


def _tidy(text: str) -> str:
    """Small-model output clean-up: drop a leading 'Answer:'/'答：' label and repeated blank lines."""
    text = re.sub(r"^\s*(?:answer|回答|答案|答)\s*[:：]\s*", "", text, flags=re.I)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
