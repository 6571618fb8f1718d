"""Voice jobs: when routing assigns, transfers or overflows a call's ticket, follow it with the call.

:func:`connect_on_assign` (a ``RoutingEvent`` handler, kind ``assigned``): a caller still waiting in
the queue is redirected (REST, via the SDK) to the ticket's conference; a caller who asked for a
callback is dialed back, from the number they called, into the same conference when the assigned
counselor clicks 折り返し (:func:`dial_back_by_counselor`; not on accept). The counselor's
browser softphone joins that conference through the TwiML App (``POST /channels/twilio/client``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from channels.base import ChannelError, ChannelTemporaryError, InvalidRecipient
from channels.voice import rest
from config.clock import now_utc
from config.runtime import get_runtime
from crm.channel_accounts import get_account_by_id
from crm.db import session_scope
from crm.voice_calls import call_of_ticket
from routing import queue_log

log = logging.getLogger(__name__)
RETRY_BACKOFF = (5.0, 20.0, 60.0)  # seconds before each retry of a REST call Twilio refused for now


def connect_on_assign(event: dict[str, Any]) -> str:
    """Redirect or dial back the call of an assigned voice ticket; returns what was done."""
    if event.get("kind") != "assigned" or event.get("ticket_id") is None:
        return "not an assignment"
    if (event.get("detail") or {}).get("warm"):
        return "warm transfer: the caller is on the line with the counselor already"
    runtime = get_runtime()
    with Session(runtime.engine) as session:
        call = call_of_ticket(session, int(event["ticket_id"]))
        if call is None:
            return "not a call"
        state = queue_log.state_of(queue_log.call_rows(session, call.call_id)).state
        info = (
            get_account_by_id(session, account_id=call.account_id, keys=runtime.settings.encryption_keys)
            if call.account_id
            else None
        )
    if state not in ("waiting", "callback") or info is None:
        return f"call {call.call_id} is {state}: nothing to connect"
    base = f"{runtime.settings.public_base_url.rstrip('/')}/channels/twilio/{info.public_id}/voice"
    agent = str(event.get("user_id") or "")
    creds = rest.credentials(runtime.settings, info.settings, info.secrets)
    try:
        client = rest.client_for(creds)
        if state == "waiting":
            rest.redirect_call(
                client,
                call.call_id,
                f"{base}/connect?{urlencode({'ticket': call.ticket_id, 'agent': agent})}",
            )
            return "redirected"
        # A callback is dialed when the counselor clicks 折り返し (POST /api/voice/calls/{id}/callback),
        # once their softphone is in the conference: never ring a consumer into an empty room.
        return "callback: waits for the counselor's click"
    except InvalidRecipient as exc:
        log.info("call %s could not be connected: %s", call.call_id, exc)
        return f"not connected: {exc}"
    except ChannelTemporaryError as exc:
        return _retry_later(runtime, event, exc)


def _retry_later(runtime: Any, event: dict[str, Any], exc: Exception) -> str:
    """Twilio was briefly unavailable: try the same event again after a backoff (then give up, logged)."""
    attempt = int(event.get("voice_attempt") or 0)
    if attempt >= len(RETRY_BACKOFF):
        log.error("giving up on ticket %s's call after %d attempts: %s", event.get("ticket_id"), attempt, exc)
        return f"gave up: {exc}"
    again = {**event, "voice_attempt": attempt + 1}
    runtime.jobs.enqueue(
        follow_call,
        again,
        job_id=f"voice-{event.get('kind')}-{event.get('ticket_id')}-{attempt + 1}",
        delay=RETRY_BACKOFF[attempt],
    )
    log.info("ticket %s's call: %s; retry %d later", event.get("ticket_id"), exc, attempt + 1)
    return f"retry {attempt + 1}"


def follow_ticket_moves(event: dict[str, Any]) -> str:
    """A voice ticket was transferred (counselor or center) or overflowed to a backup center: log the
    move; a connected caller goes back on hold in the new queue (REST redirect) until the next
    counselor takes the call (cold transfer)."""
    if event.get("kind") not in ("transferred", "overflowed") or event.get("ticket_id") is None:
        return "not a move"
    if (event.get("detail") or {}).get("warm"):  # channels.voice.consult logged it and keeps the call
        return "warm transfer: logged by the consult"
    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        call = call_of_ticket(session, int(event["ticket_id"]))
        if call is None:
            return "not a call"
        state = queue_log.state_of(queue_log.call_rows(session, call.call_id)).state
        kind = queue_log.EXITWITHTIMEOUT if event.get("kind") == "overflowed" else queue_log.TRANSFER
        reason = str((event.get("detail") or {}).get("reason") or "")[:150]
        moved = queue_log.move(
            session, call_id=call.call_id, to_queue=call.center_code, at=now_utc(), event=kind, data=reason
        )
        info = (
            get_account_by_id(session, account_id=call.account_id, keys=runtime.settings.encryption_keys)
            if call.account_id
            else None
        )
    if not moved or state != "connected" or info is None:
        return f"logged: {moved}"
    base = f"{runtime.settings.public_base_url.rstrip('/')}/channels/twilio/{info.public_id}/voice"
    client = rest.client_for(rest.credentials(runtime.settings, info.settings, info.secrets))
    try:
        rest.redirect_call(client, call.call_id, f"{base}/requeue?{urlencode({'queue': call.center_code})}")
    except InvalidRecipient as exc:
        log.info("transferred call %s is gone: %s", call.call_id, exc)
        return f"call gone: {exc}"
    except ChannelTemporaryError as exc:
        return _retry_later(runtime, {**event, "kind": "requeue"}, exc)
    return "back on hold"


def _requeue(event: dict[str, Any]) -> str:
    """A retried cold transfer: the move is logged already, only the redirect is left."""
    runtime = get_runtime()
    with Session(runtime.engine) as session:
        call = call_of_ticket(session, int(event["ticket_id"]))
        state = queue_log.state_of(queue_log.call_rows(session, call.call_id)).state if call else "gone"
        info = (
            get_account_by_id(session, account_id=call.account_id, keys=runtime.settings.encryption_keys)
            if call and call.account_id
            else None
        )
    if call is None or info is None or state != "waiting":
        return "nothing to redirect"
    base = f"{runtime.settings.public_base_url.rstrip('/')}/channels/twilio/{info.public_id}/voice"
    client = rest.client_for(rest.credentials(runtime.settings, info.settings, info.secrets))
    try:
        rest.redirect_call(client, call.call_id, f"{base}/requeue?{urlencode({'queue': call.center_code})}")
    except InvalidRecipient as exc:
        return f"call gone: {exc}"
    except ChannelTemporaryError as exc:
        return _retry_later(runtime, event, exc)
    return "back on hold"


def follow_call(event: dict[str, Any]) -> str:
    """The one ``RoutingEvent`` handler of the voice channel (one job per event, most return at once)."""
    kind = event.get("kind")
    if kind == "assigned":
        return connect_on_assign(event)
    if kind in ("transferred", "overflowed"):
        return follow_ticket_moves(event)
    if kind == "requeue":  # a retry of a transfer's redirect
        return _requeue(event)
    if kind == "timed_out":
        return _ring_no_answer(event)
    return "nothing to do"


def _ring_no_answer(event: dict[str, Any]) -> str:
    """An offer of a call's ticket lapsed: RINGNOANSWER for that counselor (once per offer)."""
    runtime = get_runtime()
    offer_id = (event.get("detail") or {}).get("offer_id")
    with session_scope(runtime.engine) as session:
        call = call_of_ticket(session, int(event["ticket_id"])) if event.get("ticket_id") else None
        if call is None:
            return "not a call"
        current = queue_log.state_of(queue_log.call_rows(session, call.call_id))
        if current.state not in ("waiting", "callback") or current.queue is None:
            return "not waiting"
        queue_log.append(
            session,
            call_id=call.call_id,
            queue=current.queue,
            event=queue_log.RINGNOANSWER,
            at=now_utc(),
            agent=str(event.get("user_id") or ""),
            key=f"{call.call_id}:RINGNOANSWER:{offer_id}",
        )
    return "ring no answer"


def end_call_by_counselor(runtime: Any, *, ticket_id: int, user_id: int) -> bool:
    """The assignee or a supervisor ends the ticket's live call: COMPLETEAGENT, then Twilio hangs up.

    Raises NotFound (not a call ticket), Forbidden (neither assignee nor supervisor), or a
    ChannelError from Twilio; False when the call was not connected (nothing to end).
    """
    from crm.errors import Forbidden, NotFound
    from crm.voice_calls import may_join_call

    with session_scope(runtime.engine) as session:
        call = call_of_ticket(session, ticket_id)
        if call is None:
            raise NotFound(f"ticket {ticket_id} has no phone call")
        if may_join_call(session, user_id=user_id, ticket_id=ticket_id) is None:
            raise Forbidden("only the assigned counselor or a supervisor of the center can end this call")
        logged = queue_log.hang_up(
            session, call_id=call.call_id, at=now_utc(), by_agent=True, agent=str(user_id)
        )
        info = (
            get_account_by_id(session, account_id=call.account_id, keys=runtime.settings.encryption_keys)
            if call.account_id
            else None
        )
    if logged != queue_log.COMPLETEAGENT:
        return False
    creds = rest.credentials(
        runtime.settings, info.settings if info else None, info.secrets if info else None
    )
    try:
        rest.end_call(rest.client_for(creds), call.call_id)
    except InvalidRecipient:
        log.info("call %s had already ended at Twilio", call.call_id)
    return True


CALLBACK_MIN_GAP_SECONDS = 60  # a second click within this is refused (the first dial is still ringing)


def dial_back_by_counselor(runtime: Any, *, ticket_id: int, user_id: int) -> str:
    """The assignee clicks 折り返し: dial the caller, from the number they called, into the conference.

    Raises NotFound / Forbidden / Conflict (crm.voice_calls.claim_callback_dial, or the call is no
    longer waiting for a callback) or a ChannelError from Twilio (the claim is then released).
    Returns the number dialed.
    """
    from crm.errors import Conflict
    from crm.voice_calls import claim_callback_dial, release_callback_dial

    with session_scope(runtime.engine) as session:
        call = claim_callback_dial(
            session,
            ticket_id=ticket_id,
            user_id=user_id,
            at=now_utc(),
            min_gap_seconds=CALLBACK_MIN_GAP_SECONDS,
        )
        state = queue_log.state_of(queue_log.call_rows(session, call.call_id)).state
        if state != "callback":
            raise Conflict(f"this call is {state}, not waiting for a call back: nothing to dial")
        info = (
            get_account_by_id(session, account_id=call.account_id, keys=runtime.settings.encryption_keys)
            if call.account_id
            else None
        )
        if info is None:
            raise Conflict("the phone number this caller called is no longer set up: cannot call back")
    base = f"{runtime.settings.public_base_url.rstrip('/')}/channels/twilio/{info.public_id}/voice"
    query = urlencode({"ticket": call.ticket_id, "agent": str(user_id), "call": call.call_id})
    try:
        client = rest.client_for(rest.credentials(runtime.settings, info.settings, info.secrets))
        rest.dial(
            client,
            to=call.caller,
            from_=info.address,
            url=f"{base}/connect?{query}",
            status_url=f"{base}/status?{urlencode({'parent': call.call_id})}",
        )
    except ChannelError as exc:
        with session_scope(runtime.engine) as session:
            release_callback_dial(session, ticket_id=ticket_id, reason=str(exc))
        raise
    return call.caller
