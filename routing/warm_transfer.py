"""A warm (consultative) transfer of a call, routing's side: who may be consulted, and the hand-over.

:func:`consult_target` applies routing's guards to the person the counselor wants to consult: an
active, available counselor with free capacity on the ticket's channel (a call blocks everything),
who speaks the ticket's language and holds a qualification if one is required (``routing.policy``);
for a center, the counselor routing would choose there now. :func:`hand_over_call` is the transfer
itself once the target has talked to the counselor: the same checks, note, events and (for another
center) move as :func:`routing.offers.transfer_ticket`, but the ticket is assigned to the target at
once (they are on the line) and the events carry ``warm`` so the voice jobs do not re-queue the call.
Neither commits: the caller's transaction does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from crm.errors import BadRequest, Conflict, Forbidden, NotFound
from crm.lifecycle import transition
from crm.models import Center, Note, Ticket, TicketStatus, User
from routing import policy, store
from routing.models import Presence, PresenceStatus
from routing.offers import _check_may_transfer
from routing.service import cancel_pending_offer, emit, emit_presence, move_to_center, touch


def _name(user: User) -> str:
    return user.display_name or user.username


def consult_target(
    session: Session,
    *,
    ticket_id: int,
    actor_id: int,
    to_user_id: int | None,
    to_center_id: int | None,
    now: datetime,
) -> tuple[User, Center]:
    """The counselor to consult and their center; raises BadRequest / NotFound / Forbidden / Conflict."""
    if (to_user_id is None) == (to_center_id is None):
        raise BadRequest("give exactly one target: to_user_id (a counselor) or to_center (a center's code)")
    ticket, actor = _ticket_and_actor(session, ticket_id, actor_id)
    _check_may_transfer(ticket, actor)
    if ticket.assignee_id != actor.id:
        raise Forbidden("only the counselor on the call can start a warm transfer (転送相談)")
    view = store.ticket_view(ticket)
    if to_center_id is not None:
        center = session.get(Center, to_center_id)
        if center is None:
            raise NotFound(f"center {to_center_id} does not exist")
        if center.id == ticket.center_id:
            raise BadRequest("the call is already at that center: consult one of its counselors (to_user_id)")
        here = replace(view, center_id=center.id or 0)
        agents = [a for a in store.agent_views(session, center.id or 0) if a.id != actor.id]
        decision = policy.choose_counselor(here, agents, now)
        if not isinstance(decision, policy.Assign):
            raise Conflict(f"{center.name} ({center.code}) has no counselor free for this call now")
        chosen = session.get(User, decision.agent_id)
        assert chosen is not None
        return chosen, center
    target = session.get(User, to_user_id)
    if target is None or not target.is_active or target.center_id is None:
        raise NotFound(f"user {to_user_id} does not exist")
    if target.id == actor.id:
        raise BadRequest("you are already on this call: choose another counselor")
    center = session.get(Center, target.center_id)
    assert center is not None
    views = store.agent_views(session, target.center_id, user_ids=[target.id or 0])
    if not views or not policy.is_eligible(views[0], replace(view, center_id=target.center_id), relaxed=True):
        raise Conflict(
            f"{_name(target)} is not available for this call (offline, on another call, or without "
            "the language or qualification it needs)"
        )
    return target, center


def _ticket_and_actor(session: Session, ticket_id: int, actor_id: int) -> tuple[Ticket, User]:
    ticket = store.lock_ticket(session, ticket_id, skip_locked=False)
    actor = session.get(User, actor_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    if actor is None or not actor.is_active:
        raise Forbidden("your account is not active")
    return ticket, actor


def hand_over_call(
    session: Session, *, ticket_id: int, actor_id: int, target_id: int, reason: str, now: datetime
) -> Ticket:
    """The target took the call: transfer the ticket to them (another center: moved there first)."""
    ticket, actor = _ticket_and_actor(session, ticket_id, actor_id)
    _check_may_transfer(ticket, actor)
    target = session.get(User, target_id)
    if target is None or not target.is_active or target.center_id is None:
        raise Conflict("the counselor you consulted is no longer active: cancel the transfer")
    detail: dict[str, object] = {"by": actor.id, "reason": reason, "warm": True}
    if target.center_id != ticket.center_id:
        center = session.get(Center, target.center_id)
        assert center is not None
        move_to_center(
            session, ticket, center, reason=reason, kind="transfer", now=now, author_id=actor.id, extra=detail
        )
    else:
        cancel_pending_offer(session, ticket, now=now, reason="warm transfer")
        session.add(
            Note(
                ticket_id=ticket_id,
                author_id=actor.id,
                kind="transfer",
                body=f"Warm transfer to {_name(target)}: {reason}",
            )
        )
        emit(session, "transferred", ticket=ticket, user_id=target.id, detail=detail, log=reason)
    ticket.assignee_id = target.id
    transition(session, ticket, TicketStatus.ASSIGNED, reason="warm transfer", actor=actor.id)
    ticket.assigned_at = now
    touch(ticket, now)
    session.add(ticket)
    session.flush()
    session.execute(update(Presence).where(col(Presence.user_id) == target.id).values(last_assigned_at=now))
    emit(session, "assigned", ticket=ticket, user_id=target.id, detail=detail, logged=False)
    return ticket


def reserve_target(session: Session, *, user: User, now: datetime) -> int | None:
    """While a colleague is rung and consulted they take no other work: available → busy.

    Returns the presence version that marks the reservation as ours (None if they were not available),
    for :func:`release_target`."""
    row = session.execute(
        update(Presence)
        .where(col(Presence.user_id) == user.id, col(Presence.status) == PresenceStatus.AVAILABLE)
        .values(status=PresenceStatus.BUSY, since=now, version=col(Presence.version) + 1)
        .returning(col(Presence.version))
    ).first()
    if row is None:
        return None
    emit(
        session,
        "presence",
        user_id=user.id,
        center_id=user.center_id,
        detail={"status": "busy", "why": "consult"},
    )
    return int(row[0])


def release_target(session: Session, *, user_id: int, version: int | None, now: datetime) -> None:
    """The consult ended: the colleague is available again, unless their status changed meanwhile
    (they went on break or offline, or took other work: the version moved on)."""
    if version is None:
        return
    released = session.exec(
        update(Presence)
        .where(
            col(Presence.user_id) == user_id,
            col(Presence.status) == PresenceStatus.BUSY,
            col(Presence.version) == version,
        )
        .values(status=PresenceStatus.AVAILABLE, since=now, version=col(Presence.version) + 1)
    ).rowcount
    if released:
        emit_presence(session, user_id, {"status": "available", "why": "consult ended"})
