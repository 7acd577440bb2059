"""The API's safety: OpenAI-shaped JSON errors, the bearer token, a body size cap and per-client rate limits."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
          409: "conflict_error", 413: "request_too_large", 429: "rate_limit_error"}  # fmt: skip


class APIError(Exception):
    """An error the API answers with `status` and OpenAI's error body."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.headers = status, message, code, param, headers


def error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(exc: APIError) -> JSONResponse:
    return JSONResponse(error_body(exc.status, exc.message, exc.code, exc.param), exc.status, headers=exc.headers)


# Declares the scheme in the OpenAPI schema (the docs' Authorize button); TokenCheck does the checking.
BEARER = HTTPBearer(auto_error=False, description="The server's API token (--api-token, ASSISTANT_API_TOKEN).")


class TokenCheck:
    """`Authorization: Bearer TOKEN` when a token is set; nothing when none is (loopback only, see serve)."""

    def __init__(self, token: str | None, *, locked: bool = False) -> None:
        self.token, self.locked = token, locked

    def __call__(
        self, request: Request, declared: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> None:
        if self.locked and not self.token:
            raise APIError(401, "The API is off: this server listens beyond loopback and was started without "
                           "--api-token (or ASSISTANT_API_TOKEN).", "api_disabled")  # fmt: skip
        if not self.token:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise APIError(401, "Missing API token: send the header `Authorization: Bearer TOKEN`.", "missing_api_key",
                           headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise APIError(401, "Wrong API token.", "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


class RateLimiter:
    """A token bucket per client key: `burst` requests at once, refilled at `per_minute` a minute."""

    MAX_CLIENTS = 10_000  # forget the idlest buckets beyond this, so addresses cannot grow memory without end

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate, self.burst = per_minute / 60.0, float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead; else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.MAX_CLIENTS:
                for old in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: self.MAX_CLIENTS // 10]:
                    del self._buckets[old]
            return 0.0

    def __call__(self, request: Request) -> None:
        client = request.client.host if request.client else "?"
        token = request.headers.get("authorization", "")[-16:]
        wait = self.take(f"{client}|{token}")
        if wait:
            raise APIError(429, f"Too many requests from this client; retry in {wait:.1f} s.", "rate_limit_exceeded",
                           headers={"Retry-After": str(max(1, round(wait)))})  # fmt: skip


class BodyLimit:
    """ASGI middleware: refuse bodies over the limit with 413, by Content-Length at once, or while reading
    a chunked body. `limit_for(path)` gives the limit of each path (uploads may be larger than JSON)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # FastAPI passes an HTTPException from reading the body through to the handlers
                    raise HTTPException(413, f"The request body is larger than the limit of {limit} bytes.")
            return message

        await self.app(scope, counted, send)


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps(error_body(413, f"The request body is larger than the limit of {limit} bytes.",
                                 "request_too_large")).encode()  # fmt: skip
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
