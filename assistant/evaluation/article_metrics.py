"""Which articles and editions an answer rests on: list recall (the gold articles or items a list answer
cites), edition correctness and diff recall (assistant.versions; suite fields other_editions,
gold_changed_articles)."""

from __future__ import annotations

from collections.abc import Iterable

from ..textutil import ARTICLE_LABEL, cn_number, section_label
from ..types import Answer
from .suite import SuiteItem


def list_recall(answer: Answer, gold_sections: list[str], gold_docs: list[str]) -> float | None:
    """For list questions: share of the gold articles or items (section labels such as 第十二条) that a
    supported citation of the answer points at, in a gold document."""
    if not gold_sections:
        return None
    cited = {
        section_label(c.passage.section)
        for c in answer.citations
        if c.supported and (not gold_docs or c.passage.doc_id in gold_docs)
    }
    return sum(1 for s in gold_sections if s.strip() in cited) / len(gold_sections)


def edition_correct(item: SuiteItem, answer: Answer) -> float | None:
    """1.0 when the answer rests on the gold edition, 0.0 when on another; None when the item names no editions.

    Items list the editions that must not be used in `other_editions`. Every cited passage of the
    work (the top passage when nothing is cited) must come from a gold document. A change question
    (`other_editions` empty) must use every gold edition, cited or among the top 5 passages.
    """
    others = item.extra.get("other_editions")
    if others is None:
        return None
    gold = set(item.gold_doc_ids)
    if not others:
        used = {c.passage.doc_id for c in answer.citations} | {p.doc_id for p in answer.passages[:5]}
        return float(bool(gold) and gold <= used)
    # A citation that only says what an earlier edition said ("此前版本…的规定不同") is not what the answer rests on.
    cited = [c.passage.doc_id for c in answer.citations if c.role == "answer"] or [p.doc_id for p in answer.passages[:1]]
    relevant = [d for d in cited if d in gold or d in others]
    return float(bool(relevant) and all(d in gold for d in relevant))


def article_numbers(labels: Iterable[str]) -> set[int]:
    """第五十八条 / 第58条 -> 58, for every article label in `labels`."""
    return {n for label in labels for m in ARTICLE_LABEL.finditer(label) if (n := cn_number(m.group(1)))}


def diff_recall(found: Iterable[str], gold: Iterable[str]) -> float | None:
    """Share of the truly changed articles (gold labels) that were found; None without gold."""
    wanted = article_numbers(gold)
    return len(wanted & article_numbers(found)) / len(wanted) if wanted else None


def answer_diff_recall(item: SuiteItem, answer: Answer) -> float | None:
    """diff_recall of a change question: the articles the answer names or cites (from a gold edition)
    against the item's `gold_changed_articles`."""
    gold = item.extra.get("gold_changed_articles")
    if not gold:
        return None
    gold_docs = set(item.gold_doc_ids)
    found = [answer.text] + [c.passage.section for c in answer.citations if c.passage.doc_id in gold_docs]
    return diff_recall(found, gold)
