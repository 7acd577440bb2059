"""A throwaway local Chroma server (`chroma run` from this environment), for tests, benchmarks and CI.

    with local_server(Path("/tmp/chroma-data")) as server:
        settings = load_settings(store={"mode": "server", "host": server.host, "port": server.port})

    python -m assistant.chroma_server --wait PORT --pid PID    # CI: wait for a server started elsewhere
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0


@dataclass
class LocalServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def heartbeat_ok(host: str, port: int) -> bool:
    """Whether a Chroma server answers its heartbeat at host:port."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        conn.request("GET", "/api/v2/heartbeat")
        return conn.getresponse().status == 200
    except OSError:
        return False


def wait_for_heartbeat(port: int, process: subprocess.Popen[bytes] | int, timeout_s: float = START_TIMEOUT_S) -> None:
    """Block until the server on 127.0.0.1:`port` answers; RuntimeError if `process` (Popen or pid) exits first
    or nothing answers within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not heartbeat_ok("127.0.0.1", port):
        if not _alive(process):
            raise RuntimeError(f"chroma run exited before answering on port {port}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"chroma run gave no heartbeat on port {port} within {timeout_s:.0f} s")
        time.sleep(0.25)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server, killing it if it has not exited after 20 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def local_server(data_dir: Path, *, timeout_s: float = START_TIMEOUT_S) -> Iterator[LocalServer]:
    """Start `chroma run` on a free loopback port with its data in `data_dir`; stop it when the block ends.

    Its output goes to `data_dir/server.log`, whose tail is in the error if it does not start.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data_dir / "db"),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )  # fmt: skip
        try:
            try:
                wait_for_heartbeat(port, process, timeout_s)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}; its log ends:\n{log_path.read_text(errors='replace')[-2000:]}") from None
            yield LocalServer("127.0.0.1", port, process, log_path)
        finally:
            stop(process)


def _alive(process: subprocess.Popen[bytes] | int) -> bool:
    if isinstance(process, subprocess.Popen):
        return process.poll() is None
    try:
        os.kill(process, 0)
    except ProcessLookupError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description="Wait for a Chroma server started elsewhere to answer.")
    parser.add_argument("--wait", type=int, required=True, metavar="PORT", help="its port on 127.0.0.1")
    parser.add_argument("--pid", type=int, required=True, help="its process id (exiting early fails the wait)")
    parser.add_argument("--timeout", type=float, default=START_TIMEOUT_S)
    args = parser.parse_args()
    try:
        wait_for_heartbeat(args.wait, args.pid, args.timeout)
    except RuntimeError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
