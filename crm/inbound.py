"""crm applies what a channel adapter parsed: messages, edits, retractions, follows, opt-outs,
consent answers, ratings and group invitations, for any channel.

:func:`apply` runs inside the caller's transaction (channels.jobs claims the raw event in it) and
returns an :class:`Applied`: the event's status and reason, plus what the job does after the commit
(deliver the automatic answers it queued, download attachments, fetch the sender's profile).
Automatic answers go through the outbox (crm.answers), so they appear on the ticket's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from crm import auto_answers as texts
from crm.answers import queue_automatic_answer
from crm.audit import write_audit
from crm.events import MessageDeliveryChanged, record_event
from crm.intake import ensure_identity, record_inbound
from crm.messaging import (
    CallUpdate,
    ConsentGiven,
    DeliveryUpdate,
    Followed,
    GroupInvitation,
    Ignored,
    InboundItem,
    InboundMessage,
    MessageEdited,
    MessageRetracted,
    OptedOut,
    RatingGiven,
    strip_nul,
)
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
from crm.voice_calls import apply_call_update

RETRACTED_BODY = "[unsent by the consumer — 送信取消]"
WAITING_FOR_COUNSELOR = (TicketStatus.NEW, TicketStatus.QUEUED, TicketStatus.OFFERED)
TYPING_MAX_AGE = timedelta(minutes=2)


@dataclass
class Applied:
    """What applying one item did, and the follow-ups for after the commit."""

    status: InboundEventStatus = InboundEventStatus.PROCESSED
    reason: str | None = None
    answers: list[int] = field(default_factory=list)  # outbox ids of automatic answers
    downloads: list[int] = field(default_factory=list)  # attachment ids to fetch
    profile_identity_id: int | None = None  # identity whose profile was never fetched
    awaiting_counselor: bool = False  # the consumer waits for a first answer (typing indicator)


@dataclass(frozen=True)
class Origin:
    """Where the item came in: the channel account and the center that owns it."""

    account_id: int | None
    center: Center


def origin_for(
    session: Session, *, account_id: int | None, center_id: int | None, fallback_code: str = ""
) -> Origin:
    """The center an account's consultations go to: its own, else ``fallback_code``'s, else the first.

    Raises LookupError (the event fails with that reason) when no center exists at all.
    """
    center = session.get(Center, center_id) if center_id is not None else None
    if center is None and fallback_code:
        center = session.exec(select(Center).where(Center.code == fallback_code)).first()
    if center is None:
        center = session.exec(select(Center).order_by(col(Center.id))).first()
    if center is None:
        raise LookupError("no center exists yet: create one (or set MADOGUCHI_LINE_CENTER_CODE)")
    return Origin(account_id=account_id, center=center)


def apply(session: Session, item: InboundItem, origin: Origin) -> Applied:
    """Apply one parsed item; unknown or unwanted items come back IGNORED with a reason."""
    if isinstance(item, InboundMessage):
        return _message(session, item, origin)
    if isinstance(item, MessageEdited):
        return _edited(session, item, origin)
    if isinstance(item, MessageRetracted):
        return _retracted(session, item)
    if isinstance(item, Followed):
        return _followed(session, item, origin)
    if isinstance(item, OptedOut):
        return _opted_out(session, item)
    if isinstance(item, ConsentGiven):
        return _consent(session, item, origin)
    if isinstance(item, RatingGiven):
        return _rating(session, item, origin)
    if isinstance(item, GroupInvitation):
        return _group(session, item, origin)
    if isinstance(item, Ignored):
        return Applied(InboundEventStatus.IGNORED, item.reason or "nothing to do")
    if isinstance(item, DeliveryUpdate):
        return _delivery(session, item)
    if isinstance(item, CallUpdate):
        applied, reason = apply_call_update(session, item)
        return Applied(InboundEventStatus.PROCESSED if applied else InboundEventStatus.IGNORED, reason)
    return Applied(InboundEventStatus.IGNORED, f"unhandled item {type(item).__name__}")


def _delivery(session: Session, item: DeliveryUpdate) -> Applied:
    """A vendor's word on one of our answers: only ``failed`` changes it (a bounce, with its reason)."""
    message = session.exec(
        select(Message).where(Message.channel == item.channel.value, Message.external_id == item.external_id)
    ).first()
    if message is None or item.status != "failed":
        return Applied(InboundEventStatus.IGNORED, f"delivery update {item.status} for {item.external_id}")
    message.status, message.error = MessageStatus.FAILED, (item.error or "delivery failed")[:500]
    session.add(message)
    assert message.id is not None  # loaded from the database
    record_event(
        session,
        MessageDeliveryChanged(
            ticket_id=message.ticket_id,
            message_id=message.id,
            status=message.status.value,
            error=message.error,
        ),
    )
    return Applied(reason=f"answer {message.id} failed: {message.error}")


def _message(session: Session, msg: InboundMessage, origin: Origin) -> Applied:
    if not msg.one_to_one:
        return Applied(InboundEventStatus.IGNORED, "message in a group chat: group consultations are refused")
    center = _named_center(session, msg.center_code) or origin.center  # 188: the IVR chose the center
    result = record_inbound(session, msg, center_id=center.id, account_id=origin.account_id)  # type: ignore[arg-type]
    if result.duplicate:
        return Applied(reason="message already recorded")
    out = Applied()
    message = session.get(Message, result.message_id)
    assert message is not None
    if _retraction_pending(session, msg.channel.value, msg.external_id):
        retract(session, message)
    out.downloads = [
        a
        for a in session.exec(
            select(Attachment.id).where(Attachment.message_id == message.id, Attachment.status == "pending")
        ).all()
        if a is not None
    ]
    out.profile_identity_id = _unprofiled(session, msg.channel.value, msg.sender)
    ticket = session.get(Ticket, result.ticket_id)
    out.awaiting_counselor = (
        ticket is not None and ticket.status in WAITING_FOR_COUNSELOR and _age(msg.at) < TYPING_MAX_AGE
    )
    return out


def _edited(session: Session, item: MessageEdited, origin: Origin) -> Applied:
    assert item.message is not None
    message = _message_by_external_id(session, item.channel.value, item.message.external_id)
    if message is None:
        return _message(session, item.message, origin)
    write_audit(
        session,
        actor_id=None,
        action="message.edited_by_consumer",
        object_type="message",
        object_id=message.id or 0,
        detail={"previous_body": message.body, "event_id": item.event_id},
    )
    message.body = strip_nul(item.message.text)
    message.meta = {**message.meta, "edited_at": item.at.isoformat()}
    session.add(message)
    return Applied()


def _retracted(session: Session, item: MessageRetracted) -> Applied:
    message = _message_by_external_id(session, item.channel.value, item.external_id)
    if message is None:
        # The retraction overtook its message (out of order): remember it so intake retracts on arrival.
        write_audit(
            session,
            actor_id=None,
            action="message.retraction_pending",
            object_type=f"{item.channel.value}_message",
            object_id=item.external_id[:64],
        )
        return Applied(reason="message not received yet; it will be retracted on arrival")
    retract(session, message)
    return Applied()


def _followed(session: Session, item: Followed, origin: Origin) -> Applied:
    if not item.sender:
        return Applied(InboundEventStatus.IGNORED, "follow without a sender")
    identity = ensure_identity(session, channel=item.channel.value, external_id=item.sender)
    identity.reachable = True
    session.add(identity)
    greeting = texts.greeting(origin.center.name, origin.center.hours)
    out = Applied()
    out.answers.append(
        _answer(session, item.channel.value, identity, origin, greeting, _latest_open(session, identity))
    )
    out.profile_identity_id = identity.id if identity.profile_fetched_at is None else None
    return out


def _opted_out(session: Session, item: OptedOut) -> Applied:
    identity = _identity(session, item.channel.value, item.sender)
    if identity is None:
        return Applied(reason="opt-out from a consumer we never heard from")
    identity.reachable = False
    session.add(identity)
    for ticket in _open_tickets(session, identity.contact_id):
        system_note(
            session,
            ticket,
            f"The consumer blocked or removed the {item.channel.value.upper()} account (unfollow, ブロック): "
            "replies can no longer be delivered there. Contact them another way or record the case and close it.",
        )
    return Applied()


def _consent(session: Session, item: ConsentGiven, origin: Origin) -> Applied:
    if not item.sender:
        return Applied(InboundEventStatus.IGNORED, "consent answer without a sender")
    identity = ensure_identity(session, channel=item.channel.value, external_id=item.sender)
    personal = session.get(ContactPersonalData, identity.contact_id) or ContactPersonalData(
        contact_id=identity.contact_id
    )
    personal.consent_to_share = item.agreed
    personal.consent_recorded_at = utcnow()
    session.add(personal)
    tickets = _open_tickets(session, identity.contact_id)
    yes = item.agreed
    for ticket in tickets:
        system_note(
            session,
            ticket,
            f"The consumer answered the consent question: {'agrees' if yes else 'does not agree'} to share "
            f"(情報提供への同意: {'あり' if yes else 'なし'}).",
        )
    out = Applied()
    latest = max(tickets, key=lambda t: t.created_at) if tickets else None
    out.answers.append(
        _answer(session, item.channel.value, identity, origin, texts.CONSENT_RECORDED[yes], latest)
    )
    return out


def _rating(session: Session, item: RatingGiven, origin: Origin) -> Applied:
    identity = _identity(session, item.channel.value, item.sender)
    latest = (
        session.exec(
            select(Ticket)
            .where(Ticket.contact_id == identity.contact_id)
            .order_by(col(Ticket.created_at).desc())
        ).first()
        if identity is not None
        else None
    )
    if identity is None or latest is None:
        return Applied(InboundEventStatus.IGNORED, "rating from a consumer without any ticket")
    system_note(session, latest, f"Satisfaction rating from the consumer (満足度): {item.rating}/5")
    out = Applied()
    out.answers.append(_answer(session, item.channel.value, identity, origin, texts.RATING_THANKS, latest))
    return out


def _group(session: Session, item: GroupInvitation, origin: Origin) -> Applied:
    out = Applied(reason=f"added to {item.chat_type}: refused and left")
    if item.chat_id:
        out.answers.append(
            queue_automatic_answer(
                session,
                channel=item.channel.value,
                account_id=origin.account_id,
                recipient=item.chat_id,
                text=texts.group_refusal(origin.center.name),
            )
        )
    return out


def _answer(
    session: Session,
    channel: str,
    identity: ContactIdentity,
    origin: Origin,
    text: str,
    ticket: Ticket | None,
) -> int:
    return queue_automatic_answer(
        session,
        channel=channel,
        account_id=origin.account_id,
        recipient=identity.external_id,
        text=text,
        ticket=ticket,
    )


def retract(session: Session, message: Message) -> None:
    """Replace a message body by the retraction marker; the original stays in the audit log."""
    write_audit(
        session,
        actor_id=None,
        action="message.retracted",
        object_type="message",
        object_id=message.id or 0,
        detail={"body": message.body, "kind": message.kind, "external_id": message.external_id},
    )
    message.body = RETRACTED_BODY
    message.status = MessageStatus.RETRACTED
    message.meta = {**message.meta, "retracted_at": utcnow().isoformat()}
    session.add(message)


def system_note(session: Session, ticket: Ticket, body: str) -> None:
    """Add a system note to a ticket (bumps its version)."""
    session.add(Note(ticket_id=ticket.id, author_id=None, kind="system", body=body))  # type: ignore[arg-type]
    ticket.updated_at = utcnow()
    ticket.version += 1
    session.add(ticket)


def _retraction_pending(session: Session, channel: str, external_id: str) -> bool:
    return (
        session.exec(
            select(AuditLog.id).where(
                AuditLog.action == "message.retraction_pending",
                AuditLog.object_type == f"{channel}_message",
                AuditLog.object_id == external_id[:64],
            )
        ).first()
        is not None
    )


def _named_center(session: Session, code: str | None) -> Center | None:
    return session.exec(select(Center).where(Center.code == code)).first() if code else None


def _message_by_external_id(session: Session, channel: str, external_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.channel == channel, Message.external_id == external_id)
    ).first()


def _identity(session: Session, channel: str, sender: str | None) -> ContactIdentity | None:
    if not sender:
        return None
    return session.exec(
        select(ContactIdentity).where(
            ContactIdentity.channel == channel, ContactIdentity.external_id == sender
        )
    ).first()


def _unprofiled(session: Session, channel: str, sender: str) -> int | None:
    identity = _identity(session, channel, sender)
    return identity.id if identity is not None and identity.profile_fetched_at is None else None


def _open_tickets(session: Session, contact_id: int) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket).where(Ticket.contact_id == contact_id, col(Ticket.status).in_(OPEN_STATUSES))
        ).all()
    )


def _latest_open(session: Session, identity: ContactIdentity) -> Ticket | None:
    tickets = _open_tickets(session, identity.contact_id)
    return max(tickets, key=lambda t: t.created_at) if tickets else None


def _age(at: datetime) -> timedelta:
    return datetime.now(UTC) - (at if at.tzinfo else at.replace(tzinfo=UTC))
