"""Background jobs of the LINE channel (module-level functions taking ids, for either job runner).

* :func:`process_events_for_sender` — the stored webhook events of one LINE user, oldest first
  (by LINE's timestamp, not arrival), each claimed exactly once;
* :func:`download_attachment` — media content into the attachment store, with retries;
* :func:`fetch_profile` — display name and language, once per identity;
* :func:`sweep` (periodic) — re-enqueue work a lost job or a restarted Redis left behind.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from channels.base import ChannelPermanentError, ChannelTemporaryError
from channels.line.events import parse_event
from channels.line.handlers import Context, Outcome, handle
from config.wiring import Runtime, get_runtime
from crm.db import session_scope
from crm.models import (
    Attachment,
    Center,
    ContactIdentity,
    InboundEvent,
    InboundEventStatus,
    Message,
    Note,
    Ticket,
    utcnow,
)

log = logging.getLogger(__name__)
CHANNEL = "line"
BATCH = 100
MAX_ROUNDS = 50
DOWNLOAD_BACKOFF = (30, 120, 600, 1800)


def job_key(sender: str) -> str:
    """RQ job ids allow only letters, digits, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", sender)[:100]


def enqueue_sender(runtime: Runtime, sender: str) -> None:
    """One processing job per sender at a time (coalesced by job id)."""
    runtime.jobs.enqueue(process_events_for_sender, sender, job_id=f"line-events-{job_key(sender)}")


def process_events_for_sender(sender: str) -> int:
    """Process every pending event of ``sender`` in timestamp order; returns how many were handled.

    Never raises: a failing event is marked FAILED with the reason and the others go on.
    """
    runtime = get_runtime()
    handled = 0
    for _ in range(MAX_ROUNDS):  # events that arrive while we work are picked up by the next round
        with Session(runtime.engine) as session:
            ids = session.exec(
                select(InboundEvent.id)
                .where(
                    InboundEvent.channel == CHANNEL,
                    InboundEvent.sender == sender,
                    InboundEvent.status == InboundEventStatus.PENDING,
                )
                .order_by(col(InboundEvent.occurred_at_ms), col(InboundEvent.id))
                .limit(BATCH)
            ).all()
        if not ids:
            break
        for event_id in ids:
            process_event(runtime, event_id)  # type: ignore[arg-type]
            handled += 1
    return handled


def process_event(runtime: Runtime, event_id: int) -> InboundEventStatus | None:
    """Claim one stored event and apply it; vendor calls run after the commit."""
    outcome: Outcome | None = None
    try:
        with session_scope(runtime.engine) as session:
            if not _claim(session, event_id):
                return None  # another worker has it
            row = session.get(InboundEvent, event_id)
            assert row is not None
            center = line_center(session, runtime.settings.line_center_code)
            if center is None:
                raise LookupError("no center exists yet: create one (or set MADOGUCHI_LINE_CENTER_CODE)")
            outcome = handle(session, Context(runtime, center), parse_event(json.loads(row.raw)))
            row.status = outcome.status
            row.error = outcome.reason[:500] if outcome.reason else None
            session.add(row)
            if outcome.status == InboundEventStatus.IGNORED:
                log.info("LINE event %s ignored: %s", row.provider_event_id, outcome.reason)
    except Exception as exc:
        log.exception("LINE event %s failed", event_id)
        _mark_failed(runtime, event_id, f"{type(exc).__name__}: {exc}")
        return InboundEventStatus.FAILED
    for action in outcome.after_commit:
        try:
            action()
        except Exception:
            log.exception("follow-up of LINE event %s failed", event_id)
    return outcome.status


def line_center(session: Session, code: str) -> Center | None:
    """The center that owns the LINE official account: by code, else the first center."""
    if code:
        center = session.exec(select(Center).where(Center.code == code)).first()
        if center is not None:
            return center
        log.warning("MADOGUCHI_LINE_CENTER_CODE=%s matches no center; using the first center", code)
    return session.exec(select(Center).order_by(col(Center.id))).first()


def _claim(session: Session, event_id: int) -> bool:
    # The UPDATE takes the row lock until commit: a second worker waits, then finds nothing to claim.
    result = session.execute(
        update(InboundEvent)
        .where(col(InboundEvent.id) == event_id, col(InboundEvent.status) == InboundEventStatus.PENDING)
        .values(status=InboundEventStatus.PROCESSED, processed_at=utcnow())
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _mark_failed(runtime: Runtime, event_id: int, error: str) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id, col(InboundEvent.status) == InboundEventStatus.PENDING)
            .values(status=InboundEventStatus.FAILED, error=error[:500], processed_at=utcnow())
        )


def download_attachment(attachment_id: int, attempt: int = 0) -> str:
    """Fetch one attachment's content from LINE; returns its new status."""
    from channels.line.media import ContentTooLarge, download_content

    runtime = get_runtime()
    settings = runtime.settings
    adapter = runtime.adapters.get(CHANNEL)
    with Session(runtime.engine, expire_on_commit=False) as session:
        att = session.get(Attachment, attachment_id)
    if att is None or att.status != "pending" or not att.external_ref or not hasattr(adapter, "blob_client"):
        return att.status if att else "missing"
    limit = settings.line_max_attachment_bytes
    try:
        if att.size > limit:
            raise ContentTooLarge(att.size, limit)
        stored = download_content(adapter, att.external_ref, settings.data_dir, limit)  # type: ignore[arg-type]
    except ContentTooLarge as exc:
        _finish_attachment(
            runtime,
            att,
            "too_large",
            size=exc.size_seen,
            note=(
                f"The consumer sent {att.filename}, but it is larger than the limit of {limit / 1e6:.0f} MB and was "
                "not stored (添付ファイルが大きすぎます). Ask them to send it another way or in parts."
            ),
        )
        return "too_large"
    except ChannelTemporaryError as exc:
        if attempt < len(DOWNLOAD_BACKOFF):
            runtime.jobs.enqueue(
                download_attachment,
                attachment_id,
                attempt + 1,
                job_id=f"line-download-{attachment_id}-{attempt + 1}",
                delay=DOWNLOAD_BACKOFF[attempt],
            )
            log.info("attachment %s: %s; retry %d later", attachment_id, exc, attempt + 1)
            return "pending"
        _finish_attachment(
            runtime, att, "failed", note=f"{att.filename} could not be downloaded from LINE: {exc}"
        )
        return "failed"
    except ChannelPermanentError as exc:
        _finish_attachment(
            runtime, att, "failed", note=f"{att.filename} could not be downloaded from LINE: {exc}"
        )
        return "failed"
    with session_scope(runtime.engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        row.sha256, row.size, row.storage_path, row.status = (
            stored.sha256,
            stored.size,
            stored.storage_path,
            "stored",
        )
        if stored.content_type and stored.content_type != "application/octet-stream":
            row.content_type = stored.content_type[:127]
        session.add(row)
    return "stored"


def _finish_attachment(
    runtime: Runtime, att: Attachment, status: str, *, note: str, size: int | None = None
) -> None:
    with session_scope(runtime.engine) as session:
        row = session.get(Attachment, att.id)
        assert row is not None
        row.status = status
        if size is not None:
            row.size = size
        session.add(row)
        message = session.get(Message, row.message_id)
        ticket = session.get(Ticket, message.ticket_id) if message else None
        if ticket is not None:
            session.add(Note(ticket_id=ticket.id, author_id=None, kind="system", body=note))  # type: ignore[arg-type]


def fetch_profile(identity_id: int) -> None:
    """Display name and language from LINE, kept on the identity (not the case record), once."""
    runtime = get_runtime()
    adapter = runtime.adapters.get(CHANNEL)
    with Session(runtime.engine, expire_on_commit=False) as session:
        identity = session.get(ContactIdentity, identity_id)
    if identity is None or identity.profile_fetched_at is not None or not hasattr(adapter, "get_profile"):
        return
    changes: dict[str, Any] = {"profile_fetched_at": utcnow()}
    try:
        profile = adapter.get_profile(identity.external_id)  # type: ignore[union-attr]
        changes["display_name"] = (profile.display_name or "")[:200] or None
        changes["language"] = (profile.language or "")[:16] or None
    except ChannelTemporaryError as exc:
        log.info("profile of identity %s not fetched (%s); next message will try again", identity_id, exc)
        return
    except ChannelPermanentError as exc:
        log.info("profile of identity %s unavailable: %s", identity_id, exc)
    with runtime.engine.begin() as conn:
        conn.execute(update(ContactIdentity).where(col(ContactIdentity.id) == identity_id).values(**changes))


def sweep() -> int:
    """Periodic: re-enqueue senders with events pending for a while, and stalled downloads."""
    runtime = get_runtime()
    now = utcnow()
    slot = int(now.timestamp() // 60)
    with Session(runtime.engine) as session:
        senders = session.exec(
            select(InboundEvent.sender)
            .where(
                InboundEvent.channel == CHANNEL,
                InboundEvent.status == InboundEventStatus.PENDING,
                col(InboundEvent.received_at) < now - timedelta(seconds=10),
            )
            .distinct()
            .limit(500)
        ).all()
        stalled = session.exec(
            select(Attachment.id)
            .join(Message, col(Message.id) == col(Attachment.message_id))
            .where(
                Message.channel == CHANNEL,
                Attachment.status == "pending",
                col(Attachment.external_ref).is_not(None),
                col(Attachment.created_at) < now - timedelta(hours=1),
            )
            .limit(100)
        ).all()
    for sender in senders:
        if not sender:
            continue
        # A different job id from enqueue_sender: a stuck coalescing id must not block the sweep.
        runtime.jobs.enqueue(
            process_events_for_sender, sender, job_id=f"line-events-sweep-{job_key(sender)}-{slot}"
        )
    for att_id in stalled:
        runtime.jobs.enqueue(
            download_attachment, att_id, len(DOWNLOAD_BACKOFF), job_id=f"line-download-sweep-{att_id}-{slot}"
        )
    return len(senders) + len(stalled)
