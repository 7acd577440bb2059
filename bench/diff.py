"""Time `assistant diff` (article alignment + word marks) and measure alignment against hand labels.

    .venv/bin/python bench/diff.py [--repeat 5]

Prints, per hand-labelled real pair in tests/data/versions_alignment_real.json (when
../shared/datasets/cn_policy_regs is present): articles, precision/recall of the aligned article pairs,
recall of the changed articles (diff_recall), and the diff time; then the time for two synthetic
100-article editions (renumbered, 20 changed, 5 added, 5 removed), and edition grouping counts
over all of cn_policy_regs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation.article_metrics import diff_recall  # noqa: E402
from assistant.types import Document  # noqa: E402
from assistant.versions import build_library, diff_documents, version_meta  # noqa: E402
from assistant.versions.library import DocInput  # noqa: E402

DATASET = ROOT.parent / "shared" / "datasets" / "cn_policy_regs"
LABELS = ROOT / "tests" / "data" / "versions_alignment_real.json"
CN = "零一二三四五六七八九"


def cn(n: int) -> str:
    """1..199 as a Chinese numeral (第一百零五条)."""
    if n >= 100:
        rest = n - 100
        return "一百" + (
            ""
            if rest == 0
            else (
                "零" + CN[rest]
                if rest < 10
                else cn(rest)
                if rest >= 20
                else "一十" + (CN[rest - 10] if rest > 10 else "")
            )
        )
    if n >= 10:
        return ("" if n < 20 else CN[n // 10]) + "十" + (CN[n % 10] if n % 10 else "")
    return CN[n]


def synthetic_pair(n: int = 100, seed: int = 7) -> tuple[str, str]:
    rng = random.Random(seed)
    words = (
        "数据 安全 管理 部门 应当 依法 监督 检查 企业 个人 信息 保护 责任 规定 国家 建立 制度 行政 处罚 罚款".split()
    )
    bodies = ["".join(rng.choice(words) for _ in range(rng.randint(15, 60))) + "。" for _ in range(n)]
    new = list(bodies)
    for i in rng.sample(range(n), 20):
        new[i] = new[i][:-1] + "，" + "".join(rng.choice(words) for _ in range(6)) + "。"
    for i in sorted(rng.sample(range(n), 5), reverse=True):
        del new[i]
    for i in sorted(rng.sample(range(len(new)), 5)):
        new.insert(i, "".join(rng.choice(words) for _ in range(30)) + "。")

    def text(arts: list[str]) -> str:
        return "示例法\n\n" + "\n\n".join(f"第{cn(i)}条 {b}" for i, b in enumerate(arts, 1))

    return text(bodies), text(new)


def timed(old: str, new: str, repeat: int) -> tuple[object, float]:
    times, diff = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        diff = diff_documents(old, new)
        diff.to_dict()  # word marks included
        times.append(time.perf_counter() - t)
    return diff, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if DATASET.is_dir():
        print("Real pairs (hand-checked alignments):")
        print(f"{'pair':44} {'articles':>9} {'precision':>9} {'recall':>7} {'diff_recall':>11} {'time s':>7}")
        for pair in json.loads(LABELS.read_text(encoding="utf-8"))["pairs"]:
            old = (DATASET / "docs" / f"{pair['old']}.txt").read_text(encoding="utf-8")
            new = (DATASET / "docs" / f"{pair['new']}.txt").read_text(encoding="utf-8")
            diff, secs = timed(old, new, args.repeat)
            got = {tuple(p) for p in diff.alignment() if p[0] and p[1]}  # type: ignore[attr-defined]
            gold = {tuple(p) for p in pair["alignment"] if p[0] and p[1]}
            precision, recall = len(got & gold) / max(len(got), 1), len(got & gold) / max(len(gold), 1)
            gold_changed = [n for o, n in pair["alignment"] if o is None] + [n for _, n in pair["changed"]]
            found = [e.new for e in diff.added + diff.changed if e.new]  # type: ignore[attr-defined]
            size = f"{diff.old_articles}→{diff.new_articles}"  # type: ignore[attr-defined]
            print(
                f"{pair['name']:44} {size:>9} {precision:9.3f} {recall:7.3f} "
                f"{diff_recall(found, gold_changed) or 0:11.3f} {secs:7.3f}"
            )
    old, new = synthetic_pair()
    diff, secs = timed(old, new, args.repeat)
    print(
        f"\nSynthetic 100-article editions ({diff.old_articles}→{diff.new_articles} articles): "  # type: ignore[attr-defined]
        f"diff {secs * 1000:.0f} ms median of {args.repeat}"
    )
    if DATASET.is_dir():
        rows = [json.loads(line) for line in (DATASET / "docs_meta.jsonl").open(encoding="utf-8")]
        docs = []
        for r in rows:
            text = (DATASET / "docs" / f"{r['doc_id']}.txt").read_text(encoding="utf-8")
            d = Document(r["doc_id"], "", text.split("\n")[0].strip(), text, "txt")
            docs.append(DocInput(d.doc_id, d.title, version_meta(d)))
        t = time.perf_counter()
        lib = build_library(docs)
        build_s = time.perf_counter() - t
        multi = {w: ids for w, ids in lib.works.items() if len(ids) > 1}
        states: dict[str, int] = {}
        for d in lib.editions:
            v = lib.validity(d)
            states[v] = states.get(v, 0) + 1
        print(
            f"\ncn_policy_regs: {len(lib.editions)} documents, {len(lib.works)} works, {len(multi)} works with "
            f"2+ documents; validity today: {states}; library built in {build_s * 1000:.0f} ms"
        )
        for ids in multi.values():
            eds = [lib.editions[i] for i in ids]
            print(
                "  "
                + eds[0].title
                + ": "
                + ", ".join(f"{e.doc_id} ({e.edition or '?'}, {lib.validity(e.doc_id)})" for e in eds)
            )


if __name__ == "__main__":
    main()
