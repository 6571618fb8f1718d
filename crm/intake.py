"""Turn a normalized inbound message into a consultation record (相談).

``record_inbound`` resolves the contact by channel identity, appends to the contact's open ticket at
the center or opens one, and stores the message: idempotent on (channel, external_id). The caller
owns the transaction; the ``MessageReceived`` event is published when it commits.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from crm.accident_checks import open_check_if_possible, settle_on_flag
from crm.events import MessageReceived, SeriousAccidentSuspected, record_event
from crm.lifecycle import transition
from crm.messaging import Attachment as InboundAttachment
from crm.messaging import InboundMessage, strip_nul
from crm.models import (
    OPEN_STATUSES,
    Attachment,
    Contact,
    ContactIdentity,
    Direction,
    Message,
    MessageStatus,
    Ticket,
    TicketStatus,
    utcnow,
)

log = logging.getLogger(__name__)
SUBJECT_LENGTH = 60


@dataclass(frozen=True)
class IntakeResult:
    ticket_id: int
    message_id: int
    contact_id: int
    created_ticket: bool
    duplicate: bool = False


def record_inbound(
    session: Session, msg: InboundMessage, *, center_id: int, account_id: int | None = None
) -> IntakeResult:
    """Store ``msg`` on the right ticket; a message seen before returns the earlier result.

    ``account_id`` is the channel account it came in on: a new ticket remembers it, so replies
    leave through the same account. NUL characters are replaced (PostgreSQL text cannot hold them).
    """
    text = strip_nul(msg.text)
    existing = _find_message(session, msg.channel.value, msg.external_id)
    if existing is not None:
        return _duplicate_result(session, existing)
    identity = ensure_identity(
        session, channel=msg.channel.value, external_id=msg.sender, display_name=msg.sender_display_name
    )
    ticket, created = _open_ticket_for(session, identity.contact_id, center_id, msg, account_id)
    message = Message(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        direction=Direction.INBOUND,
        channel=msg.channel.value,
        channel_account_id=account_id,
        external_id=msg.external_id,
        kind=msg.kind,
        body=text,
        status=MessageStatus.RECEIVED,
        meta=dict(msg.metadata),
        sent_at=msg.at.astimezone(UTC) if msg.at.tzinfo else msg.at.replace(tzinfo=UTC),
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        # Another worker stored the same message between our check and insert.
        existing = _find_message(session, msg.channel.value, msg.external_id)
        if existing is None:
            raise
        return _duplicate_result(session, existing)
    for att in msg.attachments:
        session.add(
            Attachment(
                message_id=message.id,  # type: ignore[arg-type]
                filename=att.filename,
                content_type=att.content_type,
                size=att.size,
                external_ref=att.external_ref,
                sha256=att.sha256,
                storage_path=att.storage_path,
                status=_attachment_status(att),
            )
        )
    _after_consumer_message(session, ticket, text)
    record_event(
        session,
        MessageReceived(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            message_id=message.id,  # type: ignore[arg-type]
            center_id=center_id,
            channel=msg.channel.value,
            ticket_created=created,
        ),
    )
    return IntakeResult(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        message_id=message.id,  # type: ignore[arg-type]
        contact_id=identity.contact_id,
        created_ticket=created,
    )


def ensure_identity(
    session: Session, *, channel: str, external_id: str, display_name: str | None = None
) -> ContactIdentity:
    """Find or create the contact behind a channel identity, locked for this transaction.

    The row lock (PostgreSQL) serializes concurrent messages of one consumer, so two workers never
    open two tickets for the same person at once.
    """
    identity = _locked_identity(session, channel, external_id)
    if identity is not None:
        return identity
    try:
        with session.begin_nested():
            contact = Contact()
            session.add(contact)
            session.flush()
            identity = ContactIdentity(
                contact_id=contact.id,  # type: ignore[arg-type]
                channel=channel,
                external_id=external_id,
                display_name=display_name,
            )
            session.add(identity)
            session.flush()
        return identity
    except IntegrityError:
        identity = _locked_identity(session, channel, external_id)
        if identity is None:
            raise
        return identity


def _locked_identity(session: Session, channel: str, external_id: str) -> ContactIdentity | None:
    stmt = select(ContactIdentity).where(
        ContactIdentity.channel == channel, ContactIdentity.external_id == external_id
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _threaded_ticket(session: Session, contact_id: int, center_id: int, msg: InboundMessage) -> Ticket | None:
    """The open ticket of this contact that one of ``metadata["thread_ids"]`` (email In-Reply-To,
    References) points at: a message we received, or an answer we sent (its external_id)."""
    ids = [i for i in msg.metadata.get("thread_ids", ()) if isinstance(i, str)][:50]
    if not ids:
        return None
    return session.exec(
        select(Ticket)
        .join(Message, col(Message.ticket_id) == Ticket.id)
        .where(
            Message.channel == msg.channel.value,
            col(Message.external_id).in_(ids),
            Ticket.contact_id == contact_id,
            Ticket.center_id == center_id,
            col(Ticket.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Ticket.created_at).desc())
    ).first()


def _open_ticket_for(
    session: Session, contact_id: int, center_id: int, msg: InboundMessage, account_id: int | None
) -> tuple[Ticket, bool]:
    threaded = _threaded_ticket(session, contact_id, center_id, msg)
    if threaded is not None:
        return threaded, False
    ticket = session.exec(
        select(Ticket)
        .where(
            Ticket.contact_id == contact_id,
            Ticket.center_id == center_id,
            col(Ticket.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Ticket.created_at).desc())
    ).first()
    if ticket is not None:
        return ticket, False
    ticket = Ticket(
        center_id=center_id,
        contact_id=contact_id,
        channel=msg.channel.value,
        channel_account_id=account_id,
        status=TicketStatus.NEW,
        subject=subject_from(strip_nul(msg.text)),
        language=(msg.language or "ja")[:16],
    )
    session.add(ticket)
    session.flush()
    return ticket, True


def subject_from(text: str) -> str:
    """A one-line subject from the first words of a message (NFKC for tidy display widths)."""
    line = unicodedata.normalize("NFKC", text).strip().splitlines()[0] if text.strip() else ""
    return line[:SUBJECT_LENGTH] or "(no text)"


def _after_consumer_message(session: Session, ticket: Ticket, text: str) -> None:
    if ticket.status == TicketStatus.WAITING_ON_CONSUMER:
        to = TicketStatus.ASSIGNED if ticket.assignee_id else TicketStatus.QUEUED
        transition(session, ticket, to, reason="the consumer answered", actor="intake")
    reasons = detect_serious_accident(text)
    if reasons and not ticket.serious_accident:
        ticket.serious_accident = True
        settle_on_flag(session, ticket)
        record_event(
            session,
            SeriousAccidentSuspected(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                center_id=ticket.center_id,
                reasons=tuple(reasons),
            ),
        )
    elif not reasons:
        open_check_if_possible(session, ticket, text)  # 要確認: a counselor confirms or rules it out
    ticket.updated_at = utcnow()
    ticket.version += 1
    session.add(ticket)


AccidentDetector = Callable[[str], Sequence[str]]
_accident_detector: AccidentDetector | None = None


def set_accident_detector(detector: AccidentDetector | None) -> None:
    """The composition root plugs in knowledge.accident (crm does not import knowledge)."""
    global _accident_detector
    _accident_detector = detector


def detect_serious_accident(text: str) -> list[str]:
    """Reasons to suspect a 重大事故等, from the plugged-in detector (none without one)."""
    return list(_accident_detector(text)) if _accident_detector is not None else []


def _find_message(session: Session, channel: str, external_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.channel == channel, Message.external_id == external_id)
    ).first()


def _duplicate_result(session: Session, message: Message) -> IntakeResult:
    ticket = session.get(Ticket, message.ticket_id)
    assert ticket is not None
    return IntakeResult(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        message_id=message.id,  # type: ignore[arg-type]
        contact_id=ticket.contact_id,
        created_ticket=False,
        duplicate=True,
    )


def _attachment_status(att: InboundAttachment) -> str:
    """stored: its bytes are in the store; pending: a job downloads them; failed: neither."""
    if att.storage_path:
        return "stored"
    return "pending" if att.external_ref else "failed"
