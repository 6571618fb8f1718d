"""Warm (consultative) transfers, 転送相談: the counselor consults a colleague before handing the call on.

The caller, the counselor and the consulted colleague meet in the ticket's conference
(``ticket-<id>``)::

    start      consult leg dialed into the conference (REST Participants create, the target's browser
               softphone ``client:user-<id>``), then the caller put on hold (hold music: our own
               ``/voice/hold`` TwiML, nothing from a CDN)                        → 保留中 / ringing
    answered   the consult leg's status callback (``/voice/consult``)          → 相談中 / talking
    complete   the caller back off hold; the ticket transferred to the target (routing.warm_transfer:
               note, events, another center's queue), TRANSFER + ENTERQUEUE + CONNECT in the queue
               log; then the counselor's own leg leaves the conference
    cancel     consult leg removed, the caller back off hold
    no answer  the consult leg ends (no-answer, busy, declined, failed, hung up) → as cancel, and the
               counselor is told (``consult_outcome``, shown by the softphone)
    hang-up    the caller hung up during the consult → the consult leg is removed

The row lock on the call's message (crm.voice_consults) is held across each REST call, so a double
click starts one consult and a REST failure leaves nothing half-done (the transaction rolls back).
Raises crm errors (NotFound, Forbidden, Conflict, BadRequest) and ChannelError from Twilio.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from channels.base import ChannelError, InvalidRecipient
from channels.voice import rest
from config.clock import now_utc
from crm.center_admin import find_center
from crm.channel_accounts import get_account_by_id
from crm.db import session_scope
from crm.errors import Conflict
from crm.voice_calls import CallRef
from crm.voice_consults import (
    CANCELLED,
    COMPLETED,
    consult_of_call,
    consult_of_ticket,
    end_consult,
    lock_call,
    mark_answered,
    require_consult,
    require_no_consult,
    save_consult,
)
from routing import queue_log
from routing.warm_transfer import consult_target, hand_over_call, release_target, reserve_target

log = logging.getLogger(__name__)
RING_SECONDS = 30  # how long the colleague's softphone rings before the consult counts as not answered
ANSWERED = ("in-progress", "answered")
LEG_OUTCOMES = {
    "no-answer": "{name} did not answer (応答なし)",
    "busy": "{name} declined or was busy (話中)",
    "canceled": "{name} declined (辞退)",
    "failed": "the call to {name} failed (発信失敗)",
    "completed": "{name} hung up (終話)",
}
DEFAULT_REASON = "転送相談 (warm transfer)"


def _twilio(runtime: Any, session: Session, call: CallRef) -> tuple[Any, str, str]:
    """(SDK client, the number's webhook base URL, the number) for the call's account."""
    info = (
        get_account_by_id(session, account_id=call.account_id, keys=runtime.settings.encryption_keys)
        if call.account_id
        else None
    )
    if info is None:
        raise Conflict("the phone number this caller called is no longer set up: cannot transfer")
    base = f"{runtime.settings.public_base_url.rstrip('/')}/channels/twilio/{info.public_id}/voice"
    client = rest.client_for(rest.credentials(runtime.settings, info.settings, info.secrets))
    return client, base, info.address


def _require_connected(session: Session, call: CallRef) -> None:
    state = queue_log.state_of(queue_log.call_rows(session, call.call_id)).state
    if state != "connected":
        raise Conflict(f"this call is {state}: a warm transfer needs the caller on the line with you")


def public(ticket_id: int, consult: dict[str, Any], state: str | None = None) -> dict[str, Any]:
    """What the API answers about a consult."""
    return {
        "ticket_id": ticket_id,
        "state": state or consult.get("state"),
        "to_user_id": consult.get("to_user_id"),
        "to_name": consult.get("to_name"),
        "to_center_code": consult.get("to_center_code"),
        "caller_on_hold": state is None,
    }


def start_consult(
    runtime: Any,
    *,
    ticket_id: int,
    user_id: int,
    to_user_id: int | None,
    to_center: str | None,
    reason: str,
) -> dict[str, Any]:
    """The assignee clicks 相談転送: ring the target into the conference, then hold the caller."""
    now = now_utc()
    with session_scope(runtime.engine) as session:
        call, meta = lock_call(session, ticket_id=ticket_id, user_id=user_id)
        require_no_consult(meta)
        _require_connected(session, call)
        center_id = find_center(session, code=to_center).id if to_center is not None else None
        target, center = consult_target(
            session,
            ticket_id=ticket_id,
            actor_id=user_id,
            to_user_id=to_user_id,
            to_center_id=center_id,
            now=now,
        )
        caller_leg = str(meta.get("caller_leg_sid") or call.call_id)
        reserved = reserve_target(session, user=target, now=now)  # rolled back with the rest on a failure
        leg, conference = _ring_and_hold(
            *_twilio(runtime, session, call), ticket_id=ticket_id, to=target.id or 0, caller_leg=caller_leg
        )
        name = target.display_name or target.username
        consult = {
            "leg": leg,
            "conference": conference,
            "caller_leg": caller_leg,
            "to_user_id": target.id,
            "to_center_id": center.id,
            "to_center_code": center.code,
            "to_name": name,
            "by": user_id,
            "state": "ringing",
            "started_at": now.isoformat(),
            "reason": (reason.strip() or DEFAULT_REASON)[:300],
            "reserved_version": reserved,
        }
        where = f"{name} ({center.name})" if center.id != call.center_id else name
        save_consult(
            session, call_id=call.call_id, consult=consult, note=f"consulting {where}; the caller is on hold"
        )
    return public(ticket_id, consult)


def _ring_and_hold(
    client: Any, base: str, number: str, *, ticket_id: int, to: int, caller_leg: str
) -> tuple[str, str]:
    """Dial the colleague's softphone into the conference, then hold the caller; (leg, conference)."""
    leg, conference = rest.add_participant(
        client,
        f"ticket-{ticket_id}",
        to=f"client:user-{to}",
        from_=number,
        status_url=f"{base}/consult?{urlencode({'ticket': ticket_id})}",
        label="consult",
        timeout=RING_SECONDS,
    )
    try:
        rest.hold_participant(client, conference, caller_leg, hold=True, hold_url=f"{base}/hold")
    except ChannelError:
        _quietly_remove(client, conference, leg)  # never leave a colleague ringing into a failed transfer
        raise
    return leg, conference


def complete_consult(runtime: Any, *, ticket_id: int, user_id: int) -> dict[str, Any]:
    """The counselor hands the caller to the consulted colleague and leaves the conference."""
    now = now_utc()
    with session_scope(runtime.engine) as session:
        call, meta = lock_call(session, ticket_id=ticket_id, user_id=user_id)
        consult = require_consult(meta)
        if consult.get("state") != "talking":
            raise Conflict(f"{consult.get('to_name')} has not answered yet: wait, or cancel the transfer")
        _require_connected(session, call)
        client, _, _ = _twilio(runtime, session, call)
        target_id = int(consult["to_user_id"])
        reason = str(consult.get("reason") or DEFAULT_REASON)
        hand_over_call(
            session, ticket_id=ticket_id, actor_id=user_id, target_id=target_id, reason=reason, now=now
        )
        queue_log.move(
            session,
            call_id=call.call_id,
            to_queue=str(consult["to_center_code"]),
            at=now,
            event=queue_log.TRANSFER,
            data=f"warm: {reason}"[:150],
        )
        queue_log.leave(session, call_id=call.call_id, event=queue_log.CONNECT, at=now, agent=str(target_id))
        own_leg = meta.get("counselor_call_sid")
        _finish(
            session,
            call_id=call.call_id,
            outcome=f"{consult.get('to_name')} took the call",
            kind=COMPLETED,
            author_id=user_id,
        )
        # last: a refused unhold rolls the hand-over back (the consult stays; complete again or cancel)
        rest.hold_participant(client, consult["conference"], consult["caller_leg"], hold=False, hold_url="")
    if own_leg and own_leg != consult["leg"]:
        _quietly_remove(client, consult["conference"], str(own_leg))
    return public(ticket_id, consult, "completed")


def cancel_consult(runtime: Any, *, ticket_id: int, user_id: int) -> dict[str, Any]:
    """The counselor keeps the call: the consult leg leaves, the caller comes back off hold."""
    with session_scope(runtime.engine) as session:
        call, meta = lock_call(session, ticket_id=ticket_id, user_id=user_id)
        consult = require_consult(meta)
        client, _, _ = _twilio(runtime, session, call)
        _quietly_remove(client, consult["conference"], consult["leg"])
        _unhold(client, consult)
        _finish(
            session,
            call_id=call.call_id,
            outcome="cancelled by the counselor",
            kind=CANCELLED,
            author_id=user_id,
        )
    return public(ticket_id, consult, "cancelled")


def leg_status(runtime: Any, *, ticket_id: int, leg: str, status: str) -> str:
    """The consult leg's status callback: answered → talking; ended before completion → cancelled."""
    with session_scope(runtime.engine) as session:
        found = consult_of_ticket(session, ticket_id)
        if found is None or found[1].get("leg") != leg:
            return "not the consult in progress"
        call, consult = found
        if status in ANSWERED:
            return "talking" if mark_answered(session, call_id=call.call_id, leg=leg) else "already talking"
        if status not in LEG_OUTCOMES:
            return f"consult leg {status}"
        client, _, _ = _twilio(runtime, session, call)
        _unhold(client, consult)  # a refused unhold raises: the consult stays, the counselor cancels
        outcome = LEG_OUTCOMES[status].format(name=consult.get("to_name") or "the colleague")
        _finish(session, call_id=call.call_id, outcome=outcome, kind=CANCELLED, author_id=None, leg=leg)
    return "cancelled"


def caller_hung_up(runtime: Any, *, call_id: str) -> str:
    """The caller's leg ended: a consult in progress ends too (its leg is taken out of the conference)."""
    with session_scope(runtime.engine) as session:
        found = consult_of_call(session, call_id)
        if found is None:
            return "no consult"
        call, consult = found
        ended = _finish(
            session,
            call_id=call.call_id,
            outcome="the caller hung up during the consult (相談者が終話)",
            kind=CANCELLED,
            author_id=None,
        )
        if ended is None:
            return "no consult"
        try:
            client, _, _ = _twilio(runtime, session, call)
        except (Conflict, ChannelError) as exc:
            log.info("consult leg %s of %s left to Twilio: %s", consult["leg"], call_id, exc)
            return "consult ended"
    _quietly_remove(client, consult["conference"], consult["leg"])
    return "consult ended"


def _finish(session: Session, **kwargs: Any) -> dict[str, Any] | None:
    """End the consult (crm.voice_consults.end_consult) and give the colleague back to routing."""
    ended = end_consult(session, **kwargs)
    if ended is not None and ended.get("to_user_id"):
        release_target(
            session, user_id=int(ended["to_user_id"]), version=ended.get("reserved_version"), now=now_utc()
        )
    return ended


def _unhold(client: Any, consult: dict[str, Any]) -> None:
    try:
        rest.hold_participant(client, consult["conference"], consult["caller_leg"], hold=False, hold_url="")
    except InvalidRecipient as exc:  # the caller's leg is gone already: nothing to take off hold
        log.info("caller leg %s is gone: %s", consult.get("caller_leg"), exc)


def _quietly_remove(client: Any, conference: str, leg: str) -> None:
    try:
        rest.remove_participant(client, conference, leg)
    except ChannelError as exc:  # gone already, or Twilio busy: the leg's own callback follows
        log.info("leg %s not removed from %s: %s", leg, conference, exc)
