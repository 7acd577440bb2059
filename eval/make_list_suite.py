"""Build eval/list_suite.jsonl: list / overview questions from the chapter structure of cn_policy_regs.

    .venv/bin/python eval/make_list_suite.py [--docs ../shared/datasets/cn_policy_regs/docs] [--n 72]

For documents with chapters (第X章), each question asks for the contents of one chapter — e.g.
《X》规定了哪些法律责任？ for its 法律责任 chapter — and its gold is that chapter's articles
(`gold_sections`, the 第X条 labels, scored by `list_recall`). The chapters are read with the
project's own loader and chunker, so the labels match what the index holds. Questions only: no
document text is written into the suite (the documents are not ours to redistribute).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.chunking import chunk_document  # noqa: E402
from assistant.documents import load_document  # noqa: E402

DEFAULT_DOCS = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "docs"
SKIP = re.compile(r"总则|附则")
_ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇两\d]+条$")


def chapters(path: Path) -> tuple[str, str, dict[str, list[str]]]:
    """(doc_id, title, {chapter heading: [article labels in order]})."""
    doc = load_document(path, path.parent)
    found: dict[str, list[str]] = {}
    for chunk in chunk_document(doc, max_chars=420, min_chars=60):
        parts = [p.strip() for p in chunk.section.split(">")]
        if len(parts) < 2 or not _ARTICLE.match(parts[-1]):
            continue
        chapter = next((p for p in parts[:-1] if re.match(r"^第[一二三四五六七八九十]+章", p)), None)
        chapter = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", chapter or "").strip() or None
        if chapter is None:
            continue
        labels = found.setdefault(chapter, [])
        if parts[-1] not in labels:
            labels.append(parts[-1])
    return doc.doc_id, doc.title, found


def questions(title: str, chapter: str, rng: random.Random) -> tuple[str, str]:
    """(question, language) for one chapter."""
    name = re.sub(r"^第[一二三四五六七八九十]+章\s*", "", chapter).strip()
    if rng.random() < 0.15:
        return rng.choice([
            f"What does the chapter on “{name}” of 《{title}》 provide?",
            f"What are the main provisions of 《{title}》 on {name}?",
        ]), "en"  # fmt: skip
    if "法律责任" in name:
        return rng.choice([f"《{title}》规定了哪些法律责任？", f"违反《{title}》要承担哪些法律责任？"]), "zh"
    return rng.choice([
        f"《{title}》关于{name}有哪些规定？",
        f"《{title}》中“{name}”一章包括哪些内容？",
        f"《{title}》在{name}方面规定了哪些措施？",
    ]), "zh"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--n", type=int, default=72, help="number of questions")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "list_suite.jsonl")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.docs.is_dir():
        sys.exit(f"{args.docs} not found: this script reads the cn_policy_regs documents (../shared/datasets).")
    rng = random.Random(args.seed)
    pool: list[tuple[str, str, str, list[str]]] = []
    for path in sorted(args.docs.glob("*.txt")):
        doc_id, title, found = chapters(path)
        good = [(c, arts) for c, arts in found.items() if not SKIP.search(c) and 2 <= len(arts) <= 12]
        if good:
            chapter, arts = rng.choice(good)
            pool.append((doc_id, title, chapter, arts))
    rng.shuffle(pool)
    rows = []
    for i, (doc_id, title, chapter, arts) in enumerate(sorted(pool[: args.n], key=lambda r: r[0]), 1):
        question, language = questions(title, chapter, rng)
        rows.append({
            "id": f"list-{i:03d}", "question": question, "answer": arts, "doc_id": doc_id, "answerable": True,
            "language": language, "question_type": "list", "gold_sections": arts, "chapter": chapter,
        })  # fmt: skip
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} questions over {len({r['doc_id'] for r in rows})} documents -> {args.out}")


if __name__ == "__main__":
    main()
