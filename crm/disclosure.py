"""A consumer's requests under 個人情報保護法: disclosure (開示, 第33条) and erasure (利用停止・消去, 第35条).

Who may act: an admin, or a supervisor of a center that handles the contact (has a ticket of theirs).
A supervisor's disclosure covers their center's tickets (personal data and channel identities are the
consumer's own and always included); erasing needs every ticket of the contact to be in their center
(otherwise an admin does it), because erasure removes the identities every center shares.

Erasure masks and deletes exactly what retention does (crm.retention), at once. Statutory duties come
first, so it is refused (409) while a ticket of the contact is open, while a ticket flagged 重大事故等
has a report not yet notified to the Consumer Affairs Agency (消費者安全法 第12条), or while a message
of the consumer is still being processed. A repeated request answers the first result again.
Both requests leave an audit record (the reason is stored PII-masked).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from crm import retention
from crm.audit import write_audit
from crm.errors import Conflict, Forbidden, NotFound
from crm.models import (
    OPEN_STATUSES,
    AccidentReport,
    AccidentReportStatus,
    Attachment,
    AuditLog,
    Contact,
    ContactIdentity,
    ContactPersonalData,
    DataPurge,
    Message,
    Note,
    Role,
    Ticket,
    User,
    utcnow,
)
from crm.schemas import MessagePublic, NotePublic, TicketPublic


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    age_band: str | None
    gender: str | None
    occupation: str | None
    region: str | None
    special_consideration: bool
    created_at: datetime


class PersonalDataOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    full_name: str | None
    phone: str | None
    email: str | None
    postal_code: str | None
    address: str | None
    consent_to_share: bool
    consent_recorded_at: datetime | None


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    channel: str
    external_id: str
    display_name: str | None
    language: str | None
    reachable: bool
    created_at: datetime


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    message_id: int
    filename: str
    content_type: str
    size: int
    status: str
    created_at: datetime


class AccidentReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    report_no: int
    serious: bool
    occurred_at: str
    occurred_place: str
    circumstances: str
    product: str
    damage: str
    status: str
    notified_at: datetime | None


class DisclosedTicket(TicketPublic):
    closed_at: datetime | None
    messages: list[MessagePublic]
    attachments: list[AttachmentOut]
    notes: list[NotePublic]
    accident_reports: list[AccidentReportOut]


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    action: str
    object_type: str
    object_id: str
    actor_id: int | None


class PurgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    object_type: str
    object_id: int
    cause: str
    at: datetime


class Disclosure(BaseModel):
    """Everything held about one consumer (保有個人データの開示)."""

    generated_at: datetime
    centers: list[int] | None  # the centers whose tickets are included; None = every center (admin)
    contact: ContactOut
    personal_data: PersonalDataOut | None
    identities: list[IdentityOut]
    tickets: list[DisclosedTicket]
    purges: list[PurgeOut]
    audit: list[AuditEntryOut]


class ErasureResult(BaseModel):
    contact_id: int
    erased_at: datetime
    already_erased: bool
    counts: dict[str, int]
    files_deleted: int


def _contact_and_centers(session: Session, contact_id: int, user: User) -> tuple[Contact, set[int]]:
    """The contact and the centers handling it, if ``user`` may act on it (404 / 403 otherwise)."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    centers = set(session.exec(select(Ticket.center_id).where(Ticket.contact_id == contact_id)).all())
    if user.role == Role.ADMIN:
        return contact, centers
    if user.role != Role.SUPERVISOR or user.center_id not in centers:
        raise Forbidden(
            f"contact {contact_id} is not a consumer of your center: only a supervisor of the handling "
            "center or an admin may answer their request"
        )
    return contact, centers


def disclose(session: Session, *, contact_id: int, user: User) -> Disclosure:
    """Everything held about the contact (the user's center's tickets for a supervisor); audited."""
    contact, _centers = _contact_and_centers(session, contact_id, user)
    scope = None if user.role == Role.ADMIN else {user.center_id}
    query = select(Ticket).where(Ticket.contact_id == contact_id).order_by(col(Ticket.id))
    if scope is not None:
        query = query.where(col(Ticket.center_id).in_(scope))
    tickets = session.exec(query).all()
    write_audit(
        session,
        actor_id=user.id,
        action="contact.disclosure",
        object_type="contact",
        object_id=contact_id,
        detail={"tickets": len(tickets)},
    )
    session.flush()
    identities = session.exec(
        select(ContactIdentity)
        .where(ContactIdentity.contact_id == contact_id)
        .order_by(col(ContactIdentity.id))
    ).all()
    personal = session.get(ContactPersonalData, contact_id)
    disclosed = [_disclosed_ticket(session, t) for t in tickets]
    report_ids = [str(r.id) for t in disclosed for r in t.accident_reports]
    audit = session.exec(
        select(AuditLog)
        .where(
            or_(
                and_(col(AuditLog.object_type) == "contact", col(AuditLog.object_id) == str(contact_id)),
                and_(
                    col(AuditLog.object_type) == "ticket",
                    col(AuditLog.object_id).in_([str(t.id) for t in tickets]),
                ),
                and_(col(AuditLog.object_type) == "accident_report", col(AuditLog.object_id).in_(report_ids)),
            )
        )
        .order_by(col(AuditLog.id))
    ).all()
    purges = session.exec(
        select(DataPurge).where(
            or_(
                and_(col(DataPurge.object_type) == "contact", col(DataPurge.object_id) == contact_id),
                and_(
                    col(DataPurge.object_type) == "ticket",
                    col(DataPurge.object_id).in_([t.id for t in tickets]),
                ),
            )
        )
    ).all()
    result = Disclosure(
        generated_at=utcnow(),
        centers=sorted(c for c in scope if c is not None) if scope is not None else None,
        contact=ContactOut.model_validate(contact),
        personal_data=PersonalDataOut.model_validate(personal) if personal is not None else None,
        identities=[IdentityOut.model_validate(i) for i in identities],
        tickets=disclosed,
        purges=[PurgeOut.model_validate(p) for p in purges],
        audit=[AuditEntryOut.model_validate(a) for a in audit],
    )
    session.commit()
    return result


def _disclosed_ticket(session: Session, ticket: Ticket) -> DisclosedTicket:
    messages = session.exec(
        select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.sent_at), col(Message.id))
    ).all()
    ids = [m.id for m in messages]
    attachments: Sequence[Attachment] = (
        session.exec(
            select(Attachment).where(col(Attachment.message_id).in_(ids)).order_by(col(Attachment.id))
        ).all()
        if ids
        else []
    )
    notes = session.exec(select(Note).where(Note.ticket_id == ticket.id).order_by(col(Note.id))).all()
    reports = session.exec(
        select(AccidentReport)
        .where(AccidentReport.ticket_id == ticket.id)
        .order_by(col(AccidentReport.report_no))
    ).all()
    return DisclosedTicket.model_validate(
        {
            **TicketPublic.model_validate(ticket).model_dump(),
            "closed_at": ticket.closed_at,
            "messages": [MessagePublic.model_validate(m) for m in messages],
            "attachments": [AttachmentOut.model_validate(a) for a in attachments],
            "notes": [NotePublic.model_validate(n) for n in notes],
            "accident_reports": [AccidentReportOut.model_validate(r) for r in reports],
        }
    )


def erase(session: Session, *, contact_id: int, user: User, reason: str, data_dir: Path) -> ErasureResult:
    """Erase the contact's identifying data and anonymize their tickets (idempotent); audited.

    The reads end before the text is masked (no transaction held while it computes); the checks run
    again in the writing transaction, so a consultation opened meanwhile still refuses the erasure.
    """
    _contact, centers = _contact_and_centers(session, contact_id, user)
    if user.role != Role.ADMIN and centers - {user.center_id}:
        raise Forbidden(
            f"contact {contact_id} also consulted another center; erasing removes what every center "
            "holds, so an admin must do it"
        )
    tickets, earlier, purged_tickets = _erasure_state(session, contact_id)
    if earlier is None or not all(t.id in purged_tickets for t in tickets):
        _refuse_while_duties_pending(session, contact_id, tickets)
    session.commit()
    scrub = retention.prepared_scrubber(
        session.get_bind(),  # type: ignore[arg-type]
        contact_id,
        [t.id or 0 for t in tickets if t.id not in purged_tickets],
    )
    scrub.prime([reason])
    masked_reason = scrub(reason)[:1000]
    contact = session.get(Contact, contact_id)
    assert contact is not None
    tickets, earlier, purged_tickets = _erasure_state(session, contact_id)
    if earlier is not None and all(t.id in purged_tickets for t in tickets):
        write_audit(
            session,
            actor_id=user.id,
            action="contact.erasure",
            object_type="contact",
            object_id=contact_id,
            detail={"reason": masked_reason, "already_erased": True},
        )
        session.commit()
        return ErasureResult(
            contact_id=contact_id, erased_at=earlier.at, already_erased=True, counts={}, files_deleted=0
        )
    _refuse_while_duties_pending(session, contact_id, tickets)
    counts = retention.PurgeCounts()
    for ticket in tickets:
        if ticket.id not in purged_tickets:
            counts.add(retention.purge_ticket(session, ticket, scrub, cause="erasure", actor_id=user.id))
    if earlier is None:
        counts.add(retention.purge_contact(session, contact, scrub, cause="erasure", actor_id=user.id))
    session.flush()
    erased_at = session.exec(
        select(DataPurge.at).where(DataPurge.object_type == "contact", DataPurge.object_id == contact_id)
    ).one()
    write_audit(
        session,
        actor_id=user.id,
        action="contact.erasure",
        object_type="contact",
        object_id=contact_id,
        detail={"reason": masked_reason, "already_erased": False, **counts.as_dict()},
    )
    session.commit()
    files = retention.sweep_purged_files(session.get_bind(), data_dir)  # type: ignore[arg-type]
    return ErasureResult(
        contact_id=contact_id,
        erased_at=erased_at,
        already_erased=False,
        counts=counts.as_dict(),
        files_deleted=files,
    )


def _erasure_state(session: Session, contact_id: int) -> tuple[Sequence[Ticket], DataPurge | None, set[int]]:
    """The contact's tickets, its purge record (if any) and which of its tickets are purged."""
    tickets = session.exec(
        select(Ticket)
        .where(Ticket.contact_id == contact_id)
        .order_by(col(Ticket.id))
        .execution_options(populate_existing=True)  # fresh status for the re-check before writing
    ).all()
    earlier = session.exec(
        select(DataPurge).where(DataPurge.object_type == "contact", DataPurge.object_id == contact_id)
    ).first()
    purged = set(
        session.exec(
            select(DataPurge.object_id).where(
                DataPurge.object_type == "ticket", col(DataPurge.object_id).in_([t.id for t in tickets])
            )
        ).all()
    )
    return tickets, earlier, purged


def _refuse_while_duties_pending(session: Session, contact_id: int, tickets: Sequence[Ticket]) -> None:
    for ticket in tickets:
        if ticket.status in OPEN_STATUSES:
            raise Conflict(
                f"contact {contact_id} has an open consultation (ticket {ticket.id}, {ticket.status.value}): "
                "resolve or close it first; erasure applies to finished consultations only"
            )
        if not ticket.serious_accident:
            continue
        statuses = set(
            session.exec(select(AccidentReport.status).where(AccidentReport.ticket_id == ticket.id)).all()
        )
        if AccidentReportStatus.DRAFT in statuses or AccidentReportStatus.NOTIFIED not in statuses:
            raise Conflict(
                f"ticket {ticket.id} is flagged 重大事故等 and its report to the Consumer Affairs Agency is not "
                "notified yet (消費者安全法 第12条): notify it first (or clear the flag if it is not an "
                "accident), then erase"
            )
    ticket_ids = [t.id for t in tickets]
    downloading = session.exec(
        select(Attachment.id)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(col(Message.ticket_id).in_(ticket_ids), Attachment.status == "pending")
    ).first()
    if downloading is not None:
        raise Conflict(
            f"an attachment from contact {contact_id} is still being downloaded: try again in a minute"
        )
    external_ids = [
        i.external_id
        for i in session.exec(select(ContactIdentity).where(ContactIdentity.contact_id == contact_id)).all()
    ]
    if not retention.ensure_no_pending(session, external_ids):
        raise Conflict(f"a message from contact {contact_id} is still being processed: try again in a minute")
