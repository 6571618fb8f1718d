"""Attachment rows for the channel jobs: what to download, and recording the result.

Channel packages never write rows: channels.jobs downloads through the adapter and calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from crm.db import session_scope
from crm.models import Attachment, Message, Note, Ticket, utcnow


@dataclass(frozen=True)
class PendingAttachment:
    id: int
    filename: str
    size: int
    external_ref: str
    channel: str
    channel_account_id: int | None


def pending_attachment(engine: Engine, attachment_id: int) -> PendingAttachment | None:
    """The attachment if it still waits for its content (None: stored, refused, or unknown)."""
    with Session(engine) as session:
        att = session.get(Attachment, attachment_id)
        if att is None or att.status != "pending" or not att.external_ref:
            return None
        message = session.get(Message, att.message_id)
        return PendingAttachment(
            id=attachment_id,
            filename=att.filename,
            size=att.size,
            external_ref=att.external_ref,
            channel=message.channel if message else "",
            channel_account_id=message.channel_account_id if message else None,
        )


def attachment_status(engine: Engine, attachment_id: int) -> str:
    with Session(engine) as session:
        att = session.get(Attachment, attachment_id)
        return att.status if att else "missing"


def record_content(
    engine: Engine, attachment_id: int, *, sha256: str, size: int, storage_path: str, content_type: str
) -> None:
    """The content is in the store: keep where, its hash, size and (when known) type."""
    with session_scope(engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        row.sha256, row.size, row.storage_path, row.status = sha256, size, storage_path, "stored"
        if content_type and content_type != "application/octet-stream":
            row.content_type = content_type[:127]
        session.add(row)


def refuse_content(
    engine: Engine, attachment_id: int, *, status: str, note: str, size: int | None = None
) -> None:
    """The content will not be stored (too large, gone): mark it and tell the counselor in a note."""
    with session_scope(engine) as session:
        row = session.get(Attachment, attachment_id)
        assert row is not None
        row.status = status
        if size is not None:
            row.size = size
        session.add(row)
        message = session.get(Message, row.message_id)
        ticket = session.get(Ticket, message.ticket_id) if message else None
        if ticket is not None:
            session.add(Note(ticket_id=ticket.id, author_id=None, kind="system", body=note))  # type: ignore[arg-type]


def stalled_attachment_ids(engine: Engine, *, older_than: timedelta = timedelta(hours=1)) -> list[int]:
    """Downloads still pending long after they arrived (their job chain was lost)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Attachment.id)
            .where(
                Attachment.status == "pending",
                col(Attachment.external_ref).is_not(None),
                col(Attachment.created_at) < utcnow() - older_than,
            )
            .limit(100)
        ).all()
    return [r for r in rows if r is not None]
