"""The steps of a call, after the webhook verified it: decide, log the queue event, store the raw
event for the ticket (channels.inbox: the one inbound pipeline), answer TwiML.

============  ==================================================================================
step          what happens
============  ==================================================================================
start         188 entry: greeting, privacy notice, menu (1 postal code, 2 prefecture); a center's
              own number: greeting, then straight to ``default``
menu          1 → ask the 7-digit 郵便番号; 2 → the prefecture menu; else → ``default``
postal        known code → its center; bad or unknown code → asked again once, then the prefectural
              center (of the code, else the number's default)
prefecture    the n-th prefectural center
default       the number's center (``default_center`` setting for a 188 entry)
(route)       the handling center now (channels.voice.ivr) → ENTERQUEUE + ``<Enqueue>``; else voicemail
wait          position and estimated wait, the * (callback) / 9 (voicemail) keys, hold
keys          * → CALLBACK (keeps its place) + ``<Leave>``; 9 → VOICEMAIL + ``<Leave>``
exit          the Enqueue action: hangup → ABANDON; leave → goodbye or ``<Record>``; full → voicemail
recording     the voicemail's URL becomes a message on the ticket
connect       the caller (or the dialed-back callback) joins the ticket's conference: CONNECT
requeue       a transferred call back on hold in its new center's queue
status        status callbacks: on the timeline; a hang-up while waiting is an ABANDON (and ends a
              warm transfer's consult in progress)
hold          hold music of a caller held during a warm transfer (channels.voice.consult)
consult       the consult leg's status callbacks: answered → 相談中; ended → the caller unheld
============  ==================================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from channels.inbox import accept
from channels.voice import consult, twiml
from channels.voice.adapter import call_event, is_withheld
from channels.voice.ivr import choose_destination
from channels.voice.postal import center_for_postal, normalize_digits, prefectural_center
from config.clock import now_utc
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo
from crm.db import session_scope
from crm.voice_calls import call_of_ticket, center_rows, may_join_call, remember_counselor_leg
from crm.voice_consults import remember_caller_leg
from routing import acd_stats, queue_log

TERMINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
HANDLE_TIME_WINDOW = timedelta(hours=2)


class Call:
    """One request's context: the account, the form, the query, the URLs and the voice."""

    def __init__(
        self, runtime: Runtime, info: ChannelAccountInfo, form: Mapping[str, str], query: Mapping[str, str]
    ) -> None:
        self.runtime = runtime
        self.info = info
        self.form = form
        self.query = query
        self.sid = form.get("CallSid", "")[:64]
        self.now = now_utc()
        self.voice = twiml.Voice(runtime.settings.twilio_voice)
        self.base = f"{runtime.settings.public_base_url.rstrip('/')}/channels/twilio/{info.public_id}/voice"

    def url(self, step: str, **params: Any) -> str:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{self.base}/{step}" + (f"?{urlencode(clean)}" if clean else "")

    def store(self, kind: str, event_id: str, **extra: Any) -> None:
        """The raw event for the ticket, through the one inbound pipeline (stored once per id)."""
        accept(
            self.runtime, self.info, [call_event(kind, self.form, at=self.now, event_id=event_id, **extra)]
        )


def run_step(
    runtime: Runtime, info: ChannelAccountInfo, step: str, form: Mapping[str, str], query: Mapping[str, str]
) -> str:
    """The TwiML answer of ``step`` for this verified request."""
    call = Call(runtime, info, form, query)
    handler = STEPS.get(step)
    return handler(call) if handler else twiml.empty()


def _centers(call: Call) -> list[Any]:
    with Session(call.runtime.engine) as session:
        return center_rows(session)


def _default_center(call: Call, centers: list[Any]) -> Any:
    by_id = {c.id: c for c in centers}
    by_code = {c.code: c for c in centers}
    wanted = call.info.settings.get("default_center")
    return (
        by_id.get(call.info.center_id)
        or by_code.get(str(wanted or ""))
        or next((c for c in centers if c.level == "prefectural"), None)
        or (centers[0] if centers else None)
    )


def start(call: Call) -> str:
    if call.info.center_id is not None:
        own = next((c for c in _centers(call) if c.id == call.info.center_id), None)
        return twiml.greeting_then(call.voice, call.url("default"), own.name if own else "")
    return twiml.greeting_menu(call.voice, menu_url=call.url("menu"), timeout_url=call.url("default"))


def menu(call: Call) -> str:
    digits = normalize_digits(call.form.get("Digits"))
    if digits == "1":
        return twiml.ask_postal(
            call.voice, action_url=call.url("postal", attempt=1), timeout_url=call.url("default")
        )
    if digits == "2":
        names = [c.prefecture for c in _centers(call) if c.level == "prefectural"][:9]
        if names:
            return twiml.prefecture_menu(
                call.voice, choices=names, action_url=call.url("prefecture"), timeout_url=call.url("default")
            )
    return default(call)


def postal(call: Call) -> str:
    attempt = 2 if call.query.get("attempt") == "2" else 1
    centers = _centers(call)
    code = normalize_digits(call.form.get("Digits"))
    match = center_for_postal(code, centers)
    if match.center is not None:
        return _route(call, match.center, centers, route=match.reason, postal_code=code)
    if attempt == 1:
        return twiml.ask_postal(
            call.voice, action_url=call.url("postal", attempt=2), timeout_url=call.url("default"), again=True
        )
    fallback = (
        prefectural_center(match.area.prefecture, centers) if match.area else None
    ) or _default_center(call, centers)
    return _route(
        call, fallback, centers, route=f"{match.reason}; asked twice → {getattr(fallback, 'code', '?')}"
    )


def prefecture(call: Call) -> str:
    centers = _centers(call)
    prefectural = [c for c in centers if c.level == "prefectural"][:9]
    digits = normalize_digits(call.form.get("Digits"))
    if digits.isdigit() and 1 <= int(digits) <= len(prefectural):
        chosen = prefectural[int(digits) - 1]
        return _route(call, chosen, centers, route=f"prefecture menu {digits} → {chosen.code}")
    return default(call)


def default(call: Call) -> str:
    centers = _centers(call)
    center = _default_center(call, centers)
    return _route(
        call, center, centers, route=f"the number's default center ({getattr(center, 'code', '-')})"
    )


def _route(call: Call, center: Any, centers: list[Any], *, route: str, postal_code: str | None = None) -> str:
    if center is None:
        return twiml.say_and_hang_up(
            call.voice, "申し訳ございません。ただいまご案内できる相談窓口がありません。"
        )
    by_code = {c.code: c for c in centers}
    with session_scope(call.runtime.engine) as session:
        dest = choose_destination(
            center,
            call.now,
            by_code.get,
            waiting=lambda c: len(queue_log.waiting_calls(session, queue=c.code)),
            on_duty=lambda c: queue_log.counselors_on_duty(session, center_id=c.id),
            max_queue=call.runtime.settings.voice_max_queue,
        )
        if dest.queue_center is not None:
            queue_log.enter(session, call_id=call.sid, queue=dest.queue_center.code, at=call.now)
    if dest.queue_center is None:
        return _voicemail(call, dest.voicemail_center, dest.next_opening)
    code = dest.queue_center.code
    call.store(
        "call", f"{call.sid}:call", center_code=code, route=f"{route}; {dest.reason}", postal_code=postal_code
    )
    return twiml.enqueue(
        call.voice,
        center_name=dest.queue_center.name,
        queue=code,
        wait_url=call.url("wait", queue=code),
        action_url=call.url("exit", queue=code),
    )


def _voicemail(call: Call, center: Any, next_opening: str) -> str:
    return twiml.voicemail(
        call.voice,
        center_name=center.name,
        next_opening=next_opening,
        action_url=call.url("recording", center=center.code),
        max_seconds=call.runtime.settings.voice_voicemail_max_seconds,
    )


def wait(call: Call) -> str:
    queue = call.query.get("queue", "")
    with Session(call.runtime.engine) as session:
        place = queue_log.position(session, call_id=call.sid)
        handle = queue_log.recent_handle_times(session, queue=queue, since=call.now - HANDLE_TIME_WINDOW)
        center_id = next((c.id for c in center_rows(session) if c.code == queue), None)
        staff = queue_log.counselors_on_duty(session, center_id=center_id) if center_id is not None else 0
    estimate = acd_stats.estimated_wait_seconds(place, handle, staff)
    minutes = math.ceil(estimate / 60) if estimate else None
    return twiml.wait_music(
        call.voice,
        position=place,
        minutes=minutes,
        keys_url=call.url("keys", queue=queue),
        callback_allowed=not is_withheld(call.form.get("From")),
    )


def keys(call: Call) -> str:
    digits = (call.form.get("Digits") or "").strip()
    queue = call.query.get("queue", "")
    if digits == "*" and is_withheld(call.form.get("From")):
        return twiml.say_then(call.voice, twiml.CALLBACK_WITHHELD, call.url("wait", queue=queue))
    if digits in ("*", "9"):
        event = queue_log.CALLBACK if digits == "*" else queue_log.VOICEMAIL
        with session_scope(call.runtime.engine) as session:
            left = queue_log.leave(session, call_id=call.sid, event=event, at=call.now)
        if left and event == queue_log.CALLBACK:
            call.store("update", f"{call.sid}:callback", status="callback")
        return twiml.leave_queue(call.voice, twiml.CALLBACK_OK if digits == "*" else "")
    return twiml.redirect(call.url("wait", queue=queue))


def exit_queue(call: Call) -> str:
    result = call.form.get("QueueResult", "")
    if result == "hangup":
        _hang_up(call, call.sid)
        return twiml.empty()
    with session_scope(call.runtime.engine) as session:
        rows = queue_log.call_rows(session, call.sid)
        if result in ("queue-full", "error", "system-error"):
            queue_log.leave(
                session, call_id=call.sid, event=queue_log.EXITWITHTIMEOUT, at=call.now, data=result
            )
    last = rows[-1].event if rows else ""
    if result == "leave" and last == queue_log.CALLBACK:
        return twiml.say_and_hang_up(call.voice, twiml.GOODBYE)
    if result in ("leave", "queue-full", "error", "system-error"):
        code = call.query.get("queue", "")
        center = next((c for c in _centers(call) if c.code == code), None)
        if center is not None:
            return _voicemail(call, center, "")
    return twiml.empty()


def _hang_up(call: Call, call_id: str) -> None:
    with session_scope(call.runtime.engine) as session:
        rows = queue_log.call_rows(session, call_id)
        logged = queue_log.hang_up(session, call_id=call_id, at=call.now)
    if logged == queue_log.ABANDON:
        entered = queue_log.state_of(rows).entered_at
        waited = int((call.now - entered).total_seconds()) if entered else None
        short = waited is not None and waited < call.runtime.settings.voice_short_abandon_seconds
        call.store(
            "update",
            f"{call_id}:abandoned",
            status="abandoned",
            call_id=call_id,
            queue_seconds=waited,
            note="short abandon (短時間放棄), counted apart" if short else "",
        )


def status(call: Call) -> str:
    parent = call.query.get("parent") or call.sid  # a callback leg reports for the original call
    state = call.form.get("CallStatus", "")
    if state in TERMINAL_STATUSES:
        _hang_up(call, parent)
        consult.caller_hung_up(call.runtime, call_id=parent)
    call.store("update", f"{call.sid}:status:{state}", status=state, call_id=parent)
    return twiml.empty()


def recording(call: Call) -> str:
    url = call.form.get("RecordingUrl", "")
    if not url.startswith("https://") and not url.startswith("http://"):
        return twiml.say_and_hang_up(call.voice, twiml.NO_RECORDING)
    code = call.query.get("center", "")
    call.store("voicemail", f"{call.sid}:voicemail", center_code=code or None, route="voicemail")
    return twiml.say_and_hang_up(call.voice, twiml.VOICEMAIL_THANKS)


def connect(call: Call) -> str:
    ticket = call.query.get("ticket", "")
    original = call.query.get("call") or call.sid
    agent = call.query.get("agent", "")
    with session_scope(call.runtime.engine) as session:
        connected = queue_log.leave(
            session, call_id=original, event=queue_log.CONNECT, at=call.now, agent=agent
        )
    if connected:
        call.store("update", f"{original}:connected", status="connected", call_id=original)
    if original != call.sid:  # a dialed-back callback: this call is the caller's leg (held in a consult)
        with session_scope(call.runtime.engine) as session:
            remember_caller_leg(session, call_id=original, leg_sid=call.sid)
    intro = "消費生活センターから、折り返しのお電話です。" if call.query.get("call") else ""
    return twiml.conference(
        f"ticket-{ticket}",
        start_on_enter=True,
        end_on_exit=True,
        voice=call.voice,
        intro=intro,
        status_url=None,
    )


def softphone_twiml(runtime: Runtime, form: Mapping[str, str]) -> str:
    """A softphone joins ``ticket``'s conference: the assignee talks; a supervisor listens, whispers, barges."""
    identity = form.get("From", "").removeprefix("client:")
    ticket = form.get("ticket", "")
    mode = form.get("mode", "listen")
    if not identity.startswith("user-") or not identity[5:].isdigit() or not ticket.isdigit():
        return twiml.say_and_hang_up(twiml.Voice(runtime.settings.twilio_voice), "接続先が正しくありません。")
    with Session(runtime.engine) as session:
        role = may_join_call(session, user_id=int(identity[5:]), ticket_id=int(ticket))
    if role is None:
        return twiml.say_and_hang_up(
            twiml.Voice(runtime.settings.twilio_voice), "この通話に参加する権限がありません。"
        )
    name = f"ticket-{ticket}"
    if role == "counselor":
        # end_on_exit False: a transfer hands the caller on; hanging up ends the caller's leg (status)
        _connect_if_waiting(runtime, int(ticket), identity[5:], form.get("CallSid", ""))
        return twiml.conference(name, start_on_enter=True, end_on_exit=False)
    coach = form.get("coach_call", "") if mode == "whisper" else None
    return twiml.conference(
        name, start_on_enter=False, end_on_exit=False, muted=mode == "listen", coach=coach or None
    )


def _connect_if_waiting(runtime: Runtime, ticket_id: int, agent: str, leg_sid: str) -> None:
    """The assignee's softphone joined on ``leg_sid`` (kept for a supervisor's whisper): a call still
    logged as waiting is now connected."""
    with session_scope(runtime.engine) as session:
        remember_counselor_leg(session, ticket_id=ticket_id, leg_sid=leg_sid)
        ref = call_of_ticket(session, ticket_id)
        rows = queue_log.call_rows(session, ref.call_id) if ref is not None else []
        if (
            ref is not None and queue_log.state_of(rows).state == "waiting"
        ):  # a callback connects when answered
            queue_log.leave(session, call_id=ref.call_id, event=queue_log.CONNECT, at=now_utc(), agent=agent)


def requeue(call: Call) -> str:
    """A transferred call back on hold in its new center's queue (the job logged the move)."""
    code = call.query.get("queue", "")
    center = next((c for c in _centers(call) if c.code == code), None)
    if center is None:
        return twiml.empty()
    return twiml.enqueue(
        call.voice,
        center_name=center.name,
        queue=code,
        wait_url=call.url("wait", queue=code),
        action_url=call.url("exit", queue=code),
    )


def hold(call: Call) -> str:
    """Hold music (a ``holdUrl``) while the counselor consults a colleague; loops on itself."""
    return twiml.hold_music(call.voice, again_url=call.url("hold"))


def consult_status(call: Call) -> str:
    """A status callback of a warm transfer's consult leg (``?ticket=``)."""
    ticket = call.query.get("ticket", "")
    if ticket.isdigit():
        consult.leg_status(
            call.runtime, ticket_id=int(ticket), leg=call.sid, status=call.form.get("CallStatus", "")
        )
    return twiml.empty()


STEPS = {
    "start": start,
    "menu": menu,
    "postal": postal,
    "prefecture": prefecture,
    "default": default,
    "wait": wait,
    "keys": keys,
    "exit": exit_queue,
    "recording": recording,
    "connect": connect,
    "status": status,
    "requeue": requeue,
    "hold": hold,
    "consult": consult_status,
}
