"""What a reply asks of routing: take the ticket for the counselor who answers it.

A counselor who replies to a ticket still waiting in the queue (new, queued, or offered to someone
else) has taken it: it must not be offered to anyone else afterwards. crm does not import routing
(tests/unit/test_import_graph.py), so the composition root plugs in
:func:`routing.claim.claim_for_reply`. Without it, replying to an unassigned ticket is refused
rather than leaving it in the queue behind the counselor's back.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from crm.errors import Conflict
from crm.models import Ticket, TicketStatus, User

UNCLAIMED = (TicketStatus.NEW, TicketStatus.QUEUED, TicketStatus.OFFERED)


class Claimer(Protocol):
    def __call__(self, session: Session, *, ticket: Ticket, user: User) -> Ticket:
        """Assign ``ticket`` to ``user`` in the caller's transaction (no commit); the locked ticket."""
        ...


_claimer: Claimer | None = None


def set_claimer(claimer: Claimer | None) -> None:
    """Called by the composition root."""
    global _claimer
    _claimer = claimer


def claim_if_unassigned(session: Session, *, ticket: Ticket, user: User) -> Ticket:
    """The ticket, assigned to ``user`` first if it was still waiting for a counselor."""
    if ticket.status not in UNCLAIMED:
        return ticket
    if _claimer is None:
        raise Conflict(f"ticket {ticket.id} is still in the queue; accept its offer before replying")
    return _claimer(session, ticket=ticket, user=user)
