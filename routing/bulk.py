"""Writing a dispatch round's offers in two bulk statements (the hot path of the assignment rate).

One ``INSERT … RETURNING`` for the offers (a multi-row VALUES) and one ``UPDATE`` moving their
tickets from queued to offered; no ORM objects, no flush. The offer row is the record of who was
offered what, when and why (``reason``), so no routing-log row repeats it.
The caller holds the locks (:func:`routing.service.dispatch_center`): tickets ``FOR UPDATE SKIP
LOCKED`` and the counselors' presence rows, recounted under the lock. The ticket UPDATE re-checks
``status = 'queued'``, so a ticket whose status changed meanwhile (it cannot while locked) would
raise instead of being offered twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import insert, update
from sqlmodel import Session, col

from crm.events import RoutingEvent, record_event
from crm.models import Ticket, TicketStatus
from routing.models import Offer, OfferStatus
from routing.policy import TicketView


@dataclass(frozen=True)
class OfferRef:
    """An offer just written (what callers of a dispatch need, without an ORM object)."""

    id: int
    ticket_id: int
    user_id: int
    center_id: int
    channel: str
    expires_at: datetime
    reason: str
    status: OfferStatus = OfferStatus.PENDING


Pick = tuple[TicketView, int, str]  # (ticket, counselor id, reason)


class _OfferRow(TypedDict):
    """The values of one offer row to insert."""

    ticket_id: int
    active_ticket_id: int
    user_id: int
    center_id: int
    channel: str
    status: OfferStatus
    created_at: datetime
    expires_at: datetime
    reason: str


_OFFERS = Offer.__table__  # type: ignore[attr-defined]
_TICKETS = Ticket.__table__  # type: ignore[attr-defined]


def write_offers(
    session: Session, picks: Sequence[Pick], now: datetime, timeout_of: dict[str, timedelta]
) -> list[OfferRef]:
    """Insert one pending offer per pick and mark the tickets offered; records an
    ``offered`` RoutingEvent per offer (published after commit). ``timeout_of``: channel → timeout."""
    if not picks:
        return []
    rows: list[_OfferRow] = [
        {
            "ticket_id": t.id,
            "active_ticket_id": t.id,
            "user_id": uid,
            "center_id": t.center_id,
            "channel": t.channel,
            "status": OfferStatus.PENDING,
            "created_at": now,
            "expires_at": now + timeout_of[t.channel],
            "reason": reason[:300],
        }
        for t, uid, reason in picks
    ]
    conn = session.connection()
    ids: Sequence[int]
    if conn.dialect.name == "postgresql":
        ids, changed = _write_postgres(conn, rows, now)
    else:
        ids = (
            conn.execute(insert(_OFFERS).returning(_OFFERS.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        changed = conn.execute(
            update(_TICKETS)
            .where(
                col(Ticket.id).in_([r["ticket_id"] for r in rows]), _TICKETS.c.status == TicketStatus.QUEUED
            )
            .values(status=TicketStatus.OFFERED, updated_at=now, version=_TICKETS.c.version + 1)
        ).rowcount
    if changed != len(picks):  # impossible while the tickets are locked; never commit half a round
        raise RuntimeError(f"dispatch: {len(picks) - changed} of {len(picks)} tickets left the queue")
    _expire_cached_tickets(session, {t.id for t, _, _ in picks})
    made = [
        OfferRef(
            oid, r["ticket_id"], r["user_id"], r["center_id"], r["channel"], r["expires_at"], r["reason"]
        )
        for oid, r in zip(ids, rows, strict=True)
    ]
    for o in made:
        detail = {"offer_id": o.id, "expires_at": o.expires_at.isoformat(), "reason": o.reason}
        record_event(
            session,
            RoutingEvent(
                kind="offered", center_id=o.center_id, ticket_id=o.ticket_id, user_id=o.user_id, detail=detail
            ),
        )
    return made


OFFERS_SQL = """
INSERT INTO offer (ticket_id, active_ticket_id, user_id, center_id, channel, status, created_at,
                   expires_at, reason)
SELECT t, t, u, c, ch, 'PENDING', %(now)s, e, r
FROM unnest(%(t)s::int[], %(u)s::int[], %(c)s::int[], %(ch)s::text[], %(e)s::timestamptz[], %(r)s::text[])
     AS x(t, u, c, ch, e, r)
RETURNING id, ticket_id
"""
TICKETS_SQL = """
UPDATE ticket SET status = 'OFFERED', updated_at = %(now)s, version = version + 1
WHERE id = ANY(%(t)s::int[]) AND status = 'QUEUED'
"""


def _write_postgres(conn: Any, rows: list[_OfferRow], now: datetime) -> tuple[list[int], int]:
    """PostgreSQL: one array per column (``unnest``), so the statement text never changes with the
    round's size (psycopg parses each new text; 900 placeholders cost more than the insert)."""
    ticket_ids = [r["ticket_id"] for r in rows]
    params = {
        "now": now,
        "t": ticket_ids,
        "u": [r["user_id"] for r in rows],
        "c": [r["center_id"] for r in rows],
        "ch": [r["channel"] for r in rows],
        "e": [r["expires_at"] for r in rows],
        "r": [r["reason"] for r in rows],
    }
    by_ticket = {tid: oid for oid, tid in conn.exec_driver_sql(OFFERS_SQL, params).all()}
    changed = conn.exec_driver_sql(TICKETS_SQL, {"now": now, "t": ticket_ids}).rowcount
    return [by_ticket[t] for t in ticket_ids], changed


def _expire_cached_tickets(session: Session, ids: set[int]) -> None:
    """ORM copies of these tickets already in the session are stale after the Core UPDATE."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Ticket) and obj.id in ids:
            session.expire(obj)
