"""Routing actions: load snapshots, ask the pure policy, write the outcome (the only I/O around it).

* :func:`enqueue_ticket`: a new or returning ticket joins its center's queue (or a backup center's
  when its own is closed); returns the after-hours answer when nobody is open.
* :func:`route_ticket`: offer one queued ticket to the counselor the policy picks.
* :func:`dispatch_center`: offer many queued tickets of a center at once (plan_assignments), used
  when counselors become available or free capacity, and by the periodic sweep.

Functions take the caller's session and do not commit, except where the name says so; jobs wrap
them in ``session_scope``. Locking rules are in :mod:`routing.store`. Every state change records a
``RoutingEvent`` (published after commit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session, select

from config.settings import Settings
from crm.events import RoutingEvent, record_event
from crm.lifecycle import transition
from crm.messaging import capabilities_of
from crm.models import Center, Note, Ticket, TicketStatus, User, utcnow
from crm.services import post_automatic_reply
from routing import bulk, calendar, store
from routing.models import Offer, OfferStatus, RoutingLog
from routing.policy import Assign, choose_counselor, plan_assignments

ROUTABLE = (TicketStatus.NEW, TicketStatus.QUEUED)
MAX_CLAIM_RETRIES = 3


@dataclass(frozen=True)
class EnqueueResult:
    ticket_id: int
    center_id: int
    queued: bool
    moved_from: int | None = None
    after_hours_text: str | None = None


def emit(
    session: Session,
    kind: str,
    *,
    ticket: Ticket | None = None,
    user_id: int | None = None,
    center_id: int | None = None,
    detail: dict[str, object] | None = None,
    log: str = "",
    logged: bool = True,
) -> None:
    """Record a RoutingEvent (published after commit) and, if ``logged``, a RoutingLog row (offers and
    accepts pass False: the Offer row already records who, when and why)."""
    cid = center_id if center_id is not None else (ticket.center_id if ticket else None)
    tid = ticket.id if ticket else None
    record_event(
        session, RoutingEvent(kind=kind, center_id=cid, ticket_id=tid, user_id=user_id, detail=detail or {})
    )
    if logged:
        session.add(RoutingLog(kind=kind, ticket_id=tid, user_id=user_id, center_id=cid, detail=log[:500]))


def emit_presence(session: Session, user_id: int, detail: dict[str, object]) -> None:
    """Announce a counselor's presence change to their center's consoles (and the routing log)."""
    user = session.get(User, user_id)
    emit(session, "presence", user_id=user_id, center_id=user.center_id if user else None, detail=detail)


def touch(ticket: Ticket, now: datetime) -> None:
    ticket.updated_at = now
    ticket.version += 1


def center_lookup(session: Session) -> dict[str, Center]:
    return {c.code: c for c in session.exec(select(Center)).all()}


def enqueue_ticket(
    session: Session, *, ticket_id: int, now: datetime | None = None, settings: Settings | None = None
) -> EnqueueResult:
    """Put a new ticket in the queue of the center that is open for it now (own, backup or parent).

    With ``settings``, a new ticket of a consumer who abandoned a queued ticket on the same channel
    within ``abandoned_resume_seconds`` takes that ticket's place (its ``queued_at``)."""
    now = now or utcnow()
    ticket = store.lock_ticket(session, ticket_id, skip_locked=False)
    if ticket is None:
        raise LookupError(f"ticket {ticket_id} does not exist")
    if ticket.status not in ROUTABLE:
        return EnqueueResult(ticket_id, ticket.center_id, queued=False)
    own = session.get(Center, ticket.center_id)
    assert own is not None
    handling = calendar.resolve_handling_center(own, now, center_lookup(session).get)
    moved_from = None
    text = None
    if handling.center is None:
        text = calendar.after_hours_text(own, ticket.channel, now, ticket.language or "ja")
        sent = answer_after_hours(session, ticket, own, text, now)
        emit(
            session,
            "after_hours",
            ticket=ticket,
            detail={"text": text, "chain": list(handling.chain), "answered": sent},
            log=handling.reason,
        )
    elif handling.center.id != ticket.center_id:
        moved_from = ticket.center_id
        move_to_center(session, ticket, handling.center, reason=handling.reason, kind="backup", now=now)
    if ticket.status == TicketStatus.NEW or ticket.queued_at is None:
        window = timedelta(seconds=settings.abandoned_resume_seconds if settings else 0)
        resumed = store.abandoned_place(session, ticket, now, window) if ticket.queued_at is None else None
        ticket.queued_at = ticket.queued_at or resumed or now
    transition(session, ticket, TicketStatus.QUEUED, reason="queued", actor="routing")
    touch(ticket, now)
    session.add(ticket)
    emit(session, "queued", ticket=ticket, detail={"moved_from": moved_from})
    return EnqueueResult(ticket.id or 0, ticket.center_id, True, moved_from, text)


AFTER_HOURS_ANSWER = "after_hours_answer"


def answer_after_hours(session: Session, ticket: Ticket, center: Center, text: str, now: datetime) -> bool:
    """Send the after-hours answer once per ticket per closed period (the period is named by the
    center's next opening), not to every message of the night. True if an answer was queued now."""
    opening = calendar.next_opening(center, now)
    period = opening.isoformat() if opening else "closed"
    done = session.exec(
        select(RoutingLog.id).where(
            RoutingLog.ticket_id == ticket.id,
            RoutingLog.kind == AFTER_HOURS_ANSWER,
            RoutingLog.detail == period,
        )
    ).first()
    if done is not None:
        return False
    message = post_automatic_reply(session, ticket=ticket, body=text, commit=False)
    session.add(
        RoutingLog(kind=AFTER_HOURS_ANSWER, ticket_id=ticket.id, center_id=ticket.center_id, detail=period)
    )
    return message is not None


def move_to_center(
    session: Session,
    ticket: Ticket,
    target: Center,
    *,
    reason: str,
    kind: str,
    now: datetime,
    author_id: int | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    """Hand a ticket to another center's queue; the reason goes on the timeline as a note.
    ``extra`` joins the event's detail (a warm transfer says so: the call is connected already)."""
    source = ticket.center_id
    cancel_pending_offer(session, ticket, now=now, reason=f"moved to {target.code}")
    ticket.center_id = target.id  # type: ignore[assignment]
    ticket.assignee_id = None
    transition(session, ticket, TicketStatus.QUEUED, reason=reason, actor="routing")
    touch(ticket, now)
    session.add(ticket)
    note_kind = "transfer" if kind in ("transfer", "backup", "overflow") else kind
    assert ticket.id is not None  # a stored ticket
    session.add(
        Note(
            ticket_id=ticket.id,
            author_id=author_id,
            kind=note_kind,  # type: ignore[arg-type]
            body=f"Routed to {target.name} ({target.code}): {reason}",
        )
    )
    emit(
        session,
        "overflowed" if kind in ("backup", "overflow") else "transferred",
        ticket=ticket,
        detail={
            "from_center_id": source,
            "to_center_id": target.id,
            "reason": reason,
            "kind": kind,
            **(extra or {}),
        },
        log=reason,
    )


def cancel_pending_offer(session: Session, ticket: Ticket, *, now: datetime, reason: str) -> Offer | None:
    offer = store.pending_offer(session, ticket.id or 0)
    if offer is None:
        return None
    close_offer(offer, OfferStatus.CANCELLED, now, reason)
    session.add(offer)
    emit(session, "offer_cancelled", ticket=ticket, user_id=offer.user_id, detail={"offer_id": offer.id})
    return offer


def close_offer(offer: Offer, status: OfferStatus, now: datetime, reason: str = "") -> None:
    offer.status = status
    offer.active_ticket_id = None
    offer.decided_at = now
    if reason:
        offer.reason = reason[:300]


def offer_timeout(settings: Settings, channel: str) -> timedelta:
    realtime = capabilities_of(channel).realtime  # the consumer is waiting on the line
    seconds = settings.offer_timeout_voice if realtime else settings.offer_timeout_message
    return timedelta(seconds=seconds)


def route_ticket(
    session: Session, *, ticket_id: int, now: datetime | None = None, settings: Settings
) -> Offer | None:
    """Offer a queued ticket to the best counselor; None if held (nobody eligible) or not routable."""
    now = now or utcnow()
    ticket = store.lock_ticket(session, ticket_id)
    if ticket is None or ticket.status not in ROUTABLE or store.pending_offer(session, ticket_id):
        return None
    return _route_locked(session, ticket, now, settings)


def _route_locked(
    session: Session, ticket: Ticket, now: datetime, settings: Settings, never: frozenset[int] = frozenset()
) -> Offer | None:
    view = store.ticket_view(ticket)
    since = now - timedelta(seconds=settings.reoffer_delay)
    passed, blocked = store.pass_sets(session, [ticket.id or 0], blocked_since=since)
    exclude, hard = passed.get(ticket.id or 0, frozenset()), blocked.get(ticket.id or 0, frozenset())
    agents = store.agent_views(session, ticket.center_id)
    snapshot = {a.id: a for a in agents}
    lost: set[int] = set(never)
    for _ in range(MAX_CLAIM_RETRIES):
        decision = choose_counselor(view, [a for a in agents if a.id not in lost], now, exclude, blocked=hard)
        if not isinstance(decision, Assign):
            emit(session, "held", ticket=ticket, detail={"reason": decision.reason}, log=decision.reason)
            return None
        fresh = store.claim_agents(session, ticket.center_id, [decision.agent_id], snapshot).get(
            decision.agent_id
        )
        if fresh is not None and fresh.free_on(ticket.channel):
            return create_offer(session, ticket, decision.agent_id, now, settings, decision.reason)
        lost.add(decision.agent_id)  # another process took their capacity or holds their lock
    return None


def create_offer(
    session: Session, ticket: Ticket, user_id: int, now: datetime, settings: Settings, reason: str
) -> Offer:
    """Write the offer (its counselor's presence row must be locked by the caller on PostgreSQL)."""
    assert ticket.id is not None  # a stored ticket
    offer = Offer(
        ticket_id=ticket.id,
        active_ticket_id=ticket.id,
        user_id=user_id,
        center_id=ticket.center_id,  # type: ignore[arg-type]
        channel=ticket.channel,
        created_at=now,
        expires_at=now + offer_timeout(settings, ticket.channel),
        reason=reason[:300],
    )
    session.add(offer)
    transition(session, ticket, TicketStatus.OFFERED, reason=reason, actor="routing")
    touch(ticket, now)
    session.add(ticket)
    session.flush()
    _emit_offered(session, offer, ticket, user_id, reason)
    return offer


def dispatch_center(
    session: Session,
    *,
    center_id: int,
    now: datetime | None = None,
    limit: int = 200,
    settings: Settings,
) -> list[bulk.OfferRef]:
    """Offer as many queued tickets of a center as free capacity allows, in priority order.

    Plan on an unlocked snapshot, then lock only the tickets and counselors the plan picked (``SKIP
    LOCKED``), recount the counselors' load under the lock and keep the planned offers that still
    fit; the rest stay queued for the next round. Offers are written in two bulk statements
    (:mod:`routing.bulk`). On PostgreSQL one process at a time dispatches a center (a
    transaction-scoped advisory lock, taken by the statement that reads the queue; others return
    at once and do other work), while different
    centers dispatch in parallel. The capacity guarantee does not depend on the advisory lock: every
    offer is written under its counselor's presence lock after a recount (see :mod:`routing.store`).
    """
    now = now or utcnow()
    views = store.queued_views_if_locked(session, center_id, limit)
    if not views:
        return []  # the common sweep case (or another process dispatches): one indexed read
    agents = store.agent_views(session, center_id)
    if not any(a.free_on(ch) for a in agents for ch in a.capacity):
        return []  # nobody has room: nothing to lock, nothing to write
    since = now - timedelta(seconds=settings.reoffer_delay)
    exclude, blocked = store.pass_sets(session, [t.id for t in views], blocked_since=since)
    plan = [
        (tv, d) for tv, d in plan_assignments(views, agents, now, exclude, blocked) if isinstance(d, Assign)
    ]
    locked = store.lock_still_queued(session, center_id, [tv.id for tv, _ in plan])
    plan = [(tv, d) for tv, d in plan if tv.id in locked]  # others: routed elsewhere meanwhile
    if not plan:
        return []
    snapshot = {a.id: a for a in agents}
    fresh = store.claim_agents(session, center_id, sorted({d.agent_id for _, d in plan}), snapshot)
    kept: list[bulk.Pick] = []
    for tv, d in plan:
        agent = fresh.get(d.agent_id)
        if agent is None or not agent.free_on(tv.channel):
            continue  # locked by another process, gone unavailable, or capacity taken meanwhile
        load = dict(agent.load)
        load[tv.channel] = load.get(tv.channel, 0) + 1
        fresh[d.agent_id] = replace(agent, load=load)
        kept.append((tv, d.agent_id, d.reason))
    timeouts = {ch: offer_timeout(settings, ch) for ch in {tv.channel for tv, _, _ in kept}}
    return bulk.write_offers(session, kept, now, timeouts)


def _emit_offered(session: Session, offer: Offer, ticket: Ticket, user_id: int, reason: str) -> None:
    emit(
        session,
        "offered",
        ticket=ticket,
        user_id=user_id,
        detail={"offer_id": offer.id, "expires_at": offer.expires_at.isoformat(), "reason": reason},
        logged=False,
    )
