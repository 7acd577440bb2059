"""Retrieval and citation metrics: whether the gold document and evidence were retrieved, and whether the
answer's citations point at passages that support them.

Citation support is decided by `assistant.citations.check_support`, the same check the
answering code uses, so the evaluator never disagrees with what the UI shows as supported.
"""

from __future__ import annotations

from ..citations import SimilarityFn, check_support, claims_support, parse_claims
from ..textutil import coverage, normalize, units
from ..types import Answer, Passage

EVIDENCE_COVERAGE = 0.6  # share of the gold evidence's content a retrieved passage must contain

# ----- retrieval ---------------------------------------------------------------------


def gold_rank(passages: list[Passage], gold_doc_ids: list[str]) -> int | None:
    """1-based rank of the first retrieved passage from a gold document, None when none is."""
    gold = set(gold_doc_ids)
    return next((i for i, p in enumerate(passages, 1) if p.doc_id in gold), None)


def evidence_hit(evidence: str, passage_texts: list[str], k: int = 5) -> bool:
    """Whether one of the top `k` passages holds the gold evidence (coverage >= 0.6, or either contains the other)."""
    ev = normalize(evidence).replace(" ", "")
    for text in passage_texts[:k]:
        t = normalize(text).replace(" ", "")
        if ev in t or (len(t) >= 30 and t in ev) or coverage(evidence, text) >= EVIDENCE_COVERAGE:
            return True
    return False


# ----- citations ---------------------------------------------------------------------


def citation_metrics(raw: str, answer: Answer, similarity: SimilarityFn | None = None) -> dict[str, float | None]:
    """Validity, precision and recall of an answer's citations.

    `raw` is the model's text before verification, which drops unsupported markers and adds
    markers to supported uncited sentences (so precision on the shown text would be trivially 1).
    Precision: share of the model's [n] markers whose passage supports their sentence.
    Validity: share of the model's markers that point at a retrieved passage whose quoted span
    is really in it. Recall: share of the shown answer's sentences with a supported citation
    (`claims_support`); `citation_recall_model` is the same for the model's own markers.
    """
    keys = ("citation_validity", "citation_precision", "citation_recall", "citation_recall_model")
    if answer.refused or not answer.text.strip():
        return dict.fromkeys(keys)
    shown = {c.n: c for c in answer.citations}
    total = valid = supported = sentences = covered = 0
    for claim in parse_claims(raw or answer.text):
        backed = False
        for n in claim.numbers:
            total += 1
            if not 1 <= n <= len(answer.passages):
                continue
            passage = answer.passages[n - 1]
            c = shown.get(n)
            if c is None or (c.passage.chunk_id == passage.chunk_id and c.quote in passage.text):
                valid += 1
            ok, _, _ = check_support(claim.text, passage, similarity)
            supported += ok
            backed = backed or ok
        if units(claim.text):
            sentences += 1
            covered += backed
    shown_covered, shown_sentences = claims_support(answer.text, answer.citations)
    return {
        "citation_validity": valid / total if total else None,
        "citation_precision": supported / total if total else None,
        "citation_recall": shown_covered / shown_sentences if shown_sentences else None,
        "citation_recall_model": covered / sentences if sentences else None,
    }
