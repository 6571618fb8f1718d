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

from channels.base import (
    ChannelKind,
    ChannelPermanentError,
    ChannelTemporaryError,
    OutboundMessage,
)
from config.wiring import get_runtime
from crm.events import MessageDeliveryChanged, record_event
from crm.models import Message, MessageStatus, OutboxItem, OutboxStatus, utcnow

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
        message = session.get(Message, item.message_id) if item else None
    if item is None or message is None:
        return "skipped"
    adapter = runtime.adapters.get(item.channel)
    if adapter is None:
        return _finish(
            runtime.engine, item, error=f"the {item.channel} channel is not configured on this server"
        )
    outbound = OutboundMessage(
        channel=ChannelKind(item.channel),
        recipient=item.recipient,
        text=message.body,
        retry_key=item.retry_key,
        # Only the first attempt may use the reply token: a retry cannot know whether it was used.
        reply_token=item.reply_token if item.attempts <= 1 else None,  # the claim counted this try
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


def _finish(
    engine: Any, item: OutboxItem, *, error: str | None = None, external_ids: list[str] | None = None
) -> str:
    with Session(engine) as session:
        row = session.get(OutboxItem, item.id)
        message = session.get(Message, item.message_id)
        assert row is not None and message is not None
        now = utcnow()
        if error is None:
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
            message.status, message.sent_at = MessageStatus.SENT, now
            if external_ids:
                message.meta = {**message.meta, "vendor_message_ids": external_ids}
        else:
            row.status, row.last_error = OutboxStatus.FAILED, error[:500]
            message.status, message.error = MessageStatus.FAILED, error[:500]
        session.add(row)
        session.add(message)
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
