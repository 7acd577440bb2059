"""Benchmark the bundled local models: assembly, load, time to first token and decoding speed.

    python bench/llm.py                      # both bundled models, 3 runs each
    python bench/llm.py --models qwen2.5-coder-0.5b --runs 5
    python bench/llm.py --tune               # compare llama.cpp settings on the 1.5B model

Prompts are the project's real answer template filled with five numbered Chinese passages,
sized to ~300 and ~600 prompt tokens. "cold" runs start with a changed system prompt so
llama.cpp cannot reuse any cached prefix; "warm" runs keep the system prompt (as the engine
does) and change only the passages and question, so the shared prefix is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.llm.base import GenerationRequest  # noqa: E402
from assistant.llm.local import LocalLlamaBackend  # noqa: E402
from assistant.llm.models import BUNDLED_MODELS, ensure_model  # noqa: E402
from assistant.prompts import answer_messages  # noqa: E402

SENTENCES = [
    "对新认定的国家级专精特新“小巨人”企业，市财政给予一次性奖励50万元。",
    "企业年度研发投入超过1000万元的，按新增研发投入的10%给予补助，最高不超过300万元。",
    "全职引进的博士研究生，一次性发放安家补贴10万元，分三年发放到位。",
    "硕士研究生在本市就业的，给予每月1500元的生活补贴，最长发放36个月。",
    "申报单位应当于每年3月31日前通过政务服务网提交申请材料，逾期不予受理。",
    "对获得首台（套）重大技术装备认定的产品，按销售额的20%给予奖励，单个产品最高500万元。",
    "市科技主管部门负责组织专家评审，并在官方网站公示评审结果，公示期不少于7个工作日。",
    "享受本办法补贴的企业，应当承诺五年内不迁离本市，否则应当退回已获得的补贴资金。",
    "孵化器内在孵企业可免费使用公共实验平台，房租按市场价格的50%收取，期限不超过三年。",
    "同一项目已获得市级其他财政资金支持的，不得重复申报本办法规定的奖励。",
    "对新设立的外资研发中心，按实际到位外资金额的2%给予奖励，最高1000万元。",
    "本办法所称高新技术企业，是指依照国家有关规定认定并在有效期内的企业。",
]
TITLES = ["江城市促进科技创新若干措施", "江城市人才引进办法", "江城市产业发展专项资金管理办法"]
QUESTIONS = [
    "全职引进的博士可以领取多少安家补贴？",
    "企业研发投入补助的最高金额是多少？",
    "申报材料应当在什么时间之前提交？",
    "首台（套）重大技术装备的奖励标准是什么？",
    "孵化器内企业的房租如何收取？",
    "外资研发中心的奖励上限是多少？",
    "硕士研究生的生活补贴发放多长时间？",
]
MAX_TOKENS = 64


@dataclass
class Run:
    ttft: float
    ttft_cpu: float  # CPU seconds of this process until the first token: less sensitive to other load
    tokens_per_s: float
    generated: int


def passages_text(seed: int, sentences_per_passage: int) -> str:
    """Five numbered passages, each a few policy sentences, rotated by `seed`."""
    blocks = []
    for n in range(1, 6):
        start = (seed * 5 + n * 3) % len(SENTENCES)
        body = "".join(SENTENCES[(start + k) % len(SENTENCES)] for k in range(sentences_per_passage))
        blocks.append(f"[{n}] 《{TITLES[(seed + n) % len(TITLES)]}》 第{n + 2}条\n{body}")
    return "\n\n".join(blocks)


def build_request(seed: int, sentences_per_passage: int, cold: bool) -> GenerationRequest:
    question = QUESTIONS[seed % len(QUESTIONS)]
    messages = answer_messages("zh", evidence=passages_text(seed, sentences_per_passage), question=question)
    if cold:
        messages[0]["content"] = f"（会话{seed}）" + messages[0]["content"]
    return GenerationRequest(messages=messages, question=question, max_tokens=MAX_TOKENS, temperature=0.1)


def prompt_tokens(backend: LocalLlamaBackend, request: GenerationRequest) -> int:
    # ChatML adds <|im_start|>role\n ... <|im_end|>\n (5 tokens) per message and 3 for the reply header.
    return sum(backend.count_tokens(m["content"]) + 5 for m in request.messages) + 3


def sentences_for(backend: LocalLlamaBackend, target: int) -> int:
    """Sentences per passage whose prompt comes closest to `target` tokens."""
    sizes = {k: prompt_tokens(backend, build_request(0, k, cold=False)) for k in range(1, 6)}
    return min(sizes, key=lambda k: abs(sizes[k] - target))


def measure(backend: LocalLlamaBackend, request: GenerationRequest) -> Run:
    cpu_started = time.process_time()
    started = time.perf_counter()
    first = last = 0.0
    first_cpu = 0.0
    pieces: list[str] = []
    for piece in backend.generate(request):
        last = time.perf_counter()
        if not pieces:
            first = last
            first_cpu = time.process_time() - cpu_started
        pieces.append(piece)
    generated = backend.count_tokens("".join(pieces))
    rate = (generated - 1) / (last - first) if generated > 1 and last > first else float("nan")
    return Run(ttft=first - started, ttft_cpu=first_cpu, tokens_per_s=rate, generated=generated)


def median_runs(
    backend: LocalLlamaBackend, size: int, runs: int, cold: bool, offset: int
) -> tuple[float, float, float]:
    """Median TTFT (wall), TTFT (CPU seconds) and tokens/s over `runs` requests."""
    results = [measure(backend, build_request(offset + i, size, cold)) for i in range(runs)]
    return (
        statistics.median(r.ttft for r in results),
        statistics.median(r.ttft_cpu for r in results),
        statistics.median(r.tokens_per_s for r in results),
    )


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def bench_model(name: str, runs: int, llama_kwargs: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"model": name}
    cache = Path(tempfile.mkdtemp(prefix="bench-models-"))
    try:
        started = time.perf_counter()
        path = ensure_model(name, cache)
        row["assemble_cold"] = time.perf_counter() - started
        started = time.perf_counter()
        ensure_model(name, cache)
        row["assemble_cached"] = time.perf_counter() - started

        backend = LocalLlamaBackend(str(path), **llama_kwargs)
        started = time.perf_counter()
        backend.load()
        row["load"] = time.perf_counter() - started
        measure(backend, build_request(99, 1, cold=True))  # first call pays one-time set-up
        for target in (300, 600):
            size = sentences_for(backend, target)
            row[f"tokens_{target}"] = prompt_tokens(backend, build_request(0, size, cold=False))
            row[f"cold_{target}"] = median_runs(backend, size, runs, cold=True, offset=10 * target)
            median_runs(backend, size, 1, cold=False, offset=0)  # cache the plain system prompt
            row[f"warm_{target}"] = median_runs(backend, size, runs, cold=False, offset=1)
        backend.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    row["loadavg"] = load_average()
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        "| model | assemble cold / cached | load | prompt | TTFT cold | TTFT cold, CPU s | TTFT warm prefix "
        "| tokens/s | 1-min load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        for target in (300, 600):
            cold_ttft, cold_cpu, cold_rate = row[f"cold_{target}"]
            warm_ttft, _, _ = row[f"warm_{target}"]
            print(
                f"| {row['model']} | {row['assemble_cold']:.1f} s / {row['assemble_cached'] * 1000:.1f} ms "
                f"| {row['load']:.2f} s | {row[f'tokens_{target}']} tok | {cold_ttft:.2f} s | {cold_cpu:.1f} "
                f"| {warm_ttft:.2f} s | {cold_rate:.1f} | {row['loadavg']:.1f} |",
                flush=True,
            )


TUNE_CONFIGS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    # label: (LocalLlamaBackend arguments, environment of the measuring process)
    "defaults (2 threads, n_batch 512, OMP passive)": ({}, {}),
    "OMP_WAIT_POLICY=ACTIVE": ({}, {"OMP_WAIT_POLICY": "ACTIVE"}),
    "1 thread": ({"n_threads": 1}, {}),
    "n_batch 256": ({"n_batch": 256, "n_ubatch": 256}, {}),
    "flash_attn": ({"flash_attn": True}, {}),
    "use_mmap off": ({"use_mmap": False}, {}),
}


def tune_one(name: str, label: str, runs: int) -> dict[str, Any]:
    """One configuration, measured in this process: load, cold TTFT (wall and CPU) at ~600 tokens, tokens/s."""
    kwargs, _ = TUNE_CONFIGS[label]
    backend = LocalLlamaBackend(str(ensure_model(name)), n_ctx=4096, **kwargs)
    started = time.perf_counter()
    backend.load()
    load = time.perf_counter() - started
    measure(backend, build_request(99, 1, cold=True))
    size = sentences_for(backend, 600)
    walls, cpus, rates = [], [], []
    for i in range(runs):
        request = build_request(500 + i, size, cold=True)
        request.max_tokens = 24
        cpu = time.process_time()
        started = time.perf_counter()
        stream = backend.generate(request)
        next(stream)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        rest = 1
        first = time.perf_counter()
        for _ in stream:
            rest += 1
        rates.append((rest - 1) / (time.perf_counter() - first) if rest > 1 else float("nan"))
    backend.close()
    return {
        "label": label,
        "load": load,
        "ttft": statistics.median(walls),
        "ttft_cpu": statistics.median(cpus),
        "rate": statistics.median(rates),
        "loadavg": load_average(),
    }


def tune(name: str, runs: int) -> None:
    """Compare llama.cpp settings on one model, each in a fresh process (OpenMP reads its env at start)."""
    print(f"Tuning {name}: cold TTFT for a ~600-token prompt, median of {runs} runs, each setting in its own process.")
    print("TTFT CPU = CPU seconds the process spent until the first token (less sensitive to other load).")
    print("| setting | load | TTFT wall | TTFT CPU | tokens/s | 1-min load avg |")
    print("|---|---|---|---|---|---|")
    for label, (_, env) in TUNE_CONFIGS.items():
        command = [sys.executable, __file__, "--tune-one", label, "--tune-model", name, "--runs", str(runs)]
        done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| {label} | {r['load']:.2f} s | {r['ttft']:.2f} s | {r['ttft_cpu']:.1f} s | {r['rate']:.1f} "
            f"| {r['loadavg']:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(BUNDLED_MODELS), choices=list(BUNDLED_MODELS))
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is shown)")
    parser.add_argument("--tune", action="store_true", help="compare llama.cpp settings instead")
    parser.add_argument("--tune-model", default="qwen2.5-coder-1.5b", choices=list(BUNDLED_MODELS))
    parser.add_argument("--tune-one", choices=list(TUNE_CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tune_one:
        print(json.dumps(tune_one(args.tune_model, args.tune_one, args.runs)))
        return
    if args.tune:
        tune(args.tune_model, args.runs)
        return
    print(f"{os.cpu_count()} CPUs, 1-min load average at start {load_average():.1f}", flush=True)
    rows = [bench_model(name, args.runs, {"n_ctx": 4096}) for name in args.models]
    print_table(rows)


if __name__ == "__main__":
    main()
