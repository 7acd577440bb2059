"""The /v1 app: OpenAI-compatible chat completions (`chat`), knowledge bases as models, retrieval and
documents (`documents`), behind the token check, rate limit and body limit (`guard`).

Every route is a plain `def`: FastAPI runs it in its thread pool, and the Engine is thread-safe.
Errors come back in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from ..engine import Engine
from ..errors import AssistantError, DocumentNotFoundError, IndexMissingError
from .chat import chat_routes
from .documents import library_routes
from .guard import APIError, BodyLimit, RateLimiter, TokenCheck, error_body, error_response
from .library import Library

log = logging.getLogger(__name__)
API_PATHS = ("/v1/", "/docs", "/openapi.json", "/redoc")


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
    api.include_router(library_routes(library, settings), dependencies=guards)
    api.include_router(chat_routes(library), dependencies=guards)
    return api


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
