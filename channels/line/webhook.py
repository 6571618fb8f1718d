"""``POST /channels/line/{public_id}/webhook``: find the account, verify with ITS channel secret,
store raw, enqueue, answer 200 (LINE waits 2 seconds).

=====================  ==================================================================
answer                 when (nothing is stored unless 200)
=====================  ==================================================================
404                    no LINE account has this public id
410                    the account is disabled
503                    the account's secrets cannot be decrypted (MADOGUCHI_ENCRYPTION_KEYS)
401                    missing or wrong X-Line-Signature (e.g. signed with another account's secret)
400 / 413 / 415        signed garbage / body too large / not JSON
=====================  ==================================================================

``POST /channels/line/webhook`` (no id) is kept as an alias for the one account that the
``MADOGUCHI_LINE_*`` settings create, so a deployment configured before channel accounts keeps
working; every other account has only its own URL. The hot path is: cached account + adapter,
HMAC, one INSERT … ON CONFLICT DO NOTHING, one enqueue (channels.inbox), then the 200.
"""

from __future__ import annotations

import logging

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from channels.base import ChannelAdapter, InvalidSignature, MalformedPayload
from channels.inbox import accept, account_cache
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo, ensure_env_accounts, list_accounts

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

# Stores (and enqueues) run on at most this many threads per process: more only adds GIL and
# connection contention.
DB_THREADS = 4
RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "missing or wrong X-Line-Signature (another account's secret); nothing stored"},
    400: {"description": "signed but not LINE's JSON shape"},
    404: {"description": "no LINE channel account has this id"},
    410: {"description": "the channel account is disabled"},
    413: {"description": "body larger than MADOGUCHI_MAX_BODY_BYTES"},
    415: {"description": "Content-Type is not application/json"},
    503: {"description": "the account's secrets cannot be decrypted, or LINE is not configured"},
}


class BodyTooLarge(Exception):
    pass


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _db_limiter(request: Request) -> CapacityLimiter:
    """One limiter per app (it belongs to the app's event loop)."""
    limiter = getattr(request.app.state, "line_db_limiter", None)
    if limiter is None:
        limiter = request.app.state.line_db_limiter = CapacityLimiter(DB_THREADS)
    return limiter


@router.post(
    "/channels/line/{public_id}/webhook", summary="LINE webhook of one channel account", responses=RESPONSES
)
async def line_account_webhook(public_id: str, request: Request) -> JSONResponse:
    """Accept a LINE webhook for the account ``public_id``: events stored once each, then processed by jobs."""
    runtime: Runtime = request.app.state.runtime
    cache = account_cache(runtime)
    info = cache.get(public_id) if cache.fresh(public_id) else await to_thread.run_sync(cache.get, public_id)
    return await _receive(request, runtime, info)


@router.post(
    "/channels/line/webhook",
    summary="LINE webhook of the MADOGUCHI_LINE_* account (alias)",
    responses=RESPONSES,
)
async def line_webhook(request: Request) -> JSONResponse:
    """The webhook of the account created by the ``MADOGUCHI_LINE_*`` settings (kept for old set-ups)."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.settings.line_enabled:
        return _error(
            503,
            "the LINE channel is not configured: set MADOGUCHI_LINE_CHANNEL_SECRET and MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN, "
            "or add an account (`madoguchi channel add line`) and use its webhook URL",
        )
    info = await to_thread.run_sync(env_account, runtime)
    if info is None:
        return _error(
            503,
            f"the LINE account of MADOGUCHI_LINE_CENTER_CODE={runtime.settings.line_center_code!r} has no center yet: "
            "create that center first (madoguchi demo, or POST /api/centers)",
        )
    return await _receive(request, runtime, info)


def env_account(runtime: Runtime) -> ChannelAccountInfo | None:
    """The shortcut account (created on first use if its center appeared after start-up)."""
    address = f"center:{runtime.settings.line_center_code}"
    with Session(runtime.engine) as session:
        for info in list_accounts(session, kind="line", keys=runtime.settings.encryption_keys):
            if info.address == address:
                return info
    return ensure_env_accounts(runtime.engine, runtime.settings)


async def _receive(request: Request, runtime: Runtime, info: ChannelAccountInfo | None) -> JSONResponse:
    try:
        info = _usable(info)
        adapters = runtime.adapters
        adapter = adapters.peek("line", info.id) or await to_thread.run_sync(adapters.get, "line", info.id)  # type: ignore[attr-defined]
        if adapter is None:
            raise Refused(
                503, f"LINE account {info.public_id} cannot be used right now; see GET /api/channels"
            )
        events = await _verified_events(request, runtime, adapter)
    except Refused as exc:
        return _error(exc.status, str(exc))
    result = await to_thread.run_sync(accept, runtime, info, events, limiter=_db_limiter(request))
    return JSONResponse({"received": result.received, "stored": result.stored})


def _usable(info: ChannelAccountInfo | None) -> ChannelAccountInfo:
    if info is None or info.kind != "line":
        raise Refused(404, "no LINE channel account has this id: check the webhook URL (GET /api/channels)")
    if not info.enabled:
        raise Refused(
            410, f"LINE account {info.public_id} ({info.name}) is disabled; enable it to receive again"
        )
    if info.broken_reason:
        raise Refused(503, f"LINE account {info.public_id} is broken: {info.broken_reason}")
    return info


async def _verified_events(request: Request, runtime: Runtime, adapter: ChannelAdapter) -> list:  # type: ignore[type-arg]
    limit = runtime.settings.max_body_bytes
    try:
        raw = await _read_body(request, limit)
    except BodyTooLarge:
        raise Refused(
            413, f"the request body is larger than {limit:,} bytes (MADOGUCHI_MAX_BODY_BYTES)"
        ) from None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refused(415, f"Content-Type must be application/json, got {content_type or 'nothing'!r}")
    try:
        adapter.verify(request.headers, raw)
        return adapter.split(raw)
    except InvalidSignature as exc:
        log.warning("LINE webhook refused from %s: %s", request.client.host if request.client else "?", exc)
        raise Refused(401, f"signature check failed: {exc}") from exc
    except MalformedPayload as exc:
        raise Refused(400, str(exc)) from exc


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)
