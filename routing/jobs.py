"""Routing jobs: module-level functions taking ids or event dicts (RQ JSON serializer friendly).

Each job opens its own unit of work per ticket or offer, so one failure or lock wait does not hold
up the rest of the sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from config.runtime import get_runtime
from crm.db import session_scope
from crm.lifecycle import transition
from crm.models import Center, Ticket, TicketStatus, utcnow
from routing import acd, calendar, offers, presence, service, store

log = logging.getLogger(__name__)


STALE_NEW_SECONDS = 10


def route_on_message(event: dict[str, Any]) -> None:
    """``MessageReceived``: a new or returning ticket joins the queue and is offered."""
    enqueue_and_route(int(event["ticket_id"]))


def enqueue_and_route(ticket_id: int) -> None:
    """Queue a ticket at the center open for it (after-hours answer if none is) and offer it."""
    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        result = service.enqueue_ticket(session, ticket_id=ticket_id, settings=runtime.settings)
    if result.queued:
        with session_scope(runtime.engine) as session:
            service.route_ticket(session, ticket_id=ticket_id, settings=runtime.settings)


def stale_new_ticket_ids(session: Session, now: Any, older_than: int = STALE_NEW_SECONDS) -> list[int]:
    """Tickets still ``new`` ``older_than`` seconds after creation: their MessageReceived was lost."""
    cutoff = now - timedelta(seconds=older_than)
    rows = session.exec(
        select(Ticket.id)
        .where(Ticket.status == TicketStatus.NEW, col(Ticket.created_at) <= cutoff)
        .order_by(col(Ticket.id))
        .limit(500)
    ).all()
    return [r for r in rows if r is not None]


def sweep_new_tickets() -> int:
    """Periodic: nothing lost. A ticket whose MessageReceived event never ran (a CLI with no job
    runner, a process that died between commit and enqueue) is queued and routed here."""
    runtime = get_runtime()
    with Session(runtime.engine) as session:
        stale = stale_new_ticket_ids(session, utcnow())
    for ticket_id in stale:
        try:
            enqueue_and_route(ticket_id)
        except Exception:  # one broken ticket must not stop the sweep; the next run retries it
            log.exception("routing stale new ticket %s failed", ticket_id)
    return len(stale)


def release_on_resolve(event: dict[str, Any]) -> None:
    """``TicketResolved``: drop any pending offer and let the freed capacity take queued work."""
    runtime = get_runtime()
    now = utcnow()
    with session_scope(runtime.engine) as session:
        ticket = store.lock_ticket(session, int(event["ticket_id"]), skip_locked=False)
        if ticket is not None:
            service.cancel_pending_offer(session, ticket, now=now, reason="ticket resolved")
            service.emit(session, "released", ticket=ticket, user_id=ticket.assignee_id)
            if ticket.assignee_id is not None:
                acd.start_wrap_up(
                    session,
                    user_id=ticket.assignee_id,
                    channel=ticket.channel,
                    now=now,
                    settings=runtime.settings,
                )
    dispatch(int(event["center_id"]))


def on_call_ended(event: dict[str, Any]) -> None:
    """``CallEnded``: a caller who hung up while waiting leaves the queue (nobody is offered a dead
    line); the place is remembered so a call back within ``abandoned_resume_seconds`` resumes it."""
    if event.get("status") != "abandoned":
        return
    runtime = get_runtime()
    now = utcnow()
    with session_scope(runtime.engine) as session:
        ticket = store.lock_ticket(session, int(event["ticket_id"]), skip_locked=False)
        if ticket is None or ticket.status not in (TicketStatus.QUEUED, TicketStatus.OFFERED):
            return  # answered meanwhile, or already handled: a redelivered callback changes nothing
        service.cancel_pending_offer(session, ticket, now=now, reason="the caller hung up")
        acd.mark_abandoned(session, ticket=ticket, now=now)
        transition(
            session,
            ticket,
            TicketStatus.RESOLVED,
            reason="the caller hung up while waiting (放棄呼)",
            actor="routing",
        )
        session.add(ticket)
    dispatch(int(event["center_id"]))


def end_wrap_ups() -> int:
    """Periodic: counselors whose after-call work is over are available again; their centers dispatch."""
    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        centers = acd.end_due_wrap_ups(session, now=utcnow())
    for center_id in centers:
        dispatch(center_id)
    return len(centers)


DISPATCH_RETRY_SECONDS = 1.0


def dispatch(center_id: int) -> None:
    """Offer queued tickets of one center to whoever has capacity.

    If another process is dispatching this center right now (PostgreSQL advisory lock), its
    snapshot may predate the capacity that triggered this job, so try again shortly (one pending
    retry per center) instead of leaving the work to the 30 s sweep.
    """
    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        busy = not store.try_lock_center(session, center_id)  # re-entrant within this transaction
        if not busy:
            service.dispatch_center(session, center_id=center_id, settings=runtime.settings)
    if busy:
        runtime.jobs.enqueue(
            dispatch, center_id, job_id=f"routing-dispatch-{center_id}", delay=DISPATCH_RETRY_SECONDS
        )


def expire_offers() -> int:
    """Periodic: time out due offers and re-route their tickets."""
    runtime = get_runtime()
    now = utcnow()
    with Session(runtime.engine) as session:
        due = offers.due_offer_ids(session, now)
    for offer_id in due:
        with session_scope(runtime.engine) as session:
            offers.expire_offer(session, offer_id=offer_id, now=now, settings=runtime.settings)
    return len(due)


def sweep_heartbeats() -> int:
    """Periodic: counselors whose console stopped sending heartbeats go offline."""
    runtime = get_runtime()
    now = utcnow()
    with Session(runtime.engine) as session:
        stale = presence.stale_presence_ids(session, now, runtime.settings.presence_heartbeat_timeout)
    done = 0
    for user_id in stale:
        with session_scope(runtime.engine) as session:
            done += presence.mark_offline_if_stale(
                session, user_id=user_id, now=now, settings=runtime.settings
            )
    return done


def overflow_and_dispatch() -> int:
    """Periodic: move tickets waiting past a center's ``busy_wait_seconds`` (or stuck at a closed
    center) to the backup, then dispatch every center with queued work."""
    runtime = get_runtime()
    now = utcnow()
    moved = 0
    with Session(runtime.engine) as session:
        candidates = overflow_candidates(session, now)
        centers = session.exec(
            select(Ticket.center_id).where(Ticket.status == TicketStatus.QUEUED).distinct()
        ).all()
    for ticket_id in candidates:
        with session_scope(runtime.engine) as session:
            moved += overflow_ticket(session, ticket_id=ticket_id, now=now)
    for center_id in set(centers):
        dispatch(center_id)
    return moved


def overflow_candidates(session: Session, now: Any) -> list[int]:
    """Queued tickets whose center has a busy-overflow rule and that have waited past its threshold."""
    out: list[int] = []
    for center in session.exec(select(Center)).all():
        rules = center.backup_rules or {}
        wait = rules.get("busy_wait_seconds")
        if not rules.get("busy") or not wait:
            continue
        cutoff = now - timedelta(seconds=int(wait))
        out += [
            t
            for t in session.exec(
                select(Ticket.id).where(
                    Ticket.center_id == center.id,
                    Ticket.status == TicketStatus.QUEUED,
                    col(Ticket.queued_at) <= cutoff,
                )
            ).all()
            if t is not None
        ]
    return out


def overflow_ticket(session: Session, *, ticket_id: int, now: Any) -> bool:
    """Move one long-waiting ticket to its center's ``busy`` backup if that center is open (caller commits)."""
    ticket = store.lock_ticket(session, ticket_id)
    if ticket is None or ticket.status != TicketStatus.QUEUED:
        return False
    center = session.get(Center, ticket.center_id)
    lookup = service.center_lookup(session)
    target = lookup.get((center.backup_rules or {}).get("busy", "")) if center else None
    if center is None or target is None or target.id == center.id or not calendar.is_open(target, now):
        return False
    waited = int((now - (ticket.queued_at or now)).total_seconds())
    service.move_to_center(
        session,
        ticket,
        target,
        kind="overflow",
        now=now,
        reason=f"waited {waited} s at {center.code} (busy overflow)",
    )
    return True


def on_routing_event(event: dict[str, Any]) -> None:
    """A counselor became available: give them queued work of their center."""
    if event.get("kind") == "presence" and (event.get("detail") or {}).get("status") == "available":
        center_id = event.get("center_id")
        if center_id is not None:
            dispatch(int(center_id))
