"""Routes for possible 重大事故等 (要確認) that a counselor confirms or rules out (crm.accident_checks)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from crm import accident_checks
from crm.deps import CurrentUser, SessionDep
from crm.errors import NotFound
from crm.http_errors import Id
from crm.models import AccidentCheck, AccidentCheckStatus
from crm.queries import access_ticket, visible_center_ids
from crm.schemas import Strict

router = APIRouter(prefix="/api", tags=["serious accidents"])
MAX_LISTED = 500


class AccidentCheckPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    ticket_id: int
    center_id: int
    status: str = Field(description="pending | serious | not_serious")
    reasons: list[str] = Field(description="what the screener saw (rule ids and the words that fired)")
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str
    escalated_at: datetime | None
    created_at: datetime


class DecisionBody(Strict):
    decision: Literal["serious", "not_serious"] = Field(
        description="serious: 重大事故等; not_serious: 該当しない"
    )
    note: str = Field("", max_length=2000, description="required for not_serious: why it is not serious")


@router.get("/accident-checks", response_model=list[AccidentCheckPublic])
def list_checks(
    session: SessionDep,
    user: CurrentUser,
    status: Literal["pending", "serious", "not_serious"] = Query("pending"),
) -> list[AccidentCheck]:
    """The checks of the centers you can see, oldest first (default: the pending ones)."""
    query = select(AccidentCheck).where(AccidentCheck.status == AccidentCheckStatus(status))
    centers = visible_center_ids(user)
    if centers is not None:
        query = query.where(col(AccidentCheck.center_id).in_(centers))
    return list(session.exec(query.order_by(col(AccidentCheck.created_at)).limit(MAX_LISTED)).all())


@router.get("/tickets/{ticket_id}/accident-checks", response_model=list[AccidentCheckPublic])
def ticket_checks(ticket_id: Id, session: SessionDep, user: CurrentUser) -> list[AccidentCheck]:
    access_ticket(session, ticket_id, user)
    return list(
        session.exec(
            select(AccidentCheck)
            .where(AccidentCheck.ticket_id == ticket_id)
            .order_by(col(AccidentCheck.created_at))
        ).all()
    )


@router.post("/accident-checks/{check_id}/decision", response_model=AccidentCheckPublic)
def decide(check_id: Id, body: DecisionBody, session: SessionDep, user: CurrentUser) -> AccidentCheck:
    """Confirm (serious: the ticket is flagged and supervisors alerted) or rule out, with a reason."""
    check = session.get(AccidentCheck, check_id)
    if check is None:
        raise NotFound(f"accident check {check_id} does not exist")
    access_ticket(session, check.ticket_id, user)
    accident_checks.decide(session, check=check, user=user, decision=body.decision, note=body.note)
    session.commit()
    session.refresh(check)
    return check
