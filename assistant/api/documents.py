"""The knowledge-base routes: knowledge bases as OpenAI models (list, create, delete), their documents
(list, upload with optional ingest progress, remove) and retrieval without an answer."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from queue import Queue
from typing import Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..config import Settings
from ..engine import DocumentRecord, Engine
from ..errors import AssistantError
from ..kb import KnowledgeBaseError, UnknownKnowledgeBaseError
from ..web.uploads import UploadError, store_upload
from .guard import APIError, error_body
from .library import Library
from .openai_format import sse
from .params import kb_engine, request_filters


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(description="The question.")
    model: str = Field("default", description="The knowledge base.")
    top_k: int | None = Field(None, ge=1, le=50, description="Passages returned.")
    filters: str | dict[str, Any] | None = Field(None, description="As in chat completions.")


class CreateModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Name of the new knowledge base.")


def document_dict(record: DocumentRecord) -> dict[str, Any]:
    data = asdict(record)
    data["path"] = Path(record.path).name  # the server's folders are not the client's business
    return data


def library_routes(library: Library, settings: Settings) -> APIRouter:
    """/v1/models, /v1/retrieve and /v1/documents over the knowledge bases of `library`; uploads go below
    `settings.ui.upload_dir`, at most `settings.ui.max_upload_mb` each."""
    router = APIRouter()
    busy: set[tuple[str, str]] = set()  # (knowledge base, file name) being uploaded
    busy_lock = threading.Lock()

    @router.get("/v1/models", tags=["models"])
    def models() -> dict[str, Any]:
        """The knowledge bases (OpenAI's model list: `id` is the name to pass as `model`)."""
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "policy-assistant"} for n in library.names()]
        return {"object": "list", "data": data}

    @router.post("/v1/models", tags=["models"], status_code=201)
    def create_model(body: CreateModel) -> dict[str, Any]:
        """Create an empty knowledge base (then upload documents into it with POST /v1/documents)."""
        try:
            kb = library.create(body.id)
        except KnowledgeBaseError as exc:
            raise APIError(400, str(exc), "invalid_model", "id") from None
        return {"id": kb.name, "object": "model", "created": 0, "owned_by": "policy-assistant"}

    @router.delete("/v1/models/{name}", tags=["models"])
    def delete_model(name: str) -> dict[str, Any]:
        """Delete a knowledge base and everything indexed in it."""
        try:
            kb = library.remove(name)
        except UnknownKnowledgeBaseError as exc:
            raise APIError(404, str(exc), "model_not_found") from None
        except KnowledgeBaseError as exc:
            raise APIError(400, str(exc), "invalid_model") from None
        return {"id": kb.name, "object": "model", "deleted": True}

    @router.post("/v1/retrieve", tags=["retrieval"])
    def retrieve(body: RetrieveRequest) -> dict[str, Any]:
        """The passages retrieval finds for `query`, best first, without an answer."""
        target = kb_engine(library, body.model)
        result = target.retrieve(body.query, request_filters(body.filters), body.top_k)
        return {"object": "list", "model": body.model, "data": [p.to_dict() | {"meta": p.meta} for p in result.passages]}

    @router.get("/v1/documents", tags=["documents"])
    def documents(model: str = "default") -> dict[str, Any]:
        """The documents of a knowledge base (without their text)."""
        return {"object": "list", "model": model, "data": [document_dict(d) for d in kb_engine(library, model).documents()]}

    @router.post("/v1/documents", tags=["documents"], response_model=None)
    def upload(
        file: UploadFile = File(description="A PDF, DOCX, HTML, Markdown or text file."),  # noqa: B008
        model: str = Form("default", description="The knowledge base to add it to."),
        stream: bool = Form(False, description="Send ingest progress as server-sent events."),
    ) -> dict[str, Any] | StreamingResponse:
        """Upload and index one document. Uploading a file of the same name again replaces that document."""
        target = kb_engine(library, model)
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

    @router.delete("/v1/documents/{doc_id}", tags=["documents"])
    def delete(doc_id: str, model: str = "default") -> dict[str, Any]:
        """Remove one document from a knowledge base."""
        record = kb_engine(library, model).remove(doc_id)
        return {"id": record.doc_id, "object": "document", "deleted": True, "title": record.title}

    return router


def _upload_reason(exc: UploadError) -> str:
    from ..web.i18n import t

    return t(exc.key, "en", **exc.values)


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
        yield sse(item)
    if "error" in outcome:
        yield sse(error_body(500, outcome["error"], "ingest_failed"))
    else:
        yield sse({"object": "ingest.report", **outcome["report"].to_dict()})
    yield sse("[DONE]")
