"""The consultation record under retention and erasure (crm/retention.py): its free text is masked
with the ticket's, everywhere it was copied (the values, the last-reviewed snapshot, the review
comments, the change log's old → new, and the counselor's prefill feedback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from crm.models import CaseRecord, CaseRecordChange, RecordFieldFeedback, Ticket

Scrub = Callable[[str], str]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def _masked(value: Any, scrub: Scrub) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_masked(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v, scrub) for k, v in value.items()}
    return value


def _rows(
    session: Session, ticket: Ticket
) -> tuple[list[CaseRecord], list[CaseRecordChange], list[RecordFieldFeedback]]:
    records = list(session.exec(select(CaseRecord).where(CaseRecord.ticket_id == ticket.id)).all())
    changes = (
        list(session.exec(select(CaseRecordChange).where(CaseRecordChange.record_id == records[0].id)).all())
        if records
        else []
    )
    feedback = list(
        session.exec(select(RecordFieldFeedback).where(RecordFieldFeedback.ticket_id == ticket.id)).all()
    )
    return records, changes, feedback


def record_texts(session: Session, ticket: Ticket) -> list[str]:
    """Every free text the ticket's record holds (to prime the scrubber before the write)."""
    records, changes, feedback = _rows(session, ticket)
    out = [s for r in records for part in (r.values, r.reviewed_values, r.comments) for s in _strings(part)]
    out += [s for c in changes for s in (*_strings(c.old), *_strings(c.new))]
    out += [s for f in feedback for s in (*_strings(f.suggested), *_strings(f.chosen), f.source)]
    return out


def purge_record_text(session: Session, ticket: Ticket, scrub: Scrub) -> None:
    """Mask the record's free text wherever it was copied (no commit)."""
    records, changes, feedback = _rows(session, ticket)
    for r in records:
        r.values, r.reviewed_values = _masked(r.values, scrub), _masked(r.reviewed_values, scrub)
        r.comments = _masked(r.comments, scrub)
        session.add(r)
    for c in changes:
        c.old, c.new = _masked(c.old, scrub), _masked(c.new, scrub)
        session.add(c)
    for f in feedback:
        f.suggested, f.chosen, f.source = (
            _masked(f.suggested, scrub),
            _masked(f.chosen, scrub),
            scrub(f.source)[:300],
        )
        session.add(f)
