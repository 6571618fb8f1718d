"""Accepting an offer on PostgreSQL in one statement (the hot path of the assignment rate).

One round trip instead of six: lock the offer's ticket (tickets first, as everywhere), then
compare-and-set the offer from pending to accepted, assign the ticket, reset the counselor's missed
offers and write the routing log, all as data-modifying CTEs of one statement. The offer UPDATE's
conditions (pending, not expired, this counselor's) are re-checked by PostgreSQL on the latest row
version after the ticket lock is granted, so an offer declined, timed out or cancelled meanwhile
is left alone and the statement returns nothing. Accepting does not change a counselor's load (a
pending offer becomes a held ticket), so no presence lock is needed for capacity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, exists, insert, literal, select, update
from sqlalchemy.sql.base import Executable
from sqlmodel import Session, col

from crm.events import RoutingEvent, record_event
from crm.models import Ticket, TicketStatus
from routing.models import Offer, OfferStatus, Presence, RoutingLog


def _statement() -> Executable:
    """Built once: bound parameters ``p_offer``, ``p_user``, ``p_now`` (not column names: those would become SET values) (no per-call construction
    or cache-key work, which cost more CPU than the round trip it saves)."""
    offer_id = bindparam("p_offer", type_=Integer)
    user_id = bindparam("p_user", type_=Integer)
    now = bindparam("p_now", type_=Offer.__table__.c.decided_at.type)  # type: ignore[attr-defined]
    owner = select(Offer.ticket_id).where(col(Offer.id) == offer_id).scalar_subquery()
    locked = select(Ticket.id).where(col(Ticket.id) == owner).with_for_update().cte("locked")
    accepted = (
        update(Offer)
        .where(
            col(Offer.id) == offer_id,
            col(Offer.user_id) == user_id,
            col(Offer.status) == OfferStatus.PENDING,
            col(Offer.expires_at) > now,
            col(Offer.ticket_id).in_(select(locked.c.id)),
        )
        .values(status=OfferStatus.ACCEPTED, active_ticket_id=None, decided_at=now)
        .returning(Offer.ticket_id)
        .cte("accepted")
    )
    assigned = (
        update(Ticket)
        .where(col(Ticket.id).in_(select(accepted.c.ticket_id)))
        .values(
            assignee_id=user_id,
            status=TicketStatus.ASSIGNED,
            assigned_at=now,
            updated_at=now,
            version=col(Ticket.version) + 1,
        )
        .returning(*Ticket.__table__.c)  # type: ignore[attr-defined]
        .cte("assigned")
    )
    presence = (
        update(Presence)
        .where(col(Presence.user_id) == user_id, exists(select(accepted.c.ticket_id)))
        .values(missed_offers=0, last_assigned_at=now)
        .returning(Presence.user_id)
        .cte("presence")
    )
    logged = (
        insert(RoutingLog)
        .from_select(
            ["at", "kind", "ticket_id", "user_id", "center_id", "detail"],
            select(now, literal("assigned"), assigned.c.id, user_id, assigned.c.center_id, literal("")),
        )
        .returning(RoutingLog.id)
        .cte("logged")
    )
    stmt = select(*assigned.c).add_cte(presence, logged)
    return select(Ticket).from_statement(stmt).execution_options(populate_existing=True)


_ACCEPT = _statement()


def accept_in_one_statement(session: Session, *, offer_id: int, user_id: int, now: datetime) -> Ticket | None:
    """Assign the offer's ticket to ``user_id`` if the offer is theirs, pending and unexpired; the
    assigned ticket (attached to ``session``, not committed), or None if nothing changed."""
    params = {"p_offer": offer_id, "p_user": user_id, "p_now": now}
    ticket = session.execute(_ACCEPT, params).scalars().first()
    if ticket is None:
        return None
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
    return ticket
