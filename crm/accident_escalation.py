"""Elapsed time 情報を得た日時 → 通知 of 重大事故等 drafts, and escalation of the overdue ones.

消費者安全法 第12条1項 says 直ちに with no number; the center sets the deadline
(``Settings.accident_notify_within_minutes``, default 60). A serious draft still not notified when it
passes is escalated once: ``escalated_at`` is set with a compare-and-set (safe across processes), a
system note ``escalation`` is added to the ticket, and an :class:`AccidentNotificationOverdue` event
goes to the consoles and to Slack (crm.alerts.alert_overdue_accident). So is, once, an open ticket
flagged 重大事故等 on which nobody opened a draft (its opening taken as 情報を得た日時). Follow-up reports (第2報 …)
and non-serious reports (第12条2項, 速やかに) are shown with their elapsed time but never escalated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.clock import now_utc
from crm.audit import write_audit
from crm.events import AccidentNotificationOverdue, record_event
from crm.models import OPEN_STATUSES, AccidentReport, AccidentReportStatus, Note, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """How a report stands against its deadline at ``now``."""

    elapsed_seconds: int  # 情報を得た日時 → 通知日時 (or → now while not notified)
    notify_by: datetime
    overdue: bool  # not notified and past notify_by, or notified after it


def timing(report: AccidentReport, *, within: timedelta, now: datetime | None = None) -> Timing:
    """Elapsed time and deadline of ``report`` (``now`` defaults to the clock)."""
    end = report.notified_at or now or now_utc()
    notify_by = report.learned_at + within
    return Timing(
        elapsed_seconds=max(0, int((end - report.learned_at).total_seconds())),
        notify_by=notify_by,
        overdue=end > notify_by,
    )


def escalate_overdue(session: Session, *, within: timedelta, now: datetime | None = None) -> list[int]:
    """Escalate every serious first-report draft past its deadline; returns the escalated report ids."""
    now = now or now_utc()
    due = session.exec(
        select(AccidentReport, Ticket)
        .join(Ticket, col(Ticket.id) == AccidentReport.ticket_id)
        .where(
            AccidentReport.status == AccidentReportStatus.DRAFT,
            col(AccidentReport.serious).is_(True),
            AccidentReport.report_no == 1,
            col(AccidentReport.escalated_at).is_(None),
            col(AccidentReport.learned_at) <= now - within,
        )
        .order_by(col(AccidentReport.learned_at))
    ).all()
    escalated: list[int] = []
    for report, ticket in due:
        claimed = session.execute(
            update(AccidentReport)
            .where(col(AccidentReport.id) == report.id, col(AccidentReport.escalated_at).is_(None))
            .values(escalated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another process escalated it first
        _escalate(session, ticket, int((now - report.learned_at).total_seconds()), report)
        escalated.append(report.id)  # type: ignore[arg-type]
    session.commit()
    return escalated


def escalate_undrafted(session: Session, *, within: timedelta, now: datetime | None = None) -> list[int]:
    """Escalate open tickets flagged 重大事故等 for longer than ``within`` with no draft opened at all
    (情報を得た日時 taken as the ticket's opening); once per ticket. Returns the ticket ids."""
    now = now or now_utc()
    has_report = select(AccidentReport.id).where(AccidentReport.ticket_id == Ticket.id).exists()
    was_escalated = select(Note.id).where(Note.ticket_id == Ticket.id, Note.kind == "escalation").exists()
    due = session.exec(
        select(Ticket)
        .where(
            col(Ticket.serious_accident).is_(True),
            col(Ticket.status).in_(OPEN_STATUSES),
            col(Ticket.created_at) <= now - within,
            ~has_report,
            ~was_escalated,
        )
        .order_by(col(Ticket.created_at))
    ).all()
    escalated: list[int] = []
    for ticket in due:
        claimed = session.execute(  # compare-and-set: a concurrent sweep that read the same version loses
            update(Ticket)
            .where(col(Ticket.id) == ticket.id, col(Ticket.version) == ticket.version)
            .values(version=ticket.version + 1, updated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        _escalate(session, ticket, int((now - ticket.created_at).total_seconds()), None)
        escalated.append(ticket.id)  # type: ignore[arg-type]
    session.commit()
    return escalated


def _escalate(session: Session, ticket: Ticket, elapsed: int, report: AccidentReport | None) -> None:
    """The escalation note, audit row and event (published at commit) of one overdue case."""
    minutes = elapsed // 60
    what = f"第{report.report_no}報 draft #{report.id}" if report else "no notification draft opened yet"
    session.add(
        Note(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            kind="escalation",
            body=(
                f"重大事故等の通知が未了 (notification overdue): {what}, {minutes // 60}時間{minutes % 60}分 "
                "since 情報を得た日時. Notify the Consumer Affairs Agency now (消費者安全法 第12条1項 直ちに)."
            ),
        )
    )
    write_audit(
        session,
        actor_id=None,
        action="accident.escalated",
        object_type="accident_report" if report else "ticket",
        object_id=(report.id if report else ticket.id) or 0,
        detail={"elapsed_seconds": elapsed, "ticket_id": ticket.id},
    )
    record_event(
        session,
        AccidentNotificationOverdue(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            center_id=ticket.center_id,
            elapsed_seconds=elapsed,
            report_id=report.id if report else None,
            report_no=report.report_no if report else None,
        ),
    )


def run_escalation(engine: Engine, *, within: timedelta, now: datetime | None = None) -> list[int]:
    """One sweep in its own session."""
    with Session(engine, expire_on_commit=False) as session:
        return escalate_overdue(session, within=within, now=now)


def escalate_overdue_job() -> None:
    """Periodic job (bootstrap.PERIODIC): escalate drafts not notified in time."""
    from config.runtime import get_runtime

    runtime = get_runtime()
    within = timedelta(minutes=runtime.settings.accident_notify_within_minutes)
    ids = run_escalation(runtime.engine, within=within)
    with Session(runtime.engine, expire_on_commit=False) as session:
        tickets = escalate_undrafted(session, within=within)
    if ids or tickets:
        log.warning(
            "重大事故等 notification overdue: escalated reports %s, tickets without a draft %s", ids, tickets
        )
