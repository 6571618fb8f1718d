"""Routing tables: counselor presence, offers (TaskRouter's reservations), and a routing log.

At most one pending offer per ticket is enforced by the database: ``Offer.active_ticket_id`` equals
``ticket_id`` while the offer is pending and is NULL otherwise, under a UNIQUE constraint (NULLs do
not collide on SQLite or PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON as SA_JSON
from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm.models import utcnow


class PresenceStatus(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AFTER_CALL_WORK = "after_call_work"
    BREAK = "break"
    OFFLINE = "offline"


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class Presence(SQLModel, table=True):
    """A counselor's routing state; the row is also the lock that guards their capacity."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    status: PresenceStatus = Field(default=PresenceStatus.OFFLINE, max_length=16, index=True)
    since: datetime = Field(default_factory=utcnow)
    last_heartbeat: datetime = Field(default_factory=utcnow)
    missed_offers: int = 0  # consecutive timeouts; reset by an accept
    wrap_up_until: datetime | None = None  # after-call work ends then: back to available (routing.acd)
    last_assigned_at: datetime | None = None
    capacity: dict[str, Any] = Field(default_factory=dict, sa_column=Column(SA_JSON, nullable=False))
    version: int = 0


class Offer(SQLModel, table=True):
    """A ticket offered to one counselor until accepted, declined, timed out or cancelled."""

    __table_args__ = (
        UniqueConstraint("active_ticket_id", name="uq_offer_active_ticket"),
        Index("ix_offer_status_expires", "status", "expires_at"),
        Index("ix_offer_user_status", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    active_ticket_id: int | None = Field(default=None)  # = ticket_id while pending, else NULL
    user_id: int = Field(foreign_key="user.id")
    center_id: int = Field(foreign_key="center.id")
    channel: str = Field(max_length=16)
    status: OfferStatus = Field(default=OfferStatus.PENDING, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    decided_at: datetime | None = None
    reason: str = Field(default="", max_length=300)


class RoutingLog(SQLModel, table=True):
    """Why routing did what it did (kept for supervisors and for tuning the policy). Offers and
    accepts are not repeated here: the Offer row records who, when (created/decided) and why."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    kind: str = Field(max_length=32)
    ticket_id: int | None = Field(default=None, index=True)
    user_id: int | None = None
    center_id: int | None = None
    detail: str = Field(default="", max_length=500)


class QueueEvent(SQLModel, table=True):
    """One line of the append-only voice queue log (event names after Asterisk's queue_log).

    ``key`` makes a redelivered webhook a no-op (unique); rows are never updated or deleted:
    every ACD figure is computed from them (routing.acd_stats).
    """

    __table_args__ = (
        UniqueConstraint("key", name="uq_queueevent_key"),
        Index("ix_queueevent_queue_at", "queue", "at"),
        Index("ix_queueevent_call", "call_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow)
    call_id: str = Field(max_length=64)  # Twilio CallSid
    queue: str = Field(max_length=32)  # center code
    agent: str = Field(default="", max_length=32)  # counselor user id, when one is involved
    event: str = Field(max_length=20)  # ENTERQUEUE, CONNECT, ABANDON, ... (routing.queue_log.EVENTS)
    wait_seconds: float | None = None  # ABANDON, CONNECT, EXITWITHTIMEOUT, CALLBACK, VOICEMAIL
    talk_seconds: float | None = None  # COMPLETECALLER, COMPLETEAGENT
    position: int | None = None  # ENTERQUEUE: place in line on arrival
    data: str = Field(default="", max_length=200)  # e.g. transfer target, timeout reason
