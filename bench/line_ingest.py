"""Benchmark: signed LINE webhook events accepted and durably stored per second, p50/p99 latency.

Events go to one channel account's own URL (``/channels/line/{public_id}/webhook``, the account
created with the center); the bare endpoint has the same path. The app runs like a deployment: ``uvicorn --workers N`` (real processes, httptools + uvloop when
installed) on loopback. In the same run a bare FastAPI endpoint that only reads the body and returns
200 is measured with the same load and the same worker count (the ratio is what to compare across
machines). Two shapes are measured, labelled apart: **1 event per webhook body** and **10 events per
body** (LINE batches); events/s counts events, not requests.

Load: Debian's ``wrk`` (C, keep-alive) with a Lua script that sends a file of bodies signed up
front, each exactly once (count-based, not duration-based). Without wrk the bench says so loudly and
falls back to a (much slower) Python thread-pool client. ~10% of the events are sent again with
``isRedelivery: true``; afterwards the database must hold every distinct ``webhookEventId`` sent,
once (0 lost, 0 duplicated).

On a shared machine one run says little: each shape runs ``--repeat`` (3) back-to-back pairs, bare
then webhook, with fresh events, both servers up the whole time; the ratio is the median of the
pairs' ratios (each pair ran under the same load), the figures shown the median run of each server,
every run and the 1-minute load average after it are in the JSON.

    apt-get install -y wrk
    .venv/bin/python bench/line_ingest.py                 # embedded default (SQLite) + PostgreSQL/Redis
    .venv/bin/python bench/line_ingest.py --skip-embedded --requests 6000 --workers 2 --repeat 5

Writes bench/results/line_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI, Request  # noqa: E402  (module level: the bare route's annotation resolves)
from fastapi.responses import JSONResponse  # noqa: E402

from tests.fakes.line_server import SECRET, TOKEN, sign  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "line_ingest.json"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
TEXT = "定期購入の解約ができません😢 返金してほしい"


# -- the servers (uvicorn factories: ``uvicorn bench.line_ingest:line_app --factory``) -------------


def bare_app() -> FastAPI:
    """The baseline: reads the body and answers 200, nothing else."""
    bare = FastAPI()

    @bare.post("/channels/line/{public_id}/webhook")
    async def webhook(public_id: str, request: Request) -> JSONResponse:  # noqa: ARG001 (same path as the app)
        await request.body()
        return JSONResponse({"received": 1, "stored": 1})

    return bare


def line_app() -> FastAPI:
    """The real app; in embedded mode the job thread's LINE calls go to a local fake LINE server."""
    from app import create_app
    from config.settings import Settings

    if not os.environ.get("MADOGUCHI_REDIS_URL"):
        from tests.fakes.line_server import FakeLineServer

        line = FakeLineServer().start()
        os.environ["MADOGUCHI_LINE_API_BASE_URL"] = line.url
        os.environ["MADOGUCHI_LINE_BLOB_BASE_URL"] = line.url
    return create_app(Settings())


# -- the bodies ----------------------------------------------------------------------------------


def event(event_id: str, user: str, ts: int, *, redelivery: bool = False) -> dict[str, Any]:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": ts,
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": redelivery},
        "replyToken": secrets.token_hex(16),
        "message": {"id": event_id[-18:], "type": "text", "quoteToken": "q", "text": TEXT},
    }


def make_bodies(
    prefix: str, requests: int, per_body: int, users: int, dup_percent: int
) -> tuple[list[tuple[str, bytes]], set[str], int]:
    """Signed bodies in send order (originals with redeliveries mixed in), the distinct ids, #events."""
    people = [f"U{secrets.token_hex(16)}" for _ in range(users)]
    now = int(time.time() * 1000)
    originals: list[list[dict[str, Any]]] = []
    for r in range(requests):
        originals.append(
            [
                event(f"{prefix}{r * per_body + k:012d}", people[(r * per_body + k) % users], now + r)
                for k in range(per_body)
            ]
        )
    every = max(1, round(100 / dup_percent)) if dup_percent > 0 else 0
    plan: list[list[dict[str, Any]]] = []
    for i, evs in enumerate(originals):
        plan.append(evs)
        if every and i % every == every - 1 and i >= 5:  # resend a body sent a little earlier
            plan.append([{**e, "deliveryContext": {"isRedelivery": True}} for e in originals[i - 5]])
    signed = []
    for evs in plan:
        body = json.dumps(
            {"destination": "Ubench", "events": evs}, ensure_ascii=False, separators=(",", ":")
        ).encode()
        signed.append((sign(body), body))
    ids = {e["webhookEventId"] for evs in originals for e in evs}
    return signed, ids, sum(len(evs) for evs in plan)


# -- the load ------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- One body per request, each exactly once; bodies are "signature<TAB>json" lines, signed up front.
local ffi = require("ffi")  -- LuaJIT: a monotonic clock, wrk only times whole runs
ffi.cdef("typedef struct { long s; long ns; } bench_ts; int clock_gettime(int, bench_ts *);")
local ts = ffi.new("bench_ts")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.s) + tonumber(ts.ns) / 1e9 end
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  bodies, n, sent, ok, bad, idle = {}, 0, 0, 0, 0, 0
  local nthreads, i = tonumber(os.getenv("BENCH_THREADS")), 0
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    if i % nthreads == tid then
      local tab = line:find("\t", 1, true)
      n = n + 1
      bodies[n] = wrk.format("POST", os.getenv("BENCH_PATH"), {["Content-Type"] = "application/json",
        ["X-Line-Signature"] = line:sub(1, tab - 1)}, line:sub(tab + 1))
    end
    i = i + 1
  end
  idle_request = wrk.format("GET", "/bench-idle")  -- never sent (see delay)
  verifying = tid == 0  -- wrk calls request() once on thread 0 to check it, without sending it
end
function request()
  if verifying then verifying = false; return idle_request end
  if sent < n then
    if sent == 0 then t0 = now() end
    sent = sent + 1
    return bodies[sent]
  end
  return idle_request
end
function delay()  -- once every body is out, connections sleep instead of sending anything else
  if sent >= n then return 600000 end
  return 0
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 404 then idle = idle + 1 else bad = bad + 1 end
  if ok + bad >= n and not t1 then  -- every body answered: tell the bench (it stops wrk with SIGINT)
    t1 = now()
    local f = io.open(os.getenv("BENCH_OUT") .. ".done", "w"); f:write("done"); f:close()
  end
end
function done(summary, latency, requests)
  local t = {ok = 0, bad = 0, idle = 0, sent = 0}
  local first, last = math.huge, 0
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
    first, last = math.min(first, th:get("t0") or math.huge), math.max(last, th:get("t1") or 0)
  end
  local e = summary.errors
  local f = io.open(os.getenv("BENCH_OUT"), "w")
  f:write(string.format('{"ok":%d,"bad":%d,"idle":%d,"sent":%d,"duration_us":%d,"p50_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"socket_errors":%d}', t.ok, t.bad, t.idle, t.sent, math.max(0, last - first) * 1e6,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout))
  f:close()
end
"""


def choose_client(wanted: str) -> str:
    """``wrk`` when installed; otherwise say so loudly and use the Python client."""
    if wanted in ("auto", "wrk") and shutil.which("wrk"):
        return "wrk"
    if wanted == "wrk" or wanted == "auto":
        print(
            "!! wrk is not installed (apt-get install -y wrk): falling back to the Python load client,\n"
            "!! which saturates long before the server does; the figures below measure the client.",
            file=sys.stderr,
            flush=True,
        )
    return "python"


@contextmanager
def server(factory: str, env: dict[str, str], workers: int, root: Path) -> Iterator[str]:
    """``uvicorn <factory> --factory --workers N`` on a free loopback port, like a deployment."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log", "--app-dir", str(root)]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(url + "/bench-idle", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{factory} did not start (exit {proc.returncode})") from None
                time.sleep(0.3)
        time.sleep(1.0 if workers > 1 else 0)  # let every worker finish its startup
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (every engineer's work counts)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def workers_of(url: str) -> list[int]:
    """The uvicorn worker processes serving ``url`` (children of the master, found by its port)."""
    port = url.rsplit(":", 1)[1]
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if b"uvicorn" in cmd and port.encode() in cmd:
                children = (proc / "task" / proc.name / "children").read_text().split()
                pids += [int(c) for c in children]
        except OSError:
            continue
    return pids


def run(client: str, url: str, bodies: list[tuple[str, bytes]], args: argparse.Namespace) -> dict:
    """Send every body once with ``args.connections`` keep-alive connections; figures per request,
    plus the CPU the server workers used per request and how busy the whole machine was."""
    pids = workers_of(url)
    cpu0, (busy0, total0) = cpu_seconds(pids), machine_busy()
    if client == "wrk":
        out = run_wrk(url, bodies, args.connections)
    else:
        out = run_python(url, bodies, args.connections)
    cpu1, (busy1, total1) = cpu_seconds(pids), machine_busy()
    out["server_cpu_ms_per_request"] = round((cpu1 - cpu0) * 1000 / max(1, out["ok"]), 3)
    out["server_cpu_cores_used"] = round(
        (cpu1 - cpu0) / max(1e-9, total1 - total0) * (os.cpu_count() or 1), 2
    )
    out["machine_busy_percent"] = round(100 * (busy1 - busy0) / max(1e-9, total1 - total0), 1)
    return out


def run_wrk(url: str, bodies: list[tuple[str, bytes]], connections: int) -> dict:
    threads = 1  # one C thread drives far more than 2 Python workers can serve; leaves a core
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        body_file, script, out = Path(tmp, "bodies.txt"), Path(tmp, "send.lua"), Path(tmp, "out.json")
        with body_file.open("wb") as f:
            for signature, body in bodies:
                f.write(signature.encode() + b"\t" + body + b"\n")
        script.write_text(WRK_SCRIPT)
        env = {**os.environ, "BENCH_BODIES": str(body_file), "BENCH_OUT": str(out), "BENCH_THREADS": "1"}
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", "600s", "--timeout", "10s"]
        proc = subprocess.Popen([*cmd, "-s", str(script), url], env=env, stdout=subprocess.DEVNULL)
        marker, deadline = Path(f"{out}.done"), time.monotonic() + 300
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # wrk then prints its summary and calls done()
        proc.wait(30)
        raw = json.loads(out.read_text())
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": len(bodies),
        "ok": raw["ok"],
        "errors": raw["bad"] + (len(bodies) - raw["ok"] - raw["bad"]),
        "socket_errors": raw["socket_errors"],
        "seconds": round(seconds, 3),
        "per_second": round(raw["ok"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
    }


def run_python(url: str, bodies: list[tuple[str, bytes]], connections: int) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: list[int] = []
    local = threading.local()

    def one(item: tuple[str, bytes]) -> None:
        client = getattr(local, "client", None) or httpx.Client(timeout=30)
        local.client = client
        headers = {"Content-Type": "application/json", "X-Line-Signature": item[0]}
        t0 = time.perf_counter()
        res = client.post(url + os.environ["BENCH_PATH"], content=item[1], headers=headers)
        latencies.append(time.perf_counter() - t0)
        statuses.append(res.status_code)

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, bodies))
    seconds = time.perf_counter() - started
    latencies.sort()
    ok = statuses.count(200)
    return {
        "requests": len(bodies),
        "ok": ok,
        "errors": len(bodies) - ok,
        "socket_errors": 0,
        "seconds": round(seconds, 3),
        "per_second": round(ok / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


# -- the database --------------------------------------------------------------------------------


def prepare_database(database_url: str, data_dir: Path) -> tuple[str, Any, str]:
    """A fresh database (SQLite file, or a throw-away PostgreSQL database), migrated, with one center
    and its LINE channel account; returns the URL, the clean-up and the account's webhook path."""
    from sqlmodel import Session

    from config.settings import Settings
    from crm.channel_accounts import create_account, webhook_path
    from crm.db import create_scratch_database, drop_database, make_engine
    from crm.models import Center
    from crm.schema import load_models, migrate

    cleanup = None
    if database_url.startswith("postgresql"):
        database_url = create_scratch_database(database_url, "madoguchi_bench_line")
        cleanup = partial(drop_database, database_url)
    else:
        database_url = f"sqlite:///{data_dir / 'bench.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    load_models().metadata.create_all(engine)
    from tests.conftest import _add_missing_columns  # columns not migrated yet (until 0001 is regenerated)

    _add_missing_columns(engine)
    with Session(engine) as s:
        center = Center(code="LINE01", name="ベンチ消費生活センター", prefecture="東京都")
        s.add(center)
        s.commit()
        account, _ = create_account(
            s,
            kind="line",
            center_id=center.id,
            name="bench",
            address=None,
            secrets={"channel_secret": SECRET, "access_token": TOKEN},
            keys=Settings(env="test").encryption_keys,
        )
    engine.dispose()
    return database_url, cleanup, webhook_path(account)


def count_stored(database_url: str, prefix: str, sent: set[str]) -> dict[str, int]:
    """Rows vs distinct webhookEventIds of one run: lost = sent but not stored; duplicated = extra rows."""
    from sqlalchemy import select

    from crm.db import make_engine
    from crm.models import InboundEvent

    engine = make_engine(database_url)
    with engine.connect() as conn:
        ids = conn.execute(
            select(InboundEvent.provider_event_id).where(
                InboundEvent.channel == "line", InboundEvent.provider_event_id.like(f"{prefix}%")
            )
        ).scalars()
        stored = list(ids)
    engine.dispose()
    distinct = set(stored)
    return {
        "stored_rows": len(stored),
        "lost": len(sent - distinct),
        "duplicated": len(stored) - len(distinct),
        "unexpected": len(distinct - sent),
    }


# -- one backend -----------------------------------------------------------------------------------


def run_backend(label: str, database_url: str, redis_url: str | None, args: argparse.Namespace) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-line-{label}-"))
    db_url, cleanup, path = prepare_database(database_url, data_dir)
    os.environ["BENCH_PATH"] = path  # the account's own webhook URL (wrk and the Python client)
    if redis_url:
        from redis import Redis

        Redis.from_url(redis_url).flushdb()
    env = {
        "MADOGUCHI_ENV": "test",
        "MADOGUCHI_DATABASE_URL": db_url,
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_QUEUE_NAME": f"bench-line-{secrets.token_hex(3)}",
    }
    if redis_url:
        env["MADOGUCHI_REDIS_URL"] = redis_url
    result: dict[str, Any] = {
        "backend": label,
        "database": db_url.split("@")[-1].split("?")[0][-60:],
        "redis": bool(redis_url),
        "workers": args.workers,
        "shapes": [],
    }
    shapes = [(1, args.requests), (10, max(1, args.requests // 10))]
    try:
        for per_body, requests in shapes:
            shape = measure_shape(label, db_url, env, per_body, requests, args)
            result["shapes"].append(shape)
            report(label, shape)
    finally:
        if cleanup:
            cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def measure_shape(
    label: str, db_url: str, env: dict[str, str], per_body: int, requests: int, args: argparse.Namespace
) -> dict[str, Any]:
    """``--repeat`` back-to-back pairs (bare, then the webhook) with fresh events each time, both
    servers up the whole time: each pair ran under the same machine load, so the ratio is the median
    of the pairs' ratios; the figures shown are the median run of each server."""
    prefix = f"B{label[:2].upper()}{per_body:02d}{secrets.token_hex(2)}"
    warm, _, _ = make_bodies("W" + prefix, args.warmup, per_body, args.users, 0)
    pairs: list[dict[str, Any]] = []
    sent_ids: set[str] = set()
    with (
        server("bench.line_ingest:bare_app", env, args.workers, ROOT) as bare_url,
        server("bench.line_ingest:line_app", env, args.workers, ROOT) as line_url,
    ):
        run(args.client, bare_url, warm, args)
        run(args.client, line_url, warm, args)
        for r in range(args.repeat):
            bodies, ids, events_sent = make_bodies(
                f"{prefix}r{r:02d}", requests, per_body, args.users, args.dup_percent
            )
            sent_ids |= ids
            pair: dict[str, Any] = {"bare": run(args.client, bare_url, bodies, args)}
            pair["webhook"] = run(args.client, line_url, bodies, args)
            for side in pair.values():
                side["events_per_second"] = round(
                    events_sent * side["ok"] / max(1, side["requests"]) / side["seconds"], 1
                )
            pair["ratio_vs_bare"] = round(pair["webhook"]["per_second"] / pair["bare"]["per_second"], 3)
            pair["load_avg_1m"] = round(os.getloadavg()[0], 2)
            pairs.append(pair)
    shape: dict[str, Any] = {
        "events_per_body": per_body,
        "requests": len(bodies),
        "events_sent": events_sent,
        "distinct_events": len(ids),
        "repeat": args.repeat,
        "bare": median_run([p["bare"] for p in pairs]),
        "webhook": median_run([p["webhook"] for p in pairs]),
        "ratio_vs_bare": round(statistics.median(p["ratio_vs_bare"] for p in pairs), 3),
        "runs": pairs,
    }
    shape.update(count_stored(db_url, prefix, sent_ids))  # every run's events: 0 lost, 0 duplicated
    return shape


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median throughput (its own latency figures, not a mix of runs)."""
    return sorted(runs, key=lambda r: r["per_second"])[len(runs) // 2]


def report(label: str, s: dict[str, Any]) -> None:
    w, b = s["webhook"], s["bare"]
    pair_ratios = ", ".join(f"{p['ratio_vs_bare']:.2f}" for p in s["runs"])
    print(
        f"== {label}, {s['events_per_body']} event(s) per body: {s['requests']} requests, "
        f"{s['events_sent']} events ({s['distinct_events']} distinct)\n"
        f"   webhook {w['events_per_second']:>8.1f} events/s  {w['per_second']:>7.1f} req/s  "
        f"p50 {w['p50_ms']:.1f} ms  p99 {w['p99_ms']:.1f} ms  non-200 {w['errors']}  "
        f"server CPU {w['server_cpu_ms_per_request']:.2f} ms/req, machine busy {w['machine_busy_percent']:.0f}%\n"
        f"   bare    {b['events_per_second']:>8.1f} events/s  {b['per_second']:>7.1f} req/s  "
        f"p50 {b['p50_ms']:.1f} ms  p99 {b['p99_ms']:.1f} ms  non-200 {b['errors']}\n"
        f"   ratio {s['ratio_vs_bare']:.2f} (median of {s['repeat']} pairs: {pair_ratios})  "
        f"stored {s['stored_rows']}  lost {s['lost']}  "
        f"duplicated {s['duplicated']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=5000, help="1-event bodies (10-event: a tenth)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--users", type=int, default=500, help="distinct LINE users sending")
    parser.add_argument("--dup-percent", type=int, default=10, help="share of bodies resent (redelivery)")
    parser.add_argument("--repeat", type=int, default=3, help="bare/webhook pairs per shape (median)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("MADOGUCHI_DATABASE_URL") or DEFAULT_PG)
    parser.add_argument("--redis-url", default=os.environ.get("MADOGUCHI_REDIS_URL") or DEFAULT_REDIS)
    args = parser.parse_args()
    args.requests = min(args.requests, 50_000)
    args.client = choose_client(args.client)
    runs: list[tuple[str, str, str | None]] = []
    if not args.skip_embedded:
        runs.append(("embedded", "sqlite", None))
    if not args.skip_pg and args.database_url.startswith("postgresql"):
        runs.append(("postgres_redis", args.database_url, args.redis_url))
    results = [run_backend(label, db, redis_url, args) for label, db, redis_url in runs]
    payload = {
        "benchmark": "line_ingest",
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_avg": os.getloadavg()},
        "client": args.client,
        "settings": {
            k: getattr(args, k)
            for k in ("requests", "warmup", "connections", "workers", "users", "dup_percent", "repeat")
        },
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
