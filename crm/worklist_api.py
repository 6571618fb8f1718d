"""Console actions on the worklist: take a waiting ticket ("assign to me"), list your colleagues."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from crm.audit import write_audit
from crm.claim_port import claim_if_unassigned
from crm.deps import CurrentUser, SessionDep
from crm.errors import Conflict
from crm.http_errors import Id
from crm.models import Role, TicketStatus, User
from crm.queries import access_ticket
from crm.schemas import TicketPublic

router = APIRouter(prefix="/api", tags=["tickets"])


class Colleague(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    display_name: str
    username: str
    role: Role


@router.post("/tickets/{ticket_id}/claim", response_model=TicketPublic)
def claim(ticket_id: Id, session: SessionDep, user: CurrentUser) -> TicketPublic:
    """Take a new, queued or offered ticket of your center (any pending offer to someone else ends)."""
    if user.role == Role.ADMIN:
        raise Conflict("administrators do not take consultations; use a counselor account")
    ticket = access_ticket(session, ticket_id, user)
    if ticket.assignee_id == user.id and ticket.status not in (TicketStatus.NEW, TicketStatus.QUEUED):
        return TicketPublic.model_validate(ticket)
    if ticket.status not in (TicketStatus.NEW, TicketStatus.QUEUED, TicketStatus.OFFERED):
        raise Conflict(
            f"ticket {ticket_id} is {ticket.status.value}, not waiting in the queue; ask a supervisor to transfer it"
        )
    ticket = claim_if_unassigned(session, ticket=ticket, user=user)
    write_audit(session, actor_id=user.id, action="ticket.claim", object_type="ticket", object_id=ticket_id)
    session.commit()
    return TicketPublic.model_validate(ticket)


@router.get("/me/colleagues", response_model=list[Colleague])
def colleagues(session: SessionDep, user: CurrentUser) -> list[Colleague]:
    """Active counselors and supervisors of your center (transfer targets)."""
    if user.center_id is None:
        return []
    rows = session.exec(
        select(User)
        .where(User.center_id == user.center_id, col(User.is_active).is_(True), User.role != Role.ADMIN)
        .order_by(col(User.display_name), col(User.id))
    ).all()
    return [Colleague.model_validate(u) for u in rows]
