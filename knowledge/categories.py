"""PIO-NET-style label suggestions (商品・役務, 販売購入形態, 内容キーワード) and learning from corrections.

Evidence, summed per label:

1. kNN vote: the labels of the nearest past cases, weighted by their BM25 score relative to the
   best hit (weight ``KNN_WEIGHT``); for 商品・役務 the votes are scaled to a fixed total
   (``PRODUCT_KNN_WEIGHT``) so many loose neighbours do not outvote one telling keyword;
2. keyword rules from the editable vocabularies in knowledge/data/*.json; for 商品・役務 the longest
   kana-folded keyword found, not shadowed by a longer one (knowledge.category_lexicon);
3. learned term → label weights (``knowledge_term_label_weight``), raised for the label a counselor
   chose and lowered for the one we wrongly suggested; for 商品・役務 each term's weight is divided
   by its weight over all labels, so common words (解約, 高い) carry little.

商品・役務 also gets ``product_category_top``: the top level (大分類) of the candidates, the
back-off when no lower-level label fits. Confidence = the label's share of all evidence for that
field, damped when there is little evidence. Nothing is written to the ticket: crm decides.
Figures: bench/suggestions_quality.py.
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

from knowledge.category_lexicon import keyword_scores
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
PRODUCT_RULE_WEIGHT = 2.0
PRODUCT_KNN_WEIGHT = 2.0
PRODUCT_KNN_POWER = 1.0
LEARNED_WEIGHT = 0.3
PRODUCT_LEARNED_WEIGHT = 8.0
TERM_PRIOR = 1.0
MAX_TERM_WEIGHT = 50.0
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


@lru_cache(maxsize=4)
def _top_levels(data_dir: Path = DATA_DIR) -> dict[str, str]:
    raw = json.loads((data_dir / VOCAB_FILES["product_category"]).read_text(encoding="utf-8"))
    tops = {t: t for t in raw.get("top_levels", [])}
    return {
        **tops,
        **{lab: v["top"] for lab, v in raw["labels"].items() if isinstance(v, dict) and v.get("top")},
    }


def top_level_of(label: str, data_dir: Path = DATA_DIR) -> str | None:
    """The 商品・役務 top level (大分類) of ``label`` from the vocabulary file, None if unknown."""
    return _top_levels(data_dir).get(label)


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
        for label, share in _neighbor_votes(field, neighbors, best).items():
            votes[label] += share
            sources[label].add("similar cases")
        for label, evidence in _keyword_votes(field, text, norm).items():
            votes[label] += evidence
            sources[label].add("keywords")
        scale = PRODUCT_LEARNED_WEIGHT if field == "product_category" else LEARNED_WEIGHT
        for (f, label), w in learned.items():
            if f == field and w:  # < 0: counselors rejected this label for texts like this one
                votes[label] += scale * w
                if w > 0:
                    sources[label].add("counselor corrections")
        positive = {lab: v for lab, v in votes.items() if v > 0}
        out[field] = _rank(positive, sources, top)
        if field == "product_category":
            out["product_category_top"] = _rank(*_back_off(positive, sources, neighbors), top)
    return out


def _back_off(
    votes: dict[str, float], sources: dict[str, set[str]], neighbors: Sequence[SearchResult]
) -> tuple[dict[str, float], dict[str, set[str]]]:
    """商品・役務 evidence per top level (大分類), each scored by its best label: the parent to record
    when no lower-level label fits. (Summing the siblings' evidence instead was measured worse:
    many weak votes for a populous parent such as 食料品 outvote one telling keyword.) Labels
    missing from the vocabulary take their top level from the past cases that carry them."""
    seen = {str(n.fields.get("product_category")): str(n.fields.get("product_category_top")) for n in neighbors
            if n.fields.get("product_category") and n.fields.get("product_category_top")}  # fmt: skip
    top_votes: dict[str, float] = defaultdict(float)
    top_sources: dict[str, set[str]] = defaultdict(set)
    for label, v in votes.items():
        parent = top_level_of(label) or seen.get(label)
        if parent:
            top_votes[parent] = max(top_votes[parent], v)
            top_sources[parent] |= sources[label]
    return top_votes, top_sources


def _neighbor_votes(field: str, neighbors: Sequence[SearchResult], best: float) -> dict[str, float]:
    """kNN evidence: each neighbour votes ``KNN_WEIGHT`` × score / best score for its labels; for
    商品・役務 the votes are sharpened (score ** ``PRODUCT_KNN_POWER``) and scaled to sum to
    ``PRODUCT_KNN_WEIGHT``, so ten loose neighbours cannot outvote one telling keyword."""
    out: dict[str, float] = defaultdict(float)
    product = field == "product_category"
    for n in neighbors:
        for label in _labels_of(n, field):
            out[label] += (n.score / best) ** PRODUCT_KNN_POWER if product else KNN_WEIGHT * n.score / best
    total = sum(out.values())
    if product and total > 0:
        return {label: PRODUCT_KNN_WEIGHT * v / total for label, v in out.items()}
    return out


def _keyword_votes(field: str, text: str, norm: str) -> dict[str, float]:
    """Keyword evidence per label: 商品・役務 by the longest, unshadowed, kana-folded keyword
    (knowledge.category_lexicon); the other fields by the number of keywords found (up to 3)."""
    vocab = vocabulary(field)
    if field == "product_category":
        return {label: PRODUCT_RULE_WEIGHT * v for label, v in keyword_scores(text, vocab).items()}
    out: dict[str, float] = {}
    for label, keywords in vocab.items():
        hits = sum(1 for kw in keywords if normalize(kw) in norm)
        if hits:
            out[label] = RULE_WEIGHT * min(hits, 3)
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
    spread: dict[str, float] = defaultdict(float)  # term → Σ|weight| over 商品・役務 labels
    for r in rows:
        if r.field == "product_category":
            spread[r.term] += abs(r.weight)
        else:
            acc[(r.field, r.label)] += r.weight
    for r in rows:  # a term shared by many labels says little about any one of them
        if r.field == "product_category":
            acc[(r.field, r.label)] += r.weight / (spread[r.term] + TERM_PRIOR) / len(terms)
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
            if field == "product_category":
                _bump(session, terms, field, label, LEARN_STEP)
            else:
                _bump(session, terms, field, label, LEARN_STEP / max(1, len(terms)) * 10)
            written += 1
        if wrong and wrong not in labels:
            step = 0.5 if field == "product_category" else 5 / max(1, len(terms))
            _bump(session, terms, field, wrong, -LEARN_STEP * step)
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
        row.weight = max(-MAX_TERM_WEIGHT, min(MAX_TERM_WEIGHT, row.weight + delta))
        session.add(row)
