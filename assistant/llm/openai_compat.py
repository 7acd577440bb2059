"""Backend for any OpenAI-compatible chat completions API (llama.cpp server, vLLM, Ollama, OpenAI).

Streams `POST {base_url}/chat/completions` as server-sent events. Connection errors,
timeouts and HTTP 429/5xx are retried with a short exponential backoff, but only until
the first piece of text has been yielded: after that a retry would repeat text the
caller has already shown.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ..config import LLMSettings
from ..errors import LLMError
from .base import GenerationRequest

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_BODY_PREVIEW = 200


class _RetryableStatus(Exception):
    """An HTTP status worth another try; turned into LLMError when retries run out."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


class OpenAICompatBackend:
    """Streams chat completions from an OpenAI-compatible HTTP server."""

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        max_retries: int = 2,
        backoff_s: float = 0.5,
        backoff_max_s: float = 4.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}"
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.attempts = 0  # requests sent by the last generate() call, for diagnostics
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> OpenAICompatBackend:
        """Build from the `llm` settings section."""
        return cls(
            settings.base_url,
            settings.model,
            api_key_env=settings.api_key_env,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
        )

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the streamed answer text. Raises LLMError with what failed and what to do."""
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if request.stop:
            payload["stop"] = request.stop
        response, pieces, first = self._open_with_retries(payload)
        try:
            if first:
                yield first
            for piece in pieces:
                if piece:
                    yield piece
        except httpx.TimeoutException as exc:
            raise LLMError(self._timeout_message()) from exc
        except httpx.TransportError as exc:
            raise LLMError(f"Connection to the LLM server at {self.base_url} was lost mid-answer: {exc}") from exc
        finally:
            # Closing the response tells the server the client went away, so it stops generating.
            response.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _http(self) -> httpx.Client:
        # Created on first use (building an SSL context is not free); one pool shared by all threads.
        with self._client_lock:
            if self._client is None:
                timeout = httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s))
                self._client = httpx.Client(timeout=timeout)
            return self._client

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        key = os.environ.get(self.api_key_env, "").strip() if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _open_with_retries(self, payload: dict[str, Any]) -> tuple[httpx.Response, Iterator[str], str]:
        self.attempts = 0
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential(multiplier=self.backoff_s, max=self.backoff_max_s),
            retry=retry_if_exception(_is_retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._open(payload)
        except _RetryableStatus as exc:
            raise LLMError(_status_message(exc.status, exc.body, self)) from exc
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise LLMError(self._unreachable_message(f"no answer within {min(10.0, self.timeout_s):g}s")) from exc
            raise LLMError(self._timeout_message()) from exc
        except httpx.ConnectError as exc:
            raise LLMError(self._unreachable_message(_connect_reason(exc))) from exc
        except httpx.TransportError as exc:
            raise LLMError(f"Connection to the LLM server at {self.base_url} failed: {exc}") from exc
        raise AssertionError("unreachable: tenacity either returns or reraises")

    def _open(self, payload: dict[str, Any]) -> tuple[httpx.Response, Iterator[str], str]:
        """Send the request and read up to the first non-empty text piece (the retryable part)."""
        self.attempts += 1
        client = self._http()
        request = client.build_request(
            "POST", f"{self.base_url}/chat/completions", json=payload, headers=self._headers()
        )
        response = client.send(request, stream=True)
        try:
            if response.status_code >= 400:
                body = _preview(response.read().decode("utf-8", "replace"))
                if response.status_code in _RETRY_STATUS:
                    raise _RetryableStatus(response.status_code, body)
                raise LLMError(_status_message(response.status_code, body, self))
            pieces = _stream_pieces(response)
            for piece in pieces:
                if piece:
                    return response, pieces, piece
            return response, pieces, ""
        except BaseException:
            response.close()
            raise

    def _timeout_message(self) -> str:
        return f"LLM server timed out after {self.timeout_s:g}s (at {self.base_url}). Raise llm.timeout_s or use a smaller model."

    def _unreachable_message(self, reason: str) -> str:
        return f"Cannot reach the LLM server at {self.base_url} ({reason}). Start it or set llm.base_url."


def _is_retryable(exc: BaseException) -> bool:
    # Connection-level failures and timeouts; not protocol errors like a malformed response.
    return isinstance(exc, (_RetryableStatus, httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def _connect_reason(exc: httpx.ConnectError) -> str:
    text = str(exc)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
        return "unknown host"
    if "unreachable" in lowered:
        return "network unreachable"
    return text or type(exc).__name__


def _status_message(status: int, body: str, backend: OpenAICompatBackend) -> str:
    message = f"LLM server returned HTTP {status}: {body or '(empty body)'}"
    if status in (401, 403):
        return f"{message}. Set the API key in ${backend.api_key_env} (llm.api_key_env)."
    if status == 404:
        return f"{message}. Check llm.base_url ({backend.base_url}; it usually ends in /v1) and llm.model."
    return message


def _preview(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            body = error["message"]
        elif isinstance(error, str):
            body = error
        elif isinstance(data.get("detail"), str):
            body = data["detail"]
    flat = " ".join(body.split())
    return flat if len(flat) <= _BODY_PREVIEW else flat[:_BODY_PREVIEW] + "…"


def _stream_pieces(response: httpx.Response) -> Iterator[str]:
    """Parse an SSE chat-completions stream into content pieces (possibly empty strings)."""
    seen_data = False
    for line in response.iter_lines():
        if not line.startswith("data:"):
            # Blank separators, ": keep-alive" comments, "event:"/"id:" fields carry no text.
            continue
        data = line[5:].strip()
        seen_data = True
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise LLMError(f"LLM server stream was malformed: not JSON: {_preview(data)}") from exc
        yield _content_of(event)
    if not seen_data:
        raise LLMError(
            "LLM server stream was malformed: no 'data:' events in the response "
            f"(content-type {response.headers.get('content-type', '?')}). Is llm.base_url an OpenAI-compatible API?"
        )


def _content_of(event: Any) -> str:
    if not isinstance(event, dict):
        raise LLMError(f"LLM server stream was malformed: expected a JSON object, got {_preview(json.dumps(event))}")
    if "error" in event:
        raise LLMError(f"LLM server reported an error: {_preview(json.dumps(event))}")
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise LLMError(f"LLM server stream was malformed: event without 'choices': {_preview(json.dumps(event))}")
    if not choices:
        return ""  # e.g. a final usage-only event
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict):
        raise LLMError(f"LLM server stream was malformed: choice without 'delta': {_preview(json.dumps(event))}")
    content = delta.get("content")
    if content is None:
        return ""  # the role-only first event, or a finish event
    if not isinstance(content, str):
        raise LLMError(f"LLM server stream was malformed: 'content' is not a string: {_preview(json.dumps(event))}")
    return content
