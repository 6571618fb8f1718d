"""The one owner of a ticket's status: :func:`transition`, with the allowed moves as data.

Routing (queue, offer, accept, release, transfer, escalate), intake (the consumer answered) and the
counselor's own changes (crm.services.MANUAL_TRANSITIONS, a subset) all go through here; nothing
else assigns ``ticket.status``. A move that is not in :data:`TRANSITIONS` raises
:class:`InvalidTransition` (HTTP 409) and changes nothing.

==========================  ==============================================================
from                        to
==========================  ==============================================================
new                         queued, offered, assigned, resolved, closed
queued                      queued (moved), offered, assigned (escalated), resolved, closed
offered                     queued (declined, timed out), offered, assigned, resolved
assigned                    queued (released), offered (transferred), assigned (escalated),
                            waiting_on_consumer, resolved
waiting_on_consumer         assigned, offered (transferred), queued, resolved
resolved                    closed, assigned (reopened)
closed                      —
==========================  ==============================================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlmodel import Session

from crm.errors import Conflict
from crm.models import Ticket, TicketStatus, utcnow

log = logging.getLogger(__name__)
S = TicketStatus

TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.QUEUED, S.OFFERED, S.ASSIGNED, S.RESOLVED, S.CLOSED}),
    S.QUEUED: frozenset({S.QUEUED, S.OFFERED, S.ASSIGNED, S.RESOLVED, S.CLOSED}),
    S.OFFERED: frozenset({S.QUEUED, S.OFFERED, S.ASSIGNED, S.RESOLVED}),
    S.ASSIGNED: frozenset({S.QUEUED, S.OFFERED, S.ASSIGNED, S.WAITING_ON_CONSUMER, S.RESOLVED}),
    S.WAITING_ON_CONSUMER: frozenset({S.ASSIGNED, S.OFFERED, S.QUEUED, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.ASSIGNED}),
    S.CLOSED: frozenset(),
}


class InvalidTransition(Conflict):
    """A status change the lifecycle does not allow (409; nothing changed)."""


def can_transition(current: TicketStatus, to_status: TicketStatus) -> bool:
    return to_status in TRANSITIONS[current]


def transition(
    session: Session, ticket: Ticket, to_status: TicketStatus, *, reason: str, actor: str | int | None
) -> TicketStatus:
    """Move ``ticket`` to ``to_status`` in the caller's transaction; returns the previous status.

    ``actor`` is who decided (a user id, or "routing" / "intake" / "system"); ``reason`` is logged.
    Sets ``resolved_at`` / ``closed_at`` on those moves; the caller bumps the version.
    """
    current = TicketStatus(ticket.status)
    if to_status not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (closed)"
        raise InvalidTransition(
            f"ticket {ticket.id} cannot go from {current.value} to {to_status.value}; allowed: {allowed}"
        )
    now = utcnow()
    if to_status == S.RESOLVED:
        ticket.resolved_at = now
    elif to_status == S.CLOSED:
        ticket.closed_at = now
    ticket.status = to_status
    session.add(ticket)
    log.debug("ticket %s: %s -> %s by %s (%s)", ticket.id, current.value, to_status.value, actor, reason)
    return current
