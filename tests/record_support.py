"""Test builder: mark a ticket's consultation record approved (exports and statistics count only those)."""

from __future__ import annotations

from sqlmodel import Session

from config.clock import now_utc
from crm.models import CaseRecord, RecordStatus, Ticket


def mark_approved(session: Session, ticket_id: int) -> CaseRecord:
    """An approved record for the ticket, its values left as the ticket's columns are (commits)."""
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    record = CaseRecord(
        ticket_id=ticket_id,
        center_id=ticket.center_id,
        status=RecordStatus.APPROVED,
        submitted_at=now_utc(),
        reviewed_at=now_utc(),
        approved_at=now_utc(),
    )
    session.add(record)
    session.commit()
    return record
