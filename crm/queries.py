"""Reads and access checks: who may see which ticket (a counselor sees only their center's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from crm.errors import Forbidden, NotFound
from crm.models import Center, Message, Note, Role, Ticket, User


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


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    channel: str | None = None
    center_id: int | None = None
    assignee_id: int | None = None


def list_tickets(
    session: Session, user: User, flt: TicketFilter, *, offset: int, limit: int
) -> tuple[Sequence[Ticket], int]:
    """One page of visible tickets, newest first, and the total count."""
    conditions = []
    allowed = visible_center_ids(user)
    if flt.center_id is not None:
        if allowed is not None and flt.center_id not in allowed:
            raise Forbidden(f"center {flt.center_id} is not yours; you can only list your center's tickets")
        conditions.append(Ticket.center_id == flt.center_id)
    elif allowed is not None:
        conditions.append(col(Ticket.center_id).in_(allowed))
    if flt.status:
        conditions.append(Ticket.status == flt.status)
    if flt.channel:
        conditions.append(Ticket.channel == flt.channel)
    if flt.assignee_id is not None:
        conditions.append(Ticket.assignee_id == flt.assignee_id)
    total = session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
    rows = session.exec(
        select(Ticket)
        .where(*conditions)
        .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return rows, int(total)


def ticket_timeline(session: Session, ticket_id: int) -> tuple[Sequence[Message], Sequence[Note]]:
    messages = session.exec(
        select(Message).where(Message.ticket_id == ticket_id).order_by(col(Message.sent_at), col(Message.id))
    ).all()
    notes = session.exec(select(Note).where(Note.ticket_id == ticket_id).order_by(col(Note.id))).all()
    return messages, notes


def list_centers(session: Session) -> Sequence[Center]:
    return session.exec(select(Center).order_by(col(Center.code))).all()
