"""HTTP routes of the record prefill: suggestions per field, and the counselor's accept/edit/reject.

``GET /api/tickets/{id}/record/prefill`` shows what the conversation says (value, confidence, the
words); ``POST /api/tickets/{id}/record/choices`` stores only what the counselor accepted or typed
(crm/record_choices.py) and teaches the label suggesters from it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from crm import queries, record_review
from crm.audit import audit_read, write_audit
from crm.deps import CurrentUser, SessionDep
from crm.http_errors import Id
from crm.record_choices import FieldChoice, apply_choices
from crm.record_rules import load_rules
from crm.records_api import RecordPublic, record_public
from knowledge import categories, service
from knowledge.record_fill.service import LABEL_FIELDS, prefill_for_ticket

router = APIRouter(prefix="/api", tags=["records"])


class SuggestionPublic(BaseModel):
    field: str
    label: str
    value: Any
    confidence: float
    source: str
    ref: str
    current: Any = None  # what the record holds now (None: empty)


class PrefillPublic(BaseModel):
    ticket_id: int
    suggestions: list[SuggestionPublic]


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=64)
    choice: Literal["accept", "edit", "reject"]
    suggested: Any = None
    value: Any = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    source: Annotated[str, Field(max_length=2000)] = ""


class ChoicesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choices: list[ChoiceIn] = Field(min_length=1, max_length=40)


@router.get("/tickets/{ticket_id}/record/prefill", response_model=PrefillPublic)
def prefill(ticket_id: Id, session: SessionDep, user: CurrentUser) -> PrefillPublic:
    """Prefilled values for the record from the conversation; nothing is stored."""
    ticket = queries.access_ticket(session, ticket_id, user)
    found = prefill_for_ticket(session, ticket)
    record = record_review.get_record(session, ticket)
    current = record.values if record else record_review.initial_values(session, ticket)
    rules = load_rules()
    shown = [
        SuggestionPublic(
            field=s.field,
            label=rules.label(s.field),
            value=s.value,
            confidence=s.confidence,
            source=s.source[:500],
            ref=s.ref,
            current=current.get(s.field),
        )  # fmt: skip
        for s in found.values()
    ]
    audit_read(session, actor_id=user.id, action="record.prefill", object_type="ticket", object_id=ticket_id)
    return PrefillPublic(ticket_id=ticket_id, suggestions=shown)


@router.post("/tickets/{ticket_id}/record/choices", response_model=RecordPublic)
def choices(ticket_id: Id, body: ChoicesIn, session: SessionDep, user: CurrentUser) -> RecordPublic:
    """Accept, edit or reject prefilled fields: accepted and edited values are stored (versioned),
    every choice is kept as feedback, and label choices train the suggesters."""
    ticket = queries.access_ticket(session, ticket_id, user)
    picked = [FieldChoice(**c.model_dump()) for c in body.choices]
    record, violations, new = apply_choices(session, ticket=ticket, actor=user, choices=picked)
    learned = {c.field: c for c in new if c.field in LABEL_FIELDS and c.choice != "reject"}
    if learned:
        categories.record_feedback(
            session,
            ticket_id=ticket_id,
            text=service.ticket_text(session, ticket),
            user_id=user.id,
            chosen={f: (c.suggested if c.choice == "accept" else c.value) for f, c in learned.items()},
            suggested={f: c.suggested if isinstance(c.suggested, str) else None for f, c in learned.items()},
        )
        write_audit(session, actor_id=user.id, action="ticket.labels_feedback", object_type="ticket",
                    object_id=ticket_id, detail={"fields": sorted(learned)})  # fmt: skip
        session.commit()
    return record_public(session, ticket, record, violations)
