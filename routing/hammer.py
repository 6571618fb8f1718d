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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from config.settings import Settings
from crm.db import make_engine
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
    center_id = center.id
    assert center_id is not None  # flushed
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
    contact_ids = [c.id for c in contacts if c.id is not None]  # flushed: every id is set
    session.add_all(
        [
            Ticket(
                center_id=center_id,
                contact_id=contact_id,
                channel="line",
                status=TicketStatus.QUEUED,  # type: ignore[arg-type]
                queued_at=now - timedelta(seconds=tickets - i),
                required_skills=["金融・保険"] if i % 5 == 0 else [],
            )
            for i, contact_id in enumerate(contact_ids)
        ]
    )
    session.commit()
    return center_id


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
    engine = make_engine(db_url, pool_size=2, max_overflow=0, connect_args={"application_name": HAMMER_APP})
    backends: set[int] = set()
    event.listen(engine, "connect", lambda conn, _rec: backends.add(conn.info.backend_pid))
    stats: Counter[str] = Counter()
    share = (seed % processes, processes)
    with engine.connect() as conn:  # one connection for the run, as a long-lived API worker holds one
        conn.commit()
        users = _counselors(conn)
        _wait_for_peers(lambda: _count_sa(conn), processes)
        deadline = time.monotonic() + seconds
        started = ended = time.time()
        cpu0 = time.process_time()
        idle_since: float | None = None
        while time.monotonic() < deadline:
            if _step(conn, settings, center_id, rng, mode, stats, share, users):
                idle_since = None
                ended = time.time()  # the last productive moment: the idle tail is not counted
                continue
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > IDLE_SECONDS:
                break
            time.sleep(0.005)
        cpu = {"client_cpu_s": time.process_time() - cpu0, "server_cpu_s": _backend_cpu(backends)}
    engine.dispose()
    out.put({**stats, **cpu, "started": started, "ended": ended})


FLOOR_CLAIM = (
    "SELECT id FROM ticket WHERE center_id = %s AND status = 'QUEUED' "
    "ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
FLOOR_ASSIGN = (
    "UPDATE ticket SET status = 'ASSIGNED', assignee_id = %s, assigned_at = now(), updated_at = now(), "
    "version = version + 1 WHERE id = %s"
)


def floor_worker(
    db_url: str, center_id: int, seed: int, seconds: float, out: Any, processes: int = 4
) -> None:
    """The raw-SQL floor: psycopg alone, one transaction per assignment (claim the oldest queued
    ticket ``FOR UPDATE SKIP LOCKED``, assign it, commit), no capacity, offers, events or ORM. What
    a claim costs on this machine with nothing of ours around it; the bench reports ours against it."""
    import psycopg

    backends: set[int] = set()
    stats: Counter[str] = Counter()
    dsn = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, application_name=HAMMER_APP) as conn:
        backends.add(conn.info.backend_pid)
        counselors = [
            r[0]
            for r in conn.execute(
                'SELECT id FROM "user" WHERE center_id = %s AND id %% %s = %s ORDER BY id',
                (center_id, processes, seed % processes),
            ).fetchall()
        ]
        conn.commit()

        def peers() -> int:
            row = conn.execute(PEERS_SQL, {"app": HAMMER_APP}).fetchone()
            conn.commit()
            return int(row[0]) if row else 0

        _wait_for_peers(peers, processes)
        deadline = time.monotonic() + seconds
        started = ended = time.time()
        cpu0 = time.process_time()
        i = 0
        while time.monotonic() < deadline:
            row = conn.execute(FLOOR_CLAIM, (center_id,)).fetchone()
            if row is None:
                conn.rollback()
                break
            conn.execute(FLOOR_ASSIGN, (counselors[i % len(counselors)], row[0]))
            conn.commit()
            i += 1
            ended = time.time()
        stats["accepted"] = i
        cpu = {"client_cpu_s": time.process_time() - cpu0, "server_cpu_s": _backend_cpu(backends)}
    out.put({**stats, **cpu, "started": started, "ended": ended})


HAMMER_APP = "routing-hammer"


PEERS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %(app)s"
)


def _wait_for_peers(count: Callable[[], int], processes: int, timeout: float = 60.0) -> None:
    """Start together: wait until ``processes`` hammer connections are open on this database (a
    process that starts late would otherwise find the work done and measure nothing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and count() < processes:
        time.sleep(0.01)


def _count_sa(conn: Any) -> int:
    n = conn.exec_driver_sql(PEERS_SQL, {"app": HAMMER_APP}).scalar()
    conn.commit()
    return int(n)


def _counselors(conn: Any) -> dict[int, User]:
    """Every counselor, loaded once and detached (a console's request has its user already)."""
    with Session(bind=conn, expire_on_commit=False) as session:
        users = {u.id: u for u in session.exec(select(User)).all()}
        session.expunge_all()
        session.commit()
    return users  # type: ignore[return-value]


@contextmanager
def _unit(conn: Any) -> Iterator[Session]:
    """session_scope on the worker's connection: commits on success, rolls back on any exception."""
    with Session(bind=conn, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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
    conn: Any,
    settings: Settings,
    center_id: int,
    rng: random.Random,
    mode: str,
    stats: Counter[str],
    share: tuple[int, int],
    users: dict[int, User],
) -> bool:
    roll = rng.random()
    if mode == "batch" and roll < 0.5 or mode == "mixed" and roll < 0.3:
        cpu = time.process_time()
        with _unit(conn) as s:
            made = service.dispatch_center(s, center_id=center_id, limit=DISPATCH_BATCH, settings=settings)
        stats["offers"] += len(made)
        stats["dispatch_calls"] += 1
        spent = int(1e6 * (time.process_time() - cpu))
        stats["dispatch_empty"] += not made
        stats["dispatch_empty_cpu_us"] += 0 if made else spent
        stats["dispatch_cpu_us"] += spent
        return _accept_some(conn, rng, stats, share, users) or bool(made)
    if mode == "mixed" and roll < 0.6:
        with _unit(conn) as s:
            ids = s.exec(
                select(Ticket.id)
                .where(Ticket.center_id == center_id, Ticket.status == TicketStatus.QUEUED)
                .limit(50)
            ).all()
        if not ids:
            return _accept_some(conn, rng, stats, share, users)
        with _unit(conn) as s:
            made_one = service.route_ticket(s, ticket_id=rng.choice(ids), settings=settings)  # type: ignore[arg-type]
        stats["offers"] += made_one is not None
        return True
    return _accept_some(conn, rng, stats, share, users)


def _accept_some(
    conn: Any, rng: random.Random, stats: Counter[str], share: tuple[int, int], users: dict[int, User]
) -> bool:
    steal = rng.random() < STEAL
    cpu = time.process_time()
    pending = _pending_offers(conn, None if steal else share)
    stats["list_cpu_us"] += int(1e6 * (time.process_time() - cpu))
    stats["list_calls"] += 1
    stats["list_empty"] += not pending
    if not pending:
        return False
    rng.shuffle(pending)
    cpu = time.process_time()
    for offer_id, user_id in pending[: 10 if steal else 40]:
        with Session(bind=conn, expire_on_commit=False) as session:
            try:
                offers.accept_offer(session, offer_id=offer_id, user=users[user_id])
                stats["accepted"] += 1
            except Conflict:
                session.rollback()
                stats["lost_races"] += 1
    stats["accept_cpu_us"] += int(1e6 * (time.process_time() - cpu))
    return True


PENDING_SQL = (
    f"SELECT id, user_id FROM offer WHERE status = '{OfferStatus.PENDING.name}' "
    "AND (%(any)s OR user_id %% %(n)s = %(k)s) LIMIT 40"
)


def _pending_offers(conn: Any, share: tuple[int, int] | None) -> list[tuple[int, int]]:
    """Up to 40 pending offers (of the consoles ``share`` stands for, or anyone's): what a console
    polls, as one autocommitted plain read (no BEGIN/COMMIT round trips, no statement tree)."""
    raw = conn.connection.dbapi_connection
    params = {"any": share is None, "n": share[1] if share else 1, "k": share[0] if share else 0}
    raw.autocommit = True  # the SQLAlchemy connection is between transactions here
    try:
        return [(r[0], r[1]) for r in raw.execute(PENDING_SQL, params).fetchall()]
    finally:
        raw.autocommit = False


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
