"""Attachments of a ticket for the console: listed with their state, downloaded safely.

A consumer's file is never rendered by the console's origin: every download is
``Content-Disposition: attachment`` with ``nosniff`` and a sandboxing CSP, and only PNG, JPEG, GIF and
WebP keep their own type (anything else, HTML and SVG included, is ``application/octet-stream``).
Files are read from the data directory by the stored relative path and never outside it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from crm.audit import audit_read
from crm.deps import CurrentUser, RuntimeDep, SessionDep
from crm.errors import Conflict, NotFound
from crm.http_errors import Id
from crm.models import Attachment, Message, User
from crm.queries import access_ticket

SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}

router = APIRouter(prefix="/api", tags=["tickets"])


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    message_id: int
    filename: str
    content_type: str
    size: int
    status: str  # pending | stored | too_large | failed | purged
    created_at: datetime


@router.get("/tickets/{ticket_id}/attachments", response_model=list[AttachmentPublic])
def list_attachments(ticket_id: Id, session: SessionDep, user: CurrentUser) -> list[AttachmentPublic]:
    """The files consumers sent on this ticket, with their state (download only ``stored`` ones)."""
    access_ticket(session, ticket_id, user)
    rows = session.exec(
        select(Attachment)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(Message.ticket_id == ticket_id)
        .order_by(col(Attachment.id))
    ).all()
    return [AttachmentPublic.model_validate(r) for r in rows]


@router.get("/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(
    attachment_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> FileResponse:
    """The file as a download (never shown inline by the console's origin); every read is audited."""
    att, path = _stored_file(session, attachment_id, user, Path(runtime.settings.data_dir))
    audit_read(
        session, actor_id=user.id, action="attachment.read", object_type="attachment", object_id=attachment_id
    )
    media = att.content_type if att.content_type in SAFE_TYPES else "application/octet-stream"
    headers = {
        **DOWNLOAD_HEADERS,
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(att.filename)}",
    }
    return FileResponse(path, media_type=media, headers=headers)


def _stored_file(session: Session, attachment_id: int, user: User, data_dir: Path) -> tuple[Attachment, Path]:
    att = session.get(Attachment, attachment_id)
    message = session.get(Message, att.message_id) if att else None
    if att is None or message is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    access_ticket(session, message.ticket_id, user)
    if att.status != "stored" or not att.storage_path:
        raise Conflict(f"attachment {attachment_id} is {att.status}; there is no file to download")
    root = data_dir.resolve()
    path = (data_dir / att.storage_path).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"the file of attachment {attachment_id} is missing from the data directory")
    return att, path
