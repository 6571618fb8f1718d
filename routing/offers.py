"""Offers (reservations): accept, decline, time out; transfers and escalation.

Functions called by the API commit their own transaction (like ``crm.services``); the ones called by
jobs per offer (:func:`expire_offer`) leave the commit to the caller's ``session_scope``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from config.settings import Settings
from crm.errors import BadRequest, Conflict, Forbidden, NotFound
from crm.lifecycle import transition
from crm.models import Center, Note, Role, Ticket, TicketStatus, User, utcnow
from routing import store
from routing.accept import AssignedTicket, accept_in_one_statement, offer_state
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from routing.service import (
    _route_locked,
    cancel_pending_offer,
    close_offer,
    create_offer,
    emit,
    move_to_center,
    touch,
)

TRANSFERABLE = (
    TicketStatus.QUEUED,
    TicketStatus.OFFERED,
    TicketStatus.ASSIGNED,
    TicketStatus.WAITING_ON_CONSUMER,
)


def list_my_offers(session: Session, *, user: User) -> Sequence[Offer]:
    """The counselor's pending offers, oldest first."""
    return session.exec(
        select(Offer)
        .where(Offer.user_id == user.id, Offer.status == OfferStatus.PENDING)
        .order_by(col(Offer.id))
    ).all()


def _locked_offer(session: Session, offer_id: int, user: User) -> tuple[Offer, Ticket]:
    """Lock the offer's ticket, then the offer (tickets first, everywhere): two round trips."""
    ticket = store.lock_offer_ticket(session, offer_id)
    stmt = select(Offer).where(Offer.id == offer_id).execution_options(populate_existing=True)
    if store.is_postgres(session):
        stmt = stmt.with_for_update()
    offer = session.exec(stmt).first()
    if offer is None or ticket is None:
        raise NotFound(f"offer {offer_id} does not exist")
    if offer.user_id != user.id:
        raise Forbidden(f"offer {offer_id} was made to another counselor")
    return offer, ticket


def _check_pending(offer: Offer, now: datetime) -> None:
    if offer.status != OfferStatus.PENDING:
        raise Conflict(f"offer {offer.id} is already {offer.status.value}")
    if now >= offer.expires_at:
        raise Conflict(
            f"offer {offer.id} expired at {offer.expires_at.isoformat()}; it goes to the next counselor"
        )


def _refuse_quickly(session: Session, offer_id: int, user: User, now: datetime) -> None:
    """Raise the error an accept that changed nothing deserves, from one plain read of the offer;
    returns only if the offer still looks acceptable (then the checked path decides)."""
    state = offer_state(session, offer_id)
    session.rollback()
    if state is None:
        raise NotFound(f"offer {offer_id} does not exist")
    owner, status, expires_at = state
    if owner != user.id:
        raise Forbidden(f"offer {offer_id} was made to another counselor")
    if status != OfferStatus.PENDING:
        raise Conflict(f"offer {offer_id} is already {status.value}")
    if now >= expires_at:
        raise Conflict(f"offer {offer_id} expired at {expires_at.isoformat()}; it goes to the next counselor")


def accept_offer(
    session: Session, *, offer_id: int, user: User, now: datetime | None = None
) -> AssignedTicket:
    """Accept: the ticket is assigned to the counselor (commits).

    On PostgreSQL the common case is one statement (:func:`routing.accept.accept_in_one_statement`),
    one round trip when the session has nothing in flight; when it changes nothing (expired, decided,
    someone else's offer) one read of the offer raises the precise error.
    """
    now = now or utcnow()
    if store.is_postgres(session):
        assigned = accept_in_one_statement(session, offer_id=offer_id, user_id=user.id or 0, now=now)
        if assigned is not None:
            session.commit()
            return assigned
        session.rollback()
        _refuse_quickly(session, offer_id, user, now)  # a lost race costs one read, not the ORM path
    offer, ticket = _locked_offer(session, offer_id, user)
    _check_pending(offer, now)
    close_offer(offer, OfferStatus.ACCEPTED, now)
    ticket.assignee_id = user.id
    transition(session, ticket, TicketStatus.ASSIGNED, reason="offer accepted", actor=user.id)
    ticket.assigned_at = now
    touch(ticket, now)
    session.add_all([offer, ticket])
    session.flush()
    # accepting does not change the counselor's load (a pending offer becomes a held ticket), so
    # no capacity lock is needed: a plain UPDATE (row-locked for this statement's transaction)
    session.execute(
        update(Presence).where(col(Presence.user_id) == user.id).values(missed_offers=0, last_assigned_at=now)
    )
    emit(session, "assigned", ticket=ticket, user_id=user.id, detail={"offer_id": offer.id}, logged=False)
    session.commit()
    return AssignedTicket(ticket.id or 0, ticket.center_id, ticket.status, user.id or 0, ticket.channel)


def decline_offer(
    session: Session,
    *,
    offer_id: int,
    user: User,
    reason: str = "",
    now: datetime | None = None,
    settings: Settings,
) -> Offer | None:
    """Decline: the ticket goes to the next counselor at once; returns the new offer, if any (commits)."""
    now = now or utcnow()
    offer, ticket = _locked_offer(session, offer_id, user)
    _check_pending(offer, now)
    close_offer(offer, OfferStatus.DECLINED, now, reason or "declined")
    session.add(offer)
    emit(session, "declined", ticket=ticket, user_id=user.id, detail={"offer_id": offer.id, "reason": reason})
    nxt = _requeue_and_route(session, ticket, now, settings)
    session.commit()
    return nxt


def _requeue_and_route(session: Session, ticket: Ticket, now: datetime, settings: Settings) -> Offer | None:
    transition(session, ticket, TicketStatus.QUEUED, reason="back to the queue", actor="routing")
    touch(ticket, now)
    session.add(ticket)
    session.flush()
    return _route_locked(session, ticket, now, settings)


def due_offer_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    rows = session.exec(
        select(Offer.id)
        .where(Offer.status == OfferStatus.PENDING, col(Offer.expires_at) <= now)
        .order_by(col(Offer.expires_at))
        .limit(limit)
    ).all()
    return [r for r in rows if r is not None]


def expire_offer(session: Session, *, offer_id: int, now: datetime, settings: Settings) -> Offer | None:
    """Time out one due offer: count the miss (``max_missed_offers`` in a row → break) and re-route.

    Returns the next offer, if any. A no-op if the offer was decided meanwhile.
    """
    offer = session.get(Offer, offer_id)
    if offer is None:
        return None
    ticket = store.lock_ticket(session, offer.ticket_id)
    if ticket is None:
        return None  # another process is handling this ticket now; the next sweep retries
    session.refresh(offer)
    if offer.status != OfferStatus.PENDING or offer.expires_at > now:
        return None
    close_offer(offer, OfferStatus.TIMED_OUT, now, "no answer before the offer timed out")
    session.add(offer)
    emit(session, "timed_out", ticket=ticket, user_id=offer.user_id, detail={"offer_id": offer.id})
    presence = store.lock_presence(session, offer.user_id)
    if presence is not None:
        presence.missed_offers += 1
        if (
            presence.missed_offers >= settings.max_missed_offers
            and presence.status == PresenceStatus.AVAILABLE
        ):
            presence.status = PresenceStatus.BREAK
            presence.since = now
            emit(
                session,
                "presence",
                user_id=offer.user_id,
                center_id=ticket.center_id,
                detail={"status": "break", "reason": f"{presence.missed_offers} offers missed in a row"},
            )
        session.add(presence)
    return _requeue_and_route(session, ticket, now, settings)


def transfer_ticket(
    session: Session,
    *,
    ticket_id: int,
    actor: User,
    reason: str,
    to_user_id: int | None = None,
    to_center_id: int | None = None,
    to_supervisor: bool = False,
    now: datetime | None = None,
    settings: Settings,
) -> Ticket:
    """Transfer to a counselor (offered to them), to another center (its queue), or escalate to a
    supervisor of the ticket's center (assigned directly); the reason goes on the timeline (commits)."""
    now = now or utcnow()
    if sum((to_user_id is not None, to_center_id is not None, to_supervisor)) != 1:
        raise BadRequest("give exactly one target: to_user_id, to_center_id or to_supervisor")
    if not reason.strip():
        raise BadRequest("a transfer needs a reason (it is shown on the ticket's timeline)")
    ticket = store.lock_ticket(session, ticket_id, skip_locked=False)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    _check_may_transfer(ticket, actor)
    if to_center_id is not None:
        target = session.get(Center, to_center_id)
        if target is None:
            raise NotFound(f"center {to_center_id} does not exist")
        if target.id == ticket.center_id:
            raise BadRequest("the ticket is already at that center")
        move_to_center(session, ticket, target, reason=reason, kind="transfer", now=now, author_id=actor.id)
        session.flush()
        _route_locked(session, ticket, now, settings)
    elif to_supervisor:
        _escalate(session, ticket, actor, reason, now)
    else:
        _transfer_to_user(session, ticket, actor, to_user_id or 0, reason, now, settings)
    session.commit()
    return ticket


def _check_may_transfer(ticket: Ticket, actor: User) -> None:
    if ticket.status not in TRANSFERABLE:
        raise Conflict(f"ticket {ticket.id} is {ticket.status.value}; only open tickets can be transferred")
    if actor.role == Role.ADMIN:
        return
    if actor.center_id != ticket.center_id:
        raise Forbidden(f"ticket {ticket.id} belongs to another center")
    if actor.role == Role.COUNSELOR and ticket.assignee_id != actor.id:
        raise Forbidden("only the assigned counselor or a supervisor can transfer this ticket")


def _transfer_to_user(
    session: Session,
    ticket: Ticket,
    actor: User,
    user_id: int,
    reason: str,
    now: datetime,
    settings: Settings,
) -> None:
    target = session.get(User, user_id)
    if target is None or not target.is_active:
        raise NotFound(f"user {user_id} does not exist")
    if target.center_id != ticket.center_id:
        raise BadRequest("that counselor works at another center: transfer to the center instead")
    if target.id == ticket.assignee_id:
        raise BadRequest("the ticket is already assigned to that counselor")
    cancel_pending_offer(session, ticket, now=now, reason="transferred")
    presence = store.lock_presence(session, user_id)
    views = store.agent_views(session, ticket.center_id, user_ids=[user_id])
    if presence is None or not views or not views[0].free_on(ticket.channel):
        raise Conflict(
            f"{target.display_name or target.username} is not available or has no free "
            f"{ticket.channel} capacity"
        )
    ticket.assignee_id = None
    assert ticket.id is not None  # a stored ticket
    session.add(
        Note(
            ticket_id=ticket.id,
            author_id=actor.id,
            kind="transfer",  # type: ignore[arg-type]
            body=f"Transfer to {target.display_name or target.username}: {reason}",
        )
    )
    create_offer(session, ticket, user_id, now, settings, f"transfer from {actor.username}: {reason}")
    emit(session, "transferred", ticket=ticket, user_id=user_id, detail={"by": actor.id, "reason": reason})


def _escalate(session: Session, ticket: Ticket, actor: User, reason: str, now: datetime) -> None:
    supervisors = session.exec(
        select(User)
        .where(
            User.center_id == ticket.center_id, User.role == Role.SUPERVISOR, col(User.is_active).is_(True)
        )
        .order_by(col(User.id))
    ).all()
    if not supervisors:
        raise Conflict("this center has no supervisor to escalate to")
    load = store.loads(session, [s.id for s in supervisors if s.id is not None])
    chosen = min(supervisors, key=lambda s: (sum(load.get(s.id or 0, {}).values()), s.id or 0))
    cancel_pending_offer(session, ticket, now=now, reason="escalated")
    ticket.assignee_id = chosen.id
    transition(session, ticket, TicketStatus.ASSIGNED, reason="escalated", actor="routing")
    ticket.assigned_at = now
    touch(ticket, now)
    session.add(ticket)
    assert ticket.id is not None  # a stored ticket
    session.add(
        Note(
            ticket_id=ticket.id,
            author_id=actor.id,
            kind="escalation",  # type: ignore[arg-type]
            body=f"Escalated to {chosen.display_name or chosen.username}: {reason}",
        )
    )
    emit(session, "escalated", ticket=ticket, user_id=chosen.id, detail={"by": actor.id, "reason": reason})
