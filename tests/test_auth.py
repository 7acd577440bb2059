"""`assistant serve` beyond loopback: it refuses to start without credentials, reads them from
ASSISTANT_AUTH, and the running server rejects every request that does not log in.

The server binds 0.0.0.0 (not loopback, so credentials are required) and is only ever
requested through 127.0.0.1. It serves a copy of a small real index with extractive answers.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.local_servers import free_port, started

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "alice", "s3cret:pass"  # a password may itself hold a colon
STARTUP_TIMEOUT_S = 300


def request(url: str, *, data: dict[str, str] | None = None, opener: urllib.request.OpenerDirector | None = None) -> int:
    """HTTP status of a GET (or a form POST when `data` is given) to a loopback URL."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with (opener or urllib.request.build_opener()).open(url, data=body, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def serve_command(index: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "assistant", "serve", "--host", "0.0.0.0", "--port", str(port),
            "--index", str(index), "--llm", "extractive", *extra]  # fmt: skip


def base_env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "ASSISTANT_UI__UPLOAD_DIR": str(tmp / "uploads"), "COLUMNS": "500"}
    env.pop("ASSISTANT_AUTH", None)
    return env


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def index_copy(small_index, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("auth") / "index"
    shutil.copytree(small_index.store.path, target)
    return target


def test_refuses_to_start_beyond_loopback_without_credentials(index_copy: Path, tmp_path: Path) -> None:
    port = free_port()
    out = subprocess.run(serve_command(index_copy, port), capture_output=True, text=True, cwd=tmp_path,
                         env=base_env(tmp_path), timeout=120)  # fmt: skip
    assert out.returncode == 2, (out.stdout, out.stderr[-2000:])
    assert "Refusing to serve on 0.0.0.0 without a password" in out.stderr and "ASSISTANT_AUTH" in out.stderr
    assert "Traceback" not in out.stderr
    assert not listening(port)
    # A malformed ASSISTANT_AUTH is a usage error too, not a server without a password.
    env = {**base_env(tmp_path), "ASSISTANT_AUTH": "no-colon-here"}
    out = subprocess.run(serve_command(index_copy, port), capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=120)  # fmt: skip
    assert out.returncode == 2 and "user:password" in out.stderr, out.stderr[-2000:]
    assert not listening(port)


@pytest.fixture(scope="module")
def protected(index_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, server log) of `assistant serve --host 0.0.0.0` with the credentials from ASSISTANT_AUTH only."""
    tmp = tmp_path_factory.mktemp("auth_serve")
    port = free_port()
    env = {**base_env(tmp), "ASSISTANT_AUTH": f"{USER}:{PASSWORD}"}
    url = f"http://127.0.0.1:{port}"
    log = tmp / "server.log"

    def ready() -> bool:
        try:
            return request(url + "/") == 200
        except OSError:
            return False

    try:
        with started(serve_command(index_copy, port), ready=ready, log=log, what="assistant serve",
                     timeout_s=STARTUP_TIMEOUT_S, env=env, cwd=tmp):  # fmt: skip
            yield url, log
    except RuntimeError as exc:
        pytest.fail(str(exc))


def test_requests_without_credentials_are_rejected(protected: tuple[str, Path]) -> None:
    url, log = protected
    assert f"password required (user '{USER}')" in log.read_text(encoding="utf-8", errors="replace")
    # The app's configuration and its API answer only after a login.
    assert request(url + "/config") == 401
    assert request(url + "/gradio_api/info") == 401
    status = request(url + "/gradio_api/queue/join", data={"fn_index": "0"})
    assert status == 401, status  # never processed for a stranger
    # Wrong credentials do not log in.
    assert request(url + "/login", data={"username": USER, "password": "wrong"}) in (400, 401)
    assert request(url + "/login", data={"username": "mallory", "password": PASSWORD}) in (400, 401)


def test_the_credentials_from_assistant_auth_log_in(protected: tuple[str, Path]) -> None:
    url, _ = protected
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert request(url + "/login", data={"username": USER, "password": PASSWORD}, opener=opener) == 200
    with opener.open(url + "/config", timeout=10) as r:
        config = json.loads(r.read())
    assert r.status == 200 and config.get("auth_required") is not False
    assert request(url + "/gradio_api/info", opener=opener) == 200
