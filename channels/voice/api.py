"""``GET /api/voice/stats`` (the ACD figures of a JST day, from the queue log) and
``GET /api/voice/token`` (the browser softphone's short-lived Twilio access token) and
``POST /api/voice/calls/{ticket_id}/hangup`` (the counselor ends the call) and
``POST /api/voice/calls/{ticket_id}/callback`` (the counselor dials a 折り返し) and
``POST /api/voice/calls/{ticket_id}/consult`` (``/complete``, ``/cancel``: a warm transfer, 転送相談,
channels.voice.consult). Thin routes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from channels.base import AuthFailed, ChannelError, InvalidRecipient
from channels.voice import consult
from channels.voice.jobs import dial_back_by_counselor, end_call_by_counselor
from channels.voice.rest import softphone_token
from config.clock import jst_day_bounds, now_utc, today_jst
from crm.center_admin import find_center, get_center
from crm.deps import CurrentUser, RuntimeDep, SessionDep, SupervisorUser
from crm.errors import Forbidden, NotFound
from crm.http_errors import Id
from crm.queries import access_ticket
from crm.voice_calls import call_meta, may_join_call
from routing import queue_log

router = APIRouter(prefix="/api/voice", tags=["voice"])

SL_DEFINITIONS = {
    "answered": "answered within T / answered",
    "offered": "answered within T / offered",
    "offered_minus_short": "answered within T / (offered - short abandons)",
    "answered_and_abandoned": "answered within T / (answered + abandoned)",
    "left_queue_within": "left the queue for any reason within T / offered (Amazon Connect)",
}


class VoiceToken(BaseModel):
    token: str
    identity: str
    ttl_seconds: int


class VoiceStats(BaseModel):
    day: date
    center_code: str | None
    figures: dict[str, Any]
    service_level_definitions: dict[str, str]


@router.get("/stats", response_model=VoiceStats)
def voice_stats(
    session: SessionDep,
    user: SupervisorUser,
    runtime: RuntimeDep,
    center: Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    day: Annotated[date | None, Query(description="JST date; default today")] = None,
) -> VoiceStats:
    """Calls offered/answered/abandoned, waits, handle times and service levels of one JST day."""
    code = center
    if code is None and user.center_id is not None:
        code = get_center(session, center_id=user.center_id).code
    if code is not None:
        found = find_center(session, code=code)  # 404 naming the code
        if str(user.role) != "admin" and found.id != user.center_id:
            raise Forbidden("supervisors see the voice figures of their own center only")
    the_day = day or today_jst()
    start, end = jst_day_bounds(the_day)
    settings = runtime.settings
    figures = queue_log.day_figures(
        session,
        start=start,
        end=end,
        queue=code,
        threshold=settings.voice_service_level_seconds,
        short_abandon=settings.voice_short_abandon_seconds,
        now=now_utc(),
    )
    return VoiceStats(
        day=the_day, center_code=code, figures=figures, service_level_definitions=SL_DEFINITIONS
    )


class CallEnded(BaseModel):
    ended: bool


@router.post("/calls/{ticket_id}/hangup", response_model=CallEnded)
def hang_up_call(ticket_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> Any:
    """End the ticket's live call from the console (COMPLETEAGENT); ``ended`` False: it was not connected."""
    access_ticket(session, ticket_id, user)  # 404 / 403 (another center) first
    session.close()
    try:
        ended = end_call_by_counselor(runtime, ticket_id=ticket_id, user_id=user.id or 0)
    except ChannelError as exc:
        return JSONResponse({"detail": f"Twilio could not end the call: {exc}"}, status_code=503)
    return CallEnded(ended=ended)


class VoiceCall(BaseModel):
    ticket_id: int
    call_sid: str
    state: str
    callback_requested: bool
    withheld: bool
    mine: bool
    may_supervise: bool
    counselor_call_sid: str | None
    callback_dialed_at: str | None
    call_status: str | None
    consult: dict[str, Any] | None = None
    consult_outcome: dict[str, Any] | None = None


@router.get("/calls/{ticket_id}", response_model=VoiceCall)
def get_call(ticket_id: Id, session: SessionDep, user: CurrentUser) -> VoiceCall:
    """The ticket's call as the softphone shows it: queue state, 折り返し, who may join, the
    counselor's leg (a supervisor's whisper coaches it). 404: the ticket has no call."""
    access_ticket(session, ticket_id, user)  # 404 / 403 (another center) first
    meta = call_meta(session, ticket_id=ticket_id)
    if not meta:
        raise NotFound(f"ticket {ticket_id} has no phone call")
    role = may_join_call(session, user_id=user.id or 0, ticket_id=ticket_id)
    state = queue_log.state_of(queue_log.call_rows(session, meta["call_sid"])).state
    return VoiceCall(
        ticket_id=ticket_id,
        state=state,
        mine=role == "counselor",
        may_supervise=role == "supervisor",
        **meta,
    )


class CallbackDialed(BaseModel):
    dialed: str


@router.post("/calls/{ticket_id}/callback", response_model=CallbackDialed)
def call_back(ticket_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> Any:
    """The assignee dials the caller who pressed * (折り返し) into the ticket's conference."""
    access_ticket(session, ticket_id, user)  # 404 / 403 (another center) first
    session.close()
    try:
        number = dial_back_by_counselor(runtime, ticket_id=ticket_id, user_id=user.id or 0)
    except InvalidRecipient as exc:
        return JSONResponse({"detail": f"Twilio refused to call this number back: {exc}"}, status_code=422)
    except ChannelError as exc:
        return JSONResponse(
            {"detail": f"Twilio could not place the call back now ({exc}); try again in a minute"},
            status_code=503,
        )
    return CallbackDialed(dialed=number)


@router.get("/token", response_model=VoiceToken)
def voice_token(user: CurrentUser, runtime: RuntimeDep) -> Any:
    """A Twilio access token (VoiceGrant, short TTL) for the logged-in user's browser softphone."""
    identity = f"user-{user.id}"
    try:
        token, ttl = softphone_token(runtime.settings, identity=identity)
    except AuthFailed as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return VoiceToken(token=token, identity=identity, ttl_seconds=ttl)


class ConsultStart(BaseModel):
    """Whom to consult: a counselor (``to_user_id``) or a center (``to_center``, its code: the
    counselor routing would choose there now)."""

    model_config = ConfigDict(extra="forbid")
    to_user_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    to_center: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    reason: str = Field(default="", max_length=300, description="shown on the ticket's timeline")


class Consult(BaseModel):
    ticket_id: int
    state: str  # ringing | talking | completed | cancelled
    to_user_id: int | None
    to_name: str | None
    to_center_code: str | None
    caller_on_hold: bool


def _twilio_error(exc: ChannelError) -> JSONResponse:
    if isinstance(exc, InvalidRecipient):
        return JSONResponse(
            {"detail": f"Twilio refused (the caller or the colleague may have hung up): {exc}"},
            status_code=409,
        )
    return JSONResponse({"detail": f"Twilio could not be reached ({exc}); try again"}, status_code=503)


@router.post("/calls/{ticket_id}/consult", response_model=Consult)
def start_consult(
    ticket_id: Id, body: ConsultStart, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> Any:
    """相談転送: the assignee rings a colleague into the call's conference and the caller is put on hold.
    409: a warm transfer is in progress already, or the call is not connected."""
    access_ticket(session, ticket_id, user)  # 404 / 403 (another center) first
    session.close()
    try:
        return consult.start_consult(
            runtime,
            ticket_id=ticket_id,
            user_id=user.id or 0,
            to_user_id=body.to_user_id,
            to_center=body.to_center,
            reason=body.reason,
        )
    except ChannelError as exc:
        return _twilio_error(exc)


@router.post("/calls/{ticket_id}/consult/complete", response_model=Consult)
def complete_consult(ticket_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> Any:
    """転送: the caller comes off hold with the colleague, who gets the ticket; the counselor leaves."""
    access_ticket(session, ticket_id, user)
    session.close()
    try:
        return consult.complete_consult(runtime, ticket_id=ticket_id, user_id=user.id or 0)
    except ChannelError as exc:
        return _twilio_error(exc)


@router.post("/calls/{ticket_id}/consult/cancel", response_model=Consult)
def cancel_consult(ticket_id: Id, session: SessionDep, user: CurrentUser, runtime: RuntimeDep) -> Any:
    """取消: the colleague's leg leaves the conference and the caller comes off hold."""
    access_ticket(session, ticket_id, user)
    session.close()
    try:
        return consult.cancel_consult(runtime, ticket_id=ticket_id, user_id=user.id or 0)
    except ChannelError as exc:
        return _twilio_error(exc)
