"""A counselor's accept / edit / reject of prefilled record fields: the value and the feedback.

Nothing prefilled becomes a fact without the counselor: ``accept`` stores the suggested value,
``edit`` the counselor's own, ``reject`` nothing (the field stays as it was). Every choice is kept
as a :class:`RecordFieldFeedback` row (what the suggesters learn from); the same choice sent twice
is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from crm.errors import Unprocessable
from crm.models import CaseRecord, RecordFieldFeedback, Ticket, User
from crm.record_review import edit_record, lock_record
from crm.record_rules import Violation, check_values, load_rules

CHOICES = ("accept", "edit", "reject")


@dataclass(frozen=True)
class FieldChoice:
    """One field's decision: ``value`` is what the counselor typed (``edit`` only)."""

    field: str
    choice: str
    suggested: Any = None
    value: Any = None
    confidence: float | None = None
    source: str = ""


def _chosen(c: FieldChoice) -> Any:
    return c.suggested if c.choice == "accept" else c.value if c.choice == "edit" else None


def _check(choices: list[FieldChoice]) -> None:
    fields = load_rules().fields
    seen: set[str] = set()
    for c in choices:
        if c.field not in fields:
            raise Unprocessable(f"{c.field!r} is not a field of the record; fields: {', '.join(fields)}")
        if c.choice not in CHOICES:
            raise Unprocessable(f"{c.field}: choice must be one of {', '.join(CHOICES)} (got {c.choice!r})")
        if c.field in seen:
            raise Unprocessable(f"{c.field}: one choice per field per request")
        if c.choice == "accept" and c.suggested in (None, "", []):
            raise Unprocessable(f"{c.field}: nothing was suggested to accept; use edit with a value")
        seen.add(c.field)


def _already(session: Session, ticket: Ticket, actor: User, c: FieldChoice) -> bool:
    last = session.exec(
        select(RecordFieldFeedback)
        .where(RecordFieldFeedback.ticket_id == ticket.id, RecordFieldFeedback.field == c.field)
        .order_by(col(RecordFieldFeedback.id).desc())
    ).first()
    return (
        last is not None
        and last.user_id == actor.id
        and (last.choice, last.suggested, last.chosen) == (c.choice, c.suggested, _chosen(c))
    )


def apply_choices(
    session: Session, *, ticket: Ticket, actor: User, choices: list[FieldChoice]
) -> tuple[CaseRecord, list[Violation], list[FieldChoice]]:
    """Store the accepted/edited values (one versioned edit) and the feedback; returns the record,
    its violations and the choices that were new (a repeated choice is not stored again)."""
    _check(choices)
    changes = {c.field: _chosen(c) for c in choices if c.choice != "reject"}
    invalid = check_values({f: v for f, v in changes.items() if v not in (None, "", [])})
    if invalid:  # neither the value nor the feedback is stored
        raise Unprocessable("; ".join(f"{v.field}: {v.message}" for v in invalid))
    lock_record(session, ticket, actor)  # one writer at a time: the same choice twice is stored once
    new = [c for c in choices if not _already(session, ticket, actor, c)]
    for c in new:
        session.add(
            RecordFieldFeedback(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                field=c.field,
                choice=c.choice,
                suggested=c.suggested,
                chosen=_chosen(c),
                confidence=c.confidence,
                source=(c.source or "")[:300],
                user_id=actor.id,
            )
        )
    record, violations = edit_record(session, ticket=ticket, actor=actor, changes=changes)
    return record, violations, new
