"""Jobs that deliver queued replies through the channel adapters (the outbox pattern).

``deliver(outbox_id)`` claims the row with a lease (an atomic UPDATE), sends outside any database
transaction, then records the result. Temporary failures (429, 5xx, timeouts) are retried with
backoff; permanent ones mark the message failed with a reason the counselor can read. A crash
mid-send leaves the row pending; ``retry_due_outbox`` picks it up after the lease, and the
outbox's ``retry_key`` keeps the vendor from delivering twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from config.runtime import get_runtime
from crm.events import MessageDeliveryChanged, record_event
from crm.messaging import ChannelKind, ChannelPermanentError, ChannelTemporaryError, OutboundMessage
from crm.models import Direction, Message, MessageStatus, OutboxItem, OutboxStatus, utcnow

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (10, 60, 300, 900, 3600)
LEASE_SECONDS = 120


def deliver(outbox_id: int) -> str:
    """Send one outbox item; returns what happened (sent, retry, failed, skipped)."""
    runtime = get_runtime()
    if not _claim(runtime.engine, outbox_id):
        return "skipped"
    with Session(runtime.engine, expire_on_commit=False) as session:
        item = session.get(OutboxItem, outbox_id)
        message = session.get(Message, item.message_id) if item and item.message_id else None
        thread = _thread_metadata(session, message) if item and item.channel == "email" else {}
    if item is None or (message is None and item.body is None):
        return "skipped"
    adapter = runtime.adapters.get(item.channel, item.channel_account_id)
    if adapter is None:
        account = f" account #{item.channel_account_id}" if item.channel_account_id else ""
        return _finish(
            runtime.engine,
            item,
            error=f"the {item.channel} channel{account} is not usable on this server "
            "(no such account, disabled, or its secrets cannot be decrypted)",
        )
    outbound = OutboundMessage(
        channel=ChannelKind(item.channel),
        recipient=item.recipient,
        text=message.body if message is not None else item.body or "",
        retry_key=item.retry_key,
        automatic=message is None or message.kind == "auto",
        attempt=item.attempts,  # the claim counted this try
        metadata=thread,
    )
    try:
        result = adapter.send(outbound)
    except ChannelTemporaryError as exc:
        return _retry_later(runtime, item, str(exc) or type(exc).__name__)
    except ChannelPermanentError as exc:
        return _finish(runtime.engine, item, error=str(exc) or type(exc).__name__)
    return _finish(runtime.engine, item, external_ids=list(getattr(result, "external_ids", ())))


def deliver_on_reply(event: dict[str, Any]) -> None:
    """Handler for ReplyQueued."""
    deliver(int(event["outbox_id"]))


def retry_due_outbox() -> int:
    """Periodic: re-enqueue pending items whose next attempt is due (after restarts or lost jobs)."""
    runtime = get_runtime()
    with Session(runtime.engine) as session:
        due = session.exec(
            select(OutboxItem.id, OutboxItem.attempts)
            .where(OutboxItem.status == OutboxStatus.PENDING, col(OutboxItem.next_attempt_at) <= utcnow())
            .limit(500)
        ).all()
    for outbox_id, attempts in due:
        runtime.jobs.enqueue(deliver, outbox_id, job_id=f"deliver-{outbox_id}-{attempts}")
    return len(due)


def _claim(engine: Any, outbox_id: int) -> bool:
    now = utcnow()
    with engine.begin() as conn:
        claimed = conn.execute(
            update(OutboxItem)
            .where(
                col(OutboxItem.id) == outbox_id,
                col(OutboxItem.status) == OutboxStatus.PENDING,
                col(OutboxItem.next_attempt_at) <= now,
            )
            .values(attempts=OutboxItem.attempts + 1, next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
        )
        return claimed.rowcount == 1


def _retry_later(runtime: Any, item: OutboxItem, error: str) -> str:
    attempts = item.attempts + 1  # the claim incremented it in the database
    if attempts >= len(BACKOFF_SECONDS) + 1:
        return _finish(runtime.engine, item, error=f"gave up after {attempts} attempts: {error}")
    delay = BACKOFF_SECONDS[attempts - 1]
    with Session(runtime.engine) as session:
        row = session.get(OutboxItem, item.id)
        assert row is not None
        row.last_error = error[:500]
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        session.add(row)
        session.commit()
    runtime.jobs.enqueue(deliver, item.id, job_id=f"deliver-{item.id}-{attempts}", delay=delay)
    log.info("outbox %s: temporary failure (%s), retry in %ss", item.id, error, delay)
    return "retry"


def _thread_metadata(session: Session, message: Message | None) -> dict[str, Any]:
    """Subject, In-Reply-To and References of the consumer's latest mail on the ticket (email)."""
    if message is None:
        return {}
    last = session.exec(
        select(Message)
        .where(Message.ticket_id == message.ticket_id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).desc())
    ).first()
    if last is None or not last.external_id:
        return {}
    refs = [r for r in (last.meta or {}).get("references", []) if isinstance(r, str)]
    return {
        "subject": (last.meta or {}).get("subject", ""),
        "in_reply_to": last.external_id,
        "references": refs,
    }


def _finish(
    engine: Any, item: OutboxItem, *, error: str | None = None, external_ids: list[str] | None = None
) -> str:
    with Session(engine) as session:
        row = session.get(OutboxItem, item.id)
        assert row is not None
        now = utcnow()
        if error is None:
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
        else:
            row.status, row.last_error = OutboxStatus.FAILED, error[:500]
        session.add(row)
        message = session.get(Message, item.message_id) if item.message_id else None
        if message is None:  # an automatic answer outside any ticket
            session.commit()
            return "sent" if error is None else "failed"
        if error is None:
            message.status, message.sent_at = MessageStatus.SENT, now
            if external_ids:
                message.meta = {**message.meta, "vendor_message_ids": external_ids}
                if message.channel == "email" and not message.external_id:
                    message.external_id = external_ids[0][:255]  # our Message-ID: replies and bounces find it
        else:
            message.status, message.error = MessageStatus.FAILED, error[:500]
        session.add(message)
        assert message.id is not None  # loaded from the database
        record_event(
            session,
            MessageDeliveryChanged(
                ticket_id=message.ticket_id,
                message_id=message.id,
                status=message.status.value,
                error=message.error,  # type: ignore[arg-type]
            ),
        )
        session.commit()
    return "sent" if error is None else "failed"
