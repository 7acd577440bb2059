"""The HTTP API's cost: API overhead over a direct Engine call, and 20 concurrent clients (extractive backend).

    .venv/bin/python bench/api.py [--index DIR] [--questions 10] [--rounds 3] [--clients 20] [--per-client 10]

Starts `assistant serve --llm extractive` on a free 127.0.0.1 port over `--index` (default: a fresh index of
the bundled corpus/ in a temporary folder), with the rate limit raised (this measures cost, not limits).
1. Overhead: the same questions, answered in this process by `Engine.ask` and through
   POST /v1/chat/completions (one client, sequential, not streamed); p50 of each, and the difference.
2. Load: `--clients` threads, each sending `--per-client` requests (bounded: count and a time limit);
   p50/p95 latency, errors, requests/s and the server's peak RSS (VmHWM).
Prints the figures; asserts nothing. Every request goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.metrics import percentile  # noqa: E402
from assistant.local_servers import free_port, started  # noqa: E402
from assistant.runtime import configure_process  # noqa: E402

LOAD_TIME_LIMIT_S = 600


def questions(n: int) -> list[str]:
    lines = (ROOT / "eval" / "sample_suite.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ensure_index(index: Path | None, tmp: Path) -> Path:
    from assistant.config import load_settings
    from assistant.engine import Engine

    if index is not None:
        return index
    target = tmp / "index"
    engine = Engine.open(load_settings(index=target, llm={"backend": "extractive"}), create=True)
    try:
        print(f"indexing {ROOT / 'corpus'} into {target} …", file=sys.stderr)
        engine.ingest([ROOT / "corpus"])
    finally:
        engine.close()
    return target


def direct(index: Path, qs: list[str], rounds: int) -> list[float]:
    from assistant.config import load_settings
    from assistant.engine import Engine

    engine = Engine.open(load_settings(index=index, llm={"backend": "extractive"}))
    try:
        for q in qs:  # warm-up: first calls load tokenizers and caches
            engine.ask(q)
        times = []
        for _ in range(rounds):
            for q in qs:
                t = time.perf_counter()
                engine.ask(q)
                times.append(time.perf_counter() - t)
        return times
    finally:
        engine.close()


def via_api(client: httpx.Client, qs: list[str], rounds: int) -> list[float]:
    for q in qs:
        client.post("/v1/chat/completions", json={"model": "default", "messages": [{"role": "user", "content": q}]})
    times = []
    for _ in range(rounds):
        for q in qs:
            t = time.perf_counter()
            r = client.post("/v1/chat/completions", json={"model": "default", "messages": [{"role": "user", "content": q}]})
            times.append(time.perf_counter() - t)
            r.raise_for_status()
    return times


def load(url: str, qs: list[str], clients: int, per_client: int) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_TIME_LIMIT_S

    def worker(k: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as c:
            for i in range(per_client):
                if time.monotonic() > deadline:
                    return
                q = qs[(k + i) % len(qs)]
                t = time.perf_counter()
                try:
                    r = c.post("/v1/chat/completions", json={"model": "default", "stream": i % 2 == 1,
                                                             "messages": [{"role": "user", "content": q}]})  # fmt: skip
                    ok = r.status_code == 200 and (i % 2 == 0 or r.text.rstrip().endswith("data: [DONE]"))
                    problem = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - t)
                    if problem:
                        errors.append(problem)

    started_at = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - started_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=10)
    args = parser.parse_args()
    configure_process()
    qs = questions(args.questions)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        index = ensure_index(args.index, tmp)
        d = direct(index, qs, args.rounds)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ASSISTANT_API__RATE_PER_MINUTE": "100000", "ASSISTANT_API__BURST": "10000",
               "ASSISTANT_UI__UPLOAD_DIR": str(tmp / "uploads")}  # fmt: skip
        env.pop("ASSISTANT_API_TOKEN", None)
        command = [sys.executable, "-m", "assistant", "serve", "--port", str(port), "--index", str(index),
                   "--llm", "extractive"]  # fmt: skip

        def ready() -> bool:
            try:
                return httpx.get(url + "/v1/models", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        with started(command, ready=ready, log=tmp / "server.log", what="assistant serve", timeout_s=300, env=env,
                     cwd=tmp) as process:  # fmt: skip
            with httpx.Client(base_url=url, timeout=300) as client:
                a = via_api(client, qs, args.rounds)
            rss_idle = peak_rss_mb(process.pid)
            latencies, errors, seconds = load(url, qs, args.clients, args.per_client)
            rss = peak_rss_mb(process.pid)
    p50_d, p50_a = statistics.median(d), statistics.median(a)
    print(f"questions: {len(qs)} x {args.rounds} rounds (sample suite), extractive backend")
    print(f"direct Engine.ask p50: {p50_d * 1000:.1f} ms   API (POST /v1/chat/completions) p50: {p50_a * 1000:.1f} ms")
    print(f"API overhead p50: {(p50_a - p50_d) * 1000:+.1f} ms   (paired medians of per-question differences: "
          f"{statistics.median([x - y for x, y in zip(a, d, strict=True)]) * 1000:+.1f} ms)")
    print(f"{args.clients} concurrent clients x {args.per_client} requests (half streamed): "
          f"{len(latencies)} requests in {seconds:.1f} s ({len(latencies) / seconds:.1f}/s), errors {len(errors)}")
    print(f"latency p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms; "
          f"server peak RSS {rss:.0f} MB (after the sequential part: {rss_idle:.0f} MB)")
    for e in errors[:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
