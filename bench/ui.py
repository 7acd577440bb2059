"""Web UI load benchmark: N concurrent simulated users asking over HTTP (Gradio's queue API, loopback only).

    .venv/bin/python bench/ui.py [--users 1,5,20] [--questions 3] [--llm extractive] [--index DIR]
    .venv/bin/python bench/ui.py --url http://127.0.0.1:7860 [--pid PID]   # against a running server

Without --url it starts `assistant serve` on a free port over --index (ingesting the sample corpus
into it the first time). Each user is one gradio_client session asking --questions questions of
eval/sample_suite.jsonl in turn, so later questions are follow-ups in that user's conversation.
Reports time to first answer text and to the full answer (p50/p95), throughput, and the server's
peak RSS (psutil, the server process and its children). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from assistant.evaluation.metrics import percentile
from assistant.local_servers import free_port, http_ok, wait_until

ROOT = Path(__file__).resolve().parent.parent
POLL_S = 0.02  # how often a user looks at its job's outputs: the timing resolution
JOB_TIMEOUT_S = 300.0
PHASE = re.compile(r'data-phase="(\w+)" data-turn="(\d+)"')


def pct(values: list[float], q: float) -> float:
    """The `q` (0..1) percentile for the table; nan when no request succeeded."""
    p = percentile(values, q * 100)
    return float("nan") if p is None else p


def server_pid(port: int) -> int | None:
    for c in psutil.net_connections("tcp"):
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN:
            return c.pid
    return None


class RssSampler:
    """Peak resident memory of a process tree, sampled in a background thread."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.proc = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.every)

    def reset(self) -> None:
        self.peak = self.rss()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Result:
    first: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def last_phase(chat_html: str) -> str:
    phases = PHASE.findall(chat_html or "")
    return phases[-1][0] if phases else ""


def one_user(client, questions: list[str], result: Result, lock: threading.Lock) -> None:  # type: ignore[no-untyped-def]
    for q in questions:
        started = time.perf_counter()
        first = None
        job = client.submit(q, [], [], "", "", api_name="/ask")
        deadline = started + JOB_TIMEOUT_S
        while time.perf_counter() < deadline:
            outputs = job.outputs()
            if first is None and outputs and last_phase(outputs[-1][1]) in ("streaming", "done", "refused", "error"):
                first = time.perf_counter() - started
            if job.done():
                break
            time.sleep(POLL_S)
        total = time.perf_counter() - started
        with lock:
            if not job.done():
                result.errors.append(f"timeout after {JOB_TIMEOUT_S:.0f}s: {q}")
                job.cancel()
                continue
            try:
                final = job.result()
            except Exception as exc:  # a failed request is a data point, not the end of the benchmark
                result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if last_phase(final[1]) not in ("done", "refused"):
                result.errors.append(f"no answer for {q!r}: phase {last_phase(final[1])!r}")
                continue
            result.first.append(first if first is not None else total)
            result.total.append(total)


def run_level(url: str, users: int, questions: list[str], per_user: int) -> tuple[Result, float]:
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(users)]
    result, lock = Result(), threading.Lock()
    plans = [[questions[(u * per_user + i) % len(questions)] for i in range(per_user)] for u in range(users)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        for f in [pool.submit(one_user, c, plan, result, lock) for c, plan in zip(clients, plans, strict=True)]:
            f.result()
    wall = time.perf_counter() - started
    for c in clients:
        c.close()
    return result, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="A running server (default: start one).")
    ap.add_argument("--pid", type=int, help="PID of the running server (default: found by its port).")
    ap.add_argument("--users", default="1,5,20", help="Concurrent users per level.")
    ap.add_argument("--questions", type=int, default=3, help="Questions each user asks, one after another.")
    ap.add_argument("--llm", default="extractive", help="Backend of the server this script starts.")
    ap.add_argument("--index", type=Path, default=Path(tempfile.gettempdir()) / "ui-bench-index",
                    help="Index of the server this script starts (the sample corpus is ingested into it once).")
    args = ap.parse_args()
    suite = [json.loads(x)["question"] for x in (ROOT / "eval" / "sample_suite.jsonl").open(encoding="utf-8")]
    proc = None
    if args.url:
        url = args.url.rstrip("/")
        pid = args.pid or server_pid(int(url.rsplit(":", 1)[1].split("/")[0]))
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ASSISTANT_UI__UPLOAD_DIR": tempfile.mkdtemp(prefix="ui-bench-uploads-")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--index", str(args.index), "--llm", args.llm,
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        pid = proc.pid
    try:
        wait_until(
            lambda: http_ok(url + "/"), lambda: proc is None or proc.poll() is None, what="the web UI", timeout_s=900
        )
        if pid is None:
            raise SystemExit("cannot find the server's PID: pass --pid")
        run_level(url, 1, suite[:1], 1)  # warm-up: first retrieval loads tokenizer and models
        rows = []
        with RssSampler(pid) as rss:
            idle = rss.rss()
            for n in (int(x) for x in args.users.split(",")):
                rss.reset()
                result, wall = run_level(url, n, suite, args.questions)
                rows.append((n, result, wall, rss.peak))
        print(f"\nWeb UI under load — backend '{args.llm if not args.url else 'as served'}', {args.questions} "
              f"question(s) per user, timing resolution {POLL_S * 1000:.0f} ms, server idle RSS {idle / 2**20:.0f} MiB")
        head = f"{'users':>5} {'answers':>7} {'errors':>6} {'TTFT p50':>9} {'TTFT p95':>9} {'full p50':>9} " \
               f"{'full p95':>9} {'answers/s':>9} {'peak RSS':>9}"
        print(head)
        print("-" * len(head))
        for n, r, wall, peak in rows:
            print(f"{n:>5} {len(r.total):>7} {len(r.errors):>6} {pct(r.first, .5):>8.2f}s {pct(r.first, .95):>8.2f}s "
                  f"{pct(r.total, .5):>8.2f}s {pct(r.total, .95):>8.2f}s {len(r.total) / wall:>9.2f} "
                  f"{peak / 2**20:>6.0f} MiB")
        for n, r, _, _ in rows:
            for e in r.errors[:3]:
                print(f"  [{n} users] {e}")
        if rows:
            print(f"mean full-answer latency over all levels: {statistics.mean(x for _, r, _, _ in rows for x in r.total):.2f}s")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
