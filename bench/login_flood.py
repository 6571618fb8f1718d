"""Benchmark: do bad logins slow down writes? p50/p99 of a write (POST a note) alone and under a flood.

The app runs in-process under uvicorn (tests/live_server.serve) on the embedded default (SQLite, where a
transaction holds the database's write lock) or on MADOGUCHI_DATABASE_URL. ``--threads`` clients send
bad logins as fast as they can, each under a different username so the throttle does not answer 429
(the per-address limit is raised for the run): every one of them runs Argon2. Another client writes
notes meanwhile. Before the fix a login hashed inside BEGIN IMMEDIATE and writes queued behind it.

    .venv/bin/python bench/login_flood.py --seconds 10 --threads 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session

from app import create_app
from config.runtime import get_runtime
from config.settings import Settings
from crm.db import make_engine
from crm.schema import load_models
from tests.factories import PASSWORD, make_center, make_ticket, make_user
from tests.live_server import serve


def _writes(url: str, auth: dict[str, str], ticket_id: int, stop: threading.Event) -> list[float]:
    out = []
    with httpx.Client(timeout=60) as c:
        while not stop.is_set():
            t0 = time.perf_counter()
            res = c.post(f"{url}/api/tickets/{ticket_id}/notes", json={"body": "メモ"}, headers=auth)
            out.append((time.perf_counter() - t0) * 1000)
            assert res.status_code == 201, res.text
            time.sleep(0.02)
    return out


def _flood(url: str, n: int, stop: threading.Event, codes: list[int]) -> None:
    with httpx.Client(timeout=60) as c:
        i = 0
        while not stop.is_set():
            i += 1
            res = c.post(f"{url}/api/auth/token", data={"username": f"nobody-{n}-{i}", "password": "guess"})
            codes.append(res.status_code)


def run(seconds: float, threads: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="login-flood-"))
    settings = Settings(
        env="test", database_url=f"sqlite:///{tmp / 'db.sqlite'}", data_dir=tmp, login_ip_max_failures=10**9
    )
    engine = make_engine(settings.database_url)
    load_models().metadata.create_all(engine)  # the tables as the models define them (no search index)
    engine.dispose()
    with serve(create_app(settings, run_jobs=True)) as url:
        rt = get_runtime()
        with Session(rt.engine, expire_on_commit=False) as db:
            center = make_center(db, "TKY")
            make_user(db, center, "sato")
            ticket = make_ticket(db, center)
            db.commit()
        res = httpx.post(f"{url}/api/auth/token", data={"username": "sato", "password": PASSWORD})
        assert res.status_code == 200, res.text
        token = res.json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        for label, flood in (("alone", 0), (f"with {threads} bad-login clients", threads)):
            stop = threading.Event()
            codes: list[int] = []
            flooders = [threading.Thread(target=_flood, args=(url, n, stop, codes)) for n in range(flood)]
            for t in flooders:
                t.start()
            timer = threading.Timer(seconds, stop.set)
            timer.start()
            lat = _writes(url, auth, ticket.id, stop)  # type: ignore[arg-type]
            for t in flooders:
                t.join()
            q = statistics.quantiles(lat, n=100)
            print(
                f"writes {label}: n={len(lat)} p50={statistics.median(lat):.1f} ms p99={q[98]:.1f} ms "
                f"max={max(lat):.1f} ms; bad logins answered: {len(codes)} ({sorted(set(codes))})"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    run(args.seconds, args.threads)
