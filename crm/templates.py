"""Canned responses (定型文) per center, with variables filled for the ticket being answered.

A body may use only the variables in :data:`VARIABLES` (``{consumer_name}``, ``{counselor_name}``,
``{center_name}``, ``{ticket_id}``, ``{today}``); anything else in braces is refused when the
template is saved, so a counselor never sends a literal ``{typo}`` to a consumer. Filling is plain
text replacement (no format-string evaluation). A center without templates of its own gets
:data:`BUILT_IN` (id ``None``), which cannot be deleted.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.clock import today_jst
from crm.audit import write_audit
from crm.errors import BadRequest, Conflict, Forbidden, NotFound
from crm.models import CannedResponse, Center, ContactIdentity, ContactPersonalData, Role, Ticket, User
from crm.queries import access_ticket

VARIABLES = {
    "consumer_name": "the consumer's name, or 相談者 when unknown",
    "counselor_name": "your display name",
    "center_name": "the center's name",
    "ticket_id": "the consultation number",
    "today": "today's date in JST (2026年12月1日)",
}
PLACEHOLDER = re.compile(r"\{([^{}]{0,40})\}")
BUILT_IN = (
    ("受付のご挨拶", "{consumer_name}様\n{center_name}の{counselor_name}です。ご相談ありがとうございます。"),
    ("書面の確認", "お手元に契約書面はございますか。受け取った日付を教えてください。"),
    ("折り返し", "確認のうえ、改めてご連絡いたします（受付番号 {ticket_id}）。"),
)


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=5000)
    center_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class TemplatePublic(BaseModel):
    id: int | None
    center_id: int | None
    title: str
    body: str
    filled: str | None = None  # the body with the ticket's variables, when asked for a ticket
    created_at: datetime | None = None


def check_variables(body: str) -> None:
    unknown = sorted({m for m in PLACEHOLDER.findall(body) if m not in VARIABLES})
    if unknown:
        names = ", ".join("{" + v + "}" for v in VARIABLES)
        raise BadRequest(f"unknown variable {{{unknown[0]}}} in the template; use {names}")


def list_templates(session: Session, *, user: User, ticket_id: int | None = None) -> list[TemplatePublic]:
    """The center's templates (built-in ones when it has none), filled for ``ticket_id`` if given."""
    ticket = access_ticket(session, ticket_id, user) if ticket_id is not None else None
    center_id = ticket.center_id if ticket is not None else user.center_id
    rows = session.exec(
        select(CannedResponse)
        .where(CannedResponse.center_id == center_id)
        .order_by(col(CannedResponse.title))
    ).all()
    out = [TemplatePublic.model_validate(r, from_attributes=True) for r in rows] or [
        TemplatePublic(id=None, center_id=None, title=title, body=body) for title, body in BUILT_IN
    ]
    if ticket is not None:
        values = _values(session, ticket, user)
        out = [t.model_copy(update={"filled": fill(t.body, values)}) for t in out]
    return out


def fill(body: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def _values(session: Session, ticket: Ticket, user: User) -> dict[str, str]:
    personal = session.get(ContactPersonalData, ticket.contact_id)
    identity = session.exec(
        select(ContactIdentity).where(
            ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.channel == ticket.channel
        )
    ).first()
    name = (personal.full_name if personal else None) or (identity.display_name if identity else None)
    center = session.get(Center, ticket.center_id)
    today = today_jst()
    return {
        "consumer_name": name or "相談者",
        "counselor_name": user.display_name or user.username,
        "center_name": center.name if center else "",
        "ticket_id": str(ticket.id),
        "today": f"{today.year}年{today.month}月{today.day}日",
    }


def create_template(session: Session, *, user: User, body: TemplateCreate) -> CannedResponse:
    """A supervisor adds a template to their center (an admin to any center); commits."""
    center_id = body.center_id or user.center_id
    if center_id is None:
        raise BadRequest("give center_id: you belong to no center")
    _check_may_edit(user, center_id)
    if session.get(Center, center_id) is None:
        raise NotFound(f"center {center_id} does not exist")
    check_variables(body.body)
    row = CannedResponse(center_id=center_id, title=body.title.strip(), body=body.body, created_by=user.id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"the center already has a template titled {body.title.strip()!r}") from exc
    write_audit(
        session, actor_id=user.id, action="template.create", object_type="template", object_id=row.id or 0
    )
    session.commit()
    return row


def delete_template(session: Session, *, user: User, template_id: int) -> None:
    row = session.get(CannedResponse, template_id)
    if row is None:
        raise NotFound(f"template {template_id} does not exist")
    _check_may_edit(user, row.center_id)
    session.delete(row)
    write_audit(
        session, actor_id=user.id, action="template.delete", object_type="template", object_id=template_id
    )
    session.commit()


def _check_may_edit(user: User, center_id: int) -> None:
    if user.role == Role.ADMIN:
        return
    if user.role != Role.SUPERVISOR or user.center_id != center_id:
        raise Forbidden("only a supervisor of the center (or an admin) can change its templates")
