"""A multi-process load generator for routing claims, and the invariants it must never break.

Used by the PostgreSQL concurrency test and by ``bench/routing.py``: several OS processes route,
dispatch and accept on the same tickets and counselors at once; afterwards :func:`check_invariants`
counts double assignments and capacity violations (both must be 0).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from config.settings import Settings
from crm.db import make_engine, session_scope
from crm.errors import Conflict
from crm.models import Center, Contact, Role, Ticket, TicketStatus, User
from routing import offers, service, store
from routing.models import Offer, OfferStatus, Presence, PresenceStatus

ALWAYS_OPEN = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")}


def seed_world(
    session: Session, *, counselors: int, tickets: int, capacity: int = 3, code: str = "hammer"
) -> int:
    """One center, ``counselors`` available with ``capacity`` LINE chats each, ``tickets`` queued."""
    now = datetime.now(UTC)
    center = Center(code=code, name="負荷試験センター", prefecture="東京都", hours=ALWAYS_OPEN)
    session.add(center)
    session.flush()
    users = [
        User(
            username=f"{code}-c{i}",
            password_hash="x",
            role=Role.COUNSELOR,
            center_id=center.id,
            skills=["金融・保険"] if i % 2 else [],
            capacity={"line": capacity},
        )
        for i in range(counselors)
    ]
    session.add_all(users)
    session.flush()
    session.add_all([Presence(user_id=u.id, status=PresenceStatus.AVAILABLE) for u in users])  # type: ignore[arg-type]
    contacts = [Contact() for _ in range(tickets)]
    session.add_all(contacts)
    session.flush()
    session.add_all(
        [
            Ticket(
                center_id=center.id,
                contact_id=c.id,
                channel="line",
                status=TicketStatus.QUEUED,  # type: ignore[arg-type]
                queued_at=now - timedelta(seconds=tickets - i),
                required_skills=["金融・保険"] if i % 5 == 0 else [],
            )
            for i, c in enumerate(contacts)
        ]
    )
    session.commit()
    return center.id  # type: ignore[return-value]


DISPATCH_BATCH = 100  # tickets per dispatch round (production default: 200)
STEAL = 0.2  # share of accept rounds that race other processes' consoles for the same offers
IDLE_SECONDS = 1.0


def worker(
    db_url: str, center_id: int, seed: int, seconds: float, mode: str, out: Any, processes: int = 4
) -> None:
    """One process: route / dispatch / accept until the queue is drained or time runs out.

    Process ``seed`` stands for the consoles of counselors with ``id % processes == seed`` and
    accepts their offers; in ``STEAL`` of its rounds it also grabs offers from anyone, so accepts
    race each other (the loser gets a Conflict) as they would with a counselor on two devices.
    """
    rng = random.Random(seed)
    settings = Settings(env="test", database_url=db_url, offer_timeout_message=3600)
    engine = make_engine(db_url, pool_size=2, max_overflow=0)
    backends: set[int] = set()
    event.listen(engine, "connect", lambda conn, _rec: backends.add(conn.info.backend_pid))
    stats: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    started = time.time()
    cpu0 = time.process_time()
    idle_since: float | None = None
    share = (seed % processes, processes)
    while time.monotonic() < deadline:
        if _step(engine, settings, center_id, rng, mode, stats, share):
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since > IDLE_SECONDS:
            break
        time.sleep(0.005)
    cpu = {"client_cpu_s": time.process_time() - cpu0, "server_cpu_s": _backend_cpu(backends)}
    engine.dispose()
    out.put({**stats, **cpu, "started": started, "ended": time.time()})


def _backend_cpu(pids: set[int]) -> float:
    """CPU seconds used so far by these PostgreSQL backends (same machine; 0 where /proc is unreadable)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def _step(
    engine: Any,
    settings: Settings,
    center_id: int,
    rng: random.Random,
    mode: str,
    stats: Counter[str],
    share: tuple[int, int],
) -> bool:
    roll = rng.random()
    with Session(engine) as session:
        if mode == "batch" and roll < 0.5 or mode == "mixed" and roll < 0.3:
            with session_scope(engine) as s:
                made = service.dispatch_center(
                    s, center_id=center_id, limit=DISPATCH_BATCH, settings=settings
                )
            stats["offers"] += len(made)
            return _accept_some(engine, rng, stats, share) or bool(made)
        if mode == "mixed" and roll < 0.6:
            ids = session.exec(
                select(Ticket.id)
                .where(Ticket.center_id == center_id, Ticket.status == TicketStatus.QUEUED)
                .limit(50)
            ).all()
            if not ids:
                return _accept_some(engine, rng, stats, share)
            with session_scope(engine) as s:
                made_one = service.route_ticket(s, ticket_id=rng.choice(ids), settings=settings)  # type: ignore[arg-type]
            stats["offers"] += made_one is not None
            return True
    return _accept_some(engine, rng, stats, share)


def _accept_some(engine: Any, rng: random.Random, stats: Counter[str], share: tuple[int, int]) -> bool:
    steal = rng.random() < STEAL
    stmt = select(Offer.id, Offer.user_id).where(Offer.status == OfferStatus.PENDING)
    if not steal:
        stmt = stmt.where(col(Offer.user_id) % share[1] == share[0])
    with Session(engine) as session:
        pending = session.exec(stmt.limit(40)).all()
    if not pending:
        return False
    rng.shuffle(pending := list(pending))
    users: dict[int, User] = {}
    for offer_id, user_id in pending[: 10 if steal else 40]:
        with Session(engine, expire_on_commit=False) as session:
            user = users.get(user_id) or session.get(User, user_id)
            users[user_id] = user  # type: ignore[assignment]
            try:
                offers.accept_offer(session, offer_id=offer_id, user=user)  # type: ignore[arg-type]
                stats["accepted"] += 1
            except Conflict:
                session.rollback()
                users.pop(user_id, None)  # expired by the rollback
                stats["lost_races"] += 1
    return True


def check_invariants(session: Session) -> dict[str, int]:
    """Double assignments and capacity violations (must both be 0), and totals."""
    accepted_per_ticket = session.exec(
        select(Offer.ticket_id, func.count())
        .where(Offer.status == OfferStatus.ACCEPTED)
        .group_by(col(Offer.ticket_id))
        .having(func.count() > 1)
    ).all()
    pending_per_ticket = session.exec(
        select(Offer.ticket_id, func.count())
        .where(Offer.status == OfferStatus.PENDING)
        .group_by(col(Offer.ticket_id))
        .having(func.count() > 1)
    ).all()
    mismatched = session.exec(
        select(func.count())
        .select_from(Ticket)
        .join(Offer, col(Offer.ticket_id) == col(Ticket.id))
        .where(Offer.status == OfferStatus.ACCEPTED, col(Ticket.assignee_id) != col(Offer.user_id))
    ).one()
    users = session.exec(select(User, Presence).join(Presence, col(Presence.user_id) == col(User.id))).all()
    load = store.loads(session, [u.id for u, _ in users])  # type: ignore[misc]
    violations = sum(
        1
        for u, p in users
        for ch, n in load.get(u.id or 0, {}).items()
        if n > store.capacity_of(u, p).get(ch, 0)
    )
    assigned = session.exec(
        select(func.count()).select_from(Ticket).where(Ticket.status == TicketStatus.ASSIGNED)
    ).one()
    return {
        "double_assignments": len(accepted_per_ticket) + len(pending_per_ticket) + int(mismatched),
        "capacity_violations": violations,
        "assigned": int(assigned),
    }


def reset_tables(session: Session) -> None:
    """Empty the tables the hammer writes (bench runs on a scratch database)."""
    session.execute(
        text(
            'TRUNCATE routinglog, offer, presence, note, ticket, contact, "user", center '
            "RESTART IDENTITY CASCADE"
        )
    )
    session.commit()
