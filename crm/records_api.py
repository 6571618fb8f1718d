"""HTTP routes of the consultation record (相談記録): edit, check as you type, submit, review (決裁).

Thin: parse, call one service in crm/record_review.py (or crm/record_rules.py), shape the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from crm import queries, record_review
from crm.audit import audit_read
from crm.deps import CurrentUser, SessionDep, SupervisorUser
from crm.http_errors import MAX_ID, Id
from crm.models import CaseRecord, Ticket
from crm.record_rules import Violation, load_rules

router = APIRouter(prefix="/api", tags=["records"])
MAX_FIELDS = 40


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ViolationPublic(BaseModel):
    field: str
    rule: str
    message: str
    severity: str


class DiffPublic(BaseModel):
    field: str
    old: Any = None
    new: Any = None


class RecordPublic(BaseModel):
    """The record as the console shows it: values, what breaks the rules, the reviewer's comments."""

    ticket_id: int
    record_id: int | None
    status: str
    version: int
    values: dict[str, Any]
    violations: list[ViolationPublic]
    comments: dict[str, Any]
    diff_since_review: list[DiffPublic]
    rules_version: str
    serious: bool
    submitted_at: datetime | None
    reviewed_at: datetime | None
    approved_at: datetime | None


class RecordEdit(Strict):
    values: dict[str, Any] = Field(max_length=MAX_FIELDS, description='field → value; null or "" clears it')
    version: int | None = Field(
        default=None, ge=0, le=MAX_ID, description="the version you edited (409 if stale)"
    )


class RecordCheck(Strict):
    values: dict[str, Any] = Field(max_length=MAX_FIELDS)


class RecordSubmit(Strict):
    version: int | None = Field(default=None, ge=0, le=MAX_ID)


class RecordReturn(Strict):
    comments: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        min_length=1, max_length=MAX_FIELDS, description="field (or _general) → what to fix"
    )


class RecordReopen(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="why the approved record is corrected")


class BulkApprove(Strict):
    ticket_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=200)


class BulkResult(BaseModel):
    approved: list[int]
    skipped: dict[int, str]


class QueueItem(BaseModel):
    ticket_id: int
    record_id: int
    center_id: int
    subject: str
    serious: bool
    submitted_at: datetime | None
    author_id: int | None
    violations: list[ViolationPublic]
    diff_since_review: list[DiffPublic]


class ChangePublic(BaseModel):
    version: int
    action: str
    field: str | None
    old: Any = None
    new: Any = None
    actor_id: int | None
    at: datetime


def _violations(vs: list[Violation]) -> list[ViolationPublic]:
    return [ViolationPublic(field=v.field, rule=v.rule, message=v.message, severity=v.severity) for v in vs]


def record_public(
    session: SessionDep, ticket: Ticket, record: CaseRecord | None, vs: list[Violation]
) -> RecordPublic:
    """Shape a record (None: not started yet, shown as an empty draft of the ticket's known values)."""
    values = record.values if record else record_review.initial_values(session, ticket)
    return RecordPublic(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        record_id=record.id if record else None,
        status=record.status.value if record else "draft",
        version=record.version if record else 0,
        values=values,
        violations=_violations(vs),
        comments=record.comments if record else {},
        diff_since_review=[DiffPublic(**d) for d in record_review.record_diff(record)] if record else [],
        rules_version=load_rules().version,
        serious=record.serious if record else False,
        submitted_at=record.submitted_at if record else None,
        reviewed_at=record.reviewed_at if record else None,
        approved_at=record.approved_at if record else None,
    )


@router.get("/tickets/{ticket_id}/record", response_model=RecordPublic)
def get_record(ticket_id: Id, session: SessionDep, user: CurrentUser) -> RecordPublic:
    """The ticket's record with its current violations (every read is audited)."""
    ticket = queries.access_ticket(session, ticket_id, user)
    record = record_review.get_record(session, ticket)
    values = record.values if record else record_review.initial_values(session, ticket)
    shown = record_public(
        session, ticket, record, record_review.check_draft(session, ticket=ticket, values=values)
    )
    audit_read(session, actor_id=user.id, action="record.read", object_type="ticket", object_id=ticket_id)
    return shown


@router.patch("/tickets/{ticket_id}/record", response_model=RecordPublic)
def patch_record(ticket_id: Id, body: RecordEdit, session: SessionDep, user: CurrentUser) -> RecordPublic:
    """Change fields (versioned and audited); a value outside the rules is refused (422), nothing stored."""
    ticket = queries.access_ticket(session, ticket_id, user)
    record, vs = record_review.edit_record(
        session, ticket=ticket, actor=user, changes=body.values, expected_version=body.version
    )
    return record_public(session, ticket, record, vs)


@router.post("/tickets/{ticket_id}/record/validate", response_model=list[ViolationPublic])
def validate_record(
    ticket_id: Id, body: RecordCheck, session: SessionDep, user: CurrentUser
) -> list[ViolationPublic]:
    """Check values against the rules without storing them (the console calls this as the counselor types)."""
    ticket = queries.access_ticket(session, ticket_id, user)
    return _violations(record_review.check_draft(session, ticket=ticket, values=body.values))


@router.post("/tickets/{ticket_id}/record/submit", response_model=RecordPublic)
def submit_record(ticket_id: Id, body: RecordSubmit, session: SessionDep, user: CurrentUser) -> RecordPublic:
    """Submit for review; 422 naming every broken rule, 409 if already submitted or stale."""
    ticket = queries.access_ticket(session, ticket_id, user)
    record = record_review.submit_record(session, ticket=ticket, actor=user, expected_version=body.version)
    return record_public(session, ticket, record, [])


@router.post("/tickets/{ticket_id}/record/approve", response_model=RecordPublic)
def approve_record(ticket_id: Id, session: SessionDep, user: SupervisorUser) -> RecordPublic:
    """Approve a submitted record in one click (決裁): it becomes what exports and statistics count."""
    ticket = queries.access_ticket(session, ticket_id, user)
    return record_public(
        session, ticket, record_review.approve_record(session, ticket=ticket, actor=user), []
    )


@router.post("/tickets/{ticket_id}/record/return", response_model=RecordPublic)
def return_record(
    ticket_id: Id, body: RecordReturn, session: SessionDep, user: SupervisorUser
) -> RecordPublic:
    """Return a submitted record to the counselor with a comment per field."""
    ticket = queries.access_ticket(session, ticket_id, user)
    record = record_review.return_record(session, ticket=ticket, actor=user, comments=body.comments)
    return record_public(session, ticket, record, [])


@router.post("/tickets/{ticket_id}/record/reopen", response_model=RecordPublic)
def reopen_record(
    ticket_id: Id, body: RecordReopen, session: SessionDep, user: SupervisorUser
) -> RecordPublic:
    """Take an approved record back into review for a correction (データ補正); audited with the reason."""
    ticket = queries.access_ticket(session, ticket_id, user)
    record = record_review.reopen_record(session, ticket=ticket, actor=user, reason=body.reason)
    return record_public(session, ticket, record, [])


@router.get("/tickets/{ticket_id}/record/history", response_model=list[ChangePublic])
def record_history(ticket_id: Id, session: SessionDep, user: CurrentUser) -> list[ChangePublic]:
    """Every versioned change of the record: who, when, field, old → new."""
    ticket = queries.access_ticket(session, ticket_id, user)
    record = record_review.get_record(session, ticket)
    rows = record_review.record_history(session, record) if record else []
    audit_read(session, actor_id=user.id, action="record.history", object_type="ticket", object_id=ticket_id)
    return [
        ChangePublic(
            version=r.version,
            action=r.action,
            field=r.field,
            old=r.old,
            new=r.new,
            actor_id=r.actor_id,
            at=r.at,
        )
        for r in rows
    ]


@router.get("/records/queue", response_model=list[QueueItem])
def approval_queue(session: SessionDep, user: SupervisorUser) -> list[QueueItem]:
    """Submitted records of the supervisor's centers: serious cases first, then the oldest."""
    items = []
    for record, ticket in record_review.approval_queue(session, user):
        vs = record_review.check_draft(session, ticket=ticket, values=record.values)
        items.append(
            QueueItem(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                record_id=record.id,  # type: ignore[arg-type]
                center_id=record.center_id,
                subject=ticket.subject,
                serious=record.serious,
                submitted_at=record.submitted_at,
                author_id=record.author_id,
                violations=_violations(vs),
                diff_since_review=[DiffPublic(**d) for d in record_review.record_diff(record)],
            )
        )
    audit_read(session, actor_id=user.id, action="record.queue", object_type="case_record", object_id="queue",
               detail={"ticket_ids": [i.ticket_id for i in items]})  # fmt: skip
    return items


@router.post("/records/approve", response_model=BulkResult)
def bulk_approve(body: BulkApprove, session: SessionDep, user: SupervisorUser) -> BulkResult:
    """Approve every clean submitted record among the ids; the others are listed with the reason."""
    approved, skipped = record_review.bulk_approve(session, actor=user, ticket_ids=body.ticket_ids)
    return BulkResult(approved=approved, skipped=skipped)


@router.get("/records/rules")
def record_rules(_user: CurrentUser) -> dict[str, Any]:
    """The rules in force (version, field labels and types, vocabularies) for the console's forms."""
    r = load_rules()
    return {"version": r.version, "fields": r.fields, "vocabularies": r.vocabularies, "required": r.required}
