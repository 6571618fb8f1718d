"""Load: mixed traffic for a fixed time on PostgreSQL + Redis, 2 API processes and 2 RQ workers.

Phase ``mixed``: virtual users (threads, keep-alive) send signed LINE webhooks, read the console's
ticket list, post replies and search the knowledge base. Phase ``abuse``: the same mix while a login
flood (wrong passwords, several usernames) and slow clients (slowloris: a request's headers dribbled
a byte a second, bounded in count and time) run beside it, to show webhooks stay under LINE's 2 s.
Afterwards every acknowledged webhook event must be stored once and processed.

Everything goes to 127.0.0.1; each phase is bounded in time, connections and threads. The servers are
``madoguchi serve --workers 2`` and two ``madoguchi worker`` processes on a throw-away PostgreSQL
database and a Redis database of their own (flushed); LINE's API is the local fake server.

    .venv/bin/python bench/load.py --seconds 20 --users 8            # small
    .venv/bin/python bench/load.py --seconds 120 --users 32 --flood 8 --slow 200

Writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.fakes.line_server import SECRET, TOKEN, FakeLineServer, sign, text_event, webhook_body  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load.json"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
CENTER = "tokyo"
COUNSELORS = ("tanaka", "suzuki", "watanabe", "ito")  # demo counselors of CENTER
DEMO_PASSWORD = "madoguchi-demo"
MIX = {"webhook": 50, "tickets": 25, "search": 15, "reply": 10}
QUERIES = ("定期購入 解約", "訪問販売 クーリング・オフ", "架空請求 メール", "還付金詐欺", "ネット通販 返品")
LINE_LIMIT_S = 2.0


# -- servers ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def madoguchi(*args: str) -> list[str]:
    return [sys.executable, "-c", "import madoguchi_cli; madoguchi_cli.main()", *args]


@contextmanager
def processes(
    env: dict[str, str], port: int, workers: int, log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for name, cmd in [
            ("api", madoguchi("serve", "--port", str(port), "--workers", "2")),
            *[(f"worker{i}", madoguchi("worker")) for i in range(workers)],
        ]:
            log = (log_dir / f"{name}.log").open("wb")
            logs.append(log)
            procs.append(subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
        yield procs
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()


def wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a server process exited during startup (see the logs in the temp dir)")
        try:
            res = httpx.get(url + "/readyz", timeout=3)
            if res.status_code == 200:
                return
            last = res.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"not ready after {timeout:.0f} s: {last}")


def prepare(env: dict[str, str]) -> None:
    """Migrate, add what the models have and the migration not yet (as the tests do), load the demo."""
    from crm.db import make_engine
    from crm.schema import load_models, migrate
    from tests.conftest import _add_missing_columns

    engine = make_engine(env["MADOGUCHI_DATABASE_URL"])
    migrate(engine)
    load_models().metadata.create_all(engine)
    _add_missing_columns(engine)
    engine.dispose()
    for step in (("demo",),):
        done = subprocess.run(
            madoguchi(*step), env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        if done.returncode:
            raise RuntimeError(f"madoguchi {step[0]} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def line_target(database_url: str, keys: list[str]) -> tuple[str, str]:
    """The LINE webhook path of the center's LINE account and its channel secret."""
    from sqlmodel import Session

    from crm.db import make_engine

    engine = make_engine(database_url)
    try:
        from crm.channel_accounts import list_accounts, webhook_path

        with Session(engine) as s:
            accounts = [a for a in list_accounts(s, kind="line", keys=keys) if a.center_code == CENTER]
        if accounts:
            account = accounts[0]
            return webhook_path(account), account.secrets.get("channel_secret", SECRET)
    except ImportError:
        pass
    finally:
        engine.dispose()
    return "/channels/line/webhook", SECRET


# -- traffic ----------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)
        self.acknowledged: set[str] = set()

    def add(self, kind: str, seconds: float, status: str) -> None:
        with self.lock:
            self.samples[kind].append(seconds)
            self.statuses[kind][status] += 1

    def summary(self, elapsed: float) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind, values in sorted(self.samples.items()):
            ordered = sorted(values)
            ok = sum(n for s, n in self.statuses[kind].items() if s.startswith("2"))
            out[kind] = {
                "requests": len(values),
                "per_second": round(len(values) / elapsed, 1),
                "p50_ms": round(1000 * ordered[len(ordered) // 2], 1),
                "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
                "max_ms": round(1000 * ordered[-1], 1),
                "ok": ok,
                "errors": len(values) - ok,
                "statuses": dict(self.statuses[kind]),
            }
        return out


class Traffic:
    """What one virtual user does, on its own keep-alive connection."""

    def __init__(
        self, url: str, webhook: tuple[str, str], tokens: list[str], tickets: list[int], rec: Recorder
    ) -> None:
        self.url, (self.webhook_path, self.secret) = url, webhook
        self.tokens, self.tickets, self.rec = tokens, tickets, rec

    def run(self, until: float, seed: int) -> None:
        rng = random.Random(seed)
        kinds, weights = zip(*MIX.items(), strict=True)
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while time.monotonic() < until:
                kind = rng.choices(kinds, weights)[0]
                self.one(client, kind, rng)

    def one(self, client: httpx.Client, kind: str, rng: random.Random) -> None:
        headers = {"Authorization": f"Bearer {rng.choice(self.tokens)}"}
        started = time.perf_counter()
        event_id = None
        try:
            if kind == "webhook":
                event = text_event(
                    f"Uload{rng.randrange(200):04d}", "定期購入の解約ができません。返金してほしい"
                )
                event_id = event["webhookEventId"]
                body = webhook_body(event)
                res = client.post(
                    self.webhook_path,
                    content=body,
                    headers={"Content-Type": "application/json", "X-Line-Signature": sign(body, self.secret)},
                )
            elif kind == "tickets":
                res = client.get("/api/tickets", params={"limit": 20}, headers=headers)
            elif kind == "search":
                res = client.get("/api/knowledge/search", params={"q": rng.choice(QUERIES)}, headers=headers)
            else:
                ticket = rng.choice(self.tickets)
                res = client.post(
                    f"/api/tickets/{ticket}/reply",
                    json={"body": "ご連絡ありがとうございます。"},
                    headers=headers,
                )
            status = str(res.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        self.rec.add(kind, time.perf_counter() - started, status)
        if event_id and status == "200":
            with self.rec.lock:
                self.rec.acknowledged.add(event_id)


def login_flood(url: str, until: float, rec: Recorder, seed: int) -> None:
    rng = random.Random(seed)
    names = [*COUNSELORS[1:], "nobody", "admin"]  # COUNSELORS[0] is the bench's own login
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                res = client.post(
                    "/api/auth/token", data={"username": rng.choice(names), "password": "wrong-password"}
                )
                status = str(res.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            rec.add("login_flood", time.perf_counter() - started, status)


def slow_client(port: int, until: float, path: str, held: list[float]) -> None:
    """Slowloris, bounded: sends a request line, then one header byte a second until ``until``."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    opened = time.monotonic()
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
        while time.monotonic() < until:
            sock.sendall(b"a")
            time.sleep(1.0)
    except OSError:
        pass  # the server closed it: that is the defence working
    finally:
        held.append(time.monotonic() - opened)
        sock.close()


def run_phase(
    name: str, traffic: Traffic, args: argparse.Namespace, port: int, *, abuse: bool
) -> dict[str, Any]:
    rec = traffic.rec = Recorder()
    until = time.monotonic() + args.seconds
    threads = [threading.Thread(target=traffic.run, args=(until, i)) for i in range(args.users)]
    held: list[float] = []
    if abuse:
        threads += [
            threading.Thread(target=login_flood, args=(traffic.url, until, rec, 100 + i))
            for i in range(args.flood)
        ]
        threads += [
            threading.Thread(target=slow_client, args=(port, until, traffic.webhook_path, held))
            for _ in range(args.slow)
        ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + 60)
    elapsed = time.monotonic() - started
    result: dict[str, Any] = {"seconds": round(elapsed, 1), "kinds": rec.summary(elapsed)}
    webhooks = rec.samples.get("webhook", [])
    result["webhooks_over_2s"] = sum(1 for s in webhooks if s > LINE_LIMIT_S)
    result["acknowledged_events"] = len(rec.acknowledged)
    if abuse:
        result["slow_clients"] = {"count": args.slow, "held_s_max": round(max(held, default=0), 1)}
    print(
        f"\n{name}: {elapsed:.0f} s, {args.users} users"
        + (f", flood {args.flood}, slow {args.slow}" if abuse else "")
    )
    for kind, s in result["kinds"].items():
        print(
            f"  {kind:12s} {s['per_second']:7.1f}/s  p50 {s['p50_ms']:7.1f} ms  p99 {s['p99_ms']:7.1f} ms"
            f"  max {s['max_ms']:7.1f} ms  errors {s['errors']} {s['statuses']}"
        )
    print(f"  webhooks over {LINE_LIMIT_S:.0f} s: {result['webhooks_over_2s']}")
    result["_acknowledged"] = rec.acknowledged
    return result


def check_events(database_url: str, acknowledged: set[str], timeout: float = 300) -> dict[str, Any]:
    """Every acknowledged event stored once and processed (waits for the workers to drain)."""
    from sqlalchemy import func, select

    from crm.db import make_engine
    from crm.models import InboundEvent, InboundEventStatus

    engine = make_engine(database_url)
    started = time.monotonic()
    deadline = started + timeout
    try:
        while True:
            with engine.connect() as conn:
                pending = conn.execute(
                    select(func.count()).where(InboundEvent.status == InboundEventStatus.PENDING)
                ).scalar_one()
                rows = conn.execute(select(InboundEvent.provider_event_id, InboundEvent.status)).all()
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        ids = Counter(r[0] for r in rows)
        statuses = Counter(str(getattr(r[1], "value", r[1])) for r in rows)
        return {
            "acknowledged": len(acknowledged),
            "lost": len(acknowledged - set(ids)),
            "duplicated": sum(n - 1 for n in ids.values() if n > 1),
            "pending_after_drain": pending,
            "drain_seconds_after_traffic": round(time.monotonic() - started, 1),
            "statuses": dict(statuses),
        }
    finally:
        engine.dispose()


def metrics_check(url: str, results: dict[str, Any]) -> dict[str, Any]:
    """/metrics sums both API processes (multiprocess mode): its webhook count matches what was sent."""
    text = httpx.get(url + "/metrics", timeout=30).text
    accepted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("madoguchi_webhooks_total{") and 'result="accepted"' in line
    )
    sent = sum(
        phase["kinds"].get("webhook", {}).get("statuses", {}).get("200", 0)
        for phase in (results.get(k, {}) for k in ("mixed", "abuse"))
    )
    return {
        "webhooks_accepted_in_metrics": int(accepted),
        "webhook_200s_timed_phases": sent,
        "bytes": len(text),
    }


def log_in(url: str, username: str) -> str:
    res = httpx.post(
        url + "/api/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=30
    )
    res.raise_for_status()
    return str(res.json()["access_token"])


def line_tickets(url: str, token: str) -> list[int]:
    res = httpx.get(
        url + "/api/tickets",
        params={"channel": "line", "limit": 50},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    res.raise_for_status()
    return [t["id"] for t in res.json()["items"]]


def warm_up(traffic: Traffic, until_tickets: Callable[[], list[int]]) -> list[int]:
    rng = random.Random(0)
    with httpx.Client(base_url=traffic.url, timeout=30) as client:
        for _ in range(20):
            traffic.one(client, "webhook", rng)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tickets = until_tickets()
        if tickets:
            return tickets
        time.sleep(1)
    raise RuntimeError(
        "no LINE ticket appeared within 60 s of the warm-up webhooks (are the workers running?)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--users", type=int, default=8, help="virtual users (threads) of mixed traffic")
    parser.add_argument("--flood", type=int, default=4, help="login-flood threads in the abuse phase")
    parser.add_argument("--slow", type=int, default=50, help="slow clients in the abuse phase (bounded: 500)")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument(
        "--warmup", type=float, default=15, help="seconds of untimed traffic first (cold start)"
    )
    parser.add_argument("--database-url", default=os.environ.get("MADOGUCHI_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="a Redis database the bench may flush")
    args = parser.parse_args()
    args.slow = min(args.slow, 500)
    args.seconds = min(args.seconds, 600)

    from redis import Redis

    from config.settings import Settings
    from crm.db import create_scratch_database, drop_database

    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    database_url = create_scratch_database(args.database_url, "madoguchi_bench_load")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    line = FakeLineServer().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "PROMETHEUS_"))}
    env.update(
        MADOGUCHI_ENV="test",
        MADOGUCHI_DATABASE_URL=database_url,
        MADOGUCHI_REDIS_URL=args.redis_url,
        MADOGUCHI_QUEUE_NAME="bench-load",
        MADOGUCHI_DATA_DIR=str(data_dir),
        MADOGUCHI_LINE_CHANNEL_SECRET=SECRET,
        MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
        MADOGUCHI_LINE_API_BASE_URL=line.url,
        MADOGUCHI_LINE_BLOB_BASE_URL=line.url,
        MADOGUCHI_LINE_CENTER_CODE=CENTER,
        MADOGUCHI_LOG_LEVEL="WARNING",
    )
    try:
        print(f"preparing {database_url.rsplit('/', 1)[-1]} (tables + demo data) ...")
        prepare(env)
        with processes(env, port, args.workers, data_dir) as procs:
            wait_ready(url, procs)
            webhook = line_target(database_url, Settings(env="test").encryption_keys)
            token = log_in(url, COUNSELORS[0])
            traffic = Traffic(url, webhook, [token], [], Recorder())
            traffic.tickets = warm_up(traffic, lambda: line_tickets(url, token))
            results: dict[str, Any] = {
                "setup": {
                    "api_processes": 2,
                    "workers": args.workers,
                    "users": args.users,
                    "mix_percent": MIX,
                    "backend": "PostgreSQL + Redis",
                    "cpus": os.cpu_count(),
                    "loadavg_before": os.getloadavg()[0],
                }
            }
            acknowledged: set[str] = set()
            if args.warmup > 0:  # every process loads its dictionaries and pools before anything is timed
                warm = run_phase(
                    "warm-up (not reported)",
                    traffic,
                    argparse.Namespace(**{**vars(args), "seconds": args.warmup}),
                    port,
                    abuse=False,
                )
                acknowledged |= warm.pop("_acknowledged")
                results["warm_up"] = {
                    "seconds": warm["seconds"],
                    "webhook_max_ms": warm["kinds"].get("webhook", {}).get("max_ms"),
                }
            for name, abuse in (("mixed", False), ("abuse", True)):
                phase = run_phase(name, traffic, args, port, abuse=abuse)
                acknowledged |= phase.pop("_acknowledged")
                results[name] = phase
            results["metrics"] = metrics_check(url, results)
            results["events"] = check_events(database_url, acknowledged)
            print(f"\nevents: {results['events']}")
            results["servers_alive"] = all(p.poll() is None for p in procs)
    finally:
        line.stop()
        drop_database(database_url)
        redis.flushdb()
        redis.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    if results["events"]["lost"] or results["events"]["duplicated"]:
        sys.exit("acknowledged events were lost or duplicated")


if __name__ == "__main__":
    main()
