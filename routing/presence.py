"""Counselor presence: status changes from the console, heartbeats, and the stale-heartbeat sweep.

Leaving ``available`` (busy, after-call work, break, offline, or a missed heartbeat) cancels the
counselor's pending offers and re-routes those tickets at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from config.settings import Settings
from crm.errors import BadRequest
from crm.lifecycle import transition
from crm.messaging import ChannelKind
from crm.models import Role, TicketStatus, User, utcnow
from routing import store
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from routing.service import _route_locked, close_offer, emit, emit_presence, touch

CHANNELS = tuple(k.value for k in ChannelKind)  # the one ChannelKind list
MAX_CAPACITY = 20


def validate_capacity(capacity: Mapping[str, int]) -> dict[str, int]:
    """Per-channel capacity: known channels, whole numbers 0..MAX_CAPACITY."""
    out = {}
    for channel, value in capacity.items():
        if channel not in CHANNELS:
            raise BadRequest(f"unknown channel {channel!r} in capacity; use {', '.join(CHANNELS)}")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
            raise BadRequest(f"capacity for {channel} must be a whole number from 0 to {MAX_CAPACITY}")
        out[channel] = value
    return out


def set_presence(
    session: Session,
    *,
    user: User,
    status: PresenceStatus,
    capacity: Mapping[str, int] | None = None,
    now: datetime | None = None,
    settings: Settings,
) -> Presence:
    """Change the counselor's status (and optionally capacity); commits."""
    now = now or utcnow()
    if user.role == Role.ADMIN and status == PresenceStatus.AVAILABLE:
        raise BadRequest("administrators do not take consultations; use a counselor account")
    if user.center_id is None and status == PresenceStatus.AVAILABLE:
        raise BadRequest("you belong to no center, so nothing can be routed to you")
    caps = validate_capacity(capacity) if capacity is not None else None
    if status != PresenceStatus.AVAILABLE:
        _release_offers(
            session,
            user.id or 0,
            now,
            reason=f"counselor went {status.value}",
            settings=settings,
        )
    presence = _ensure_presence(session, user.id or 0, now)
    if presence.status != status:
        presence.status = status
        presence.since = now
        presence.missed_offers = 0 if status == PresenceStatus.AVAILABLE else presence.missed_offers
        # chosen after-call work is capped too: routing.acd.end_due_wrap_ups ends it at the maximum
        acw = status == PresenceStatus.AFTER_CALL_WORK
        presence.wrap_up_until = now + timedelta(seconds=settings.wrap_up_max) if acw else None
    if caps is not None:
        presence.capacity = caps
    presence.last_heartbeat = now
    presence.version += 1
    session.add(presence)
    emit(
        session,
        "presence",
        user_id=user.id,
        center_id=user.center_id,
        detail={"status": status.value, "capacity": caps},
    )
    session.commit()
    return presence


def heartbeat(session: Session, *, user: User, now: datetime | None = None) -> Presence:
    """The console is still open (commits)."""
    now = now or utcnow()
    presence = _ensure_presence(session, user.id or 0, now)
    presence.last_heartbeat = now
    session.add(presence)
    session.commit()
    return presence


def get_presence(session: Session, user_id: int) -> Presence | None:
    return session.get(Presence, user_id)


def read_presence(session: Session, *, user: User, now: datetime | None = None) -> Presence:
    """The counselor's presence; never stored yet means offline since now (nothing is written)."""
    found = session.get(Presence, user.id)
    if found is not None:
        return found
    now = now or utcnow()
    return Presence(user_id=user.id or 0, status=PresenceStatus.OFFLINE, since=now, last_heartbeat=now)


def _ensure_presence(session: Session, user_id: int, now: datetime) -> Presence:
    presence = store.lock_presence(session, user_id)
    if presence is None:
        presence = Presence(user_id=user_id, status=PresenceStatus.OFFLINE, since=now, last_heartbeat=now)
        session.add(presence)
        session.flush()
    return presence


def stale_presence_ids(session: Session, now: datetime, timeout_seconds: int) -> list[int]:
    cutoff = now - timedelta(seconds=timeout_seconds)
    rows = session.exec(
        select(Presence.user_id).where(
            Presence.status != PresenceStatus.OFFLINE, col(Presence.last_heartbeat) < cutoff
        )
    ).all()
    return list(rows)


def mark_offline_if_stale(session: Session, *, user_id: int, now: datetime, settings: Settings) -> bool:
    """Set a counselor with no recent heartbeat offline and re-route their offers (caller commits)."""
    _release_offers(session, user_id, now, reason="no heartbeat from the console", settings=settings)
    presence = store.lock_presence(session, user_id)
    cutoff = now - timedelta(seconds=settings.presence_heartbeat_timeout)
    if presence is None or presence.status == PresenceStatus.OFFLINE or presence.last_heartbeat >= cutoff:
        return False
    presence.status = PresenceStatus.OFFLINE
    presence.since = now
    presence.version += 1
    session.add(presence)
    emit_presence(session, user_id, {"status": "offline", "reason": "no heartbeat"})
    return True


def _release_offers(session: Session, user_id: int, now: datetime, *, reason: str, settings: Settings) -> int:
    """Cancel the counselor's pending offers and route each ticket to someone else (tickets locked first)."""
    offer_ids = session.exec(
        select(Offer.id).where(Offer.user_id == user_id, Offer.status == OfferStatus.PENDING)
    ).all()
    released = 0
    for offer_id in offer_ids:
        offer = session.get(Offer, offer_id)
        ticket = store.lock_ticket(session, offer.ticket_id, skip_locked=False) if offer else None
        if offer is None or ticket is None:
            continue
        session.refresh(offer)
        if offer.status != OfferStatus.PENDING:
            continue
        close_offer(offer, OfferStatus.CANCELLED, now, reason)
        session.add(offer)
        emit(
            session,
            "offer_cancelled",
            ticket=ticket,
            user_id=user_id,
            detail={"offer_id": offer.id, "reason": reason},
        )
        transition(session, ticket, TicketStatus.QUEUED, reason=reason, actor="routing")
        touch(ticket, now)
        session.add(ticket)
        session.flush()
        _route_locked(session, ticket, now, settings, never=frozenset({user_id}))
        released += 1
    return released
