"""What each LINE event does to the consultation record (called by the per-sender job).

Each handler runs inside the job's transaction and returns an :class:`Outcome`: the event's final
status and the vendor calls to make *after* the commit (greeting by reply token, loading
animation, leaving a group, follow-up jobs). Vendor calls never happen inside a transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from sqlmodel import Session, col, select

from channels.base import ChannelError, InboundMessage
from channels.line import messages as texts
from channels.line.events import (
    Follow,
    Ignored,
    Join,
    Leave,
    LineItem,
    MessageEdited,
    Postback,
    Unfollow,
    Unsend,
)
from config.wiring import Runtime
from crm.audit import write_audit
from crm.intake import ensure_identity, record_inbound
from crm.models import (
    OPEN_STATUSES,
    Attachment,
    AuditLog,
    Center,
    ContactIdentity,
    ContactPersonalData,
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
    status: InboundEventStatus = InboundEventStatus.PROCESSED
    reason: str | None = None
    after_commit: list[AfterCommit] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    runtime: Runtime
    center: Center


def handle(session: Session, ctx: Context, item: LineItem) -> Outcome:
    """Apply one parsed event; unknown or unwanted events come back IGNORED with a reason."""
    if isinstance(item, InboundMessage):
        return on_message(session, ctx, item)
    if isinstance(item, MessageEdited):
        return on_edited(session, ctx, item)
    if isinstance(item, Follow):
        return on_follow(session, ctx, item)
    if isinstance(item, Unfollow):
        return on_unfollow(session, item)
    if isinstance(item, Postback):
        return on_postback(session, ctx, item)
    if isinstance(item, Unsend):
        return on_unsend(session, item)
    if isinstance(item, Join):
        return on_join(ctx, item)
    if isinstance(item, Leave):
        return Outcome(InboundEventStatus.IGNORED, f"removed from {item.source_type} {item.chat_id}")
    if isinstance(item, Ignored):
        return Outcome(InboundEventStatus.IGNORED, f"{item.event_type}: {item.reason}")
    return Outcome(InboundEventStatus.IGNORED, f"unhandled item {type(item).__name__}")


def on_message(session: Session, ctx: Context, msg: InboundMessage) -> Outcome:
    if msg.metadata.get("source_type") != "user":
        return Outcome(InboundEventStatus.IGNORED, "message in a group chat: group consultations are refused")
    result = record_inbound(session, msg, center_id=ctx.center.id)  # type: ignore[arg-type]
    if result.duplicate:
        return Outcome(reason="message already recorded")
    out = Outcome()
    message = session.get(Message, result.message_id)
    assert message is not None
    if _unsent_before(session, msg.external_id):
        _retract(session, message)
    pending = session.exec(
        select(Attachment.id).where(Attachment.message_id == message.id, Attachment.status == "pending")
    ).all()
    for att_id in pending:
        out.after_commit.append(_enqueue_download(ctx, att_id))  # type: ignore[arg-type]
    _maybe_fetch_profile(session, ctx, msg.sender, out)
    ticket = session.get(Ticket, result.ticket_id)
    if ticket is not None and ticket.status in WAITING_FOR_COUNSELOR and _age(msg.at) < LOADING_MAX_AGE:
        out.after_commit.append(
            lambda: _best_effort(lambda: _adapter(ctx).show_loading(msg.sender, 60), "loading animation")
        )
    return out


def on_edited(session: Session, ctx: Context, item: MessageEdited) -> Outcome:
    assert item.message is not None
    message = _line_message(session, item.message.external_id)
    if message is None:
        return on_message(session, ctx, item.message)
    write_audit(
        session,
        actor_id=None,
        action="message.edited_by_consumer",
        object_type="message",
        object_id=message.id or 0,
        detail={"previous_body": message.body, "line_event_id": item.event_id},
    )
    message.body = item.message.text
    message.meta = {**message.meta, "edited_at": item.at.isoformat()}
    session.add(message)
    return Outcome()


def on_follow(session: Session, ctx: Context, item: Follow) -> Outcome:
    if not item.user_id:
        return Outcome(InboundEventStatus.IGNORED, "follow without a userId")
    identity = ensure_identity(session, channel=CHANNEL, external_id=item.user_id)
    identity.reachable = True
    session.add(identity)
    out = Outcome()
    greeting = texts.greeting(ctx.center.name, ctx.center.hours)
    out.after_commit.append(lambda: _auto_answer(ctx, item, greeting))
    _maybe_fetch_profile(session, ctx, item.user_id, out)
    return out


def on_unfollow(session: Session, item: Unfollow) -> Outcome:
    identity = _identity(session, item.user_id)
    if identity is None:
        return Outcome(reason="unfollow from a user we never heard from")
    identity.reachable = False
    session.add(identity)
    for ticket in _open_tickets(session, identity.contact_id):
        _system_note(
            session,
            ticket,
            "The consumer blocked or removed the LINE account (unfollow, ブロック): replies can no longer be "
            "delivered on LINE. Contact them another way or record the case and close it.",
        )
    return Outcome()


def on_postback(session: Session, ctx: Context, item: Postback) -> Outcome:
    if not item.user_id:
        return Outcome(InboundEventStatus.IGNORED, "postback without a userId")
    data = {k: v[0] for k, v in parse_qs(item.data, keep_blank_values=True).items()}
    identity = ensure_identity(session, channel=CHANNEL, external_id=item.user_id)
    out = Outcome()
    if data.get("consent") in ("yes", "no"):
        agreed = data["consent"] == "yes"
        personal = session.get(ContactPersonalData, identity.contact_id) or ContactPersonalData(
            contact_id=identity.contact_id
        )
        personal.consent_to_share = agreed
        personal.consent_recorded_at = utcnow()
        session.add(personal)
        for ticket in _open_tickets(session, identity.contact_id):
            _system_note(
                session,
                ticket,
                f"The consumer answered the consent question on LINE: {'agrees' if agreed else 'does not agree'} to share (情報提供への同意: {'あり' if agreed else 'なし'}).",
            )
        out.after_commit.append(lambda: _auto_answer(ctx, item, texts.CONSENT_RECORDED[agreed], push=False))
        return out
    rating = data.get("rating", "")
    if rating in ("1", "2", "3", "4", "5"):
        latest = session.exec(
            select(Ticket)
            .where(Ticket.contact_id == identity.contact_id)
            .order_by(col(Ticket.created_at).desc())
        ).first()
        if latest is None:
            return Outcome(InboundEventStatus.IGNORED, "rating from a consumer without any ticket")
        _system_note(session, latest, f"Satisfaction rating from the consumer (満足度): {rating}/5")
        out.after_commit.append(lambda: _auto_answer(ctx, item, texts.RATING_THANKS, push=False))
        return out
    return Outcome(InboundEventStatus.IGNORED, f"postback data not understood: {item.data[:100]!r}")


def on_unsend(session: Session, item: Unsend) -> Outcome:
    message = _line_message(session, item.message_id)
    if message is None:
        # The unsend overtook its message (out of order): remember it so intake retracts on arrival.
        write_audit(
            session,
            actor_id=None,
            action="line.unsend_pending",
            object_type="line_message",
            object_id=item.message_id,
        )
        return Outcome(reason="message not received yet; it will be retracted on arrival")
    _retract(session, message)
    return Outcome()


def on_join(ctx: Context, item: Join) -> Outcome:
    out = Outcome(InboundEventStatus.PROCESSED, f"added to {item.source_type}: refused and left")
    refusal = texts.group_refusal(ctx.center.name)

    def refuse_and_leave() -> None:
        if item.reply_token:
            _best_effort(lambda: _adapter(ctx).reply(item.reply_token, [refusal]), "group refusal")  # type: ignore[arg-type]
        if item.chat_id:
            _best_effort(
                lambda: _adapter(ctx).leave_chat(item.source_type, item.chat_id), "leaving the group"
            )  # type: ignore[arg-type]

    out.after_commit.append(refuse_and_leave)
    return out


# -- helpers -----------------------------------------------------------------------------------


def _retract(session: Session, message: Message) -> None:
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


def _unsent_before(session: Session, line_message_id: str) -> bool:
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


def _line_message(session: Session, line_message_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.channel == CHANNEL, Message.external_id == line_message_id)
    ).first()


def _identity(session: Session, user_id: str | None) -> ContactIdentity | None:
    if not user_id:
        return None
    return session.exec(
        select(ContactIdentity).where(
            ContactIdentity.channel == CHANNEL, ContactIdentity.external_id == user_id
        )
    ).first()


def _open_tickets(session: Session, contact_id: int) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket).where(Ticket.contact_id == contact_id, col(Ticket.status).in_(OPEN_STATUSES))
        ).all()
    )


def _system_note(session: Session, ticket: Ticket, body: str) -> None:
    session.add(Note(ticket_id=ticket.id, author_id=None, kind="system", body=body))  # type: ignore[arg-type]
    ticket.updated_at = utcnow()
    ticket.version += 1
    session.add(ticket)


def _enqueue_download(ctx: Context, attachment_id: int) -> AfterCommit:
    jobs = _jobs_module()
    return lambda: ctx.runtime.jobs.enqueue(
        jobs.download_attachment, attachment_id, 0, job_id=f"line-download-{attachment_id}"
    )


def _maybe_fetch_profile(session: Session, ctx: Context, user_id: str, out: Outcome) -> None:
    identity = _identity(session, user_id)
    if identity is not None and identity.profile_fetched_at is None:
        jobs = _jobs_module()
        ident_id = identity.id
        out.after_commit.append(
            lambda: ctx.runtime.jobs.enqueue(jobs.fetch_profile, ident_id, job_id=f"line-profile-{ident_id}")
        )


def _auto_answer(ctx: Context, item: Follow | Postback, text: str, *, push: bool = True) -> None:
    """Answer by reply token while it is fresh; a greeting that is too late goes by push instead."""
    adapter = _adapter(ctx)
    if item.reply_token and _age(item.at) < timedelta(seconds=REPLY_TOKEN_SECONDS):
        try:
            adapter.reply(item.reply_token, [text])
            return
        except ChannelError as exc:
            log.info("LINE reply for event %s failed (%s)", item.event_id, exc)
    user_id = item.user_id
    if push and user_id:
        from channels.base import ChannelKind, OutboundMessage

        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"madoguchi:line:auto:{item.event_id}"))
        _best_effort(
            lambda: adapter.send(OutboundMessage(ChannelKind.LINE, user_id, text, key)),
            "automatic answer",
        )


def _best_effort(fn: Callable[[], object], what: str) -> None:
    try:
        fn()
    except ChannelError as exc:
        log.info("LINE %s failed: %s", what, exc)


def _adapter(ctx: Context):  # type: ignore[no-untyped-def]
    return ctx.runtime.adapters["line"]


def _age(at: datetime) -> timedelta:
    return datetime.now(UTC) - at


def _jobs_module():  # type: ignore[no-untyped-def]
    from channels.line import jobs

    return jobs
