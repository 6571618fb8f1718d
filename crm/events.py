"""Domain events (past tense, frozen) and their dispatch after commit.

Services call :func:`record_event` inside their transaction. When the session commits, each event is
(1) broadcast to live subscribers (dashboards, SSE) and (2) handed to every registered handler as a
job, so a handler runs once per event however many API processes there are. A rolled-back
transaction publishes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class DomainEvent:
    @property
    def name(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.name, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class MessageReceived(DomainEvent):
    ticket_id: int
    message_id: int
    center_id: int
    channel: str
    ticket_created: bool
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class ReplyQueued(DomainEvent):
    ticket_id: int
    message_id: int
    outbox_id: int
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class MessageDeliveryChanged(DomainEvent):
    ticket_id: int
    message_id: int
    status: str
    error: str | None = None
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class TicketChanged(DomainEvent):
    ticket_id: int
    center_id: int
    status: str
    changes: tuple[str, ...] = ()
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class TicketResolved(DomainEvent):
    ticket_id: int
    center_id: int
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class CallEnded(DomainEvent):
    """A phone call's end as its channel reported it (``abandoned``: hung up while waiting)."""

    ticket_id: int
    center_id: int
    status: str
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class SeriousAccidentSuspected(DomainEvent):
    ticket_id: int
    center_id: int
    reasons: tuple[str, ...] = ()
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class AccidentNotificationOverdue(DomainEvent):
    """A 重大事故等 is still not notified past the deadline (crm.accident_escalation); ``report_id``
    None: the ticket was flagged but nobody opened a notification draft."""

    ticket_id: int
    center_id: int
    elapsed_seconds: int
    report_id: int | None = None
    report_no: int | None = None
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class PossibleAccidentNoticed(DomainEvent):
    """The screener's 要確認: a possible 重大事故等 a counselor must confirm (crm.accident_checks)."""

    ticket_id: int
    center_id: int
    check_id: int
    reasons: tuple[str, ...] = ()
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class AccidentCheckOverdue(DomainEvent):
    """A possible 重大事故等 is still not judged past the center's deadline (crm.accident_checks)."""

    ticket_id: int
    center_id: int
    check_id: int
    pending_seconds: int
    at: str = field(default_factory=_now)


@dataclass(frozen=True)
class RoutingEvent(DomainEvent):
    """Any routing state change: offered, accepted, declined, timed_out, assigned, overflowed, presence."""

    kind: str
    center_id: int | None = None
    ticket_id: int | None = None
    user_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=_now)


Dispatcher = Callable[[DomainEvent], None]
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Wiring installs the function that broadcasts and enqueues handlers (see config.wiring)."""
    global _dispatcher
    _dispatcher = dispatcher


def record_event(session: Session, event: DomainEvent) -> None:
    """Queue ``event`` to be published when ``session`` commits (dropped if it rolls back)."""
    session.info.setdefault("pending_events", []).append(event)


@sa_event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    events = session.info.pop("pending_events", [])
    if not events or _dispatcher is None:
        return
    for ev in events:
        try:
            _dispatcher(ev)
        except Exception:  # a broken subscriber must not undo a committed transaction
            log.exception("publishing %s failed", ev.name)


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("pending_events", None)
