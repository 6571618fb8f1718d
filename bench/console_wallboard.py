"""Supervisor wallboard read at national scale (issue 13): 3,000 counselors, a day of consultations.

    .venv/bin/python bench/console_wallboard.py [--counselors 3000] [--tickets 6000] [--centers 50] [--runs 7]

Seeds a fresh SQLite file (or $MADOGUCHI_BENCH_DATABASE_URL, a scratch PostgreSQL database: its
tables are dropped and recreated), then times, in the same run and on the same data:

* ``wallboard``: routing.wallboard.wallboard() for an admin (every center: queues per channel,
  arrivals by hour vs need, all counselors with load and handled today, alerts);
* ``baseline``: routing.queues.queue_overview(), the supervisor view the console used before (per
  center queue sizes and counselors by status only).

Prints the median milliseconds of each, their ratio and the JSON size, and writes
bench/results/console_wallboard.json (console_wallboard_postgresql.json on PostgreSQL). Noisy
machine: compare the ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from config.clock import now_jst  # noqa: E402
from config.settings import Settings  # noqa: E402
from crm.db import make_engine  # noqa: E402
from crm.models import Center, Contact, Role, Ticket, TicketStatus, User, utcnow  # noqa: E402
from crm.schema import load_models  # noqa: E402
from routing.models import Presence, PresenceStatus  # noqa: E402
from routing.queues import queue_overview  # noqa: E402
from routing.wallboard import wallboard  # noqa: E402

OUT = ROOT / "bench" / "results" / "console_wallboard.json"
STATUSES = [
    TicketStatus.QUEUED,
    TicketStatus.ASSIGNED,
    TicketStatus.WAITING_ON_CONSUMER,
    TicketStatus.RESOLVED,
]


def seed(session: Session, *, centers: int, counselors: int, tickets: int, rng: random.Random) -> User:
    rows = [Center(code=f"B{i:03d}", name=f"センター{i}", prefecture="東京都") for i in range(centers)]
    session.add_all(rows)
    session.flush()
    admin = User(username="bench-admin", password_hash="x", role=Role.ADMIN)
    people = [
        User(
            username=f"b{i:05d}", display_name=f"相談員{i}", password_hash="x", center_id=rows[i % centers].id
        )
        for i in range(counselors)
    ]
    session.add_all([admin, *people])
    session.flush()
    now = utcnow()
    states = list(PresenceStatus)
    session.add_all(
        Presence(user_id=u.id or 0, status=rng.choice(states), since=now, last_heartbeat=now) for u in people
    )
    contacts = [Contact() for _ in range(tickets)]
    session.add_all(contacts)
    session.flush()
    start = now - timedelta(hours=min(now_jst().hour, 10))
    for contact in contacts:
        created = start + timedelta(seconds=rng.uniform(0, (now - start).total_seconds()))
        status = rng.choice(STATUSES)
        person = rng.choice(people)
        held = status != TicketStatus.QUEUED
        session.add(
            Ticket(
                center_id=person.center_id or 0,
                contact_id=contact.id or 0,
                status=status,
                channel=rng.choice(["line", "email", "voice"]),
                subject="bench",
                created_at=created,
                queued_at=created,
                assignee_id=person.id if held else None,
                assigned_at=created + timedelta(seconds=rng.uniform(5, 900)) if held else None,
                resolved_at=now if status == TicketStatus.RESOLVED else None,
                serious_accident=rng.random() < 0.01,
            )  # fmt: skip
        )
    session.commit()
    return admin


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counselors", type=int, default=3000)
    parser.add_argument("--tickets", type=int, default=6000)
    parser.add_argument("--centers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = os.environ.get("MADOGUCHI_BENCH_DATABASE_URL")
    tmp = tempfile.mkdtemp(prefix="wallboard-bench-")
    engine = make_engine(url or f"sqlite:///{tmp}/bench.db", durable=False)
    metadata = load_models().metadata
    metadata.drop_all(engine)
    metadata.create_all(engine)
    settings = Settings()
    with Session(engine, expire_on_commit=False) as session:
        admin = seed(
            session,
            centers=args.centers,
            counselors=args.counselors,
            tickets=args.tickets,
            rng=random.Random(13),
        )
    with Session(engine) as session:
        base_ms, _ = timed(lambda: queue_overview(session, user=admin), args.runs)
        board_ms, board = timed(lambda: wallboard(session, user=admin, settings=settings), args.runs)
    size = len(json.dumps(board, ensure_ascii=False, default=str).encode())
    result = {
        "database": engine.dialect.name,
        "counselors": args.counselors,
        "tickets": args.tickets,
        "centers": args.centers,
        "runs": args.runs,
        "baseline_queue_overview_ms": round(base_ms, 1),
        "wallboard_ms": round(board_ms, 1),
        "ratio_wallboard_to_baseline": round(board_ms / base_ms, 2) if base_ms else None,
        "wallboard_json_bytes": size,
        "counselors_returned": len(board["counselors"]),
        "queues_returned": len(board["queues"]),
        "at": now_jst().isoformat(timespec="seconds"),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = (
        OUT
        if engine.dialect.name == "sqlite"
        else OUT.with_name(f"console_wallboard_{engine.dialect.name}.json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
