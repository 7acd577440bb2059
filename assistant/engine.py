"""The Engine: the one door every front end (CLI, REPL, web UI, evaluation, benchmarks) goes through.

    question -> Query (condensed, analysed once) -> retrieve -> refuse if the evidence is weak
             -> list question: items from the document's structure (no model)
             -> otherwise: evidence planned by question type -> LLM (streamed)
             -> verify citations -> check the answer answers (else quote the evidence, or refuse) -> Answer
Events: Sources, then Tokens, then Final (assistant/events.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from . import answering, choice, evidence, lists
from .catalog import DocumentRecord
from .citations import check_support, claims_support, verify
from .config import Settings
from .conversation import Turn, condense, is_follow_up
from .errors import AssistantError, DocumentNotFoundError, IndexMissingError, LLMError
from .events import Event, Final, Sources, Token, collect
from .index import Index, open_index
from .ingest import IngestReport, ProgressFn, ingest, remove_document
from .llm import GenerationRequest, LLMBackend, make_backend
from .prompts import answer_messages, is_refusal, refusal_sentence
from .query import Query, check_question, value_pattern
from .retrieval import RetrievalResult, Retriever
from .textutil import section_label
from .types import Answer, Citation, Document, Filters, Passage

__all__ = ["Engine", "Turn", "is_follow_up"]


class Engine:
    """The one door into the assistant: ingest, look up documents, retrieve and answer.

    Owns the index, retriever, LLM backends and prompts. Thread-safe: questions may run
    concurrently; writes to the index (ingest, remove) are serialised by one lock.
    """

    def __init__(self, settings: Settings, *, index: Index | None = None, backend: LLMBackend | None = None) -> None:
        self.settings = settings
        self.index = index or open_index(settings)
        self.retriever = Retriever(self.index, settings.retrieval)
        self._backends: dict[str, LLMBackend] = {}
        if backend is not None:
            self._backends[settings.llm.backend] = backend
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False, backend: LLMBackend | None = None) -> Engine:
        """The Engine over `settings`' index; with `create`, a missing index is created empty."""
        return cls(settings, index=open_index(settings, create=create), backend=backend)

    # ----- the library: what is indexed -----
    def ingest(
        self, paths: list[Path], *, rebuild: bool = False, prune: bool = True, progress: ProgressFn | None = None
    ) -> IngestReport:
        """Bring the index in line with the files under `paths` (see `assistant.ingest.ingest`).

        With `rebuild` the index is wiped and built again, and this Engine reopens it.
        """
        with self._write_lock:
            if rebuild:
                self.index.close()
                report = ingest(paths, self.settings, rebuild=True, progress=progress)
                self.index = open_index(self.settings)
                self.retriever = Retriever(self.index, self.settings.retrieval)
                return report
            return ingest(paths, self.settings, progress=progress, index=self.index, prune=prune)

    def ensure_index(self, corpus: Path, progress: ProgressFn | None = None) -> IngestReport | None:
        """First run: when the index holds no document, ingest `corpus` (the sample corpus). None when not needed."""
        if self.index.catalog.counts()[0] > 0:
            return None
        if not corpus.is_dir():
            raise IndexMissingError(
                f"The index in {self.settings.store.path}/ is empty and the corpus {corpus}/ does not exist. "
                "Run `assistant ingest DIR` first, or pass --index DIR."
            )
        return self.ingest([corpus], prune=False, progress=progress)

    def remove(self, doc_id: str) -> DocumentRecord:
        """Remove one document (its vectors, chunks and keywords); returns what was removed."""
        with self._write_lock:
            record = self.index.catalog.document(doc_id)
            if record is None:
                raise DocumentNotFoundError(f"No document '{doc_id}' in the index; `assistant status` lists them.")
            remove_document(self.index, doc_id)
            self.index.keywords.rebuild()
            return record

    def documents(self) -> list[DocumentRecord]:
        """Every indexed document (complete or pending), without its text."""
        return self.index.catalog.documents()

    def document(self, doc_id: str) -> DocumentRecord | None:
        return self.index.catalog.document(doc_id)

    def document_text(self, doc_id: str) -> Document | None:
        """The full text of a document, for the source viewer."""
        return self.index.catalog.document_text(doc_id)

    def editions(self) -> Any:
        """The works and editions of the indexed documents (`assistant.versions.Library`), cached per index state."""
        from .versions import library_for

        return library_for(self.index.catalog)

    def versions(self, as_of: str | None = None) -> dict[str, dict[str, Any]]:
        """doc_id -> work_id, edition, effective_date, validity as of `as_of` (today): `status --json` fields."""
        from .versions import document_versions

        return document_versions(self.index.catalog, as_of)

    def status(self) -> dict[str, Any]:
        """What is indexed: counts, model, collection, store, last ingest (what `assistant status --json` prints)."""
        return self.index.status()

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
        """A standalone version of a follow-up question (see `assistant.conversation.condense`)."""
        kind = backend or self.settings.llm.backend
        use_llm = self.settings.llm.condense == "llm" or (self.settings.llm.condense == "auto" and kind == "openai")
        return condense(question, history, self.backend(kind) if use_llm and history else None)

    def query(self, question: str, history: list[Turn] | None = None, backend: str | None = None) -> Query:
        """The analysed question: condensed against the conversation, classified, its units computed once."""
        return Query.make(question, self.condense(question, history, backend))

    def retrieve(self, question: str | Query, filters: Filters | None = None, top_k: int | None = None) -> RetrievalResult:
        return self.retriever.retrieve(question, filters, top_k)

    def build_request(self, query: Query, passages: list[Passage], *, idf: dict[str, float] | None = None) -> GenerationRequest:
        """The LLM request: the chosen passages' best sentences, within the budget for the question's type,
        as numbered, quoted evidence. Evidence keeps each passage's number, so [n] maps back to it."""
        s = self.settings.llm
        numbers = evidence.choose(query, passages, s.evidence_ratio, s.max_passages) if passages else []
        analysis = query.analysis
        chosen = evidence.select(
            query.retrieval_text, passages, numbers, answering.budget(query, s.context_tokens),
            idf=idf if idf is not None else query.idf, similarity=self.similarity,
            value=value_pattern(analysis.attribute, analysis.unit) if analysis.type == "fact" else None,
        )  # fmt: skip
        blocks = [f"[{e.number}] {e.header}\n{e.text}" if e.header else f"[{e.number}]\n{e.text}" for e in chosen]
        messages = answer_messages(query.language, evidence="\n\n".join(blocks), question=query.standalone)
        return GenerationRequest(
            messages=messages, question=query.standalone, evidence=[(e.number, e.text) for e in chosen],
            language=query.language, max_tokens=s.max_tokens, temperature=s.temperature,
        )

    # ----- answering -----
    def stream(
        self,
        question: str,
        history: list[Turn] | None = None,
        filters: Filters | None = None,
        *,
        backend: str | None = None,
        top_k: int | None = None,
    ) -> Generator[Event, None, None]:
        """Answer a question: yield `Sources` when retrieval is done, `Token`s as the answer is written,
        then one `Final` with the verified `Answer`. Raises QuestionError for a question that cannot be asked."""
        started = time.perf_counter()
        question = check_question(question)
        query = self.query(question, history, backend)
        t = time.perf_counter()
        result = self.retrieve(query, filters, top_k)
        timings = {"condense": t - started, "retrieval": time.perf_counter() - t, **{f"retrieval_{k}": v for k, v in result.timings.items()}}
        passages = result.passages
        yield Sources(passages, query.analysis.to_dict())
        kind = backend or self.settings.llm.backend
        answer = Answer(
            question=question, text="", passages=passages, standalone_question=query.standalone,
            language=query.language, analysis=query.analysis.to_dict(), backend=kind,
        )  # fmt: skip
        unknown = self._unknown_terms(query)
        named = evidence.named_found(result.named_title_found, result.named_titles, passages)
        weak = evidence.weak(passages, named, self.settings.retrieval.refusal_threshold)
        if unknown or weak or choice.source_missing(query, passages):
            answer.text, answer.refused = refusal_sentence(query.language), True
            if unknown:  # say what the documents never mention, so the user can rephrase
                terms = "、".join(f"“{w}”" for w in unknown)
                answer.text += f"（文件中未出现{terms}。）" if query.language == "zh" else f" (Not in the documents: {terms}.)"
            timings["first_token"] = time.perf_counter() - started
            yield Token(answer.text)
        elif query.analysis.type == "comparison" and (plan := lists.plan_change(query, self.index.catalog)):
            yield from self._answer_list(answer, query, plan, timings, started)
        elif (
            query.analysis.wants_list
            and self.settings.llm.structured_lists
            and (plan := self._list_plan(query, result)) is not None
        ):
            yield from self._answer_list(answer, query, plan, timings, started)
        elif choice.options(query) and hasattr(llm := self.backend(kind), "option_scores"):  # local, extractive
            yield from self._answer_choice(answer, query, llm, result, timings, started)
        else:
            yield from self._answer_generated(answer, query, self.backend(kind), result, timings, started)
        timings["total"] = time.perf_counter() - started
        timings.setdefault("first_token", timings["total"])
        answer.timings = timings
        yield Final(answer)

    def _answer_list(
        self, answer: Answer, query: Query, plan: lists.ListPlan, timings: dict[str, float], started: float
    ) -> Generator[Event, None, None]:
        """A list answer from the document's structure: one cited line per item, streamed at once, no model."""
        passages, numbers = answer.passages, []
        for p, _ in plan.items:
            known = next((i for i, q in enumerate(passages, 1) if q.chunk_id == p.chunk_id), None)
            if known is None:
                passages.append(p)
                known = len(passages)
            numbers.append(known)
        text = lists.render_list(plan, numbers)
        timings["first_token"] = time.perf_counter() - started
        answer.backend = "structure"
        for line in text.splitlines(keepends=True):
            yield Token(line)
        self._finish(answer, query, text, repair=False)  # every item is cited; the lead line is not a claim

    def _answer_choice(
        self, answer: Answer, query: Query, llm: LLMBackend, result: RetrievalResult, timings: dict[str, float],
        started: float,
    ) -> Generator[Event, None, None]:
        """Choice and true/false: the model's own probability for each option, in one forward pass, with how well
        the evidence supports each option (`choice.combine`); then the evidence sentence that bears on the pick."""
        answer.backend = llm.name
        request = self.build_request(query, answer.passages, idf=result.idf)
        picks = choice.options(query)
        try:
            scores = choice.model_scores(llm, request, query, self.settings.llm.choice_orders)
        except LLMError as exc:
            answer.error = str(exc)
            return
        support, combined = choice.weigh(query, answer.passages, scores, self.settings.llm)
        (word, option), _ = max(zip(picks, combined, strict=True), key=lambda x: x[1])
        shown = [n for n, _ in request.evidence]
        why = choice.reason(query, answer.passages, shown, option)
        holds = why is not None and check_support(option, answer.passages[why[0] - 1], self.similarity)[0]
        text = choice.render_choice(query, word, option, why, cite_option=holds)
        timings["first_token"] = time.perf_counter() - started
        answer.option_scores = {w: round(sc, 4) for (w, _), sc in zip(picks, scores, strict=True)}
        answer.option_evidence = {w: round(e, 4) for (w, _), e in zip(picks, support, strict=True)}
        yield Token(text)
        self._finish(answer, query, text)

    def _answer_generated(
        self, answer: Answer, query: Query, llm: LLMBackend, result: RetrievalResult, timings: dict[str, float],
        started: float,
    ) -> Generator[Event, None, None]:
        """The model writes the answer from the evidence planned for the question's type; then it is checked."""
        answer.backend = llm.name
        request = self.build_request(query, answer.passages, idf=result.idf)
        raw: list[str] = []
        pieces = llm.generate(request)
        try:
            for piece in pieces:
                if not piece:
                    continue
                if not raw:
                    timings["first_token"] = time.perf_counter() - started
                raw.append(piece)
                yield Token(piece)
                if (loop := answering.repeat_start("".join(raw))) is not None:  # a small model going round
                    raw = ["".join(raw)[:loop]]
                    break
        except LLMError as exc:
            answer.error = str(exc)
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()
        text = "".join(raw).strip()
        if answer.error and not text:
            return
        self._finish(answer, query, text)
        if not answer.refused and not answer.quoted:
            quote = answering.source_quote(query, answer.text, answer.citations, dict(request.evidence))
            if quote:
                answer.text += quote
                yield Token(quote)

    def _unknown_terms(self, query: Query) -> list[str]:
        """Words of a Chinese fact question's subject that no indexed document uses: the documents cannot state
        a figure about them ("区块链软件企业的专项奖励"). Other types still get the related content."""
        if query.language != "zh" or query.analysis.type != "fact":
            return []
        return self.index.keywords.unknown_words(query.analysis.subject)

    def _list_plan(self, query: Query, result: RetrievalResult) -> lists.ListPlan | None:
        named = {p.doc_id for p in result.passages if result.named_titles and p.doc_id in result.named_docs}
        return lists.plan_list(query, result.passages, self.index.catalog, named)

    def _finish(self, answer: Answer, query: Query, text: str, *, repair: bool = True) -> None:
        """Verify the answer's citations and that it answers; refuse only when the evidence really is absent."""
        passages, language = answer.passages, query.language
        # A choice or verdict keeps its pick even when its reason does not verify (the reason is then uncited).
        choice = query.analysis.type in ("choice", "true_false")
        if is_refusal(text, language):
            answer.unverified = text
            text = ""
        supported, citations = 0, list[Citation]()
        if text:
            text, citations = verify(text, passages, self.similarity, repair=repair)
            text = _tidy(text)
            supported, checkable = claims_support(text, citations)
            if choice or (checkable == 0 or supported) and answering.answers(query, text, citations):
                answer.text, answer.citations = text, citations
                self._add_edition_notes(answer, query)
                return
            answer.unverified = text
        # The model refused, or wrote nothing that is both supported and on target: the best evidence
        # sentence that states what was asked, quoted; else what the documents do say about it, saying that
        # the value asked for is not given; else the refusal with the related passages.
        quoted = answering.quote_answer(query, passages, None, self.similarity)
        if quoted is None and supported and answering.says_something(text, answering.on_topic(query, citations)):
            answer.text, answer.citations, answer.not_stated = answering.not_stated(query) + text, citations, True
            return
        if quoted is None:
            answer.text, answer.refused, answer.citations = refusal_sentence(language), True, []
            return
        n, sentence = quoted
        p = passages[n - 1]
        where = f"《{p.title}》" + section_label(p.section)
        lead = f"根据{where}：“{sentence}”" if language == "zh" else f"According to {where}: “{sentence}”"
        answer.text, answer.citations = verify(f"{lead}[{n}]", passages, self.similarity)
        answer.quoted = True

    def _add_edition_notes(self, answer: Answer, query: Query) -> None:
        """Flag cited editions not in force; say when the previous edition worded the cited article otherwise."""
        notes = answering.edition_notes(query, answer.citations, self.index.catalog)
        if not notes:
            return
        lines = []
        for passage, line in notes:
            if passage is None:
                lines.append(line)
                continue
            answer.passages.append(passage)
            n = len(answer.passages)
            lines.append(f"{line}[{n}]")
            span = (0, min(120, len(passage.text)))
            answer.citations.append(Citation(n, passage, passage.text[: span[1]], span, True, 1.0, "earlier_edition"))
        answer.text += "\n" + "\n".join(lines)

    def ask(self, question: str, history: list[Turn] | None = None, filters: Filters | None = None, **kw: Any) -> Answer:
        """The complete, verified answer (no streaming)."""
        return collect(self.stream(question, history, filters, **kw))

    def close(self) -> None:
        for b in self._backends.values():
            b.close()
        self.index.close()


def _tidy(text: str) -> str:
    """Small-model output clean-up: drop a leading 'Answer:'/'答：' label and repeated blank lines."""
    text = re.sub(r"^\s*(?:answer|回答|答案|答)\s*[:：]\s*", "", text, flags=re.I)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
