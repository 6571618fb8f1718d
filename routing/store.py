"""Reading routing snapshots from the database and taking the locks that make claims safe.

Lock order, everywhere: tickets first, then presence rows (so two writers never wait on each other
in opposite orders). On PostgreSQL tickets are claimed with ``FOR UPDATE SKIP LOCKED`` (a ticket
another process is routing is simply skipped; a dispatch plans on an unlocked snapshot and locks
only the tickets its plan offers) and a counselor's capacity is guarded by
``FOR UPDATE`` on their presence row: every change to a counselor's load (offer, transfer) holds that
lock and recounts the load after taking it. On SQLite the engine's ``BEGIN IMMEDIATE`` serializes
writers, so the locks are not needed. The dispatch round's reads and locks run on PostgreSQL as
constant SQL texts (:mod:`routing.pg_dispatch`), the SQLAlchemy statements here on SQLite.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import ARRAY, Integer, Text, any_, cast, func, literal, text, union_all
from sqlmodel import Session, col, select

from crm.models import Ticket, TicketStatus, User
from routing import pg_dispatch
from routing.models import Offer, OfferStatus, Presence, PresenceStatus, RoutingLog
from routing.policy import AgentView, TicketView

HELD_STATUSES = (TicketStatus.ASSIGNED, TicketStatus.WAITING_ON_CONSUMER)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """``column IN ids``; on PostgreSQL ``column = ANY(:array)``: one bound array, so the SQL text
    is the same whatever the number of ids (psycopg parses each distinct query text, and a long
    IN list made every dispatch round a new one)."""
    values = list(ids)
    if is_postgres(session):
        return column == any_(literal(values, ARRAY(Integer)))
    return column.in_(values)


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


TICKET_VIEW_COLUMNS = (
    Ticket.id,
    Ticket.center_id,
    Ticket.channel,
    Ticket.queued_at,
    Ticket.created_at,
    Ticket.language,
    Ticket.required_skills,
    Ticket.qualification_required,
    Ticket.serious_accident,
    Ticket.special_consideration,
    Ticket.priority,
)


def queued_views(session: Session, center_id: int, limit: int) -> list[TicketView]:
    """Up to ``limit`` queued tickets of a center, oldest first, unlocked (a planning snapshot);
    plain column reads (no ORM objects: the dispatch hot path)."""
    stmt = (
        select(*TICKET_VIEW_COLUMNS)  # type: ignore[call-overload]  # sqlmodel's stubs stop at 4 columns
        .where(Ticket.center_id == center_id, Ticket.status == TicketStatus.QUEUED)
        .order_by(col(Ticket.queued_at), col(Ticket.id))
        .limit(limit)
    )
    return [_ticket_row(r) for r in session.execute(stmt).all()]


def queued_views_if_locked(session: Session, center_id: int, limit: int) -> list[TicketView]:
    """:func:`try_lock_center` and :func:`queued_views` in one round trip on PostgreSQL: the
    queued tickets, or none if another process holds the center's dispatch lock."""
    if not is_postgres(session):
        return queued_views(session, center_id, limit)
    return [
        _ticket_row(r)
        for r in pg_dispatch.queued_if_locked(session, DISPATCH_LOCK_NAMESPACE, center_id, limit)
    ]


def lock_still_queued(session: Session, center_id: int, ticket_ids: Sequence[int]) -> set[int]:
    """Of these tickets, the ids still queued at this center, row-locked on PostgreSQL (``SKIP
    LOCKED``: a ticket another process is routing is left out), in id order."""
    if not ticket_ids:
        return set()
    if is_postgres(session):
        return pg_dispatch.lock_still_queued(session, center_id, ticket_ids)
    stmt = (
        select(Ticket.id)
        .where(
            among(session, col(Ticket.id), ticket_ids),
            Ticket.center_id == center_id,
            Ticket.status == TicketStatus.QUEUED,
        )
        .order_by(col(Ticket.id))
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return set(session.execute(stmt).scalars().all())


def _ticket_row(row: Any) -> TicketView:
    tid, center, channel, queued, created, language, skills, qualification, serious, special, prio = row
    return TicketView(
        id=tid,
        center_id=center,
        channel=channel,
        waiting_since=queued or created,
        language=language or "ja",
        required_skills=frozenset(skills or ()),
        qualification_required=bool(qualification),
        serious_accident=bool(serious),
        special_consideration=bool(special),
        priority=prio or 0,
    )


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


def claim_agents(
    session: Session, center_id: int, user_ids: Sequence[int], snapshot: Mapping[int, AgentView] | None = None
) -> dict[int, AgentView]:
    """Lock the presence rows of these counselors (skipping rows another process holds), in id order,
    and return those still available, their load counted by a statement run after the lock.

    With ``snapshot`` (this transaction's planning views of them), only what can change under the
    presence lock is read again: status, the presence's capacity override and the load."""
    if not user_ids:
        return {}
    if snapshot is None or any(uid not in snapshot for uid in user_ids):
        return {a.id: a for a in agent_views(session, center_id, user_ids=user_ids, lock=True)}
    if is_postgres(session):
        claimed = pg_dispatch.claim(session, user_ids)
        load = pg_dispatch.loads(session, [r[0] for r in claimed], None)
        return {
            uid: replace(snapshot[uid], capacity=_caps_of(pcap) or _caps_of(ucap), load=load.get(uid, {}))
            for uid, pcap, ucap in claimed
        }
    stmt = (
        select(Presence.user_id, _as_text(Presence.capacity), _as_text(User.capacity))
        .join(User, col(User.id) == col(Presence.user_id))
        .where(among(session, col(Presence.user_id), user_ids), Presence.status == PresenceStatus.AVAILABLE)
        .order_by(col(Presence.user_id))
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(of=Presence, skip_locked=True)  # type: ignore[arg-type]
    rows = session.execute(stmt).all()
    load = loads(session, [r[0] for r in rows])
    return {
        uid: replace(
            snapshot[uid], capacity=_caps_of(presence_cap) or _caps_of(user_cap), load=load.get(uid, {})
        )
        for uid, presence_cap, user_cap in rows
    }


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
    if is_postgres(session):
        return pg_dispatch.loads(session, user_ids, center_id)
    held = select(Ticket.assignee_id, Ticket.channel, func.count()).where(
        col(Ticket.status).in_(HELD_STATUSES)
    )
    offered = select(Offer.user_id, Offer.channel, func.count()).where(Offer.status == OfferStatus.PENDING)
    if user_ids is not None:
        held = held.where(among(session, col(Ticket.assignee_id), user_ids))
        offered = offered.where(among(session, col(Offer.user_id), user_ids))
    else:
        held = held.join(User, col(User.id) == col(Ticket.assignee_id)).where(User.center_id == center_id)
        offered = offered.join(User, col(User.id) == col(Offer.user_id)).where(User.center_id == center_id)
    held = held.group_by(col(Ticket.assignee_id), col(Ticket.channel))
    offered = offered.group_by(col(Offer.user_id), col(Offer.channel))
    for uid, channel, n in session.execute(union_all(held, offered)).all():
        out[uid][channel] = out[uid].get(channel, 0) + int(n)
    return out


def _as_text(column: Any) -> Any:
    """A JSON column read as its text: decoded once per distinct value by the cached parsers below
    (counselors share a handful of skill sets and capacities; decoding every row was most of a
    dispatch round's client CPU)."""
    return cast(column, Text).label(f"{column.table.name}_{column.key}_text")


AGENT_COLUMNS = (
    User.id,
    User.center_id,
    _as_text(User.skills),
    _as_text(User.languages),
    _as_text(User.qualifications),
    _as_text(User.capacity),
    Presence.status,
    _as_text(Presence.capacity),
    Presence.last_assigned_at,
    Presence.missed_offers,
)


@lru_cache(maxsize=4096)
def _set_of(raw: str | None) -> frozenset[str]:
    value = json.loads(raw) if raw else None
    return frozenset(str(v) for v in value) if value else frozenset()


@lru_cache(maxsize=4096)
def _caps_of(raw: str | None) -> Mapping[str, int]:
    value = json.loads(raw) if raw else None
    return MappingProxyType({str(k): int(v) for k, v in value.items()} if value else {})


def agent_views(
    session: Session, center_id: int, *, user_ids: Iterable[int] | None = None, lock: bool = False
) -> list[AgentView]:
    """Available counselors of a center (or those of ``user_ids`` among them) with their current
    load: plain column reads, so a call after taking a lock always sees the latest committed rows.
    ``lock`` (PostgreSQL): lock their presence rows first, skipping rows another process holds."""
    if user_ids is None and not lock and is_postgres(session):
        found = pg_dispatch.agents(session, center_id)
        load = (
            loads(session, center_id=center_id) if len(found) > 50 else loads(session, [r[0] for r in found])
        )
        return [_view_row(r, load.get(r[0], {})) for r in found]
    stmt = (
        select(*AGENT_COLUMNS)  # type: ignore[call-overload]  # sqlmodel's stubs stop at 4 columns
        .join(Presence, col(Presence.user_id) == col(User.id))
        .where(
            User.center_id == center_id,
            col(User.is_active).is_(True),
            Presence.status == PresenceStatus.AVAILABLE,
        )
        .order_by(col(User.id))
    )
    if user_ids is not None:
        stmt = stmt.where(among(session, col(User.id), list(user_ids)))
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
    caps = _caps_of(presence_cap) or _caps_of(user_cap)
    return AgentView(
        id=uid,
        center_id=center,
        status=getattr(status, "value", status),
        skills=_set_of(skills),
        languages=_set_of(languages) or frozenset(("ja",)),
        qualifications=_set_of(quals),
        capacity=caps,
        load=load,
        idle_since=last,
        consecutive_missed=missed,
    )


PASSED = (OfferStatus.DECLINED, OfferStatus.TIMED_OUT, OfferStatus.CANCELLED)


REFUSED = (OfferStatus.DECLINED, OfferStatus.TIMED_OUT)
PassSets = dict[int, frozenset[int]]


def pass_sets(
    session: Session, ticket_ids: Sequence[int], *, blocked_since: datetime | None
) -> tuple[PassSets, PassSets]:
    """Per ticket, in one statement: who passed on it (declined, timed out, lost it going offline:
    the policy's ``exclude``), and who declined or let it time out after ``blocked_since``
    (the policy's ``blocked``: not offered the same ticket again before the re-offer delay)."""
    passed: dict[int, set[int]] = defaultdict(set)
    blocked: dict[int, set[int]] = defaultdict(set)
    if ticket_ids:
        if is_postgres(session):
            rows: Sequence[Any] = pg_dispatch.passed(session, ticket_ids)
        else:
            rows = session.exec(
                select(Offer.ticket_id, Offer.user_id, Offer.status, Offer.decided_at).where(
                    among(session, col(Offer.ticket_id), ticket_ids), col(Offer.status).in_(PASSED)
                )
            ).all()
        for tid, uid, status, decided in rows:
            passed[tid].add(uid)
            if blocked_since is not None and status in REFUSED and decided and decided > blocked_since:
                blocked[tid].add(uid)
    return {k: frozenset(v) for k, v in passed.items()}, {k: frozenset(v) for k, v in blocked.items()}


def pending_offer(session: Session, ticket_id: int) -> Offer | None:
    return session.exec(select(Offer).where(Offer.active_ticket_id == ticket_id)).first()


def waiting_since(ticket: Ticket) -> datetime:
    return ticket.queued_at or ticket.created_at


ABANDONED = "abandoned"  # RoutingLog kind: the consumer hung up while queued (routing.acd)


def abandoned_place(session: Session, ticket: Ticket, now: datetime, window: timedelta) -> datetime | None:
    """``queued_at`` of the same contact's ticket on the same channel abandoned within ``window``
    before ``now`` (the newest such), or None."""
    if window <= timedelta(0):
        return None
    return session.exec(
        select(Ticket.queued_at)
        .join(RoutingLog, col(RoutingLog.ticket_id) == col(Ticket.id))
        .where(
            RoutingLog.kind == ABANDONED,
            col(RoutingLog.at) >= now - window,
            col(RoutingLog.at) <= now,
            Ticket.contact_id == ticket.contact_id,
            Ticket.channel == ticket.channel,
            Ticket.id != ticket.id,
            col(Ticket.queued_at).is_not(None),
        )
        .order_by(col(RoutingLog.at).desc())
    ).first()
