"""The /v1 routes: OpenAI-compatible chat completions, models (= knowledge bases), retrieval and documents.

Every route is a plain `def`: FastAPI runs it in its thread pool, and the Engine is thread-safe.
Errors come back in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from queue import Queue
from typing import Any, Literal

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from ..catalog import DocumentRecord
from ..engine import Engine
from ..errors import AssistantError, DocumentNotFoundError, IndexMissingError
from ..events import Final, Token
from ..kb import KnowledgeBaseError, UnknownKnowledgeBaseError
from ..types import Answer, Filters
from ..web.uploads import UploadError, store_upload
from . import openai_format as fmt
from .guard import APIError, BodyLimit, RateLimiter, TokenCheck, error_body, error_response
from .library import Library

log = logging.getLogger(__name__)
API_PATHS = ("/v1/", "/docs", "/openapi.json", "/redoc")
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


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(description="The question.")
    model: str = Field("default", description="The knowledge base.")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages returned.")
    filters: str | dict[str, Any] | None = Field(None, description="As in chat completions.")


class CreateModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Name of the new knowledge base.")


def _filters(value: str | dict[str, Any] | None) -> Filters:
    if isinstance(value, dict):
        allowed = {"doc_ids", "issuers", "date_from", "date_to", "as_of"}
        if unknown := set(value) - allowed:
            raise APIError(400, f"Unknown filter fields {sorted(unknown)}; use {sorted(allowed)}.", param="filters")
        return Filters.parse(**value)
    return Filters.parse(value or "")


def document_dict(record: DocumentRecord) -> dict[str, Any]:
    data = asdict(record)
    data["path"] = Path(record.path).name  # the server's folders are not the client's business
    return data


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def build_api(
    engine: Engine, *, token: str | None = None, locked: bool = False, library: Library | None = None
) -> FastAPI:
    """The /v1 app over `engine` (its knowledge base, and the others beside it). `token`: the bearer token
    every request must carry (None: none needed). `locked`: every request is refused (served beyond
    loopback without a token). `library`: the knowledge bases, when the web UI shares them."""
    library = library or Library(engine)
    settings = engine.settings
    api = FastAPI(
        title="Policy assistant API",
        version="1",
        description="OpenAI-compatible chat completions over policy documents, with verified citations. "
        "`model` names a knowledge base. Replies carry [n] markers and footnotes; the extension field "
        "`citations` has each citation's n, doc_id, title, section, page, quote, supported and edition fields.",
        docs_url=None,  # served below from local files: the assistant runs offline
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.library = library
    _docs(api)
    upload_limit = settings.ui.max_upload_mb * 2**20 + 64 * 1024  # the file plus the multipart envelope
    api.add_middleware(
        BodyLimit,  # type: ignore[arg-type]
        limit_for=lambda path: upload_limit if path.rstrip("/") == "/v1/documents" else settings.api.max_body_kb * 1024,
    )
    guards = [Depends(TokenCheck(token, locked=locked)), Depends(RateLimiter(settings.api.rate_per_minute, settings.api.burst))]
    _errors(api)
    answers = Answers()
    turns = threading.Semaphore(ANSWERS_AT_ONCE)
    busy: set[tuple[str, str]] = set()  # (knowledge base, file name) being uploaded
    busy_lock = threading.Lock()

    def kb_engine(name: str) -> Engine:
        try:
            return library.engine(name)
        except UnknownKnowledgeBaseError as exc:
            raise APIError(404, str(exc), "model_not_found", "model") from None

    @api.get("/v1/models", dependencies=guards, tags=["models"])
    def models() -> dict[str, Any]:
        """The knowledge bases (OpenAI's model list: `id` is the name to pass as `model`)."""
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "policy-assistant"} for n in library.names()]
        return {"object": "list", "data": data}

    @api.post("/v1/models", dependencies=guards, tags=["models"], status_code=201)
    def create_model(body: CreateModel) -> dict[str, Any]:
        """Create an empty knowledge base (then upload documents into it with POST /v1/documents)."""
        try:
            kb = library.create(body.id)
        except KnowledgeBaseError as exc:
            raise APIError(400, str(exc), "invalid_model", "id") from None
        return {"id": kb.name, "object": "model", "created": 0, "owned_by": "policy-assistant"}

    @api.delete("/v1/models/{name}", dependencies=guards, tags=["models"])
    def delete_model(name: str) -> dict[str, Any]:
        """Delete a knowledge base and everything indexed in it."""
        try:
            kb = library.remove(name)
        except UnknownKnowledgeBaseError as exc:
            raise APIError(404, str(exc), "model_not_found") from None
        except KnowledgeBaseError as exc:
            raise APIError(400, str(exc), "invalid_model") from None
        return {"id": kb.name, "object": "model", "deleted": True}

    @api.post("/v1/chat/completions", dependencies=guards, tags=["chat"], response_model=None)
    def chat(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        """Answer the last user message from the knowledge base `model`, with the earlier messages as history.

        System messages are not instructions to the assistant: its rules (answer only from the documents,
        cite, refuse otherwise) hold for every caller. Streamed replies send the live answer, then, when the
        checked answer differs, the checked one, then the footnotes; the last chunk carries `citations`.
        """
        target = kb_engine(body.model)
        try:
            question, history = fmt.split_messages(body.messages)
        except fmt.MessageError as exc:
            raise APIError(400, str(exc), "invalid_messages", "messages") from None
        events = target.stream(question, history, _filters(body.filters), top_k=body.top_k)
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

    @api.post("/v1/export", dependencies=guards, tags=["chat"], response_model=None,
              responses={200: {"content": {"text/markdown": {}, MEMO_DOCX: {}}}})  # fmt: skip
    def export(body: ExportRequest) -> Response:
        """A memo (Markdown or DOCX) of answers given by this server, one or a whole conversation: each question,
        answer and citation (title, 文号, edition, section, page, quote), the verification, time and settings."""
        from ..export import render

        found = [answers.get(cid) for cid in body.ids]
        data = render([a for a, _ in found], library.engine(found[-1][1]).settings, body.format)
        kind, suffix = (MEMO_DOCX, "docx") if body.format == "docx" else ("text/markdown; charset=utf-8", "md")
        return Response(data, media_type=kind, headers={"Content-Disposition": f'attachment; filename="memo.{suffix}"'})

    @api.post("/v1/feedback", dependencies=guards, tags=["chat"], status_code=201)
    def feedback(body: FeedbackRequest) -> dict[str, Any]:
        """Record 👍/👎 (and a reason) on an answer of this server, stored with its question, answer, passages and
        settings in its knowledge base's feedback.jsonl (`assistant feedback export` makes a suite of it)."""
        from ..feedback import record

        answer, model = answers.get(body.id)
        entry = record(answer, body.rating, library.engine(model).settings, body.reason, source="api")
        return {"id": entry["id"], "object": "feedback", "rating": body.rating, "completion": body.id}

    @api.post("/v1/retrieve", dependencies=guards, tags=["retrieval"])
    def retrieve(body: RetrieveRequest) -> dict[str, Any]:
        """The passages retrieval finds for `query`, best first, without an answer."""
        target = kb_engine(body.model)
        result = target.retrieve(body.query, _filters(body.filters), body.top_k)
        return {"object": "list", "model": body.model, "data": [p.to_dict() | {"meta": p.meta} for p in result.passages]}

    @api.get("/v1/documents", dependencies=guards, tags=["documents"])
    def documents(model: str = "default") -> dict[str, Any]:
        """The documents of a knowledge base (without their text)."""
        return {"object": "list", "model": model, "data": [document_dict(d) for d in kb_engine(model).documents()]}

    @api.post("/v1/documents", dependencies=guards, tags=["documents"], response_model=None)
    def upload(
        file: UploadFile = File(description="A PDF, DOCX, HTML, Markdown or text file."),  # noqa: B008
        model: str = Form("default", description="The knowledge base to add it to."),
        stream: bool = Form(False, description="Send ingest progress as server-sent events."),
    ) -> dict[str, Any] | StreamingResponse:
        """Upload and index one document. Uploading a file of the same name again replaces that document."""
        target = kb_engine(model)
        name = file.filename or ""
        if not name or any(c in name for c in "/\\\x00") or ".." in name or name.startswith("."):
            raise APIError(400, f"Refused file name {name!r}: give a plain file name without folders.",
                           "invalid_file_name", "file")  # fmt: skip
        key = (model, name.lower())
        with busy_lock:
            if key in busy:
                raise APIError(429, f"'{name}' is being uploaded by another request; retry when it is done.",
                               "upload_in_progress", "file", headers={"Retry-After": "2"})  # fmt: skip
            busy.add(key)
        try:
            folder = Path(settings.ui.upload_dir) / ("kb/" + model if model != "default" else "")
            with tempfile.NamedTemporaryFile(prefix="api-upload-") as tmp:
                while block := file.file.read(1 << 20):
                    tmp.write(block)
                tmp.flush()
                try:
                    stored = store_upload(Path(tmp.name), folder, settings.ui.max_upload_mb * 2**20, name)
                except UploadError as exc:
                    status = 413 if exc.key == "up_size" else 400
                    raise APIError(status, f"Refused {name!r}: {_upload_reason(exc)}", exc.key, "file") from None
        except BaseException:
            with busy_lock:
                busy.discard(key)
            raise
        if stream:
            return StreamingResponse(_ingest_events(target, stored, busy, busy_lock, key), media_type="text/event-stream")
        try:
            report = target.ingest([stored], prune=False)
        finally:
            with busy_lock:
                busy.discard(key)
        if report.failed:
            raise APIError(400, f"Could not index {name!r}: {report.failed[0][1]}", "ingest_failed", "file")
        return {"object": "ingest.report", "model": model, **report.to_dict()}

    @api.delete("/v1/documents/{doc_id}", dependencies=guards, tags=["documents"])
    def delete(doc_id: str, model: str = "default") -> dict[str, Any]:
        """Remove one document from a knowledge base."""
        record = kb_engine(model).remove(doc_id)
        return {"id": record.doc_id, "object": "document", "deleted": True, "title": record.title}

    return api


def _upload_reason(exc: UploadError) -> str:
    from ..web.i18n import t

    return t(exc.key, "en", **exc.values)


def _answer(events: Iterator[Any]) -> Answer:
    for event in events:
        if isinstance(event, Final):
            return event.answer
    raise AssistantError("the answer stream ended without a final answer")


def _chunks(first: Any, events: Iterator[Any], model: str, cid: str, keep: Callable[[Answer], None]) -> Iterator[str]:
    """The SSE stream of one answer: role, live tokens, the checked answer where it differs, footnotes,
    then a last chunk with `finish_reason` and the extension fields, and `[DONE]`."""
    yield _sse(fmt.chunk(cid, model, {"role": "assistant", "content": ""}))
    streamed: list[str] = []
    try:
        for event in _prepend(first, events):
            if isinstance(event, Token) and event.text:
                streamed.append(event.text)
                yield _sse(fmt.chunk(cid, model, {"content": event.text}))
            elif isinstance(event, Final):
                answer = event.answer
                keep(answer)
                tail = fmt.correction("".join(streamed), answer) + fmt.footnotes(answer)
                if tail:
                    yield _sse(fmt.chunk(cid, model, {"content": tail}))
                yield _sse(fmt.chunk(cid, model, {}, "stop", citations=fmt.citations(answer),
                                     refused=answer.refused, answer=answer.text))  # fmt: skip
    except AssistantError as exc:  # headers are sent: report the error in the stream, as OpenAI does
        yield _sse(error_body(500, str(exc), "answer_failed"))
    finally:
        close = getattr(events, "close", None)
        if close is not None:  # the client went away: stop the answer (and the model) now, not at collection
            close()
    yield _sse("[DONE]")


def _released(chunks: Iterator[str], turns: threading.Semaphore) -> Iterator[str]:
    """`chunks`, releasing the answering turn when the stream ends (or the client goes away)."""
    try:
        yield from chunks
    finally:
        turns.release()


def _prepend(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _ingest_events(engine: Engine, path: Path, busy: set, lock: threading.Lock, key: tuple[str, str]) -> Iterator[str]:
    """Index `path` in a worker thread; stream its progress, then the report."""
    progress: Queue[dict[str, Any] | None] = Queue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            report = engine.ingest([path], prune=False,
                                   progress=lambda done, total, name: progress.put(
                                       {"object": "ingest.progress", "done": done, "total": total, "file": name}))  # fmt: skip
            outcome["report"] = report
        except AssistantError as exc:
            outcome["error"] = str(exc)
        finally:
            with lock:
                busy.discard(key)
            progress.put(None)

    threading.Thread(target=work, name="api-ingest", daemon=True).start()
    while (item := progress.get()) is not None:
        yield _sse(item)
    if "error" in outcome:
        yield _sse(error_body(500, outcome["error"], "ingest_failed"))
    else:
        yield _sse({"object": "ingest.report", **outcome["report"].to_dict()})
    yield _sse("[DONE]")


def _docs(api: FastAPI) -> None:
    """Swagger UI at /docs from the files of the `swagger-ui-bundle-v2` package, not from a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    api.mount("/docs/static", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @api.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{api.title} — docs", swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css", swagger_favicon_url="/docs/static/favicon-32x32.png",
        )  # fmt: skip


def _errors(api: FastAPI) -> None:
    """Every error as OpenAI's JSON error object, with the right status."""

    @api.exception_handler(APIError)
    async def on_api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc)

    @api.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return error_response(APIError(400, "The request body is not valid JSON.", "invalid_json"))
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(APIError(400, f"{where or 'body'}: {first.get('msg', 'invalid request')}",
                                       "invalid_request", where or None))  # fmt: skip

    @api.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(APIError(exc.status_code, str(exc.detail), None, headers=dict(exc.headers or {})))

    @api.exception_handler(DocumentNotFoundError)
    async def on_missing(request: Request, exc: DocumentNotFoundError) -> JSONResponse:
        return error_response(APIError(404, str(exc), "document_not_found"))

    @api.exception_handler(IndexMissingError)
    async def on_no_index(request: Request, exc: IndexMissingError) -> JSONResponse:
        return error_response(APIError(404, str(exc), "index_missing"))

    @api.exception_handler(AssistantError)
    async def on_assistant(request: Request, exc: AssistantError) -> JSONResponse:
        # Bad questions and filters (QuestionError, FilterError) and store failures alike: say what happened.
        status = 400 if isinstance(exc, ValueError) or type(exc).__name__ in ("QuestionError", "FilterError") else 500
        if status == 500:
            log.error("API request failed: %s", exc)
        return error_response(APIError(status, str(exc), type(exc).__name__))

    @api.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("API request crashed")
        return JSONResponse(error_body(500, "Internal error; see the server log.", "internal_error"), 500)


class _ApiRoute(BaseRoute):
    """Inside the Gradio app: hands /v1/…, /docs and /openapi.json to the API app, everything else to Gradio."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path.startswith("/v1/") or path in API_PATHS or path.startswith("/docs/")):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def api_route(api: FastAPI) -> BaseRoute:
    """A route for Gradio's FastAPI app (`launch(app_kwargs={"routes": [...]})`) that serves `api`."""
    return _ApiRoute(api)
