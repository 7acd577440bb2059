#!/usr/bin/env python3
"""Check eval/sample_suite.jsonl against the sample corpus.

Usage (from the repository root):

    .venv/bin/python corpus/_build/check_suite.py [--suite eval/sample_suite.jsonl] [--corpus corpus]

For every item it checks the schema, that the evidence occurs in the extracted text of the gold
document, and that every answer string occurs in the gold document (or its alt_doc_ids twin, or
the evidence). Text is extracted independently of the assistant package: PDF with pypdf, DOCX
from python-docx paragraphs, HTML from the main <article> (else <div class="content">) with tags
stripped, TXT/Markdown decoded as UTF-8 or else GBK. Comparisons ignore whitespace (PDF text has
line breaks inside sentences; TXT files may use CRLF). Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ["id", "question", "answer", "doc_id", "alt_doc_ids", "evidence", "answerable",
            "language", "question_type"]
OPTIONAL = ["choices", "scope"]
QTYPES = {"factoid", "multiple_choice", "true_false", "unanswerable"}
MINIMUMS = {"total": 48, "zh": 30, "en": 10, "unanswerable": 12, "choice (MC+TF)": 8,
            "article-number": 2, "document-number": 2, "scoped": 2}
SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".txt")


# ---------------------------------------------------------------------------- extraction

class _MainContent(HTMLParser):
    """Collects the text of the first element matching `want` (tag name or class name)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "area", "base", "col", "embed", "source", "wbr"}
    BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "br", "section", "article", "table"}

    def __init__(self, want: str) -> None:
        super().__init__(convert_charrefs=True)
        self.want = want
        self.depth = 0  # >0 while inside the wanted element
        self.done = False
        self.skip = 0  # inside <script>/<style>
        self.parts: list[str] = []

    def _matches(self, tag: str, attrs) -> bool:
        if self.want == tag:
            return True
        classes = (dict(attrs).get("class") or "").split()
        return self.want in classes

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if self.done or tag in self.VOID:
            if self.depth and tag == "br":
                self.parts.append("\n")
            return
        if self.depth:
            self.depth += 1
            if tag in self.BLOCK:
                self.parts.append("\n")
        elif self._matches(tag, attrs):
            self.depth = 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        if self.done or tag in self.VOID or not self.depth:
            return
        self.depth -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")
        if self.depth == 0:
            self.done = True

    def handle_data(self, data):
        if self.depth and not self.skip and not self.done:
            self.parts.append(data)


def html_main_text(raw: str) -> str:
    for want in ("article", "content"):
        p = _MainContent(want)
        p.feed(raw)
        text = "".join(p.parts)
        if text.strip():
            return html.unescape(text)
    return re.sub(r"<[^>]+>", " ", raw)  # no main element: strip all tags


def decode_text(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError("undecodable text file")


def extract(path: Path) -> str:
    suf = path.suffix.lower()
    if suf == ".pdf":
        from pypdf import PdfReader
        return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    if suf == ".docx":
        import docx
        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    if suf in (".html", ".htm"):
        return html_main_text(decode_text(path.read_bytes()))
    return decode_text(path.read_bytes())


def norm(s: str) -> str:
    return re.sub(r"\s+", "", s)


def find_docs(corpus: Path) -> dict[str, Path]:
    docs = {}
    for p in sorted(corpus.rglob("*")):
        rel = p.relative_to(corpus)
        if not p.is_file() or p.suffix.lower() not in SUFFIXES or p.name.lower() == "readme.md":
            continue
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        docs[rel.with_suffix("").as_posix()] = p
    return docs


# ---------------------------------------------------------------------------- checks

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default=str(ROOT / "eval" / "sample_suite.jsonl"))
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    args = ap.parse_args()

    docs = find_docs(Path(args.corpus))
    texts = {doc_id: extract(p) for doc_id, p in docs.items()}
    ntexts = {doc_id: norm(t) for doc_id, t in texts.items()}
    errors: list[str] = []

    print("Corpus documents:")
    for doc_id, p in docs.items():
        t = texts[doc_id]
        cjk = len(re.findall(r"[\u4e00-\u9fff]", t))
        words = len(re.findall(r"[A-Za-z]+", t))
        extra = ""
        if p.suffix == ".pdf":
            from pypdf import PdfReader
            extra = f", {len(PdfReader(str(p)).pages)} pages"
        print(f"  {doc_id:32} {p.suffix[1:]:5} {p.stat().st_size:>7} B  {cjk:>5} CJK chars  {words:>5} Latin words{extra}")
        if cjk < 200 and words < 200:
            errors.append(f"{doc_id}: extracted text looks empty")

    items = []
    for n, line in enumerate(Path(args.suite).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: invalid JSON: {e}")

    ids = collections.Counter(it.get("id") for it in items)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    strict_misses = []
    for it in items:
        qid = it.get("id", "?")
        keys = set(it)
        missing = [k for k in REQUIRED if k not in it]
        unknown = keys - set(REQUIRED) - set(OPTIONAL)
        if missing or unknown:
            errors.append(f"{qid}: missing fields {missing}, unknown fields {sorted(unknown)}")
            continue
        qt, ans, doc_id = it["question_type"], it["answer"], it["doc_id"]
        if qt not in QTYPES:
            errors.append(f"{qid}: bad question_type {qt!r}")
        if it["language"] not in ("zh", "en"):
            errors.append(f"{qid}: bad language {it['language']!r}")
        if not isinstance(it["alt_doc_ids"], list):
            errors.append(f"{qid}: alt_doc_ids must be a list")
        for d in it["alt_doc_ids"] + it.get("scope", []):
            if d not in docs:
                errors.append(f"{qid}: unknown doc id {d!r} in alt_doc_ids/scope")
        if "scope" in it and doc_id is not None and doc_id not in it["scope"]:
            errors.append(f"{qid}: gold doc not inside scope")

        if not it["answerable"]:
            if qt != "unanswerable" or ans != [] or doc_id is not None or it["evidence"] is not None \
                    or it["alt_doc_ids"]:
                errors.append(f"{qid}: unanswerable items need answer [], doc_id null, evidence null, alt_doc_ids []")
            continue
        if qt == "unanswerable":
            errors.append(f"{qid}: answerable item typed unanswerable")
        if doc_id not in docs:
            errors.append(f"{qid}: unknown doc_id {doc_id!r}")
            continue
        ev = it["evidence"]
        if not isinstance(ev, str) or not ev.strip():
            errors.append(f"{qid}: evidence missing")
            continue
        if norm(ev) not in ntexts[doc_id]:
            errors.append(f"{qid}: evidence not found in {doc_id}: {ev[:60]}…")
        elif ev not in texts[doc_id]:
            strict_misses.append(qid)

        answers = ans if isinstance(ans, list) else [ans]
        if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
            errors.append(f"{qid}: answer must be a non-empty string or list of strings")
            continue
        if qt in ("multiple_choice", "true_false"):
            ch = it.get("choices")
            if not isinstance(ans, str) or not isinstance(ch, list) or ans not in ch or len(set(ch)) != len(ch):
                errors.append(f"{qid}: choice items need a string answer that is one of distinct choices")
            if qt == "true_false":
                continue  # 正确/错误, True/False are not expected in the text
        elif "choices" in it:
            errors.append(f"{qid}: choices given on a {qt} item")
        pool = [ntexts[doc_id], norm(ev)] + [ntexts[d] for d in it["alt_doc_ids"] if d in ntexts]
        for a in answers:
            if not any(norm(a) in t for t in pool):
                errors.append(f"{qid}: answer {a!r} not found in {doc_id} / alt docs / evidence")
        if not any(norm(a) in norm(ev) for a in answers) and qt != "true_false":
            errors.append(f"{qid}: no answer string occurs in the evidence")

    # ---- counts
    c = collections.Counter()
    for it in items:
        c["total"] += 1
        c[it.get("language")] += 1
        c[it.get("question_type")] += 1
        if it.get("question_type") in ("multiple_choice", "true_false"):
            c["choice (MC+TF)"] += 1
        if it.get("answerable"):
            c["answerable"] += 1
        if "scope" in it:
            c["scoped"] += 1
        if re.search(r"第[一二三四五六七八九十百]+条", it.get("question", "")):
            c["article-number"] += 1
        if re.search(r"文号|document number", it.get("question", ""), re.I):
            c["document-number"] += 1
        if it.get("language") == "en" and it.get("doc_id") and re.search(r"[\u4e00-\u9fff]", it.get("evidence") or ""):
            c["cross-lingual (en question, zh gold doc)"] += 1
        if it.get("doc_id"):
            c[f"gold doc {it['doc_id']}"] += 1
    print("\nSuite counts:")
    for k in ["total", "zh", "en", "answerable", "unanswerable", "factoid", "multiple_choice", "true_false",
              "choice (MC+TF)", "cross-lingual (en question, zh gold doc)", "scoped", "article-number",
              "document-number"]:
        print(f"  {k:42} {c[k]}")
    for k in sorted(k for k in c if k.startswith("gold doc ")):
        print(f"  {k:42} {c[k]}")
    for k, minimum in MINIMUMS.items():
        if c[k] < minimum:
            errors.append(f"count {k} = {c[k]} < {minimum}")
    for doc_id in docs:
        if c[f"gold doc {doc_id}"] == 0:
            errors.append(f"no question has gold document {doc_id}")

    if strict_misses:
        print(f"\nEvidence found only after whitespace normalisation ({len(strict_misses)}): {', '.join(strict_misses)}")
    if errors:
        print(f"\nFAILED ({len(errors)} problems):")
        for e in errors:
            print("  " + e)
        return 1
    print(f"\nOK: {len(items)} items checked against {len(docs)} documents.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
