"""Benchmark: signed LINE webhook events accepted and durably stored per second, with p50/p99 latency.

Each backend runs the real app (uvicorn, one process, in a subprocess) on loopback and, in the same
run, a bare FastAPI endpoint that only returns 200 (the baseline; the ratio is what to compare
across machines). Every request carries one signed event with a fresh ``webhookEventId``; a share
is then sent again (redelivery) and the database is checked for 0 lost and 0 duplicated events.

    .venv/bin/python bench/line_ingest.py                       # embedded default (SQLite, in-process jobs)
    .venv/bin/python bench/line_ingest.py --pg                  # + PostgreSQL + Redis (db 2)
    .venv/bin/python bench/line_ingest.py --database-url postgresql+psycopg://... --redis-url redis://...

In embedded mode the app's in-process job thread processes the events while the load runs (as in
production); with Redis the events are queued for ``madoguchi worker`` (not running during the run).
Writes bench/results/line_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.fakes.line_server import SECRET, TOKEN, sign  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "line_ingest.json"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/2"


# -- the server side (runs in a subprocess) ------------------------------------------------------


def serve(kind: str, port: int) -> None:
    import uvicorn

    if kind == "bare":
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse

        bare = FastAPI()

        @bare.post("/channels/line/webhook")
        async def webhook(request: Request) -> JSONResponse:
            await request.body()
            return JSONResponse({"ok": True})

        uvicorn.run(bare, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    from app import create_app
    from config.settings import Settings
    from tests.fakes.line_server import FakeLineServer

    line = FakeLineServer().start()  # the jobs' loading-animation/profile calls go here, not to LINE
    os.environ["MADOGUCHI_LINE_API_BASE_URL"] = line.url
    os.environ["MADOGUCHI_LINE_BLOB_BASE_URL"] = line.url
    uvicorn.run(create_app(Settings()), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the client side ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port)], env={**os.environ, **env}, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=1)
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"the {kind} server exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the {kind} server did not start")


def event(event_id: str, user: str) -> dict[str, Any]:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": secrets.token_hex(16),
        "message": {
            "id": event_id,
            "type": "text",
            "quoteToken": "q",
            "text": "定期購入の解約ができません😢 返金してほしい",
        },
    }


def body_of(ev: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "Ubench", "events": [ev]}, ensure_ascii=False).encode()


def load(url: str, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    """POST every body (signed) with ``concurrency`` keep-alive clients; latency per request."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    local = threading.local()

    def one(body: bytes) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=30)
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body)}
        t0 = time.perf_counter()
        res = client.post(url + "/channels/line/webhook", content=body, headers=headers)
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)
            if res.status_code != 200:
                errors.append(res.status_code)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, bodies))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(bodies),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "seconds": round(elapsed, 3),
        "per_second": round(len(bodies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def prepare_database(database_url: str, data_dir: Path) -> tuple[str, Any]:
    """A fresh database (SQLite file, or a throw-away PostgreSQL database), migrated, with one center."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlmodel import Session

    from crm.db import make_engine
    from crm.models import Center
    from crm.schema import load_models, migrate

    cleanup = None
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        name = f"madoguchi_bench_line_{secrets.token_hex(3)}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = url.set(database=name).render_as_string(hide_password=False)

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        database_url = f"sqlite:///{data_dir / 'bench.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    load_models().metadata.create_all(engine)
    with Session(engine) as s:
        s.add(Center(code="LINE01", name="ベンチ消費生活センター", prefecture="東京都"))
        s.commit()
    engine.dispose()
    return database_url, cleanup


def count_events(database_url: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from crm.db import make_engine
    from crm.models import InboundEvent

    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(InboundEvent)).scalar_one()
        distinct = conn.execute(
            select(func.count(func.distinct(InboundEvent.provider_event_id)))
        ).scalar_one()
    engine.dispose()
    return int(rows), int(distinct)


def run_backend(
    label: str, database_url: str, redis_url: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-line-{label}-"))
    db_url, cleanup = prepare_database(database_url, data_dir)
    if redis_url:
        from redis import Redis

        Redis.from_url(redis_url).flushdb()
    env = {
        "MADOGUCHI_ENV": "test",
        "MADOGUCHI_DATABASE_URL": db_url,
        "MADOGUCHI_REDIS_URL": redis_url or "",
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_LINE_CHANNEL_SECRET": SECRET,
        "MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "MADOGUCHI_LINE_CENTER_CODE": "LINE01",
        "MADOGUCHI_QUEUE_NAME": f"bench-line-{secrets.token_hex(3)}",
    }
    if not redis_url:
        env.pop("MADOGUCHI_REDIS_URL")
    users = [f"U{secrets.token_hex(16)}" for _ in range(args.users)]
    unique = [event(f"01BENCH{label.upper()}{i:010d}", users[i % len(users)]) for i in range(args.requests)]
    bodies = [body_of(e) for e in unique]
    warmup = [body_of(event(f"01WARM{label.upper()}{i:06d}", users[0])) for i in range(args.warmup)]
    redeliveries = [
        body_of({**e, "deliveryContext": {"isRedelivery": True}})
        for e in unique[:: max(1, 100 // args.dup_percent)]
    ]
    result: dict[str, Any] = {
        "backend": label,
        "database": db_url.split("@")[-1].split("?")[0][-60:],
        "redis": bool(redis_url),
    }
    try:
        bare, bare_url = start_server("bare", env)
        try:
            load(bare_url, warmup, args.concurrency)
            result["baseline"] = load(bare_url, bodies, args.concurrency)
        finally:
            bare.terminate()
            bare.wait(10)
        app, app_url = start_server("line", env)
        try:
            load(app_url, warmup, args.concurrency)
            result["line_webhook"] = load(app_url, bodies, args.concurrency)
            result["redelivered"] = load(app_url, redeliveries, args.concurrency)
        finally:
            app.terminate()
            app.wait(30)
        rows, distinct = count_events(db_url)
        expected = len(unique) + len(warmup)
        result["stored_rows"] = rows
        result["lost"] = expected - distinct
        result["duplicated"] = rows - distinct
        result["ratio_vs_bare"] = round(
            result["line_webhook"]["per_second"] / result["baseline"]["per_second"], 3
        )
    finally:
        if cleanup:
            cleanup()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serve", choices=["bare", "line"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--requests", type=int, default=3000, help="signed webhook POSTs per backend (one event each)"
    )
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=200, help="distinct LINE users sending")
    parser.add_argument(
        "--dup-percent", type=int, default=10, help="share of events sent again as redeliveries"
    )
    parser.add_argument(
        "--pg", action="store_true", help=f"also run PostgreSQL + Redis ({DEFAULT_PG}, {DEFAULT_REDIS})"
    )
    parser.add_argument("--database-url", help="run only this database (with --redis-url for RQ jobs)")
    parser.add_argument("--redis-url")
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    args.requests = min(args.requests, 50_000)
    runs: list[tuple[str, str, str | None]] = []
    if args.database_url:
        runs.append(("custom", args.database_url, args.redis_url))
    else:
        if not args.skip_embedded:
            runs.append(("embedded", "sqlite", None))
        if args.pg or os.environ.get("MADOGUCHI_DATABASE_URL", "").startswith("postgresql"):
            runs.append(
                (
                    "postgres_redis",
                    os.environ.get("MADOGUCHI_DATABASE_URL") or DEFAULT_PG,
                    os.environ.get("MADOGUCHI_REDIS_URL") or DEFAULT_REDIS,
                )
            )
    results = []
    for label, db, redis_url in runs:
        print(f"== {label}: {args.requests} signed events, concurrency {args.concurrency}", flush=True)
        r = run_backend(label, db, redis_url, args)
        results.append(r)
        w, b = r["line_webhook"], r["baseline"]
        print(
            f"   webhook {w['per_second']:>8.1f} ev/s  p50 {w['p50_ms']:.1f} ms  p99 {w['p99_ms']:.1f} ms  errors {w['errors']}\n"
            f"   bare    {b['per_second']:>8.1f} req/s p50 {b['p50_ms']:.1f} ms  p99 {b['p99_ms']:.1f} ms\n"
            f"   ratio {r['ratio_vs_bare']:.2f}  stored {r['stored_rows']}  lost {r['lost']}  duplicated {r['duplicated']}"
            f"  (redelivered {r['redelivered']['requests']}, errors {r['redelivered']['errors']})",
            flush=True,
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "line_ingest",
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": {
            k: getattr(args, k) for k in ("requests", "warmup", "concurrency", "users", "dup_percent")
        },
        "results": results,
    }
    RESULTS.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
