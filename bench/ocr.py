"""OCR benchmark: character accuracy and speed on rendered pages of real regulations.

    .venv/bin/python bench/ocr.py [--pages 6] [--dpi 200] [--engines rapidocr,tesseract] [--rotated]

Renders the first page of `--pages` regulations from ../shared/datasets/cn_policy_regs/docs
(else generated regulation text) at `--dpi` with Noto Serif CJK, once clean and once degraded
(Gaussian blur, grain, salt-and-pepper noise, rotation of +2° or -2° alternately), and OCRs them.
Accuracy = 1 - edit distance / reference length, after NFKC and with all whitespace removed.
`--rotated` adds the pages turned by 90°. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_DOCS = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "docs"

from assistant.ocr import RapidOCREngine, recognise_image  # noqa: E402
from tests.scans import degrade, render_pages, sample_regulation  # noqa: E402


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def accuracy(reference: str, hypothesis: str) -> float:
    from rapidfuzz.distance import Levenshtein

    ref, hyp = norm(reference), norm(hypothesis)
    return max(0.0, 1 - Levenshtein.distance(ref, hyp) / max(1, len(ref)))


def pages(n: int, dpi: int) -> list[tuple[str, object, str]]:
    if SHARED_DOCS.is_dir():
        files = sorted(SHARED_DOCS.glob("*.txt"))
        step = max(1, len(files) // n)
        texts = [(f.stem, f.read_text(encoding="utf-8")) for f in files[::step][:n]]
    else:
        print(f"{SHARED_DOCS} not found: using generated regulation text")
        texts = [(f"generated-{i}", sample_regulation(i, 1200)) for i in range(n)]
    out = []
    for name, text in texts:
        img, drawn = render_pages(text, dpi=dpi, max_pages=1)[0]
        out.append((name, img, drawn))
    return out


def tesseract(image: object, workdir: Path) -> str:
    png = workdir / "page.png"
    image.save(png)  # type: ignore[attr-defined]
    proc = subprocess.run(
        ["tesseract", str(png), "stdout", "-l", "chi_sim", "--psm", "6"], capture_output=True, text=True, check=False
    )
    return proc.stdout


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # tesseract runs as a child process
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--engines", default="rapidocr,tesseract")
    ap.add_argument("--rotated", action="store_true", help="also OCR the clean pages turned by 90 degrees")
    args = ap.parse_args()
    sample = pages(args.pages, args.dpi)
    variants: list[tuple[str, list[tuple[str, object, str]]]] = [
        ("clean", sample),
        ("noisy", [(n, degrade(im, seed=i, angle=2.0 if i % 2 else -2.0), t) for i, (n, im, t) in enumerate(sample)]),
    ]
    if args.rotated:
        variants.append(("rotated90", [(n, im.rotate(90, expand=True), t) for n, im, t in sample]))  # type: ignore[attr-defined]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "tesseract" in engines and not (shutil.which("tesseract")):
        print("tesseract not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim): skipped")
        engines.remove("tesseract")
    rapid = RapidOCREngine()
    t = time.perf_counter()
    rapid._load()
    print(f"rapidocr model load: {time.perf_counter() - t:.2f} s")
    chars = sum(len(norm(t)) for _, _, t in sample)
    print(f"{len(sample)} pages, {chars} characters, {args.dpi} dpi")
    # CPU seconds are printed too: on a shared machine wall time mostly measures the other jobs.
    print(f"{'engine':<10} {'variant':<10} {'accuracy':>8} {'min':>6} {'s/page':>7} {'pages/s':>8} {'cpu s/page':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            for variant, items in variants:
                accs, secs = [], 0.0
                cpu = time.process_time() + _children_cpu()
                for _name, image, truth in items:
                    t = time.perf_counter()
                    if engine == "rapidocr":
                        text = recognise_image(image, rapid).text
                    else:
                        text = tesseract(image, Path(tmp))
                    secs += time.perf_counter() - t
                    accs.append(accuracy(truth, text))
                mean = sum(accs) / len(accs)
                cpu = time.process_time() + _children_cpu() - cpu
                print(
                    f"{engine:<10} {variant:<10} {mean:>8.4f} {min(accs):>6.3f} {secs / len(items):>7.2f} "
                    f"{len(items) / secs:>8.3f} {cpu / len(items):>10.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
