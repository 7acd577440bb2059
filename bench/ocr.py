"""OCR benchmark: character accuracy and speed on rendered pages of real regulations.

    .venv/bin/python bench/ocr.py [--pages 6] [--dpi 200] [--pt 14] [--engines rapidocr,tesseract]
        [--rotated [90,180,270]] [--threads 1,2] [--baseline GIT-REV]

Renders the first page of `--pages` regulations from ../shared/datasets/cn_policy_regs/docs
(else generated regulation text) at `--dpi` with Noto Serif CJK, once clean and once degraded
(Gaussian blur, grain, salt-and-pepper noise, rotation of +2° or -2° alternately), and OCRs them.
Accuracy = 1 - edit distance / reference length, after NFKC and with all whitespace removed.
`--rotated` adds the pages turned by 90° (or by each of the angles given). `--threads` runs RapidOCR with each
thread count given. `--baseline REV` also runs the OCR code as it was at git revision REV (`assistant/ocr.py`,
or the `assistant/ocr/` package it became; loaded from git, its engine with its own defaults, the rest of
`assistant` as it is now), variant by variant right before the current code, so both see the same machine
load. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_DOCS = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "docs"

from assistant import ocr as current  # noqa: E402
from tests.scans import degrade, render_pages, sample_regulation  # noqa: E402


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def accuracy(reference: str, hypothesis: str) -> float:
    from rapidfuzz.distance import Levenshtein

    ref, hyp = norm(reference), norm(hypothesis)
    return max(0.0, 1 - Levenshtein.distance(ref, hyp) / max(1, len(ref)))


def pages(n: int, dpi: int, pt: float = 14) -> list[tuple[str, object, str]]:
    if SHARED_DOCS.is_dir():
        files = sorted(SHARED_DOCS.glob("*.txt"))
        step = max(1, len(files) // n)
        texts = [(f.stem, f.read_text(encoding="utf-8")) for f in files[::step][:n]]
    else:
        print(f"{SHARED_DOCS} not found: using generated regulation text")
        texts = [(f"generated-{i}", sample_regulation(i, 1200)) for i in range(n)]
    out = []
    for name, text in texts:
        img, drawn = render_pages(text, dpi=dpi, pt=pt, max_pages=1)[0]
        out.append((name, img, drawn))
    return out


def tesseract(image: object, workdir: Path) -> str:
    png = workdir / "page.png"
    image.save(png)  # type: ignore[attr-defined]
    proc = subprocess.run(
        ["tesseract", str(png), "stdout", "-l", "chi_sim", "--psm", "6"], capture_output=True, text=True, check=False
    )
    return proc.stdout


def baseline(rev: str, workdir: Path) -> Any:
    """The OCR code as it was at git revision `rev`, `assistant/ocr.py` or the `assistant/ocr/` package, written
    to `workdir` and imported as `assistant._ocr_at_REV` (its relative imports reach today's `assistant`)."""
    files = _git("ls-tree", "-r", "--name-only", rev, "--", "assistant/ocr.py", "assistant/ocr").split()
    files = [f for f in files if f.endswith(".py")]
    if not files:
        raise SystemExit(f"{rev} has neither assistant/ocr.py nor assistant/ocr/")
    folder = workdir / ("ocr_at_" + re.sub(r"\W", "_", rev))
    for file in files:
        target = folder / Path(file).relative_to("assistant")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_git("show", f"{rev}:{file}"), encoding="utf-8")
    name = "assistant._ocr_at_" + re.sub(r"\W", "_", rev)
    if "assistant/ocr.py" in files:
        spec = importlib.util.spec_from_file_location(name, folder / "ocr.py")
    else:
        package = folder / "ocr"
        spec = importlib.util.spec_from_file_location(
            name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # tesseract runs as a child process
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--pt", type=float, default=14, help="font size of the rendered text, in points")
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument(
        "--rotated", nargs="?", const="90", default="", help="also OCR the clean pages turned by these angles (90)"
    )
    ap.add_argument("--threads", default="", help="RapidOCR thread counts to run, e.g. 1,2 (default: [ocr] threads)")
    ap.add_argument("--baseline", metavar="REV", help="also run the OCR code as it was at this git revision")
    args = ap.parse_args()
    sample = pages(args.pages, args.dpi, args.pt)
    variants: list[tuple[str, list[tuple[str, object, str]]]] = [
        ("clean", sample),
        ("noisy", [(n, degrade(im, seed=i, angle=2.0 if i % 2 else -2.0), t) for i, (n, im, t) in enumerate(sample)]),
    ]
    for angle in (int(a) for a in args.rotated.split(",") if a.strip()):
        variants.append((f"rotated{angle}", [(n, im.rotate(angle, expand=True), t) for n, im, t in sample]))  # type: ignore[attr-defined]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "tesseract" in engines and not (shutil.which("tesseract")):
        print("tesseract not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim): skipped")
        engines.remove("tesseract")
    readers: list[tuple[str, Callable[[Any], str]]] = []
    workdir = tempfile.TemporaryDirectory()
    for engine in engines:
        if engine == "rapidocr" and args.baseline:
            old = baseline(args.baseline, Path(workdir.name))
            old_engine = old.RapidOCREngine()
            _timed_load(f"rapidocr@{args.baseline}", old_engine)
            readers.append((f"rapidocr@{args.baseline}", lambda im, m=old, e=old_engine: m.recognise_image(im, e).text))
        if engine == "rapidocr":
            from assistant.config import load_settings

            for threads in [int(t) for t in args.threads.split(",") if t.strip()] or [load_settings().ocr.threads]:
                label = f"rapidocr-t{threads}" if args.threads else "rapidocr"
                new_engine = current.RapidOCREngine(threads)
                _timed_load(label, new_engine)
                readers.append((label, lambda im, e=new_engine: current.recognise_image(im, e).text))
        elif engine == "tesseract":
            readers.append(("tesseract", lambda im: tesseract(im, Path(workdir.name))))
    chars = sum(len(norm(t)) for _, _, t in sample)
    print(f"{len(sample)} pages, {chars} characters, {args.dpi} dpi, {args.pt:g} pt; load average {_load()}")
    # CPU seconds are printed too: on a shared machine wall time mostly measures the other jobs.
    width = max(10, *(len(label) for label, _ in readers))
    head = f"{'engine':<{width}} {'variant':<10} {'accuracy':>8} {'min':>6} {'s/page':>7} {'pages/s':>8} {'cpu s/page':>10}"
    print(head)
    totals: dict[str, list[float]] = {label: [0, 0.0, 0.0] for label, _ in readers}
    for variant, items in variants:
        for label, read in readers:
            accs, secs = [], 0.0
            cpu = time.process_time() + _children_cpu()
            for _name, image, truth in items:
                t = time.perf_counter()
                text = read(image)
                secs += time.perf_counter() - t
                accs.append(accuracy(truth, text))
            mean = sum(accs) / len(accs)
            cpu = time.process_time() + _children_cpu() - cpu
            totals[label] = [totals[label][0] + len(items), totals[label][1] + secs, totals[label][2] + cpu]
            print(
                f"{label:<{width}} {variant:<10} {mean:>8.4f} {min(accs):>6.3f} {secs / len(items):>7.2f} "
                f"{len(items) / secs:>8.3f} {cpu / len(items):>10.2f}",
                flush=True,
            )
    for label, (n, secs, cpu) in totals.items():
        print(f"{label:<{width}} {'all':<10} {'':>8} {'':>6} {secs / n:>7.2f} {n / secs:>8.3f} {cpu / n:>10.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {_load()}; peak RSS {peak:.0f} MB")
    workdir.cleanup()


def _timed_load(label: str, engine: Any) -> None:
    t = time.perf_counter()
    engine._load()
    print(f"{label} model load: {time.perf_counter() - t:.2f} s")


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
