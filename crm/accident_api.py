"""Routes for serious-accident notifications (重大事故等の通知)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from crm import accidents
from crm.audit import audit_read
from crm.deps import CurrentUser, SessionDep
from crm.http_errors import Id
from crm.models import AccidentReport
from crm.queries import access_ticket
from crm.schemas import Omittable, Strict

router = APIRouter(prefix="/api", tags=["serious accidents"])


class AccidentReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    ticket_id: int
    report_no: int
    serious: bool
    occurred_at: str
    occurred_place: str
    learned_at: datetime
    learned_method: str
    circumstances: str
    product: str
    damage: str
    detection_reasons: list[str]
    confidential: bool
    whistleblowing: bool
    status: str
    notified_at: datetime | None
    notification_method: str | None
    delay_seconds: int | None = None


class AccidentReportUpdate(Strict):
    """Fields of a draft report; each may be left out, none set to null (the columns are NOT NULL)."""

    occurred_at: str = Omittable(max_length=100)
    occurred_place: str = Omittable(max_length=300)
    learned_method: str = Omittable(max_length=100)
    circumstances: str = Omittable(max_length=20_000)
    product: str = Omittable(max_length=500)
    damage: str = Omittable(max_length=1000)
    confidential: bool = Omittable()
    whistleblowing: bool = Omittable()
    serious: bool = Omittable()


class NotifiedBody(Strict):
    method: str = Field(min_length=1, max_length=50, description="電話, FAX, 事故情報データバンク, ...")


def _public(report: AccidentReport) -> AccidentReportPublic:
    out = AccidentReportPublic.model_validate(report)
    out.delay_seconds = accidents.delay_seconds(report)
    return out


@router.get("/tickets/{ticket_id}/accident-reports", response_model=list[AccidentReportPublic])
def list_reports(ticket_id: Id, session: SessionDep, user: CurrentUser) -> list[AccidentReportPublic]:
    access_ticket(session, ticket_id, user)
    reports = [_public(r) for r in accidents.reports_of(session, ticket_id)]
    audit_read(session, actor_id=user.id, action="accident_report.list", object_type="ticket",
               object_id=ticket_id, detail={"report_ids": [r.id for r in reports]})  # fmt: skip
    return reports


@router.post("/tickets/{ticket_id}/accident-reports", response_model=AccidentReportPublic, status_code=201)
def create_report(ticket_id: Id, session: SessionDep, user: CurrentUser) -> AccidentReportPublic:
    """Open a prefilled draft (the next 第N報) for the ticket."""
    ticket = access_ticket(session, ticket_id, user)
    return _public(accidents.draft_report(session, ticket=ticket, author=user))


@router.patch("/accident-reports/{report_id}", response_model=AccidentReportPublic)
def update_report(
    report_id: Id, body: AccidentReportUpdate, session: SessionDep, user: CurrentUser
) -> AccidentReportPublic:
    report = accidents.get_report(session, report_id)
    access_ticket(session, report.ticket_id, user)
    return _public(
        accidents.update_report(
            session, report=report, actor=user, changes=body.model_dump(exclude_unset=True)
        )
    )


@router.post("/accident-reports/{report_id}/notified", response_model=AccidentReportPublic)
def notified(
    report_id: Id, body: NotifiedBody, session: SessionDep, user: CurrentUser
) -> AccidentReportPublic:
    """Record that the Consumer Affairs Agency was notified (通知日時 = now)."""
    report = accidents.get_report(session, report_id)
    access_ticket(session, report.ticket_id, user)
    return _public(accidents.mark_notified(session, report=report, actor=user, method=body.method))
