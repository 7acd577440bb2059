"""Local helper processes for tests, benchmarks and CI: start one, wait until it answers, stop it.

    with local_chroma(Path("/tmp/chroma-data")) as server:        # a throwaway `chroma run`
        settings = load_settings(store={"mode": "server", "host": server.host, "port": server.port})

    with started(command, ready=lambda: ping(url), log=log_path, what="the web UI") as process:
        ...

    python -m assistant.local_servers --wait-chroma PORT --pid PID   # CI: wait for a server started elsewhere
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_ok(url: str, timeout_s: float = 5) -> bool:
    """Whether a GET of `url` (http://host:port/path) answers 200."""
    parts = urllib.parse.urlsplit(url)
    try:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s)
        conn.request("GET", parts.path or "/")
        return conn.getresponse().status == 200
    except OSError:
        return False


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    """Terminate `process`, killing it if it has not exited after `timeout_s`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(
    ready: Callable[[], bool], alive: Callable[[], bool], *, what: str, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Poll `ready()` until it holds; RuntimeError if `alive()` turns false first or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if not alive():
            raise RuntimeError(f"{what} exited before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready within {timeout_s:.0f} s")
        time.sleep(0.25)


@contextmanager
def started(
    command: list[str],
    *,
    ready: Callable[[], bool],
    log: Path,
    what: str,
    timeout_s: float = START_TIMEOUT_S,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (output to `log`) until `ready()` holds; stop it when the block ends.

    RuntimeError, with the end of the log, if it exits first or is not ready within `timeout_s`.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            try:
                wait_until(ready, lambda: process.poll() is None, what=what, timeout_s=timeout_s)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}; its log ends:\n{log.read_text(errors='replace')[-3000:]}") from None
            yield process
        finally:
            stop_process(process)


# ----- Chroma ---------------------------------------------------------------------------------


@dataclass
class LocalChroma:
    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def heartbeat_ok(host: str, port: int) -> bool:
    """Whether a Chroma server answers its heartbeat at host:port."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        conn.request("GET", "/api/v2/heartbeat")
        return conn.getresponse().status == 200
    except OSError:
        return False


@contextmanager
def local_chroma(data_dir: Path, *, timeout_s: float = START_TIMEOUT_S) -> Iterator[LocalChroma]:
    """`chroma run` from this environment on a free loopback port, data in `data_dir`, log in `data_dir/server.log`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data_dir / "db"),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with started(
        command, ready=lambda: heartbeat_ok("127.0.0.1", port), log=data_dir / "server.log", what="chroma run",
        timeout_s=timeout_s, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    ) as process:  # fmt: skip
        yield LocalChroma("127.0.0.1", port, process)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description="Wait for a Chroma server started elsewhere to answer.")
    parser.add_argument("--wait-chroma", type=int, required=True, metavar="PORT", help="its port on 127.0.0.1")
    parser.add_argument("--pid", type=int, required=True, help="its process id (exiting early fails the wait)")
    parser.add_argument("--timeout", type=float, default=START_TIMEOUT_S)
    args = parser.parse_args()
    try:
        wait_until(
            lambda: heartbeat_ok("127.0.0.1", args.wait_chroma), lambda: _pid_alive(args.pid),
            what="chroma run", timeout_s=args.timeout,
        )  # fmt: skip
    except RuntimeError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
