"""Reading routing snapshots from the database and taking the locks that make claims safe.

Lock order, everywhere: tickets first, then presence rows (so two writers never wait on each other
in opposite orders). On PostgreSQL tickets are claimed with ``FOR UPDATE SKIP LOCKED`` (a ticket
another process is routing is simply skipped) and a counselor's capacity is guarded by
``FOR UPDATE`` on their presence row: every change to a counselor's load (offer, transfer) holds that
lock and recounts the load after taking it. On SQLite the engine's ``BEGIN IMMEDIATE`` serializes
writers, so the locks are not needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, text, union_all
from sqlmodel import Session, col, select

from crm.models import Ticket, TicketStatus, User
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from routing.policy import AgentView, TicketView

HELD_STATUSES = (TicketStatus.ASSIGNED, TicketStatus.WAITING_ON_CONSUMER)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_ticket(session: Session, ticket_id: int, *, skip_locked: bool = True) -> Ticket | None:
    """The ticket, row-locked on PostgreSQL; None if missing or (skip_locked) another process holds it."""
    stmt = select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return session.exec(stmt).first()


def lock_offer_ticket(session: Session, offer_id: int) -> Ticket | None:
    """The ticket of an offer, row-locked on PostgreSQL (waits for a holder): one round trip."""
    owner = select(Offer.ticket_id).where(Offer.id == offer_id).scalar_subquery()
    stmt = select(Ticket).where(Ticket.id == owner).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update(of=Ticket)  # type: ignore[arg-type]
    return session.exec(stmt).first()


def lock_queued_tickets(session: Session, center_id: int, limit: int) -> list[Ticket]:
    """Up to ``limit`` queued tickets of a center, oldest first, skipping those being routed elsewhere."""
    stmt = (
        select(Ticket)
        .where(Ticket.center_id == center_id, Ticket.status == TicketStatus.QUEUED)
        .order_by(col(Ticket.queued_at), col(Ticket.id))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.exec(stmt).all())


DISPATCH_LOCK_NAMESPACE = 0x5254  # pg advisory lock key space of routing dispatch ("RT")


def try_lock_center(session: Session, center_id: int) -> bool:
    """PostgreSQL: take the center's dispatch lock for this transaction, or False if another process
    holds it. SQLite: always True (``BEGIN IMMEDIATE`` already serializes writers)."""
    if not is_postgres(session):
        return True
    got = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:ns, :center)"),
        {"ns": DISPATCH_LOCK_NAMESPACE, "center": center_id},
    ).scalar()
    return bool(got)


def claim_agents(session: Session, center_id: int, user_ids: Sequence[int]) -> dict[int, AgentView]:
    """Lock the presence rows of these counselors (skipping rows another process holds), in id order,
    and return those still available, their load counted by a statement run after the lock."""
    if not user_ids:
        return {}
    return {a.id: a for a in agent_views(session, center_id, user_ids=user_ids, lock=True)}


def lock_presence(session: Session, user_id: int, *, skip_locked: bool = False) -> Presence | None:
    stmt = select(Presence).where(Presence.user_id == user_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return session.exec(stmt).first()


def ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.id,  # type: ignore[arg-type]
        center_id=ticket.center_id,
        channel=ticket.channel,
        waiting_since=ticket.queued_at or ticket.created_at,
        language=ticket.language or "ja",
        required_skills=frozenset(ticket.required_skills or ()),
        qualification_required=ticket.qualification_required,
        serious_accident=ticket.serious_accident,
        special_consideration=ticket.special_consideration,
        priority=ticket.priority,
    )


def capacity_of(user: User, presence: Presence) -> dict[str, int]:
    """The presence's capacity override if set, else the counselor's configured capacity."""
    source = presence.capacity or user.capacity or {}
    return {str(k): int(v) for k, v in source.items()}


def loads(
    session: Session, user_ids: Sequence[int] | None = None, *, center_id: int | None = None
) -> dict[int, dict[str, int]]:
    """Per counselor, per channel: tickets held (assigned or waiting on the consumer) + pending offers.

    For the counselors ``user_ids``, or (``center_id``) for every counselor of that center; one
    statement, so both counts come from the same snapshot.
    """
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if user_ids is not None and not user_ids:
        return out
    held = select(Ticket.assignee_id, Ticket.channel, func.count()).where(
        col(Ticket.status).in_(HELD_STATUSES)
    )
    offered = select(Offer.user_id, Offer.channel, func.count()).where(Offer.status == OfferStatus.PENDING)
    if user_ids is not None:
        held = held.where(col(Ticket.assignee_id).in_(list(user_ids)))
        offered = offered.where(col(Offer.user_id).in_(list(user_ids)))
    else:
        held = held.join(User, col(User.id) == col(Ticket.assignee_id)).where(User.center_id == center_id)
        offered = offered.join(User, col(User.id) == col(Offer.user_id)).where(User.center_id == center_id)
    held = held.group_by(col(Ticket.assignee_id), col(Ticket.channel))
    offered = offered.group_by(col(Offer.user_id), col(Offer.channel))
    for uid, channel, n in session.execute(union_all(held, offered)).all():
        out[uid][channel] = out[uid].get(channel, 0) + int(n)
    return out


AGENT_COLUMNS = (
    User.id,
    User.center_id,
    User.skills,
    User.languages,
    User.qualifications,
    User.capacity,
    Presence.status,
    Presence.capacity,
    Presence.last_assigned_at,
    Presence.missed_offers,
)


def agent_views(
    session: Session, center_id: int, *, user_ids: Iterable[int] | None = None, lock: bool = False
) -> list[AgentView]:
    """Available counselors of a center (or those of ``user_ids`` among them) with their current
    load: plain column reads, so a call after taking a lock always sees the latest committed rows.
    ``lock`` (PostgreSQL): lock their presence rows first, skipping rows another process holds."""
    stmt = (
        select(*AGENT_COLUMNS)
        .join(Presence, col(Presence.user_id) == col(User.id))
        .where(
            User.center_id == center_id,
            col(User.is_active).is_(True),
            Presence.status == PresenceStatus.AVAILABLE,
        )
        .order_by(col(User.id))
    )
    if user_ids is not None:
        stmt = stmt.where(col(User.id).in_(list(user_ids)))
    if lock and is_postgres(session):
        stmt = stmt.with_for_update(of=Presence, skip_locked=True)  # type: ignore[arg-type]
    rows = session.execute(stmt).all()
    if user_ids is None and len(rows) > 50:
        load = loads(session, center_id=center_id)
    else:
        load = loads(session, [r[0] for r in rows])
    return [_view_row(r, load.get(r[0], {})) for r in rows]


def _view_row(row: Any, load: dict[str, int]) -> AgentView:
    uid, center, skills, languages, quals, user_cap, status, presence_cap, last, missed = row
    caps = presence_cap or user_cap or {}
    return AgentView(
        id=uid,
        center_id=center,
        status=getattr(status, "value", status),
        skills=frozenset(skills or ()),
        languages=frozenset(languages or ("ja",)),
        qualifications=frozenset(quals or ()),
        capacity={str(k): int(v) for k, v in caps.items()},
        load=load,
        idle_since=last,
        consecutive_missed=missed,
    )


PASSED = (OfferStatus.DECLINED, OfferStatus.TIMED_OUT, OfferStatus.CANCELLED)


def passed_by(session: Session, ticket_id: int) -> frozenset[int]:
    """Counselors who declined, let time out, or lost (offline) this ticket's offer."""
    return passed_by_many(session, [ticket_id]).get(ticket_id, frozenset())


def passed_by_many(session: Session, ticket_ids: Sequence[int]) -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    if ticket_ids:
        rows = session.exec(
            select(Offer.ticket_id, Offer.user_id).where(
                col(Offer.ticket_id).in_(list(ticket_ids)), col(Offer.status).in_(PASSED)
            )
        ).all()
        for tid, uid in rows:
            out[tid].add(uid)
    return {k: frozenset(v) for k, v in out.items()}


def pending_offer(session: Session, ticket_id: int) -> Offer | None:
    return session.exec(select(Offer).where(Offer.active_ticket_id == ticket_id)).first()


def waiting_since(ticket: Ticket) -> datetime:
    return ticket.queued_at or ticket.created_at
