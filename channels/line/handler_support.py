"""What the LINE event handlers share: the outcome of a handler, its context, and small helpers.

Handlers run inside the job's transaction and return an :class:`Outcome`: the event's final status
and the vendor calls to make *after* the commit. Vendor calls never happen inside a transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from channels.base import ChannelError
from channels.line.events import Follow, Postback
from config.wiring import Runtime
from crm.audit import write_audit
from crm.models import (
    OPEN_STATUSES,
    AuditLog,
    Center,
    ContactIdentity,
    InboundEventStatus,
    Message,
    MessageStatus,
    Note,
    Ticket,
    TicketStatus,
    utcnow,
)

log = logging.getLogger(__name__)
CHANNEL = "line"
RETRACTED_BODY = "[unsent by the consumer — 送信取消]"
WAITING_FOR_COUNSELOR = (TicketStatus.NEW, TicketStatus.QUEUED, TicketStatus.OFFERED)
REPLY_TOKEN_SECONDS = 50  # LINE guarantees ~1 minute; keep a margin, then fall back to push
LOADING_MAX_AGE = timedelta(minutes=2)

AfterCommit = Callable[[], None]


@dataclass
class Outcome:
    """A handler's result: the event's status, why, and what to do after the commit."""

    status: InboundEventStatus = InboundEventStatus.PROCESSED
    reason: str | None = None
    after_commit: list[AfterCommit] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What every handler needs besides the session: the runtime and the LINE account's center."""

    runtime: Runtime
    center: Center


def retract(session: Session, message: Message) -> None:
    """Replace a message body by the retraction marker; the original stays in the audit log."""
    write_audit(
        session,
        actor_id=None,
        action="message.retracted",
        object_type="message",
        object_id=message.id or 0,
        detail={"body": message.body, "kind": message.kind, "line_message_id": message.external_id},
    )
    message.body = RETRACTED_BODY
    message.status = MessageStatus.RETRACTED
    message.meta = {**message.meta, "retracted_at": utcnow().isoformat()}
    session.add(message)


def unsent_before(session: Session, line_message_id: str) -> bool:
    """Whether an unsend for this LINE message arrived before the message itself."""
    return (
        session.exec(
            select(AuditLog.id).where(
                AuditLog.action == "line.unsend_pending",
                AuditLog.object_type == "line_message",
                AuditLog.object_id == line_message_id,
            )
        ).first()
        is not None
    )


def line_message(session: Session, line_message_id: str) -> Message | None:
    """Our Message for a LINE message id, if it was recorded."""
    return session.exec(
        select(Message).where(Message.channel == CHANNEL, Message.external_id == line_message_id)
    ).first()


def identity_of(session: Session, user_id: str | None) -> ContactIdentity | None:
    """The LINE identity of a user id, if we know it."""
    if not user_id:
        return None
    return session.exec(
        select(ContactIdentity).where(
            ContactIdentity.channel == CHANNEL, ContactIdentity.external_id == user_id
        )
    ).first()


def open_tickets(session: Session, contact_id: int) -> list[Ticket]:
    """The contact's tickets that are not closed."""
    return list(
        session.exec(
            select(Ticket).where(Ticket.contact_id == contact_id, col(Ticket.status).in_(OPEN_STATUSES))
        ).all()
    )


def system_note(session: Session, ticket: Ticket, body: str) -> None:
    """Add a system note to a ticket (bumps its version)."""
    session.add(Note(ticket_id=ticket.id, author_id=None, kind="system", body=body))  # type: ignore[arg-type]
    ticket.updated_at = utcnow()
    ticket.version += 1
    session.add(ticket)


def enqueue_download(ctx: Context, attachment_id: int) -> AfterCommit:
    """An after-commit action that enqueues the download of one attachment."""
    jobs = jobs_module()
    return lambda: ctx.runtime.jobs.enqueue(
        jobs.download_attachment, attachment_id, 0, job_id=f"line-download-{attachment_id}"
    )


def maybe_fetch_profile(session: Session, ctx: Context, user_id: str, out: Outcome) -> None:
    """Fetch the display name and language once per identity (after commit)."""
    identity = identity_of(session, user_id)
    if identity is not None and identity.profile_fetched_at is None:
        jobs = jobs_module()
        ident_id = identity.id
        out.after_commit.append(
            lambda: ctx.runtime.jobs.enqueue(jobs.fetch_profile, ident_id, job_id=f"line-profile-{ident_id}")
        )


def auto_answer(ctx: Context, item: Follow | Postback, text: str, *, push: bool = True) -> None:
    """Answer by reply token while it is fresh; a greeting that is too late goes by push instead."""
    adapter = adapter_of(ctx)
    if item.reply_token and age_of(item.at) < timedelta(seconds=REPLY_TOKEN_SECONDS):
        try:
            adapter.reply(item.reply_token, [text])
            return
        except ChannelError as exc:
            log.info("LINE reply for event %s failed (%s)", item.event_id, exc)
    user_id = item.user_id
    if push and user_id:
        from channels.base import ChannelKind, OutboundMessage

        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"madoguchi:line:auto:{item.event_id}"))
        best_effort(
            lambda: adapter.send(OutboundMessage(ChannelKind.LINE, user_id, text, key)),
            "automatic answer",
        )


def best_effort(fn: Callable[[], object], what: str) -> None:
    """Run a vendor call; a ChannelError is logged, never raised."""
    try:
        fn()
    except ChannelError as exc:
        log.info("LINE %s failed: %s", what, exc)


def adapter_of(ctx: Context):  # type: ignore[no-untyped-def]
    """The LINE adapter of the runtime."""
    return ctx.runtime.adapters["line"]


def age_of(at: datetime) -> timedelta:
    """How long ago ``at`` was."""
    return datetime.now(UTC) - at


def jobs_module():  # type: ignore[no-untyped-def]
    """channels.line.jobs, imported late (it imports this package)."""
    from channels.line import jobs

    return jobs
