"""Transactional actions on tickets. Each commits once; events are published after the commit."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from crm.answers import queue_outbound
from crm.audit import write_audit
from crm.claim_port import claim_if_unassigned
from crm.errors import BadRequest, Conflict, Unprocessable
from crm.events import TicketChanged, TicketResolved, record_event
from crm.lifecycle import transition
from crm.messaging import capabilities_of
from crm.models import (
    ContactIdentity,
    Message,
    Note,
    Ticket,
    TicketStatus,
    User,
    utcnow,
)
from crm.queries import access_ticket, ticket_timeline
from crm.record_review import refuse_direct_edit
from crm.schemas import MessagePublic, NotePublic, TicketDetail, TicketPublic

MAX_REPLY_CHARS = 20_000

# Manual status changes a counselor may make; routing owns new/queued/offered/assigned moves.
MANUAL_TRANSITIONS: dict[TicketStatus, set[TicketStatus]] = {
    TicketStatus.NEW: {TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.QUEUED: {TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.OFFERED: {TicketStatus.RESOLVED},
    TicketStatus.ASSIGNED: {TicketStatus.WAITING_ON_CONSUMER, TicketStatus.RESOLVED},
    TicketStatus.WAITING_ON_CONSUMER: {TicketStatus.ASSIGNED, TicketStatus.RESOLVED},
    TicketStatus.RESOLVED: {TicketStatus.CLOSED, TicketStatus.ASSIGNED},
    TicketStatus.CLOSED: set(),
}


def read_ticket(session: Session, *, ticket_id: int, user: User) -> TicketDetail:
    """The ticket and its timeline, if ``user`` may see it; the read is written to the audit log."""
    ticket = access_ticket(session, ticket_id, user)
    messages, notes = ticket_timeline(session, ticket_id)
    write_audit(session, actor_id=user.id, action="ticket.read", object_type="ticket", object_id=ticket_id)
    session.commit()
    return TicketDetail.model_validate(
        {
            **TicketPublic.model_validate(ticket).model_dump(),
            "messages": [MessagePublic.model_validate(m) for m in messages],
            "notes": [NotePublic.model_validate(n) for n in notes],
        }
    )


def post_reply(session: Session, *, ticket: Ticket, author: User, body: str) -> Message:
    """Queue a reply to the consumer: the message and its outbox row are written together."""
    if not body.strip():
        raise BadRequest("the reply is empty: write some text to send to the consumer")
    if len(body) > MAX_REPLY_CHARS:
        raise BadRequest(f"the reply has {len(body)} characters; the limit is {MAX_REPLY_CHARS}")
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"ticket {ticket.id} is closed; reopen it before replying")
    identity = _channel_identity(session, ticket)
    if identity is None:
        raise Conflict(f"the consumer of ticket {ticket.id} has no {ticket.channel} address to reply to")
    if not identity.reachable:
        raise Conflict(
            f"the consumer can no longer be reached on {ticket.channel} (blocked or unfollowed); "
            "record the case and close it, or contact them another way"
        )
    ticket = claim_if_unassigned(session, ticket=ticket, user=author)  # bug 1: replying takes it
    message = queue_outbound(
        session, ticket=ticket, recipient=identity.external_id, body=body, author_id=author.id
    )
    if ticket.status == TicketStatus.ASSIGNED:
        transition(session, ticket, TicketStatus.WAITING_ON_CONSUMER, reason="replied", actor=author.id)
    _touch(session, ticket)
    write_audit(
        session, actor_id=author.id, action="ticket.reply", object_type="ticket", object_id=ticket.id or 0
    )
    session.commit()
    return message


def _channel_identity(session: Session, ticket: Ticket) -> ContactIdentity | None:
    return session.exec(
        select(ContactIdentity).where(
            ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.channel == ticket.channel
        )
    ).first()


def post_automatic_reply(
    session: Session, *, ticket: Ticket, body: str, commit: bool = True
) -> Message | None:
    """Queue an automatic answer (after-hours notice, greeting) with no author, on the ticket's
    timeline and through the account the consultation came in on. The adapter answers for free
    while it can (LINE: the consumer's fresh reply token), else it pushes. None: unreachable, or a
    channel that carries no text (a voice call hears its own spoken announcements instead)."""
    if capabilities_of(ticket.channel).max_text_length == 0:
        return None
    identity = _channel_identity(session, ticket)
    if identity is None or not identity.reachable:
        return None
    message = queue_outbound(
        session, ticket=ticket, recipient=identity.external_id, body=body, author_id=None, kind="auto"
    )
    if commit:
        session.commit()
    return message


def add_note(
    session: Session,
    *,
    ticket: Ticket,
    author_id: int | None,
    body: str,
    kind: str = "note",
    commit: bool = True,
) -> Note:
    """An internal note on the ticket's timeline (never sent to the consumer)."""
    if not body.strip():
        raise BadRequest("the note is empty")
    note = Note(ticket_id=ticket.id, author_id=author_id, body=body, kind=kind)  # type: ignore[arg-type]
    session.add(note)
    _touch(session, ticket)
    from crm.accidents import flag_if_serious  # 重大事故等 screening of the counselor's note (issue 15)

    flag_if_serious(session, ticket, body)
    write_audit(
        session, actor_id=author_id, action=f"ticket.{kind}", object_type="ticket", object_id=ticket.id or 0
    )
    if commit:
        session.commit()
    return note


def update_ticket(session: Session, *, ticket: Ticket, actor: User, changes: dict[str, Any]) -> Ticket:
    """Change case fields and/or status (only the transitions in MANUAL_TRANSITIONS)."""
    refuse_direct_edit(session, ticket, list(changes))
    new_status = changes.pop("status", None)
    columns = Ticket.__table__.columns  # type: ignore[attr-defined]
    for field, value in changes.items():
        if value is None and not columns[field].nullable:  # never commit what the read side cannot show
            raise Unprocessable(f"{field}: may be left out but not set to null")
        setattr(ticket, field, value)
    changed = list(changes)
    if new_status is not None and new_status != ticket.status:
        _change_status(session, ticket, TicketStatus(new_status), actor)
        changed.append("status")
        if ticket.status == TicketStatus.RESOLVED:
            record_event(session, TicketResolved(ticket_id=ticket.id, center_id=ticket.center_id))  # type: ignore[arg-type]
    _touch(session, ticket)
    write_audit(
        session,
        actor_id=actor.id,
        action="ticket.update",
        object_type="ticket",
        object_id=ticket.id or 0,
        detail={"fields": sorted(changed)},
    )
    assert ticket.id is not None  # a stored ticket
    record_event(
        session,
        TicketChanged(
            ticket_id=ticket.id,
            center_id=ticket.center_id,
            status=ticket.status.value,
            changes=tuple(changed),
        ),
    )
    session.commit()
    return ticket


def _change_status(session: Session, ticket: Ticket, new: TicketStatus, actor: User) -> None:
    """A counselor's change: only MANUAL_TRANSITIONS (a subset of crm.lifecycle's), then transition."""
    if new not in MANUAL_TRANSITIONS[ticket.status]:
        allowed = ", ".join(sorted(s.value for s in MANUAL_TRANSITIONS[ticket.status])) or "none"
        raise Conflict(f"cannot change status from {ticket.status.value} to {new.value}; allowed: {allowed}")
    if new in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        from crm.accident_checks import refuse_close_while_pending

        refuse_close_while_pending(session, ticket)
    if new == TicketStatus.ASSIGNED and ticket.assignee_id is None:
        raise Conflict("the ticket has no assignee; it goes back to the queue through routing instead")
    transition(session, ticket, new, reason="changed by a counselor", actor=actor.id)


def _touch(session: Session, ticket: Ticket) -> None:
    ticket.updated_at = utcnow()
    ticket.version += 1
    session.add(ticket)


def open_tickets_of_contact(session: Session, contact_id: int) -> list[Ticket]:
    from crm.models import OPEN_STATUSES

    return list(
        session.exec(
            select(Ticket).where(Ticket.contact_id == contact_id, col(Ticket.status).in_(OPEN_STATUSES))
        ).all()
    )
