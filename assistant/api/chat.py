"""The chat routes: OpenAI-compatible chat completions (whole or streamed), and memos and feedback on
the answers this server gave, found by their completion id."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import AssistantError
from ..events import Final, Token
from ..types import Answer
from . import openai_format as fmt
from .guard import APIError, error_body
from .library import Library
from .params import kb_engine, request_filters

# Answers computed at once. Answering is CPU-bound Python (the GIL): more threads add no throughput on 2 cores,
# only unfairness (bench/api.py: 20 clients unthrottled gave p95 9.6 s); the rest wait their turn in order.
ANSWERS_AT_ONCE = 2
MEMO_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; fields it has that do not apply here (temperature, …) are ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(description="The knowledge base to ask (GET /v1/models lists them).")
    messages: list[dict[str, Any]] = Field(description="The conversation; the last message is the user's question.")
    stream: bool = Field(False, description="Send the answer as server-sent events (chat.completion.chunk).")
    filters: str | dict[str, Any] | None = Field(
        None, description="Extension: `doc=ID issuer=NAME from=YYYY-MM-DD to=YYYY-MM-DD as_of=YYYY-MM-DD`, or those "
        "as an object (doc_ids, issuers, date_from, date_to, as_of).",
    )  # fmt: skip
    top_k: int | None = Field(None, ge=1, le=50, description="Extension: passages given to the answerer.")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=200, description="Ids of chat completions of this server "
                           "(the `id` of each reply; recent ones are kept), in conversation order.")
    format: Literal["markdown", "docx"] = Field("markdown", description="The memo's format.")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="The `id` of the chat completion the feedback is about.")
    rating: Literal["good", "bad"] = Field(description="👍 'good' or 👎 'bad'.")
    reason: str = Field("", max_length=2000, description="What was wrong, or the right answer.")


class Answers:
    """The recent answers by completion id (for export and feedback), at most `size`, oldest dropped first."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[Answer, str]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, cid: str, answer: Answer, model: str) -> None:
        with self._lock:
            self._items[cid] = (answer, model)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, cid: str) -> tuple[Answer, str]:
        with self._lock:
            found = self._items.get(cid)
        if found is None:
            raise APIError(404, f"No recent chat completion '{cid}' on this server (ask again).", "completion_not_found",
                           "id")  # fmt: skip
        return found


def chat_routes(library: Library) -> APIRouter:
    """/v1/chat/completions, /v1/export and /v1/feedback over the knowledge bases of `library`."""
    router = APIRouter()
    answers = Answers()
    turns = threading.Semaphore(ANSWERS_AT_ONCE)

    @router.post("/v1/chat/completions", tags=["chat"], response_model=None)
    def chat(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        """Answer the last user message from the knowledge base `model`, with the earlier messages as history.

        System messages are not instructions to the assistant: its rules (answer only from the documents,
        cite, refuse otherwise) hold for every caller. Streamed replies send the live answer, then, when the
        checked answer differs, the checked one, then the footnotes; the last chunk carries `citations`.
        """
        target = kb_engine(library, body.model)
        try:
            question, history = fmt.split_messages(body.messages)
        except fmt.MessageError as exc:
            raise APIError(400, str(exc), "invalid_messages", "messages") from None
        events = target.stream(question, history, request_filters(body.filters), top_k=body.top_k)
        cid = fmt.completion_id()
        if not body.stream:
            with turns:
                answer = _answer(events)
            answers.put(cid, answer, body.model)
            return fmt.completion(answer, body.model, cid)
        turns.acquire()
        try:
            first = next(events)  # a question that cannot be asked fails here, before any byte is sent
        except BaseException:
            turns.release()
            raise
        keep = lambda answer: answers.put(cid, answer, body.model)  # noqa: E731
        return StreamingResponse(_released(_chunks(first, events, body.model, cid, keep), turns),
                                 media_type="text/event-stream")  # fmt: skip

    @router.post("/v1/export", tags=["chat"], response_model=None,
                 responses={200: {"content": {"text/markdown": {}, MEMO_DOCX: {}}}})  # fmt: skip
    def export(body: ExportRequest) -> Response:
        """A memo (Markdown or DOCX) of answers given by this server, one or a whole conversation: each question,
        answer and citation (title, 文号, edition, section, page, quote), the verification, time and settings."""
        from ..export import render

        found = [answers.get(cid) for cid in body.ids]
        data = render([a for a, _ in found], library.engine(found[-1][1]).settings, body.format)
        kind, suffix = (MEMO_DOCX, "docx") if body.format == "docx" else ("text/markdown; charset=utf-8", "md")
        return Response(data, media_type=kind, headers={"Content-Disposition": f'attachment; filename="memo.{suffix}"'})

    @router.post("/v1/feedback", tags=["chat"], status_code=201)
    def feedback(body: FeedbackRequest) -> dict[str, Any]:
        """Record 👍/👎 (and a reason) on an answer of this server, stored with its question, answer, passages and
        settings in its knowledge base's feedback.jsonl (`assistant feedback export` makes a suite of it)."""
        from ..feedback import record

        answer, model = answers.get(body.id)
        entry = record(answer, body.rating, library.engine(model).settings, body.reason, source="api")
        return {"id": entry["id"], "object": "feedback", "rating": body.rating, "completion": body.id}

    return router


def _answer(events: Iterator[Any]) -> Answer:
    for event in events:
        if isinstance(event, Final):
            return event.answer
    raise AssistantError("the answer stream ended without a final answer")


def _chunks(first: Any, events: Iterator[Any], model: str, cid: str, keep: Callable[[Answer], None]) -> Iterator[str]:
    """The SSE stream of one answer: role, live tokens, the checked answer where it differs, footnotes,
    then a last chunk with `finish_reason` and the extension fields, and `[DONE]`."""
    yield fmt.sse(fmt.chunk(cid, model, {"role": "assistant", "content": ""}))
    streamed: list[str] = []
    try:
        for event in _prepend(first, events):
            if isinstance(event, Token) and event.text:
                streamed.append(event.text)
                yield fmt.sse(fmt.chunk(cid, model, {"content": event.text}))
            elif isinstance(event, Final):
                answer = event.answer
                keep(answer)
                tail = fmt.correction("".join(streamed), answer) + fmt.footnotes(answer)
                if tail:
                    yield fmt.sse(fmt.chunk(cid, model, {"content": tail}))
                yield fmt.sse(fmt.chunk(cid, model, {}, "stop", citations=fmt.citations(answer),
                                        refused=answer.refused, answer=answer.text))  # fmt: skip
    except AssistantError as exc:  # headers are sent: report the error in the stream, as OpenAI does
        yield fmt.sse(error_body(500, str(exc), "answer_failed"))
    finally:
        close = getattr(events, "close", None)
        if close is not None:  # the client went away: stop the answer (and the model) now, not at collection
            close()
    yield fmt.sse("[DONE]")


def _released(chunks: Iterator[str], turns: threading.Semaphore) -> Iterator[str]:
    """`chunks`, releasing the answering turn when the stream ends (or the client goes away)."""
    try:
        yield from chunks
    finally:
        turns.release()


def _prepend(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
