"""Phone calls on tickets: crm's side of the voice channel (channels.voice reads and writes only here).

* :func:`apply_call_update` — a call's progress (status callback, abandon, callback request) becomes a
  system note on the call's ticket, and the call's message remembers its last status;
* :func:`center_rows` / :func:`call_of_ticket` / :func:`ticket_of_call` — the reads the IVR and the
  softphone need, so channel code never imports crm.models.

A warm transfer's consult (転送相談) is kept by crm.voice_consults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from crm.events import CallEnded, record_event
from crm.messaging import CallUpdate
from crm.models import Center, Message, Ticket, User

STATUS_TEXT = {
    "ringing": "ringing (呼出中)",
    "answered": "answered (応答)",
    "in-progress": "answered (応答)",
    "completed": "call ended (終話)",
    "busy": "busy (話中)",
    "no-answer": "no answer (応答なし)",
    "failed": "failed (発信失敗)",
    "canceled": "canceled (取消)",
    "abandoned": "the caller hung up while waiting (放棄呼)",
    "callback": "call back requested (折り返し希望): the caller keeps their place in line",
    "connected": "connected to a counselor (接続)",
}

ENDED_STATUSES = frozenset({"abandoned", "completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True)
class CallRef:
    ticket_id: int
    center_id: int
    center_code: str
    call_id: str
    caller: str
    assignee_id: int | None
    callback_requested: bool
    account_id: int | None


def _call_message(session: Session, call_id: str) -> Message | None:
    return session.exec(
        select(Message).where(Message.channel == "voice", Message.external_id == call_id)
    ).first()


def apply_call_update(session: Session, item: CallUpdate) -> tuple[bool, str]:
    """Put ``item`` on its call's ticket; (applied, reason). No ticket yet (ringing): not applied."""
    message = _call_message(session, item.call_id)
    if message is None:
        return False, f"call {item.call_id} has no ticket ({item.status} before the caller was queued)"
    ticket = session.get(Ticket, message.ticket_id)
    assert ticket is not None
    from crm.inbound import system_note  # crm.inbound dispatches here: import at use

    text = STATUS_TEXT.get(item.status, item.status)
    parts = [f"Call {text}"]
    if item.duration_seconds is not None:
        parts.append(f"duration {item.duration_seconds} s")
    if item.queue_seconds is not None:
        parts.append(f"waited {item.queue_seconds} s in the queue")
    if item.note:
        parts.append(item.note)
    system_note(session, ticket, "; ".join(parts) + ".")
    meta: dict[str, Any] = {**message.meta, "call_status": item.status}
    if item.status == "callback":
        meta["callback"] = True
    if item.duration_seconds is not None:
        meta["duration_seconds"] = item.duration_seconds
    message.meta = meta
    session.add(message)
    if item.status in ENDED_STATUSES:
        # Routing decides what an ended call means for the queue (an abandon frees its place).
        record_event(session, CallEnded(ticket_id=ticket.id, center_id=ticket.center_id, status=item.status))  # type: ignore[arg-type]
    return True, f"call {item.call_id}: {item.status}"


def center_rows(session: Session) -> list[Center]:
    """Every center (the IVR's routing table), by id."""
    return list(session.exec(select(Center).order_by(col(Center.id))).all())


def _ref(session: Session, ticket: Ticket, message: Message) -> CallRef:
    center = session.get(Center, ticket.center_id)
    return CallRef(
        ticket_id=ticket.id or 0,
        center_id=ticket.center_id,
        center_code=center.code if center else "",
        call_id=message.external_id or "",
        caller=str(message.meta.get("caller") or ""),
        assignee_id=ticket.assignee_id,
        callback_requested=bool(message.meta.get("callback")),
        account_id=message.channel_account_id,
    )


def call_of_ticket(session: Session, ticket_id: int) -> CallRef | None:
    """The latest inbound call of a voice ticket (None: not a call ticket)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    message = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.channel == "voice", Message.kind == "call")
        .order_by(col(Message.id).desc())
    ).first()
    return _ref(session, ticket, message) if message is not None else None


def ticket_of_call(session: Session, call_id: str) -> CallRef | None:
    """The ticket a call became (None: not recorded yet)."""
    message = _call_message(session, call_id)
    if message is None:
        return None
    ticket = session.get(Ticket, message.ticket_id)
    return _ref(session, ticket, message) if ticket is not None else None


def may_join_call(session: Session, *, user_id: int, ticket_id: int) -> str | None:
    """``counselor`` (the assignee), ``supervisor`` (of the ticket's center, or an admin), else None."""
    user = session.get(User, user_id)
    ticket = session.get(Ticket, ticket_id)
    if user is None or ticket is None or not user.is_active:
        return None
    if ticket.assignee_id == user.id:
        return "counselor"
    role = str(user.role)
    if role == "admin" or (role == "supervisor" and user.center_id == ticket.center_id):
        return "supervisor"
    return None


def claim_callback_dial(
    session: Session, *, ticket_id: int, user_id: int, at: datetime, min_gap_seconds: int
) -> CallRef:
    """Record that the assignee is dialing back the call's caller (折り返し), once per ``min_gap``.

    Raises NotFound (no call on the ticket), Forbidden (not the assignee), Conflict (no callback was
    asked for, the number is withheld, or a dial was placed less than ``min_gap_seconds`` ago).
    The call message is locked (``FOR UPDATE`` on PostgreSQL) so that two clicks dial once.
    """
    from crm.errors import Conflict, Forbidden, NotFound
    from crm.inbound import system_note

    ref = call_of_ticket(session, ticket_id)
    if ref is None:
        raise NotFound(f"ticket {ticket_id} has no phone call")
    if ref.assignee_id != user_id:
        raise Forbidden("only the counselor assigned to this ticket can call the consumer back")
    if not ref.callback_requested:
        raise Conflict("this caller did not ask for a call back (折り返し): nothing to dial")
    if not ref.caller:
        raise Conflict("the caller's number was withheld (非通知): it cannot be called back")
    message = session.exec(
        select(Message)
        .where(Message.channel == "voice", Message.external_id == ref.call_id)
        .with_for_update()
    ).one()
    last = message.meta.get("callback_dialed_at")
    if last and (at - datetime.fromisoformat(str(last))).total_seconds() < min_gap_seconds:
        raise Conflict(
            f"a call back was placed at {_jst(str(last))} JST; wait {min_gap_seconds} s for it to ring out "
            "before dialing again"
        )
    message.meta = {**message.meta, "callback_dialed_at": at.isoformat(), "callback_dialed_by": user_id}
    session.add(message)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    system_note(session, ticket, "Call back (折り返し) dialed by the counselor.")
    return ref


def release_callback_dial(session: Session, *, ticket_id: int, reason: str) -> None:
    """Twilio refused the dial: forget the claim so that the counselor can try again, and say why."""
    from crm.inbound import system_note

    ref = call_of_ticket(session, ticket_id)
    if ref is None:
        return
    message = session.exec(
        select(Message)
        .where(Message.channel == "voice", Message.external_id == ref.call_id)
        .with_for_update()
    ).one()
    message.meta = {
        k: v for k, v in message.meta.items() if k not in ("callback_dialed_at", "callback_dialed_by")
    }
    session.add(message)
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None:
        system_note(session, ticket, f"Call back (折り返し) could not be placed: {reason}"[:500])


def _jst(iso: str) -> str:
    from config.clock import JST

    return datetime.fromisoformat(iso).astimezone(JST).strftime("%H:%M:%S")


def remember_counselor_leg(session: Session, *, ticket_id: int, leg_sid: str) -> None:
    """The assignee's softphone joined the conference on ``leg_sid``: keep it, so a supervisor's
    whisper (Twilio ``coach``) can name the counselor's call."""
    ref = call_of_ticket(session, ticket_id)
    if ref is None or not leg_sid:
        return
    message = session.exec(
        select(Message).where(Message.channel == "voice", Message.external_id == ref.call_id)
    ).one()
    message.meta = {**message.meta, "counselor_call_sid": leg_sid[:64]}
    session.add(message)


def call_meta(session: Session, *, ticket_id: int) -> dict[str, Any]:
    """What the softphone shows about a ticket's call (empty: not a call ticket)."""
    ref = call_of_ticket(session, ticket_id)
    if ref is None:
        return {}
    message = _call_message(session, ref.call_id)
    meta = message.meta if message is not None else {}
    return {
        "call_sid": ref.call_id,
        "callback_requested": ref.callback_requested,
        "withheld": not ref.caller,
        "assignee_id": ref.assignee_id,
        "counselor_call_sid": meta.get("counselor_call_sid"),
        "callback_dialed_at": meta.get("callback_dialed_at"),
        "call_status": meta.get("call_status"),
        "consult": _consult_view(meta.get("consult")),
        "consult_outcome": meta.get("consult_outcome"),
    }


def _consult_view(consult: Any) -> dict[str, Any] | None:
    """A warm transfer in progress as the softphone shows it (crm.voice_consults keeps it)."""
    if not isinstance(consult, dict):
        return None
    keys = ("state", "to_user_id", "to_name", "to_center_code", "by", "started_at")
    return {k: consult.get(k) for k in keys}
