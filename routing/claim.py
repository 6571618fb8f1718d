"""A counselor takes a waiting ticket by answering it (crm.claim_port's implementation).

Replying to a new, queued or offered ticket assigns it to the replier in the reply's own
transaction: the ticket is row-locked (tickets first, as everywhere), a pending offer to someone
else is cancelled, and the ticket becomes ``assigned`` before the reply is written. So the sweep,
a dispatch or a late accept can no longer hand it to a second counselor.
"""

from __future__ import annotations

from sqlmodel import Session

from crm.errors import Conflict, NotFound
from crm.lifecycle import transition
from crm.models import Ticket, TicketStatus, User, utcnow
from routing import store
from routing.service import cancel_pending_offer, emit, touch

CLAIMABLE = (TicketStatus.NEW, TicketStatus.QUEUED, TicketStatus.OFFERED)


def claim_for_reply(session: Session, *, ticket: Ticket, user: User) -> Ticket:
    """Assign the waiting ``ticket`` to ``user`` (no commit); the locked, refreshed ticket.

    A ticket someone else took meanwhile raises Conflict naming who has it, and nothing is sent.
    """
    now = utcnow()
    locked = store.lock_ticket(session, ticket.id or 0, skip_locked=False)
    if locked is None:
        raise NotFound(f"ticket {ticket.id} does not exist")
    if locked.status not in CLAIMABLE:
        if locked.assignee_id not in (None, user.id):
            raise Conflict(
                f"ticket {locked.id} was just taken by another counselor (user {locked.assignee_id}); "
                "reload it before replying"
            )
        return locked
    offer = cancel_pending_offer(session, locked, now=now, reason="taken by the counselor who replied")
    locked.assignee_id = user.id
    transition(session, locked, TicketStatus.ASSIGNED, reason="replied from the queue", actor=user.id)
    locked.assigned_at = now
    touch(locked, now)
    session.add(locked)
    session.flush()
    detail: dict[str, object] = {"via": "reply", "cancelled_offer_id": offer.id if offer else None}
    emit(session, "assigned", ticket=locked, user_id=user.id, detail=detail, log="claimed by replying")
    return locked
