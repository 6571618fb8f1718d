"""Reads and access checks: who may see which ticket (a counselor sees only their center's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from crm.errors import Forbidden, NotFound
from crm.models import Center, Message, Note, Role, Ticket, TicketStatus, User


def visible_center_ids(user: User) -> set[int] | None:
    """The centers whose tickets ``user`` may see; None means every center (admin)."""
    if user.role == Role.ADMIN:
        return None
    return {user.center_id} if user.center_id is not None else set()


def access_ticket(session: Session, ticket_id: int, user: User) -> Ticket:
    """The ticket if ``user`` may see it; NotFound or Forbidden otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    allowed = visible_center_ids(user)
    if allowed is not None and ticket.center_id not in allowed:
        raise Forbidden(
            f"ticket {ticket_id} belongs to another center; you can only open your center's tickets"
        )
    return ticket


SORTS = ("newest", "oldest", "waiting", "updated")  # "waiting": longest in the queue first


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    channel: str | None = None
    center_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    serious: bool = False
    open_only: bool = False  # any status but resolved and closed
    text: str | None = None  # words that must all appear in the subject or summary
    sort: str = "newest"


def list_tickets(
    session: Session, user: User, flt: TicketFilter, *, offset: int, limit: int
) -> tuple[Sequence[Ticket], int]:
    """One page of visible tickets, newest first, and the total count."""
    conditions: list[ColumnElement[bool]] = []
    allowed = visible_center_ids(user)
    if flt.center_id is not None:
        if allowed is not None and flt.center_id not in allowed:
            raise Forbidden(f"center {flt.center_id} is not yours; you can only list your center's tickets")
        conditions.append(col(Ticket.center_id) == flt.center_id)
    elif allowed is not None:
        conditions.append(col(Ticket.center_id).in_(allowed))
    if flt.status:
        conditions.append(col(Ticket.status) == flt.status)
    if flt.channel:
        conditions.append(col(Ticket.channel) == flt.channel)
    if flt.assignee_id is not None:
        conditions.append(col(Ticket.assignee_id) == flt.assignee_id)
    conditions.extend(_worklist_conditions(flt))
    total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    rows = session.exec(
        select(Ticket).where(*conditions).order_by(*_ticket_order(flt.sort)).offset(offset).limit(limit)
    ).all()
    return rows, int(total)


def _worklist_conditions(flt: TicketFilter) -> list[ColumnElement[bool]]:
    """The console's worklist filters: unassigned, serious, open, and words in subject or summary."""
    out: list[ColumnElement[bool]] = []
    if flt.unassigned:
        out.append(col(Ticket.assignee_id).is_(None))
    if flt.serious:
        out.append(col(Ticket.serious_accident).is_(True))
    if flt.open_only:
        out.append(col(Ticket.status).not_in((TicketStatus.RESOLVED, TicketStatus.CLOSED)))
    for word in (flt.text or "").split()[:5]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        in_subject = col(Ticket.subject).like(pattern, escape="\\")
        out.append(or_(in_subject, col(Ticket.summary).like(pattern, escape="\\")))
    return out


def _ticket_order(sort: str) -> tuple[Any, ...]:
    if sort == "oldest":
        return (col(Ticket.created_at).asc(), col(Ticket.id).asc())
    if sort == "waiting":
        return (func.coalesce(Ticket.queued_at, Ticket.created_at).asc(), col(Ticket.id).asc())
    if sort == "updated":
        return (col(Ticket.updated_at).desc(), col(Ticket.id).desc())
    return (col(Ticket.created_at).desc(), col(Ticket.id).desc())


def ticket_timeline(session: Session, ticket_id: int) -> tuple[Sequence[Message], Sequence[Note]]:
    messages = session.exec(
        select(Message).where(Message.ticket_id == ticket_id).order_by(col(Message.sent_at), col(Message.id))
    ).all()
    notes = session.exec(select(Note).where(Note.ticket_id == ticket_id).order_by(col(Note.id))).all()
    return messages, notes


def list_centers(session: Session) -> Sequence[Center]:
    return session.exec(select(Center).order_by(col(Center.code))).all()
