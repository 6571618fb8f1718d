"""PIO-NET-style label suggestions (商品・役務, 販売購入形態, 内容キーワード) and learning from corrections.

Evidence, summed per label:

1. kNN vote: the labels of the nearest past cases, weighted by their BM25 score relative to the
   best hit (weight ``KNN_WEIGHT``);
2. keyword rules from the editable vocabularies in knowledge/data/*.json;
3. learned term → label weights (``knowledge_term_label_weight``), raised for the label a counselor
   chose and lowered for the one we wrongly suggested.

Confidence = the label's share of all evidence for that field, damped when there is little
evidence. Nothing is written to the ticket: crm decides.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from knowledge.models import KnowledgeDocument, LabelFeedback, TermLabelWeight
from knowledge.service import SearchResult, case_doc_id, reindex_document
from knowledge.text import DATA_DIR, get_analyzer, normalize

FIELDS = ("product_category", "sales_method", "content_keywords")
VOCAB_FILES = {
    "product_category": "product_categories.json",
    "sales_method": "sales_methods.json",
    "content_keywords": "content_keywords.json",
}
KNN_WEIGHT = 1.0
RULE_WEIGHT = 0.8
LEARNED_WEIGHT = 0.3
LEARN_STEP = 1.0


@dataclass(frozen=True)
class LabelSuggestion:
    label: str
    confidence: float
    sources: tuple[str, ...]


@lru_cache(maxsize=8)
def vocabulary(field: str, data_dir: Path = DATA_DIR) -> dict[str, list[str]]:
    """label → keyword hints for a field, from its editable JSON file."""
    raw = json.loads((data_dir / VOCAB_FILES[field]).read_text(encoding="utf-8"))["labels"]
    return {label: (v["keywords"] if isinstance(v, dict) else list(v)) for label, v in raw.items()}


def suggest_labels(
    session: Session, text: str, neighbors: Sequence[SearchResult], *, top: int = 3
) -> dict[str, list[LabelSuggestion]]:
    """Suggestions per field, best first, from ``text`` and its nearest past cases."""
    norm = normalize(text)
    terms = list(dict.fromkeys(get_analyzer().terms(text)))[:200]
    learned = _learned(session, terms)
    best = max((n.score for n in neighbors), default=0.0) or 1.0
    out: dict[str, list[LabelSuggestion]] = {}
    for field in FIELDS:
        votes: dict[str, float] = defaultdict(float)
        sources: dict[str, set[str]] = defaultdict(set)
        for n in neighbors:
            for label in _labels_of(n, field):
                votes[label] += KNN_WEIGHT * n.score / best
                sources[label].add("similar cases")
        for label, keywords in vocabulary(field).items():
            hits = sum(1 for kw in keywords if normalize(kw) in norm)
            if hits:
                votes[label] += RULE_WEIGHT * min(hits, 3)
                sources[label].add("keywords")
        for (f, label), w in learned.items():
            if f == field and w > 0:
                votes[label] += LEARNED_WEIGHT * w
                sources[label].add("counselor corrections")
        out[field] = _rank(votes, sources, top)
    return out


def _labels_of(result: SearchResult, field: str) -> list[str]:
    value = result.fields.get(field)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _rank(votes: dict[str, float], sources: dict[str, set[str]], top: int) -> list[LabelSuggestion]:
    total = sum(votes.values())
    if total <= 0:
        return []
    damping = min(1.0, total / 3.0)  # little evidence ⇒ lower confidence
    ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [
        LabelSuggestion(label, round(v / total * damping, 3), tuple(sorted(sources[label])))
        for label, v in ranked
    ]


def _learned(session: Session, terms: Sequence[str]) -> dict[tuple[str, str], float]:
    if not terms:
        return {}
    rows = session.exec(select(TermLabelWeight).where(col(TermLabelWeight.term).in_(list(terms)))).all()
    acc: dict[tuple[str, str], float] = defaultdict(float)
    for r in rows:
        acc[(r.field, r.label)] += r.weight
    return acc


def record_feedback(
    session: Session,
    *,
    ticket_id: int,
    text: str,
    user_id: int | None,
    chosen: dict[str, Any],
    suggested: dict[str, str | None],
) -> int:
    """Learn from a counselor's choice: log it, move term weights, and fix the case's stored labels."""
    terms = list(dict.fromkeys(get_analyzer().terms(text)))[:100]
    written = 0
    doc = session.get(KnowledgeDocument, case_doc_id(ticket_id))
    for field, value in chosen.items():
        if field not in FIELDS or value in (None, "", []):
            continue
        labels = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        wrong = suggested.get(field)
        for label in labels:
            session.add(
                LabelFeedback(
                    ticket_id=ticket_id, field=field, suggested=wrong, chosen=label, user_id=user_id
                )
            )
            _bump(session, terms, field, label, LEARN_STEP / max(1, len(terms)) * 10)
            written += 1
        if wrong and wrong not in labels:
            _bump(session, terms, field, wrong, -LEARN_STEP / max(1, len(terms)) * 5)
        if doc is not None:
            doc.fields = {**doc.fields, field: value}
            session.add(doc)
    if doc is not None:  # the case's labels are indexed: search and kNN votes see the correction
        reindex_document(session, doc)
    session.flush()
    return written


def _bump(session: Session, terms: Sequence[str], field: str, label: str, delta: float) -> None:
    existing = {
        r.term: r
        for r in session.exec(
            select(TermLabelWeight).where(
                col(TermLabelWeight.term).in_(list(terms)),
                TermLabelWeight.field == field,
                TermLabelWeight.label == label,
            )
        ).all()
    }
    for term in terms:
        row = existing.get(term) or TermLabelWeight(term=term, field=field, label=label, weight=0.0)
        row.weight = max(0.0, row.weight + delta)
        session.add(row)
