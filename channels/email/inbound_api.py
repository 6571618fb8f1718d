"""``POST /channels/email/{public_id}/inbound``: raw mail (``message/rfc822``) posted by a relay.

=====  ====================================================================================
202    the raw mail is stored (a job parses it); again for a mail stored before (idempotent)
401    missing or wrong ``Authorization: Bearer <inbound token>``; nothing stored
404    no email account has this public id
410    the account is disabled
413    larger than MADOGUCHI_EMAIL_MAX_BYTES
415    Content-Type is not message/rfc822
=====  ====================================================================================
"""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from channels.base import MalformedPayload
from channels.email.adapter import EmailAdapter
from channels.inbox import accept, account_cache
from config.runtime import Runtime
from crm.channel_accounts import check_inbound_token

router = APIRouter(tags=["channels"])
RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "missing or wrong Bearer inbound token; nothing stored"},
    404: {"description": "no email channel account has this id"},
    410: {"description": "the channel account is disabled"},
    413: {"description": "mail larger than MADOGUCHI_EMAIL_MAX_BYTES"},
    415: {"description": "Content-Type is not message/rfc822"},
}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


@router.post(
    "/channels/email/{public_id}/inbound",
    status_code=202,
    responses=RESPONSES,
    summary="Raw inbound mail of one email channel account",
)
async def email_inbound(public_id: str, request: Request) -> JSONResponse:
    """Store one raw mail for the account ``public_id``; a job parses it into the ticket."""
    runtime: Runtime = request.app.state.runtime
    cache = account_cache(runtime)
    info = cache.get(public_id) if cache.fresh(public_id) else await to_thread.run_sync(cache.get, public_id)
    if info is None or info.kind != "email":
        return _error(404, "no email channel account has this id: check the inbound URL (GET /api/channels)")
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not check_inbound_token(info, token.strip()):
        return _error(
            401, "missing or wrong inbound token: send Authorization: Bearer <the account's inbound token>"
        )
    if not info.enabled:
        return _error(
            410, f"email account {info.public_id} ({info.name}) is disabled; enable it to receive again"
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "message/rfc822":
        return _error(415, f"Content-Type must be message/rfc822, got {content_type or 'nothing'!r}")
    limit = runtime.settings.email_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _error(413, f"the mail is larger than {limit:,} bytes (MADOGUCHI_EMAIL_MAX_BYTES)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return _error(413, f"the mail is larger than {limit:,} bytes (MADOGUCHI_EMAIL_MAX_BYTES)")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return _error(400, "the body is empty: post the raw mail (RFC 5322 bytes)")
    adapter = EmailAdapter.for_account(info, runtime.settings)
    try:
        events = adapter.split(raw)
    except MalformedPayload as exc:
        return _error(413, str(exc))
    result = await to_thread.run_sync(accept, runtime, info, events)
    return JSONResponse({"stored": result.stored, "message_id": events[0].event_id}, status_code=202)
