"""Automatic answers (greeting, consent receipt, rating thanks, after-hours, group refusal) through
the outbox, like every other outbound message.

With a ticket, the answer is a ``Message(kind="auto")`` on its timeline plus its outbox row;
without one (a new friend's greeting, a group refusal) it is an outbox row that carries its text.
Delivery is crm.delivery's job; the channel adapter may answer for free while it can (LINE: reply
token) because the outbound message says it is automatic.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, select

from crm.events import ReplyQueued, record_event
from crm.models import Direction, Message, MessageStatus, OutboxItem, Ticket, utcnow


def queue_outbound(
    session: Session,
    *,
    ticket: Ticket,
    recipient: str,
    body: str,
    author_id: int | None,
    kind: str = "text",
) -> Message:
    """The outbound message and its outbox row, in the caller's transaction; delivery follows commit.

    The reply leaves through the channel account the consultation came in on.
    """
    message = Message(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        direction=Direction.OUTBOUND,
        channel=ticket.channel,
        channel_account_id=ticket.channel_account_id,
        author_id=author_id,
        kind=kind,
        body=body,
        status=MessageStatus.QUEUED,
        sent_at=utcnow(),
    )
    session.add(message)
    session.flush()
    outbox = OutboxItem(
        message_id=message.id,
        channel=ticket.channel,
        channel_account_id=ticket.channel_account_id,
        recipient=recipient,
        retry_key=str(uuid.uuid4()),
    )
    session.add(outbox)
    session.flush()
    record_event(
        session,
        ReplyQueued(ticket_id=ticket.id, message_id=message.id, outbox_id=outbox.id),  # type: ignore[arg-type]
    )
    return message


def queue_automatic_answer(
    session: Session,
    *,
    channel: str,
    account_id: int | None,
    recipient: str,
    text: str,
    ticket: Ticket | None = None,
) -> int:
    """Queue an automatic answer; returns its outbox id (the caller may deliver it after commit)."""
    if ticket is not None:
        message = queue_outbound(
            session, ticket=ticket, recipient=recipient, body=text, author_id=None, kind="auto"
        )
        return _outbox_id_of(session, message)
    item = OutboxItem(
        message_id=None,
        channel=channel,
        channel_account_id=account_id,
        recipient=recipient,
        retry_key=str(uuid.uuid4()),
        body=text,
    )
    session.add(item)
    session.flush()
    return item.id  # type: ignore[return-value]


def _outbox_id_of(session: Session, message: Message) -> int:
    outbox_id = session.exec(select(OutboxItem.id).where(OutboxItem.message_id == message.id)).one()
    return int(outbox_id)  # type: ignore[arg-type]
