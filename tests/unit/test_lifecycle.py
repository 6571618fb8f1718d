"""crm.lifecycle: the allowed status moves are data, and everything else is refused."""

from __future__ import annotations

import pytest

from crm.lifecycle import TRANSITIONS, InvalidTransition, transition
from crm.models import Ticket, TicketStatus

S = TicketStatus


class _Session:
    """Only what transition() uses of a Session (the caller owns the real transaction)."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, obj: object) -> None:
        self.added.append(obj)


def _ticket(status: TicketStatus) -> Ticket:
    return Ticket(id=7, center_id=1, contact_id=1, channel="line", status=status)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (S.NEW, S.QUEUED),
        (S.QUEUED, S.OFFERED),
        (S.OFFERED, S.ASSIGNED),
        (S.OFFERED, S.QUEUED),
        (S.ASSIGNED, S.WAITING_ON_CONSUMER),
        (S.WAITING_ON_CONSUMER, S.ASSIGNED),
        (S.ASSIGNED, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
    ],
)
def test_allowed_moves_change_the_status(start: TicketStatus, end: TicketStatus) -> None:
    ticket, session = _ticket(start), _Session()
    assert transition(session, ticket, end, reason="test", actor="routing") == start  # type: ignore[arg-type]
    assert ticket.status == end and session.added == [ticket]


@pytest.mark.parametrize(
    ("start", "end"),
    [(S.CLOSED, S.QUEUED), (S.CLOSED, S.ASSIGNED), (S.RESOLVED, S.OFFERED), (S.NEW, S.WAITING_ON_CONSUMER)],
)
def test_other_moves_are_refused_and_change_nothing(start: TicketStatus, end: TicketStatus) -> None:
    ticket = _ticket(start)
    with pytest.raises(InvalidTransition, match=f"from {start.value} to {end.value}") as info:
        transition(_Session(), ticket, end, reason="test", actor=3)  # type: ignore[arg-type]
    assert ticket.status == start and info.value.status_code == 409


def test_resolving_and_closing_stamp_the_time() -> None:
    ticket = _ticket(S.ASSIGNED)
    transition(_Session(), ticket, S.RESOLVED, reason="done", actor=3)  # type: ignore[arg-type]
    transition(_Session(), ticket, S.CLOSED, reason="done", actor=3)  # type: ignore[arg-type]
    assert ticket.resolved_at is not None and ticket.closed_at is not None


def test_every_status_has_a_row_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(TicketStatus) and TRANSITIONS[S.CLOSED] == frozenset()
