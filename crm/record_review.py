"""The consultation record's lifecycle (決裁): draft → submitted → approved, or returned → resubmitted.

* A counselor edits the draft (or a returned record); every change is a :class:`CaseRecordChange`
  (who, when, field, old → new) and an audit row. A submitted record is changed only by a
  supervisor (データ補正), also versioned; an approved record is locked.
* Submission and approval enforce the rules (crm/record_rules.py): a value outside the rules never
  commits, and a record with an error-level violation is neither submitted nor approved.
* The supervisor's queue: submitted records of their centers, serious cases first, then oldest
  first. A return carries a comment per field; the next review shows the diff since the last one.
* Approval writes the values to the ticket's PIO-NET columns (and 年代・職業 to the contact): exports
  and statistics count approved records only (:func:`approved_ticket_ids`).

Each public function is one transaction (the caller passes a session; this module commits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.clock import jst_date, now_utc
from crm.audit import write_audit
from crm.errors import Conflict, Forbidden, Unprocessable
from crm.models import (
    AccidentReport,
    AccidentReportStatus,
    CaseRecord,
    CaseRecordChange,
    Contact,
    ContactPersonalData,
    RecordStatus,
    Role,
    Ticket,
    User,
)
from crm.queries import access_ticket, visible_center_ids
from crm.record_rules import RecordRules, Violation, blocking, check_values, load_rules, validate_record

TICKET_COLUMNS = (
    "summary",
    "product_category",
    "sales_method",
    "content_keywords",
    "contract_amount",
    "paid_amount",
    "outcome",
    "serious_accident",
)
CONTACT_COLUMNS = ("age_band", "occupation")
EDITABLE = (RecordStatus.DRAFT, RecordStatus.RETURNED)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


def get_record(session: Session, ticket: Ticket) -> CaseRecord | None:
    """The ticket's record, or None before anyone wrote to it."""
    return session.exec(select(CaseRecord).where(CaseRecord.ticket_id == ticket.id)).first()


def refuse_direct_edit(session: Session, ticket: Ticket, fields: Sequence[str]) -> None:
    """Once a record is submitted or approved, its PIO-NET fields change only through the record
    (versioned, reviewed): a direct ticket edit of them is a 409 that says where to go instead."""
    touched = sorted(set(fields) & set(TICKET_COLUMNS))
    record = get_record(session, ticket) if touched else None
    if record is not None and record.status in (RecordStatus.SUBMITTED, RecordStatus.APPROVED):
        raise Conflict(
            f"{', '.join(touched)}: the consultation record is {record.status.value}; change these fields "
            f"through the record (PATCH /api/tickets/{ticket.id}/record"
            + (", after a supervisor reopens it)" if record.status == RecordStatus.APPROVED else ")")
        )


def initial_values(session: Session, ticket: Ticket) -> dict[str, Any]:
    """What a counselor already set on the ticket and contact (accepted facts), as record values."""
    values: dict[str, Any] = {f: getattr(ticket, f) for f in TICKET_COLUMNS}
    contact = session.get(Contact, ticket.contact_id)
    for f in CONTACT_COLUMNS:
        values[f] = getattr(contact, f) if contact else None
    if not values["serious_accident"]:
        values["serious_accident"] = None
    return {k: v for k, v in values.items() if v not in (None, "", [])}


def _locked(session: Session, ticket: Ticket) -> CaseRecord | None:
    """The record, re-read and locked for this transaction (PostgreSQL: FOR UPDATE; SQLite serializes
    writers anyway): two counselors editing at once never lose each other's fields."""
    stmt = (
        select(CaseRecord).where(CaseRecord.ticket_id == ticket.id).execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def lock_record(session: Session, ticket: Ticket, actor: User) -> CaseRecord:
    """The ticket's record, created as a draft when missing, locked until the caller commits."""
    return _ensure(session, ticket, actor)


def _ensure(session: Session, ticket: Ticket, actor: User) -> CaseRecord:
    record = _locked(session, ticket)
    if record is not None:
        return record
    record = CaseRecord(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        center_id=ticket.center_id,
        values=initial_values(session, ticket),
        author_id=actor.id,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # another request created it a moment ago
        session.rollback()
        found = _locked(session, ticket)
        if found is None:
            raise
        return found
    return record


def record_context(session: Session, ticket: Ticket) -> dict[str, Any]:
    """What the rules need beyond the values: 受付日, the accident notification, the consumer's own data."""
    notified = session.exec(
        select(AccidentReport.id).where(
            AccidentReport.ticket_id == ticket.id, AccidentReport.status == AccidentReportStatus.NOTIFIED
        )
    ).first()
    personal = session.get(ContactPersonalData, ticket.contact_id)
    return {
        "received_on": jst_date(ticket.created_at).isoformat(),
        "accident_notified": notified is not None,
        "personal": {
            k: getattr(personal, k) for k in ("full_name", "phone", "email", "address", "postal_code")
        }
        if personal
        else {},
    }


def check_draft(
    session: Session, *, ticket: Ticket, values: dict[str, Any], rules: RecordRules | None = None
) -> list[Violation]:
    """Every violation of ``values`` against what submission will require (the as-you-type check)."""
    return validate_record(values, rules, status="submitted", context=record_context(session, ticket))


def _refuse_invalid(violations: list[Violation]) -> None:
    if violations:
        raise Unprocessable("; ".join(f"{v.field}: {v.message}" for v in violations))


def _log(session: Session, record: CaseRecord, actor: User, action: str, **kw: Any) -> None:
    assert record.id is not None  # flushed by _ensure
    session.add(
        CaseRecordChange(record_id=record.id, version=record.version, actor_id=actor.id, action=action, **kw)
    )


def _apply(session: Session, record: CaseRecord, actor: User, changes: dict[str, Any]) -> list[str]:
    values = dict(record.values)
    changed = []
    for field, new in changes.items():
        old = values.get(field)
        new = None if new in ("", []) else new
        if old == new:
            continue
        if new is None:
            values.pop(field, None)
        else:
            values[field] = new
        changed.append(field)
        _log(session, record, actor, "edit", field=field, old=old, new=new)
    if changed:
        record.values = values
    return changed


def edit_record(
    session: Session,
    *,
    ticket: Ticket,
    actor: User,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> tuple[CaseRecord, list[Violation]]:
    """Change fields of the record (None or "" clears one); returns it with its current violations."""
    _refuse_invalid(check_values(changes))
    record = _ensure(session, ticket, actor)
    if record.status == RecordStatus.APPROVED:
        raise Conflict("this record is approved and locked; it is what exports and statistics count")
    if record.status == RecordStatus.SUBMITTED and actor.role not in SUPERVISORS:
        raise Conflict("this record is submitted and waits for review; a supervisor can return it to you")
    if expected_version is not None and expected_version != record.version:
        raise Conflict(
            f"the record changed meanwhile (version {record.version}, you edited {expected_version}): reload it"
        )
    record.version += 1
    changed = _apply(session, record, actor, changes)
    if not changed:  # the same value again: nothing is stored twice
        record.version -= 1
        violations = check_draft(session, ticket=ticket, values=record.values)
        session.commit()  # after the reads: no transaction (on SQLite, the write lock) is left open
        return record, violations
    record.updated_at = now_utc()
    session.add(record)
    write_audit(session, actor_id=actor.id, action="record.edit", object_type="case_record", object_id=record.id or 0,
                detail={"ticket_id": ticket.id, "fields": sorted(changed), "version": record.version})  # fmt: skip
    violations = check_draft(session, ticket=ticket, values=record.values)
    session.commit()
    return record, violations


def submit_record(
    session: Session, *, ticket: Ticket, actor: User, expected_version: int | None = None
) -> CaseRecord:
    """Send the record for review (決裁); refused while any error-level rule is broken."""
    record = _ensure(session, ticket, actor)
    if record.status not in EDITABLE:
        raise Conflict(
            f"this record is already {record.status.value}; only a draft or a returned record is submitted"
        )
    if expected_version is not None and expected_version != record.version:
        raise Conflict(
            f"the record changed meanwhile (version {record.version}): reload it before submitting"
        )
    rules = load_rules()
    problems = blocking(
        validate_record(record.values, rules, status="submitted", context=record_context(session, ticket))
    )
    if problems:
        session.rollback()
        raise Unprocessable("the record cannot be submitted: " + "; ".join(v.message for v in problems))
    action = "resubmit" if record.status == RecordStatus.RETURNED else "submit"
    record.status, record.submitted_at, record.rules_version = (
        RecordStatus.SUBMITTED,
        now_utc(),
        rules.version,
    )
    record.serious = bool(record.values.get("serious_accident") or ticket.serious_accident)
    record.version += 1
    record.updated_at = now_utc()
    _log(session, record, actor, action)
    session.add(record)
    write_audit(session, actor_id=actor.id, action=f"record.{action}", object_type="case_record",
                object_id=record.id or 0, detail={"ticket_id": ticket.id, "rules_version": rules.version})  # fmt: skip
    session.commit()
    return record


def _reviewable(session: Session, ticket: Ticket, actor: User) -> CaseRecord:
    if actor.role not in SUPERVISORS:
        raise Forbidden("only a supervisor approves or returns a record")
    record = _locked(session, ticket)
    if record is None or record.status != RecordStatus.SUBMITTED:
        state = record.status.value if record else "not started"
        raise Conflict(f"only a submitted record can be reviewed; this one is {state}")
    return record


def return_record(session: Session, *, ticket: Ticket, actor: User, comments: dict[str, str]) -> CaseRecord:
    """Send the record back to the counselor with a comment per field (``_general`` for the whole)."""
    rules = load_rules()
    unknown = [f for f in comments if f != "_general" and f not in rules.fields]
    if unknown:
        raise Unprocessable(f"comments name unknown fields {unknown}; fields: {', '.join(rules.fields)}")
    clean = {f: c.strip() for f, c in comments.items() if c and c.strip()}
    if not clean:
        raise Unprocessable("a returned record needs at least one comment saying what to fix")
    record = _reviewable(session, ticket, actor)
    record.status, record.comments = RecordStatus.RETURNED, clean
    _reviewed(record, actor)
    _log(session, record, actor, "return", new=clean)
    write_audit(session, actor_id=actor.id, action="record.return", object_type="case_record",
                object_id=record.id or 0, detail={"ticket_id": ticket.id, "fields": sorted(clean)})  # fmt: skip
    session.commit()
    return record


def _reviewed(record: CaseRecord, actor: User) -> None:
    record.reviewed_values, record.reviewer_id, record.reviewed_at = dict(record.values), actor.id, now_utc()
    record.version += 1
    record.updated_at = now_utc()


def _approve(session: Session, ticket: Ticket, actor: User) -> CaseRecord:
    record = _reviewable(session, ticket, actor)
    problems = blocking(
        validate_record(record.values, status="approved", context=record_context(session, ticket))
    )
    if problems:
        raise Unprocessable("the record cannot be approved: " + "; ".join(v.message for v in problems))
    record.status, record.comments, record.approved_at = RecordStatus.APPROVED, {}, now_utc()
    _reviewed(record, actor)
    for f in TICKET_COLUMNS:
        default: Any = [] if f == "content_keywords" else (False if f == "serious_accident" else None)
        value = record.values.get(f, default)
        setattr(ticket, f, "" if f == "summary" and value is None else value)
    ticket.version += 1
    ticket.updated_at = now_utc()
    contact = session.get(Contact, ticket.contact_id)
    if contact is not None:
        for f in CONTACT_COLUMNS:
            setattr(contact, f, record.values.get(f))
        session.add(contact)
    session.add(ticket)
    _log(session, record, actor, "approve")
    write_audit(session, actor_id=actor.id, action="record.approve", object_type="case_record",
                object_id=record.id or 0, detail={"ticket_id": ticket.id})  # fmt: skip
    return record


def approve_record(session: Session, *, ticket: Ticket, actor: User) -> CaseRecord:
    """Approve a submitted record in one click (refused while an error-level rule is broken)."""
    record = _approve(session, ticket, actor)
    session.commit()
    return record


def reopen_record(session: Session, *, ticket: Ticket, actor: User, reason: str) -> CaseRecord:
    """A supervisor takes an approved record back into review for a correction (データ補正): it stops
    counting in exports and statistics until it is approved again."""
    if actor.role not in SUPERVISORS:
        raise Forbidden("only a supervisor reopens an approved record")
    if not reason.strip():
        raise Unprocessable("say why the approved record is reopened (the reason is audited)")
    record = _locked(session, ticket)
    if record is None or record.status != RecordStatus.APPROVED:
        state = record.status.value if record else "not started"
        raise Conflict(f"only an approved record can be reopened; this one is {state}")
    record.status, record.approved_at = RecordStatus.SUBMITTED, None
    record.version += 1
    record.updated_at = now_utc()
    _log(session, record, actor, "reopen", new=reason.strip())
    session.add(record)
    write_audit(session, actor_id=actor.id, action="record.reopen", object_type="case_record",
                object_id=record.id or 0, detail={"ticket_id": ticket.id, "reason": reason.strip()[:500]})  # fmt: skip
    session.commit()
    return record


def bulk_approve(
    session: Session, *, actor: User, ticket_ids: Sequence[int]
) -> tuple[list[int], dict[int, str]]:
    """Approve every clean submitted record among ``ticket_ids``; the others are skipped with the reason."""
    approved, skipped = [], {}
    for ticket_id in dict.fromkeys(ticket_ids):
        try:
            ticket = access_ticket(session, ticket_id, actor)
            _approve(session, ticket, actor)
            session.flush()
            approved.append(ticket_id)
        except (Conflict, Forbidden, Unprocessable) as exc:
            skipped[ticket_id] = exc.message
        except Exception as exc:  # NotFound and the like: report, do not abort the others
            skipped[ticket_id] = getattr(exc, "message", str(exc))
    session.commit()
    return approved, skipped


def approval_queue(session: Session, user: User, *, limit: int = 100) -> list[tuple[CaseRecord, Ticket]]:
    """Submitted records the supervisor may review: serious cases first, then the oldest submission."""
    query = (
        select(CaseRecord, Ticket)
        .join(Ticket, col(Ticket.id) == CaseRecord.ticket_id)
        .where(CaseRecord.status == RecordStatus.SUBMITTED)
        .order_by(col(CaseRecord.serious).desc(), col(CaseRecord.submitted_at), col(CaseRecord.id))
        .limit(limit)
    )
    allowed = visible_center_ids(user)
    if allowed is not None:
        query = query.where(col(CaseRecord.center_id).in_(allowed))
    return [(r, t) for r, t in session.exec(query).all()]


def record_diff(record: CaseRecord) -> list[dict[str, Any]]:
    """What changed since the last review (everything, before the first review)."""
    before, after = record.reviewed_values or {}, record.values or {}
    return [
        {"field": f, "old": before.get(f), "new": after.get(f)}
        for f in sorted(set(before) | set(after))
        if before.get(f) != after.get(f)
    ]


def record_history(session: Session, record: CaseRecord) -> Sequence[CaseRecordChange]:
    """Every versioned change of the record, oldest first."""
    return session.exec(
        select(CaseRecordChange)
        .where(CaseRecordChange.record_id == record.id)
        .order_by(col(CaseRecordChange.id))
    ).all()


def approved_ticket_ids():  # type: ignore[no-untyped-def]
    """A subquery of the ids of tickets whose record is approved (for exports and statistics)."""
    return select(CaseRecord.ticket_id).where(CaseRecord.status == RecordStatus.APPROVED)
