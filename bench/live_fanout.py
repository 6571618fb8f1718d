"""Benchmark: one API process holding N open consoles (SSE); time from a LINE webhook's 200 to each console.

Deployment shape on PostgreSQL + Redis: ONE uvicorn process (``--workers 1``) holds the consoles; one
``madoguchi worker`` process (RQ) turns the stored webhook event into a consultation and publishes
``MessageReceived``; the API's single Redis subscriber relays it to every console.

Consoles connect in steps (default 1 → 300 → 1,000 → 3,000; every console stays open). At each step a
few rounds post one signed LINE webhook (a new consumer: a new consultation) and record, for every
console, the time from the webhook's 200 to the moment its ``MessageReceived`` frame arrived; p50/p95/max
over all consoles and rounds. The 1-console step is the baseline measured in the same run: each step's
ratio is its p95 against it (the cost of fan-out on top of the pipeline: webhook → job → commit → Redis).
The consoles are an asyncio client in this process (raw sockets, one coroutine per console), with
tokens minted for N counselors of the center (logging 3,000 users in would measure password hashing).

    .venv/bin/python bench/live_fanout.py                      # 1, 300, 1000, 3000 consoles
    .venv/bin/python bench/live_fanout.py --steps 1,100 --rounds 3

Writes bench/results/live_fanout.json. Goal (issue 13): 3,000 consoles, p95 < 1 s from the webhook's answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.line_ingest import DEFAULT_PG, cpu_seconds, event, machine_busy, prepare_database, server  # noqa: E402
from tests.fakes.line_server import sign  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "live_fanout.json"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"


class Console:
    """One open SSE connection; ``arrivals`` are perf_counter stamps of its MessageReceived frames."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.connected = asyncio.Event()
        self.error: str | None = None
        self.status_seen = False

    async def run(self, host: str, port: int, token: str) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        except OSError as exc:
            self.error = f"connect: {exc}"
            self.connected.set()
            return
        writer.write(
            f"GET /api/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        tail = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                now = time.perf_counter()
                data = tail + chunk
                if not self.connected.is_set():
                    if not self.status_seen and b" 200 " not in data.split(b"\r\n", 1)[0]:
                        self.error = data.split(b"\r\n", 1)[0].decode(errors="replace")
                        self.connected.set()
                        return
                    self.status_seen = True
                    if b": connected" in data:
                        self.connected.set()
                self.arrivals.extend([now] * data.count(b"event: MessageReceived"))
                tail = data[-40:] if b"event: MessageReceived" not in data[-40:] else b""
        except (OSError, asyncio.CancelledError):
            return
        finally:
            writer.close()


def mint_tokens(database_url: str, secret_key: str, center_code: str, n: int) -> list[str]:
    """N counselors of the bench center (bulk insert, placeholder password hash) and a token each."""
    from sqlalchemy import insert, select

    from crm.db import make_engine
    from crm.models import Center, Role, User
    from crm.security import create_access_token

    engine = make_engine(database_url)
    with engine.begin() as conn:
        center_id = conn.execute(select(Center.id).where(Center.code == center_code)).scalar_one()
        existing = conn.execute(select(User.id).where(User.center_id == center_id)).scalars().all()
        missing = n - len(existing)
        if missing > 0:
            rows = [
                {
                    "username": f"bench{secrets.token_hex(6)}",
                    "display_name": "",
                    "password_hash": "!bench-no-login",
                    "role": Role.COUNSELOR,
                    "center_id": center_id,
                    "skills": [],
                    "languages": [],
                    "qualifications": [],
                    "capacity": {},
                    "is_active": True,
                }
                for _ in range(missing)
            ]
            conn.execute(insert(User), rows)
        ids = (
            conn.execute(select(User.id).where(User.center_id == center_id).order_by(User.id)).scalars().all()
        )
    engine.dispose()
    return [create_access_token(user_id=i, secret_key=secret_key, minutes=120) for i in ids[:n]]


def api_pids(url: str) -> list[int]:
    """The uvicorn process serving ``url`` when it runs without worker children (``--workers 1``)."""
    port = url.rsplit(":", 1)[1].encode()
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in cmd and port in cmd:
            pids.append(int(proc.name))
    return pids


def webhook_body(n: int) -> tuple[str, bytes]:
    ev = event(f"LIVE{secrets.token_hex(6)}{n:06d}", f"U{secrets.token_hex(16)}", int(time.time() * 1000))
    body = json.dumps({"destination": "Ubench", "events": [ev]}, ensure_ascii=False).encode()
    return sign(body), body


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


async def connect(consoles: list[Console], tokens: list[str], host: str, port: int, batch: int) -> list[Any]:
    tasks = []
    for start in range(0, len(tokens), batch):
        group = [Console() for _ in tokens[start : start + batch]]
        consoles.extend(group)
        tasks += [
            asyncio.ensure_future(c.run(host, port, t))
            for c, t in zip(group, tokens[start : start + batch], strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in group)), timeout=120)
    return tasks


async def one_round(url: str, path: str, consoles: list[Console], n: int, timeout: float) -> dict[str, Any]:
    import httpx

    before = [len(c.arrivals) for c in consoles]
    signature, body = webhook_body(n)
    async with httpx.AsyncClient(timeout=10) as http:
        res = await http.post(
            url + path,
            content=body,
            headers={"X-Line-Signature": signature, "Content-Type": "application/json"},
        )
        answered = time.perf_counter()
    if res.status_code != 200:
        raise RuntimeError(f"webhook answered {res.status_code}: {res.text[:200]}")
    deadline = answered + timeout
    while time.perf_counter() < deadline:
        if all(len(c.arrivals) > b for c, b in zip(consoles, before, strict=True)):
            break
        await asyncio.sleep(0.01)
    got = [c.arrivals[b] - answered for c, b in zip(consoles, before, strict=True) if len(c.arrivals) > b]
    return {"latencies": got, "missing": len(consoles) - len(got)}


async def measure(
    args: argparse.Namespace, url: str, path: str, tokens: list[str], pids: list[int]
) -> list[dict]:
    host, port = url.removeprefix("http://").split(":")
    consoles: list[Console] = []
    tasks: list[Any] = []
    steps = []
    for target in args.steps:
        t0 = time.perf_counter()
        tasks += await connect(consoles, tokens[len(consoles) : target], host, int(port), args.connect_batch)
        errors = [c.error for c in consoles if c.error]
        connect_seconds = time.perf_counter() - t0
        await asyncio.sleep(1.0)
        if not steps:  # warm-up (first job of the worker, first relay): not counted
            await one_round(url, path, consoles, 999, args.timeout)
        cpu0, (busy0, total0) = cpu_seconds(pids), machine_busy()
        latencies: list[float] = []
        missing = 0
        rounds = args.rounds if steps else args.rounds * 4  # the cheap baseline gets more samples
        for r in range(rounds):
            out = await one_round(url, path, consoles, r, args.timeout)
            latencies += out["latencies"]
            missing += out["missing"]
            await asyncio.sleep(0.3)
        cpu1, (busy1, total1) = cpu_seconds(pids), machine_busy()
        step = {
            "consoles": len(consoles),
            "connect_errors": len(errors),
            "connect_seconds": round(connect_seconds, 2),
            "rounds": rounds,
            "deliveries": len(latencies),
            "missing": missing,
            "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
            "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
            "api_cpu_seconds_per_round": round((cpu1 - cpu0) / rounds, 3),
            "machine_busy_percent": round(100 * (busy1 - busy0) / max(1e-9, total1 - total0), 1),
        }
        if errors:
            step["first_error"] = errors[0]
        steps.append(step)
        print(
            f"  {step['consoles']:>5} consoles (connected in {step['connect_seconds']:.1f} s, "
            f"{step['connect_errors']} errors): p50 {step['p50_ms']} ms  p95 {step['p95_ms']} ms  "
            f"max {step['max_ms']} ms  missing {missing}/{rounds * len(consoles)}  "
            f"API CPU {step['api_cpu_seconds_per_round']:.2f} s/round  machine busy {step['machine_busy_percent']:.0f}%",
            flush=True,
        )
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for key in ("p50_ms", "p95_ms"):  # the 1-console step is the baseline (a handful of samples: noisy)
        base = steps[0][key] or 0.0
        for step in steps:
            step[f"{key[:3]}_ratio_vs_baseline"] = round((step[key] or 0.0) / base, 2) if base else None
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--steps", default="1,300,1000,3000", help="cumulative console counts; the first is the baseline"
    )
    parser.add_argument("--rounds", type=int, default=5, help="webhooks per step")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a round waits for every console")
    parser.add_argument("--connect-batch", type=int, default=250, help="consoles connecting at once")
    parser.add_argument("--database-url", default=os.environ.get("MADOGUCHI_DATABASE_URL") or DEFAULT_PG)
    parser.add_argument("--redis-url", default=os.environ.get("MADOGUCHI_REDIS_URL") or DEFAULT_REDIS)
    args = parser.parse_args()
    args.steps = sorted({max(1, int(s)) for s in args.steps.split(",")})
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from redis import Redis

    data_dir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    db_url, cleanup, path = prepare_database(args.database_url, data_dir)
    Redis.from_url(args.redis_url).flushdb()
    secret_key = secrets.token_urlsafe(48)
    env = {
        "MADOGUCHI_ENV": "test",
        "MADOGUCHI_DATABASE_URL": db_url,
        "MADOGUCHI_REDIS_URL": args.redis_url,
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_SECRET_KEY": secret_key,
        "MADOGUCHI_QUEUE_NAME": f"bench-live-{secrets.token_hex(3)}",
    }
    tokens = mint_tokens(db_url, secret_key, "LINE01", max(args.steps))
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "madoguchi_cli.py"), "worker"], env={**os.environ, **env}, cwd=ROOT
    )
    try:
        with server("bench.line_ingest:line_app", env, 1, ROOT) as url:
            from bench.line_ingest import workers_of

            pids = workers_of(url) or api_pids(url)
            print(f"== live fan-out, 1 API process, PostgreSQL + Redis: steps {args.steps}", flush=True)
            steps = asyncio.run(measure(args, url, path, tokens, pids))
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        if cleanup:
            cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
    last = steps[-1]
    print(
        f"   {last['consoles']} consoles: p95 {last['p95_ms']} ms (goal < 1000 ms), "
        f"ratio to 1 console: p50 {last['p50_ratio_vs_baseline']}, p95 {last['p95_ratio_vs_baseline']}",
        flush=True,
    )
    payload = {
        "benchmark": "live_fanout",
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_avg": os.getloadavg()},
        "settings": {"steps": args.steps, "rounds": args.rounds, "api_processes": 1},
        "steps": steps,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
