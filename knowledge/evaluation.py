"""Evaluation helpers for bench/knowledge_quality.py: ranking metrics, PII precision/recall, and a
leave-one-out check of the category suggestions. Nothing here runs in production."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from knowledge.pii import PLACEHOLDERS, find_pii, mask

LEAK_TYPES = ("phone", "email", "name")


def ranking_metrics(ranked: dict[str, list[str]], queries: list[dict], k: int = 10) -> dict[str, float]:  # type: ignore[type-arg]
    """MRR@k, Recall@k and nDCG@k of ranked id lists against each query's ``relevant`` ids.

    MRR and Recall count the ``relevant`` ids (the answers); nDCG uses ``grades`` ({id: gain}, e.g.
    2 = the answer, 1 = related) when a query has them, else gain 1 for each relevant id."""
    mrr = recall = ndcg = 0.0
    for q in queries:
        rel = set(q["relevant"])
        grades: dict[str, float] = q.get("grades") or dict.fromkeys(rel, 1)
        top = ranked.get(q["qid"], [])[:k]
        mrr += next((1.0 / (i + 1) for i, d in enumerate(top) if d in rel), 0.0)
        recall += len(rel.intersection(top)) / len(rel) if rel else 0.0
        dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(top))
        ideal = sorted(grades.values(), reverse=True)[:k]
        idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcg += dcg / idcg if idcg else 0.0
    n = max(1, len(queries))
    return {
        f"MRR@{k}": round(mrr / n, 4),
        f"Recall@{k}": round(recall / n, 4),
        f"nDCG@{k}": round(ndcg / n, 4),
    }


def _pr(c: dict[str, int]) -> dict[str, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), **c}


def pii_scores(rows: list[dict]) -> dict[str, Any]:  # type: ignore[type-arg]
    """Per-type precision/recall (overlap matching), "keep" survival and texts still leaking."""
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0})
    keep_ok = keep_total = 0
    leaked: list[str] = []
    for row in rows:
        pred = find_pii(row["text"])
        for g in row["spans"]:
            hit = any(p.start < g["end"] and g["start"] < p.end for p in pred)
            per[g["type"]]["tp" if hit else "fn"] += 1
        for p in pred:
            if not any(p.start < g["end"] and g["start"] < p.end for g in row["spans"]):
                per[p.type]["fp"] += 1
        masked = mask(row["text"])
        for s in row.get("keep", []):
            keep_total += 1
            keep_ok += s in masked
        left = [row["text"][g["start"] : g["end"]] for g in row["spans"] if g["type"] in LEAK_TYPES]
        if any(s in masked for s in left):
            leaked.append(masked[:80])
    total = {k: sum(c[k] for c in per.values()) for k in ("tp", "fn", "fp")}
    return {
        "overall": _pr(total),
        "by_type": {t: _pr(c) for t, c in sorted(per.items())},
        "keep_survival": round(keep_ok / keep_total, 4) if keep_total else None,
        "texts_with_phone_email_or_name_left": len(leaked),
        "texts": len(rows),
        "placeholders": PLACEHOLDERS,
    }


def _labels(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def label_leave_one_out(session: Session, cases: Sequence[dict], *, k: int = 10) -> dict[str, Any]:  # type: ignore[type-arg]
    """For each case: suggest labels from its consumer_message using the index WITHOUT that case
    (its own document excluded from the neighbors), against the gold labels; with a majority-class
    baseline computed from the other cases only (also leave-one-out)."""
    from knowledge.categories import suggest_labels
    from knowledge.service import search

    counts = {
        f: Counter(lab for c in cases for lab in _labels(c.get(f)))
        for f in ("product_category", "sales_method", "content_keywords")
    }
    avg_kw = max(1, round(sum(len(_labels(c.get("content_keywords"))) for c in cases) / max(1, len(cases))))
    acc: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        text = case.get("consumer_message") or case.get("subject") or ""
        neighbors = search(
            session, query=text, k=k, kinds=("case",), viewer_center_id=None, exclude_ids=(str(case["id"]),)
        )
        sugg = suggest_labels(session, text, neighbors)
        for f in ("product_category", "sales_method"):
            gold = set(_labels(case.get(f)))
            if not gold:
                continue
            ranked = [s.label for s in sugg.get(f, [])]
            base = counts[f] - Counter(dict.fromkeys(gold, 1))  # majority of the OTHER cases
            majority = [lab for lab, _ in base.most_common(3)]
            acc[f]["n"] += 1
            acc[f]["top1"] += bool(ranked[:1] and ranked[0] in gold)
            acc[f]["top3"] += bool(gold.intersection(ranked[:3]))
            acc[f]["base_top1"] += bool(majority[:1] and majority[0] in gold)
            acc[f]["base_top3"] += bool(gold.intersection(majority))
        gold_kw = set(_labels(case.get("content_keywords")))
        if gold_kw:
            pred = {s.label for s in sugg.get("content_keywords", [])}
            base_kw = {
                lab
                for lab, _ in (counts["content_keywords"] - Counter(dict.fromkeys(gold_kw, 1))).most_common(
                    avg_kw
                )
            }
            for name, p in (("", pred), ("base_", base_kw)):
                acc["content_keywords"][name + "tp"] += len(p & gold_kw)
                acc["content_keywords"][name + "pred"] += len(p)
                acc["content_keywords"][name + "gold"] += len(gold_kw)
    out: dict[str, Any] = {"cases": len(cases), "neighbors_k": k}
    for f in ("product_category", "sales_method"):
        c = acc[f]
        n = max(1, c["n"])
        out[f] = {
            "top1": round(c["top1"] / n, 4),
            "top3": round(c["top3"] / n, 4),
            "majority_top1": round(c["base_top1"] / n, 4),
            "majority_top3": round(c["base_top3"] / n, 4),
            "labels": len(counts[f]),
            "n": c["n"],
        }
    c = acc["content_keywords"]
    out["content_keywords"] = {
        "precision": round(c["tp"] / max(1, c["pred"]), 4),
        "recall": round(c["tp"] / max(1, c["gold"]), 4),
        f"majority_top{avg_kw}_precision": round(c["base_tp"] / max(1, c["base_pred"]), 4),
        f"majority_top{avg_kw}_recall": round(c["base_tp"] / max(1, c["base_gold"]), 4),
        "suggested_per_case": 3,
    }
    return out
