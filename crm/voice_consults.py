"""A warm transfer's consult (転送相談) as crm keeps it: on the call's message, next to its status.

``message.meta["consult"]`` holds the one consult in progress on a call::

    {"leg": CallSid of the consult leg, "conference": ConferenceSid, "caller_leg": the caller's leg,
     "to_user_id": …, "to_center_id": …, "to_name": …, "by": the counselor, "state": "ringing" | "talking",
     "started_at": ISO time, "reason": …}

and ``meta["consult_outcome"]`` how the last one ended (the softphone tells the counselor). Every
change locks the call's ticket, then its message (``FOR UPDATE`` on PostgreSQL), so two clicks start
one consult.
Timeline notes: 転送相談開始 / 転送相談完了 / 転送相談取消.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from crm.errors import Conflict, Forbidden, NotFound
from crm.models import Message, Note, Ticket, utcnow
from crm.voice_calls import CallRef, call_of_ticket, ticket_of_call

STARTED, COMPLETED, CANCELLED = "転送相談開始", "転送相談完了", "転送相談取消"


def _locked_message(session: Session, call_id: str) -> Message:
    """The call's message, locked after its ticket (tickets first, everywhere: no lock-order deadlock).
    On SQLite every transaction holds the write lock from its BEGIN IMMEDIATE (crm.db) instead."""
    ticket_id = session.exec(
        select(Message.ticket_id).where(Message.channel == "voice", Message.external_id == call_id)
    ).one()
    session.exec(select(Ticket.id).where(col(Ticket.id) == ticket_id).with_for_update()).first()
    return session.exec(
        select(Message)
        .where(Message.channel == "voice", Message.external_id == call_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_call(session: Session, *, ticket_id: int, user_id: int) -> tuple[CallRef, dict[str, Any]]:
    """The ticket's call, locked, for its assignee; (ref, message meta).

    Raises NotFound (no call on the ticket) or Forbidden (not the assigned counselor).
    """
    ref = call_of_ticket(session, ticket_id)
    if ref is None:
        raise NotFound(f"ticket {ticket_id} has no phone call")
    if ref.assignee_id != user_id:
        raise Forbidden("only the counselor assigned to this ticket can transfer its call (転送相談)")
    return ref, dict(_locked_message(session, ref.call_id).meta)


def current_consult(meta: dict[str, Any]) -> dict[str, Any] | None:
    consult = meta.get("consult")
    return dict(consult) if isinstance(consult, dict) else None


def require_no_consult(meta: dict[str, Any]) -> None:
    consult = current_consult(meta)
    if consult is not None:
        raise Conflict(
            f"a warm transfer to {consult.get('to_name')} is already in progress ({consult.get('state')}): "
            "complete or cancel it first"
        )


def require_consult(meta: dict[str, Any]) -> dict[str, Any]:
    consult = current_consult(meta)
    if consult is None:
        raise Conflict("no warm transfer (転送相談) is in progress on this call")
    return consult


def save_consult(session: Session, *, call_id: str, consult: dict[str, Any], note: str = "") -> None:
    """Store the consult in progress; ``note`` (with its author, the counselor) goes on the timeline."""
    message = _locked_message(session, call_id)
    message.meta = {**message.meta, "consult": consult}
    session.add(message)
    if note:
        _note(session, message.ticket_id, consult.get("by"), f"{STARTED} (warm transfer started): {note}")


def end_consult(
    session: Session, *, call_id: str, outcome: str, kind: str, author_id: int | None, leg: str | None = None
) -> dict[str, Any] | None:
    """Forget the consult in progress (``kind``: COMPLETED or CANCELLED) and say why on the timeline.

    ``leg``: only if the consult is still that leg's (a late status callback of an earlier one
    changes nothing). Returns the consult that ended, or None. After a completion the consult leg
    becomes the counselor's leg (a supervisor's whisper coaches it)."""
    message = _locked_message(session, call_id)
    consult = current_consult(message.meta)
    if consult is None or (leg is not None and consult.get("leg") != leg):
        return None
    meta = {k: v for k, v in message.meta.items() if k != "consult"}
    meta["consult_outcome"] = {"kind": kind, "text": outcome[:300], "at": utcnow().isoformat()}
    if kind == COMPLETED and consult.get("leg"):
        meta["counselor_call_sid"] = consult["leg"]
    message.meta = meta
    session.add(message)
    label = "warm transfer completed" if kind == COMPLETED else "warm transfer cancelled"
    _note(session, message.ticket_id, author_id, f"{kind} ({label}): {outcome}")
    return consult


def mark_answered(session: Session, *, call_id: str, leg: str) -> bool:
    """The consult leg ``leg`` answered: the counselor and the target talk (相談中)."""
    message = _locked_message(session, call_id)
    consult = current_consult(message.meta)
    if consult is None or consult.get("leg") != leg or consult.get("state") == "talking":
        return False
    message.meta = {**message.meta, "consult": {**consult, "state": "talking"}}
    session.add(message)
    return True


def consult_of_ticket(session: Session, ticket_id: int) -> tuple[CallRef, dict[str, Any]] | None:
    """(call, consult) of a ticket's call with a consult in progress; None otherwise (no lock)."""
    ref = call_of_ticket(session, ticket_id)
    if ref is None:
        return None
    message = session.exec(
        select(Message).where(Message.channel == "voice", Message.external_id == ref.call_id)
    ).one()
    consult = current_consult(message.meta)
    return (ref, consult) if consult is not None else None


def consult_of_call(session: Session, call_id: str) -> tuple[CallRef, dict[str, Any]] | None:
    """Same, from the caller's CallSid (the status callback of the caller's leg)."""
    ref = ticket_of_call(session, call_id)
    return consult_of_ticket(session, ref.ticket_id) if ref is not None else None


def remember_caller_leg(session: Session, *, call_id: str, leg_sid: str) -> None:
    """The caller joined the conference on ``leg_sid`` (a dialed-back callback is another call)."""
    message = session.exec(
        select(Message).where(Message.channel == "voice", Message.external_id == call_id)
    ).first()
    if message is None or not leg_sid or message.meta.get("caller_leg_sid") == leg_sid:
        return
    message.meta = {**message.meta, "caller_leg_sid": leg_sid[:64]}
    session.add(message)


def _note(session: Session, ticket_id: int, author_id: Any, body: str) -> None:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return
    session.add(
        Note(
            ticket_id=ticket_id,
            author_id=int(author_id) if author_id else None,
            kind="transfer",
            body=body[:1000],
        )
    )
    ticket.updated_at = utcnow()
    ticket.version += 1
    session.add(ticket)
