"""Twilio Voice webhooks: the 188-style IVR, the queue, status callbacks and the softphone's TwiML.

``POST /channels/twilio/voice`` (the number is found by Twilio's ``To``) and
``POST /channels/twilio/{public_id}/voice`` start a call; every later step posts to
``/channels/twilio/{public_id}/voice/{step}`` (state rides in the signed URL's query, nothing is
kept in memory). Each request is checked against ``X-Twilio-Signature`` with the number's auth
token over ``MADOGUCHI_PUBLIC_BASE_URL`` + path + query (so it works behind a proxy) before
anything is read or stored:

=====================  ==================================================================
answer                 when (nothing is stored unless 200)
=====================  ==================================================================
403                    missing or wrong X-Twilio-Signature (tampered parameter, other URL)
404                    no voice account has this id / number
410                    the account is disabled
400 / 413 / 415        not UTF-8 form data, or no CallSid / body too large / not a form
=====================  ==================================================================

Steps (see channels.voice.flow): ``menu`` ``postal`` ``prefecture`` ``default`` (IVR), ``wait``
``keys`` ``exit`` (queue), ``recording`` (voicemail), ``connect`` (to the counselor's conference),
``status`` (status callbacks), ``requeue`` (a transferred call back on hold), ``hold`` (hold music
during a warm transfer), ``consult`` (the status callbacks of a warm transfer's consult leg).
"""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import parse_qsl

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from channels.base import InvalidSignature
from channels.inbox import account_cache
from channels.voice import flow
from channels.voice.adapter import VoiceAdapter
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo, list_accounts

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])
MAX_FORM_BYTES = 64 * 1024  # Twilio's voice webhooks are a few hundred bytes
Step = Literal[
    "menu",
    "postal",
    "prefecture",
    "default",
    "wait",
    "keys",
    "exit",
    "recording",
    "connect",
    "status",
    "requeue",
    "hold",
    "consult",
]
RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "TwiML", "content": {"application/xml": {}}},  # type: ignore[dict-item]
    400: {"description": "not UTF-8 form data, or no CallSid"},
    403: {"description": "missing or wrong X-Twilio-Signature; nothing stored"},
    404: {"description": "no voice channel account has this id or number"},
    410: {"description": "the channel account is disabled"},
    413: {"description": "body larger than 64 KiB"},
    415: {"description": "Content-Type is not application/x-www-form-urlencoded"},
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@router.post(
    "/channels/twilio/voice", summary="Twilio Voice: a call to any of our numbers", responses=RESPONSES
)
async def voice_by_number(request: Request) -> Response:
    """Start the IVR for the number Twilio says was called (``To``)."""
    runtime: Runtime = request.app.state.runtime
    try:
        form = await _form(request)
        info = await to_thread.run_sync(_account_by_number, runtime, form.get("To", ""))
        if info is None:  # an unsigned probe must not learn which numbers exist
            _verify(request, runtime, VoiceAdapter(auth_token=runtime.settings.twilio_auth_token), form)
        return await _handle(request, runtime, info, form, "start")
    except Refused as exc:
        return _error(exc.status, str(exc))


@router.post(
    "/channels/twilio/{public_id}/voice", summary="Twilio Voice: a call to one number", responses=RESPONSES
)
async def voice_by_account(public_id: str, request: Request) -> Response:
    """Start the IVR of the voice account ``public_id``."""
    return await _step(request, public_id, "start")


@router.post(
    "/channels/twilio/{public_id}/voice/{step}",
    summary="Twilio Voice: one step of a call",
    responses=RESPONSES,
)
async def voice_step(public_id: str, step: Step, request: Request) -> Response:
    """One IVR, queue, voicemail or status step of a call on the voice account ``public_id``."""
    return await _step(request, public_id, step)


@router.post(
    "/channels/twilio/client", summary="Twilio Voice: the softphone's TwiML App", responses=RESPONSES
)
async def softphone(request: Request) -> Response:
    """TwiML for a counselor's or supervisor's browser softphone joining a call's conference."""
    runtime: Runtime = request.app.state.runtime
    try:
        form = await _form(request)
        adapter = VoiceAdapter(auth_token=runtime.settings.twilio_auth_token)
        _verify(request, runtime, adapter, form)
        xml = await to_thread.run_sync(flow.softphone_twiml, runtime, form)
    except Refused as exc:
        return _error(exc.status, str(exc))
    return Response(xml, media_type="application/xml")


async def _step(request: Request, public_id: str, step: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        form = await _form(request)
        cache = account_cache(runtime)
        info = (
            cache.get(public_id) if cache.fresh(public_id) else await to_thread.run_sync(cache.get, public_id)
        )
        return await _handle(request, runtime, info, form, step)
    except Refused as exc:
        return _error(exc.status, str(exc))


async def _handle(
    request: Request, runtime: Runtime, info: ChannelAccountInfo | None, form: dict[str, str], step: str
) -> Response:
    info = _usable(info)
    adapter = VoiceAdapter(
        auth_token=info.secrets.get("auth_token") or runtime.settings.twilio_auth_token, account_id=info.id
    )
    _verify(request, runtime, adapter, form)
    if not form.get("CallSid") and step != "hold":  # hold music is plain TwiML: nothing is stored
        raise Refused(400, "a Twilio voice webhook carries CallSid; this one does not")
    query = dict(request.query_params)
    xml = await to_thread.run_sync(flow.run_step, runtime, info, step, form, query)
    return Response(xml, media_type="application/xml")


def _verify(request: Request, runtime: Runtime, adapter: VoiceAdapter, form: dict[str, str]) -> None:
    url = runtime.settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    try:
        adapter.verify_form(
            url,
            form,
            request.headers.get("x-twilio-signature"),
            request.headers.get("x-twilio-webhooks-signature-settings", ""),
        )
    except InvalidSignature as exc:
        log.warning("Twilio webhook refused from %s: %s", request.client.host if request.client else "?", exc)
        raise Refused(403, f"signature check failed: {exc}") from exc


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise Refused(
            415, f"Content-Type must be application/x-www-form-urlencoded, got {content_type or 'nothing'!r}"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise Refused(413, f"the request body is larger than {MAX_FORM_BYTES:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise Refused(413, f"the request body is larger than {MAX_FORM_BYTES:,} bytes")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(400, f"the body is not UTF-8 form data: {exc}") from exc
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise Refused(400, "the form carries NUL characters")
    return dict(pairs)


def _account_by_number(runtime: Runtime, number: str) -> ChannelAccountInfo | None:
    with Session(runtime.engine) as session:
        for info in list_accounts(session, kind="voice", keys=runtime.settings.encryption_keys):
            if info.address == number.strip():
                return info
    return None


def _usable(info: ChannelAccountInfo | None) -> ChannelAccountInfo:
    if info is None or info.kind != "voice":
        raise Refused(404, "no voice channel account has this id or number: check the number's webhook URL")
    if not info.enabled:
        raise Refused(
            410, f"voice account {info.public_id} ({info.name}) is disabled; enable it to take calls"
        )
    return info


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)
