"""Routes for serious-accident notifications (重大事故等の通知)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from config.settings import Settings
from crm import accidents
from crm.accident_escalation import timing
from crm.accident_export import export_notification
from crm.audit import audit_read
from crm.deps import CurrentUser, RuntimeDep, SessionDep
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
    elapsed_seconds: int = Field(0, description="情報を得た日時 → 通知日時, or → now while a draft")
    notify_by: datetime | None = Field(None, description="情報を得た日時 + the center's deadline (直ちに)")
    overdue: bool = Field(False, description="past notify_by and not notified (or notified late)")
    escalated_at: datetime | None = Field(None, description="when the overdue draft was escalated")


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


def _public(report: AccidentReport, settings: Settings) -> AccidentReportPublic:
    out = AccidentReportPublic.model_validate(report)
    out.delay_seconds = accidents.delay_seconds(report)
    now = timing(report, within=timedelta(minutes=settings.accident_notify_within_minutes))
    out.elapsed_seconds, out.notify_by, out.overdue = now.elapsed_seconds, now.notify_by, now.overdue
    return out


@router.get("/tickets/{ticket_id}/accident-reports", response_model=list[AccidentReportPublic])
def list_reports(
    ticket_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> list[AccidentReportPublic]:
    access_ticket(session, ticket_id, user)
    reports = [_public(r, runtime.settings) for r in accidents.reports_of(session, ticket_id)]
    audit_read(session, actor_id=user.id, action="accident_report.list", object_type="ticket",
               object_id=ticket_id, detail={"report_ids": [r.id for r in reports]})  # fmt: skip
    return reports


@router.post("/tickets/{ticket_id}/accident-reports", response_model=AccidentReportPublic, status_code=201)
def create_report(
    ticket_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> AccidentReportPublic:
    """Open a prefilled draft (the next 第N報) for the ticket."""
    ticket = access_ticket(session, ticket_id, user)
    return _public(accidents.draft_report(session, ticket=ticket, author=user), runtime.settings)


@router.patch("/accident-reports/{report_id}", response_model=AccidentReportPublic)
def update_report(
    report_id: Id, body: AccidentReportUpdate, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> AccidentReportPublic:
    report = accidents.get_report(session, report_id)
    access_ticket(session, report.ticket_id, user)
    return _public(
        accidents.update_report(
            session, report=report, actor=user, changes=body.model_dump(exclude_unset=True)
        ),
        runtime.settings,
    )


@router.post("/accident-reports/{report_id}/notified", response_model=AccidentReportPublic)
def notified(
    report_id: Id, body: NotifiedBody, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> AccidentReportPublic:
    """Record that the Consumer Affairs Agency was notified (通知日時 = now)."""
    report = accidents.get_report(session, report_id)
    access_ticket(session, report.ticket_id, user)
    return _public(
        accidents.mark_notified(session, report=report, actor=user, method=body.method), runtime.settings
    )


@router.get("/accident-reports/{report_id}/notification.pdf", response_class=Response)
def notification_pdf(report_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> Response:
    """The notification as PDF (Japanese font embedded); 503 when the machine has no Japanese font."""
    return _export(report_id, "pdf", session, user, runtime)


@router.get("/accident-reports/{report_id}/notification.csv", response_class=Response)
def notification_csv(report_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> Response:
    """The notification as CSV (UTF-8 with BOM, 項目/内容 rows)."""
    return _export(report_id, "csv", session, user, runtime)


def _export(
    report_id: int, kind: str, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> Response:
    report = accidents.get_report(session, report_id)
    access_ticket(session, report.ticket_id, user)
    settings = runtime.settings
    body = export_notification(
        session,
        report=report,
        actor=user,
        kind=kind,
        within=timedelta(minutes=settings.accident_notify_within_minutes),
        font_path=settings.pdf_font_path,
    )
    media = "application/pdf" if kind == "pdf" else "text/csv; charset=utf-8"
    filename = f"accident-report-{report.ticket_id}-{report.report_no}.{kind}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
