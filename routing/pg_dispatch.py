"""The dispatch round's reads and locks on PostgreSQL as constant SQL texts (the hot path).

Each function sends one fixed statement on the session's DBAPI connection, in the session's
transaction: no statement tree is built, coerced or cache-keyed per call (that was most of a
dispatch round's client CPU), and psycopg prepares each text server-side after a few calls. Ids
travel as one bound array, so a text never changes with the round's size. Enum values are
written as the stored names (``TicketStatus.QUEUED.name``); :mod:`routing.store` keeps the
SQLAlchemy versions for SQLite and falls back to them for anything not listed here.
``test_routing_service`` and ``test_routing_pg`` run every statement here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from psycopg.pq import TransactionStatus
from sqlmodel import Session

from crm.models import TicketStatus
from routing.models import OfferStatus, PresenceStatus

_HELD = ", ".join(f"'{s.name}'" for s in (TicketStatus.ASSIGNED, TicketStatus.WAITING_ON_CONSUMER))
_PASSED = ", ".join(
    f"'{s.name}'" for s in (OfferStatus.DECLINED, OfferStatus.TIMED_OUT, OfferStatus.CANCELLED)
)

QUEUED_IF_LOCKED_SQL = f"""
SELECT t.id, t.center_id, t.channel, t.queued_at, t.created_at, t.language, t.required_skills,
       t.qualification_required, t.serious_accident, t.special_consideration, t.priority
FROM ticket t
WHERE (SELECT pg_try_advisory_xact_lock(%(ns)s, %(center)s))
  AND t.center_id = %(center)s AND t.status = '{TicketStatus.QUEUED.name}'
ORDER BY t.queued_at, t.id
LIMIT %(limit)s
"""
"""The center's dispatch lock and its oldest queued tickets in one round trip: the uncorrelated
sub-select is an InitPlan, run once as a one-time filter before any ticket is read, so no rows
come back when another process holds the lock (and the caller does nothing, as before)."""

AGENTS_SQL = f"""
SELECT u.id, u.center_id, u.skills::text, u.languages::text, u.qualifications::text, u.capacity::text,
       p.status, p.capacity::text, p.last_assigned_at, p.missed_offers
FROM "user" u JOIN presence p ON p.user_id = u.id
WHERE u.center_id = %(center)s AND u.is_active AND p.status = '{PresenceStatus.AVAILABLE.name}'
ORDER BY u.id
"""

LOADS_OF_CENTER_SQL = f"""
SELECT t.assignee_id, t.channel, count(*) FROM ticket t JOIN "user" u ON u.id = t.assignee_id
WHERE u.center_id = %(center)s AND t.status IN ({_HELD}) GROUP BY t.assignee_id, t.channel
UNION ALL
SELECT o.user_id, o.channel, count(*) FROM offer o JOIN "user" u ON u.id = o.user_id
WHERE u.center_id = %(center)s AND o.status = '{OfferStatus.PENDING.name}' GROUP BY o.user_id, o.channel
"""

LOADS_OF_USERS_SQL = f"""
SELECT assignee_id, channel, count(*) FROM ticket
WHERE assignee_id = ANY(%(u)s::int[]) AND status IN ({_HELD}) GROUP BY assignee_id, channel
UNION ALL
SELECT user_id, channel, count(*) FROM offer
WHERE user_id = ANY(%(u)s::int[]) AND status = '{OfferStatus.PENDING.name}' GROUP BY user_id, channel
"""

PASSED_SQL = f"""
SELECT ticket_id, user_id, status, decided_at FROM offer
WHERE ticket_id = ANY(%(t)s::int[]) AND status IN ({_PASSED})
"""

LOCK_STILL_QUEUED_SQL = f"""
SELECT id FROM ticket
WHERE id = ANY(%(t)s::int[]) AND center_id = %(center)s AND status = '{TicketStatus.QUEUED.name}'
ORDER BY id
FOR UPDATE SKIP LOCKED
"""

CLAIM_SQL = f"""
SELECT p.user_id, p.capacity::text, u.capacity::text
FROM presence p JOIN "user" u ON u.id = p.user_id
WHERE p.user_id = ANY(%(u)s::int[]) AND p.status = '{PresenceStatus.AVAILABLE.name}'
ORDER BY p.user_id
FOR UPDATE OF p SKIP LOCKED
"""


def rows(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` in the session's transaction (pending ORM changes are flushed first,
    as SQLAlchemy's autoflush would before a query)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    with _raw(session).cursor() as cursor:
        return cursor.execute(sql, params).fetchall()


def _utc(value: datetime | None) -> datetime | None:
    """As SQLModel's UTCDateTime returns it (psycopg answers in the session's time zone)."""
    return value.astimezone(UTC) if value is not None else None


def queued_if_locked(session: Session, ns: int, center_id: int, limit: int) -> list[tuple[Any, ...]]:
    """Rows in :data:`routing.store.TICKET_VIEW_COLUMNS` order; none if the lock is held elsewhere.

    If the session has nothing in flight, a one-row probe runs first as its own transaction (one
    round trip, the lock released at once): an idle center's sweep, or a center another process
    is dispatching, then costs no BEGIN and COMMIT. Only when the probe finds work is the lock
    taken for this transaction and the tickets read."""
    params = {"ns": ns, "center": center_id, "limit": limit}
    if _idle(session) and not _autocommitted(session, QUEUED_IF_LOCKED_SQL, {**params, "limit": 1}):
        return []
    found = rows(session, QUEUED_IF_LOCKED_SQL, params)
    return [(*r[:3], _utc(r[3]), _utc(r[4]), *r[5:]) for r in found]


def _raw(session: Session) -> psycopg.Connection[Any]:
    return cast("psycopg.Connection[Any]", session.connection().connection.dbapi_connection)


def _idle(session: Session) -> bool:
    """No statement sent in the session's transaction yet and no pending ORM change."""
    if session.new or session.dirty or session.deleted:
        return False
    return _raw(session).info.transaction_status == TransactionStatus.IDLE


def _autocommitted(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` run as its own transaction (the caller checked :func:`_idle`: psycopg has
    not sent BEGIN, so switching autocommit on and off loses nothing)."""
    raw = _raw(session)
    raw.autocommit = True
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.autocommit = False


def agents(session: Session, center_id: int) -> list[tuple[Any, ...]]:
    """Rows in :data:`routing.store.AGENT_COLUMNS` order (the presence status as its value)."""
    return [
        (*r[:6], PresenceStatus[r[6]].value, r[7], _utc(r[8]), r[9])
        for r in rows(session, AGENTS_SQL, {"center": center_id})
    ]


def loads(
    session: Session, user_ids: Sequence[int] | None, center_id: int | None
) -> dict[int, dict[str, int]]:
    if user_ids is not None:
        found = rows(session, LOADS_OF_USERS_SQL, {"u": list(user_ids)})
    else:
        found = rows(session, LOADS_OF_CENTER_SQL, {"center": center_id})
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for uid, channel, n in found:
        out[uid][channel] = out[uid].get(channel, 0) + int(n)
    return out


def passed(
    session: Session, ticket_ids: Sequence[int]
) -> list[tuple[int, int, OfferStatus, datetime | None]]:
    return [
        (tid, uid, OfferStatus[status], _utc(decided))
        for tid, uid, status, decided in rows(session, PASSED_SQL, {"t": list(ticket_ids)})
    ]


def lock_still_queued(session: Session, center_id: int, ticket_ids: Sequence[int]) -> set[int]:
    return {r[0] for r in rows(session, LOCK_STILL_QUEUED_SQL, {"t": list(ticket_ids), "center": center_id})}


def claim(session: Session, user_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    return rows(session, CLAIM_SQL, {"u": list(user_ids)})
