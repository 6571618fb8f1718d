"""Accepting an offer on PostgreSQL in one statement (the hot path of the assignment rate).

One round trip instead of six: lock the offer's ticket (tickets first, as everywhere), then
compare-and-set the offer from pending to accepted, assign the ticket and reset the counselor's missed
offers, all as data-modifying CTEs of one statement (the accepted offer row is the record of who took
the ticket when: no routing-log row repeats it). The offer UPDATE's
conditions (pending, not expired, this counselor's) are re-checked by PostgreSQL on the latest row
version after the ticket lock is granted, so an offer declined, timed out or cancelled meanwhile
is left alone and the statement returns nothing. Accepting does not change a counselor's load (a
pending offer becomes a held ticket), so no presence lock is needed for capacity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from psycopg.pq import TransactionStatus
from sqlmodel import Session

from crm.events import RoutingEvent, record_event
from crm.models import Ticket, TicketStatus
from routing.models import OfferStatus

ACCEPT_SQL = """
WITH locked AS (
    SELECT t.id FROM ticket t
    WHERE t.id = (SELECT o.ticket_id FROM offer o WHERE o.id = %(offer)s)
    FOR UPDATE OF t
), accepted AS (
    UPDATE offer SET status = 'ACCEPTED', active_ticket_id = NULL, decided_at = %(now)s
    WHERE id = %(offer)s AND user_id = %(user)s AND status = 'PENDING' AND expires_at > %(now)s
      AND ticket_id IN (SELECT id FROM locked)
    RETURNING ticket_id
), assigned AS (
    UPDATE ticket SET assignee_id = %(user)s, status = 'ASSIGNED', assigned_at = %(now)s,
                      updated_at = %(now)s, version = version + 1
    WHERE id IN (SELECT ticket_id FROM accepted)
    RETURNING id, center_id, channel
), presence AS (
    UPDATE presence SET missed_offers = 0, last_assigned_at = %(now)s
    WHERE user_id = %(user)s AND EXISTS (SELECT 1 FROM accepted)
    RETURNING user_id
)
SELECT id, center_id, channel FROM assigned
"""
"""PostgreSQL only, sent as-is on the DBAPI cursor: psycopg prepares it server-side after a few
calls, and no statement tree is walked per call (building or cache-keying a Core statement of four
CTEs cost more client CPU than the round trips it saves). Enum labels are the stored names
(``TicketStatus.ASSIGNED.name``, ``OfferStatus.PENDING.name``); ``test_routing_service`` runs it."""


@dataclass(frozen=True)
class AssignedTicket:
    """The ticket an accept assigned (what the API answers with; no ORM object on the hot path)."""

    id: int
    center_id: int
    status: TicketStatus
    assignee_id: int
    channel: str


def accept_in_one_statement(
    session: Session, *, offer_id: int, user_id: int, now: datetime
) -> AssignedTicket | None:
    """Assign the offer's ticket to ``user_id`` if the offer is theirs, pending and unexpired; the
    assigned ticket, or None if nothing changed.

    If ``session`` has nothing in flight (no statement sent in its transaction yet, no pending ORM
    change), the statement runs as its own transaction: one round trip, durable when this returns
    (psycopg would otherwise send BEGIN, the statement and COMMIT in three). Otherwise it joins the
    session's transaction, uncommitted. Either way the caller ends with ``session.commit()``, which
    publishes the ``assigned`` event (and is a no-op at the database in the first case)."""
    params = {"offer": offer_id, "user": user_id, "now": now}
    row = _run(session, ACCEPT_SQL, params)
    if row is None:
        return None
    ticket = AssignedTicket(row[0], row[1], TicketStatus.ASSIGNED, user_id, row[2])
    record_event(
        session,
        RoutingEvent(
            kind="assigned",
            center_id=ticket.center_id,
            ticket_id=ticket.id,
            user_id=user_id,
            detail={"offer_id": offer_id},
        ),
    )
    for obj in list(session.identity_map.values()):  # ORM copies are stale after the Core UPDATE
        if isinstance(obj, Ticket) and obj.id == ticket.id:
            session.expire(obj)
    return ticket


OFFER_STATE_SQL = "SELECT user_id, status, expires_at FROM offer WHERE id = %(offer)s"


def offer_state(session: Session, offer_id: int) -> tuple[int, OfferStatus, datetime] | None:
    """The offer's counselor, status and expiry from one plain read (autocommitted like the accept
    when nothing is in flight); None if there is no such offer. What a refused accept reports."""
    row = _run(session, OFFER_STATE_SQL, {"offer": offer_id})
    if row is None:
        return None
    return row[0], OfferStatus[row[1]], row[2].astimezone(UTC)


def _run(session: Session, sql: str, params: dict[str, object]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` on the session's DBAPI connection: autocommitted when the session has
    nothing in flight (see :func:`accept_in_one_statement`), else in the session's transaction."""
    raw = cast("psycopg.Connection[Any]", session.connection().connection.dbapi_connection)
    idle = raw.info.transaction_status == TransactionStatus.IDLE
    if not idle or session.new or session.dirty or session.deleted:
        with raw.cursor() as cursor:
            return cursor.execute(sql, params).fetchone()
    raw.autocommit = True  # allowed: psycopg has not sent BEGIN (IDLE), so nothing is lost
    try:
        return raw.execute(sql, params).fetchone()
    finally:
        raw.autocommit = False
