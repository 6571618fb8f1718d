"""Serious-accident (重大事故等) notifications to the Consumer Affairs Agency.

A draft is prefilled from the ticket (情報を得た日時 = when the first consumer message arrived,
方法 = the channel, 態様 = the messages and summary); the counselor completes it; marking it notified
is refused until every item of 施行規則 第九条2項 is filled, and records 通知日時 and the delay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from crm.audit import write_audit
from crm.errors import BadRequest, Conflict, NotFound
from crm.events import TicketChanged, record_event
from crm.models import (
    AccidentReport,
    AccidentReportStatus,
    Direction,
    Message,
    Ticket,
    User,
    utcnow,
)

CHANNEL_METHODS = {
    "voice": "電話相談",
    "line": "LINE相談",
    "email": "電子メール相談",
    "web": "ウェブフォーム",
}
REQUIRED_ITEMS = {
    "occurred_at": "発生日時",
    "occurred_place": "発生場所",
    "learned_method": "情報を得た方法",
    "circumstances": "事故の態様",
    "product": "商品等又は役務を特定するために必要な事項",
}
EDITABLE = set(REQUIRED_ITEMS) | {"damage", "confidential", "whistleblowing", "serious"}


def draft_report(session: Session, *, ticket: Ticket, author: User) -> AccidentReport:
    """Open the next report (第N報) for the ticket, prefilled from what the ticket already knows."""
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.sent_at), col(Message.id))
    ).all()
    previous = session.exec(
        select(func.max(AccidentReport.report_no)).where(AccidentReport.ticket_id == ticket.id)
    ).one()
    from crm.intake import detect_serious_accident

    text = "\n".join(m.body for m in messages)
    report = AccidentReport(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        report_no=(previous or 0) + 1,
        learned_at=(messages[0].sent_at or messages[0].created_at) if messages else ticket.created_at,
        learned_method=CHANNEL_METHODS.get(ticket.channel, ticket.channel),
        circumstances=ticket.summary or text[:4000],
        product=ticket.product_category or "",
        detection_reasons=detect_serious_accident(text)
        or detect_serious_accident(notes_text(session, ticket)),
        created_by=author.id,
    )
    session.add(report)
    if not ticket.serious_accident:
        from crm.accident_checks import settle_on_flag

        ticket.serious_accident = True
        session.add(ticket)
        settle_on_flag(session, ticket)  # opening a notification draft answers a pending 要確認
    session.flush()
    write_audit(
        session,
        actor_id=author.id,
        action="accident.draft",
        object_type="accident_report",
        object_id=report.id or 0,
    )
    session.commit()
    return report


def update_report(
    session: Session, *, report: AccidentReport, actor: User, changes: dict[str, Any]
) -> AccidentReport:
    if report.status == AccidentReportStatus.NOTIFIED:
        raise Conflict("this report was already notified; open a follow-up report (第N報) instead")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise BadRequest(f"cannot change {', '.join(sorted(unknown))}")
    for key, value in changes.items():
        setattr(report, key, value)
    session.add(report)
    write_audit(
        session,
        actor_id=actor.id,
        action="accident.update",
        object_type="accident_report",
        object_id=report.id or 0,
    )
    session.commit()
    return report


def mark_notified(
    session: Session, *, report: AccidentReport, actor: User, method: str, at: datetime | None = None
) -> AccidentReport:
    """Record that the notification was sent; refused while a statutory item is missing."""
    if report.status == AccidentReportStatus.NOTIFIED:
        raise Conflict(f"report {report.id} was already notified at {report.notified_at}")
    missing = [label for key, label in REQUIRED_ITEMS.items() if not str(getattr(report, key) or "").strip()]
    if missing:
        raise BadRequest("fill in before notifying (施行規則 第九条2項): " + "、".join(missing))
    report.status = AccidentReportStatus.NOTIFIED
    report.notified_at = at or utcnow()
    report.notified_by = actor.id
    report.notification_method = method
    session.add(report)
    ticket = session.get(Ticket, report.ticket_id)
    assert ticket is not None and ticket.id is not None
    write_audit(
        session,
        actor_id=actor.id,
        action="accident.notified",
        object_type="accident_report",
        object_id=report.id or 0,
        detail={"method": method, "delay_seconds": delay_seconds(report)},
    )
    record_event(
        session,
        TicketChanged(
            ticket_id=ticket.id,
            center_id=ticket.center_id,
            status=ticket.status.value,
            changes=("accident_notified",),
        ),  # type: ignore[arg-type]
    )
    session.commit()
    return report


def delay_seconds(report: AccidentReport) -> int | None:
    """Seconds from 情報を得た日時 to 通知日時 (None while not notified)."""
    if report.notified_at is None:
        return None
    return int((report.notified_at - report.learned_at).total_seconds())


def get_report(session: Session, report_id: int) -> AccidentReport:
    report = session.get(AccidentReport, report_id)
    if report is None:
        raise NotFound(f"accident report {report_id} does not exist")
    return report


def reports_of(session: Session, ticket_id: int) -> list[AccidentReport]:
    return list(
        session.exec(
            select(AccidentReport)
            .where(AccidentReport.ticket_id == ticket_id)
            .order_by(col(AccidentReport.report_no))
        ).all()
    )


def flag_if_serious(session: Session, ticket: Ticket, text: str) -> list[str]:
    """Screen ``text`` (e.g. a counselor's note after a call); on a hit flag the ticket and alert.

    Setting ``serious_accident`` jumps the routing queue; the SeriousAccidentSuspected event (published at
    commit) alerts supervisors on the console and Slack. A ticket already flagged is not alerted twice.
    """
    from crm.events import SeriousAccidentSuspected
    from crm.intake import detect_serious_accident

    reasons = detect_serious_accident(text)
    if reasons and not ticket.serious_accident:
        from crm.accident_checks import settle_on_flag

        ticket.serious_accident = True
        session.add(ticket)
        settle_on_flag(session, ticket)
        record_event(
            session,
            SeriousAccidentSuspected(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                center_id=ticket.center_id,
                reasons=tuple(reasons),
            ),
        )
    elif not reasons:
        from crm.accident_checks import open_check_if_possible

        open_check_if_possible(session, ticket, text)  # 要確認 in the note: a counselor judges it
    return reasons


def notes_text(session: Session, ticket: Ticket) -> str:
    """The counselors' notes on the ticket (a call's 重大事故等 is often only in the note typed after it)."""
    from crm.models import Note

    notes = session.exec(select(Note).where(Note.ticket_id == ticket.id, Note.kind == "note")).all()
    return "\n".join(n.body for n in notes)
