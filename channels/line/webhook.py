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

:class:`FastPath` (mounted outermost by app.py) answers ``POST /channels/line/{public_id}/webhook``
as a pure ASGI app, ahead of FastAPI's routing, dependency injection and the middleware stack: it
sets the same security headers and ``X-Request-ID``, records the same metrics and access line
(config.observe.record), and on PostgreSQL stores from the event loop with group commit
(channels.inbox_async).
The FastAPI route below stays for the OpenAPI document and for an app built without the fast path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import psycopg
from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from channels.base import ChannelAdapter, InvalidSignature, MalformedPayload
from channels.inbox import account_cache
from channels.inbox_async import accept_async, close_group_commit
from config.logs import request_id_var
from config.observe import record, request_id_from
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo, ensure_env_accounts, list_accounts
from crm.http_security import is_https, security_headers

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


def _db_limiter(app: Any) -> CapacityLimiter:
    """One limiter per app (it belongs to the app's event loop)."""
    limiter = getattr(app.state, "line_db_limiter", None)
    if limiter is None:
        limiter = app.state.line_db_limiter = CapacityLimiter(DB_THREADS)
    return limiter


ACCOUNT_ROUTE = "/channels/line/{public_id}/webhook"


@router.post(ACCOUNT_ROUTE, summary="LINE webhook of one channel account", responses=RESPONSES)
async def line_account_webhook(public_id: str, request: Request) -> JSONResponse:
    """Accept a LINE webhook for the account ``public_id``: events stored once each, then processed by jobs."""
    runtime: Runtime = request.app.state.runtime
    info = await _account(runtime, public_id)
    return await _receive(request, runtime, info)


async def _account(runtime: Runtime, public_id: str) -> ChannelAccountInfo | None:
    cache = account_cache(runtime)
    if cache.fresh(public_id):
        return cache.get(public_id)
    return await _single_flight(runtime, ("account", public_id), cache.get, public_id)  # type: ignore[no-any-return]


async def _single_flight(runtime: Runtime, key: tuple[Any, ...], load: Callable[..., Any], *args: Any) -> Any:
    """``load(*args)`` in a worker thread, once for all the requests that need it at the same time:
    when a cached account expires, the webhooks waiting on it do not each read the database."""
    flights: dict[tuple[Any, ...], asyncio.Future[Any]] = runtime.__dict__.setdefault("_webhook_flights", {})
    loop = asyncio.get_running_loop()
    flight = flights.get(key)
    if flight is not None and flight.get_loop() is loop:
        return await asyncio.shield(flight)
    flight = flights[key] = loop.create_future()
    try:
        result = await to_thread.run_sync(load, *args)
    except asyncio.CancelledError:
        flight.cancel()
        raise
    except Exception as exc:
        flight.set_exception(exc)
        flight.exception()  # retrieved: only the waiters, if any, raise it
        raise
    else:
        flight.set_result(result)
        return result
    finally:
        if flights.get(key) is flight:
            del flights[key]


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
    client = request.client.host if request.client else "?"
    try:
        status, payload = await handle(
            request.app, runtime, info, request.headers, request.stream(), client=client
        )
    except psycopg.OperationalError:  # the async pool's; SQLAlchemy's go to config.health
        return JSONResponse({"detail": DATABASE_DOWN}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(payload, status_code=status)


async def handle(
    app: Any,
    runtime: Runtime,
    info: ChannelAccountInfo | None,
    headers: Mapping[str, str],
    chunks: AsyncIterator[bytes],
    *,
    client: str,
) -> tuple[int, dict[str, Any]]:
    """The webhook of one account: (status, JSON body). Nothing is stored unless the status is 200."""
    try:
        info = _usable(info)
        adapters = runtime.adapters
        adapter = adapters.peek("line", info.id) or await _single_flight(  # type: ignore[attr-defined]
            runtime, ("adapter", info.id), adapters.get, "line", info.id
        )
        if adapter is None:
            raise Refused(
                503, f"LINE account {info.public_id} cannot be used right now; see GET /api/channels"
            )
        events = await _verified_events(headers, chunks, runtime, adapter, client)
    except Refused as exc:
        return exc.status, {"detail": str(exc)}
    result = await accept_async(runtime, info, events, limiter=_db_limiter(app))
    return 200, {"received": result.received, "stored": result.stored}


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


async def _verified_events(
    headers: Mapping[str, str],
    chunks: AsyncIterator[bytes],
    runtime: Runtime,
    adapter: ChannelAdapter,
    client: str,
) -> list:  # type: ignore[type-arg]
    limit = runtime.settings.max_body_bytes
    try:
        raw = await _read_body(headers, chunks, limit)
    except BodyTooLarge:
        raise Refused(
            413, f"the request body is larger than {limit:,} bytes (MADOGUCHI_MAX_BODY_BYTES)"
        ) from None
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refused(415, f"Content-Type must be application/json, got {content_type or 'nothing'!r}")
    try:
        adapter.verify(headers, raw)
        return adapter.split(raw)
    except InvalidSignature as exc:
        log.warning("LINE webhook refused from %s: %s", client, exc)
        raise Refused(401, f"signature check failed: {exc}") from exc
    except MalformedPayload as exc:
        raise Refused(400, str(exc)) from exc


async def _read_body(headers: Mapping[str, str], chunks: AsyncIterator[bytes], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


# -- the hot path as a pure ASGI app, ahead of FastAPI -------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_ACCOUNT_PATH = re.compile(r"/channels/line/([^/]+)/webhook")
DATABASE_DOWN = "the database is unavailable right now; nothing was stored: try again in a few seconds"


class ClientGone(Exception):
    """The client disconnected before its body was complete: nothing to answer."""


class FastPath:
    """``POST /channels/line/{public_id}/webhook`` without FastAPI; every other request passes through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = _ACCOUNT_PATH.fullmatch(scope["path"])
            if match is not None and getattr(scope["app"].state, "runtime", None) is not None:
                await self._webhook(scope, receive, send, match.group(1))
                return
        if scope["type"] == "lifespan":
            receive = self._on_shutdown(scope, receive)
        await self.app(scope, receive, send)

    @staticmethod
    def _on_shutdown(scope: Scope, receive: Receive) -> Receive:
        async def receive_then_close() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                runtime = getattr(scope["app"].state, "runtime", None)
                if runtime is not None:
                    await close_group_commit(runtime)
            return message

        return receive_then_close

    async def _webhook(self, scope: Scope, receive: Receive, send: Send, public_id: str) -> None:
        started = time.perf_counter()
        raw_headers = scope["headers"]
        request_id = request_id_from(raw_headers)
        token = request_id_var.set(request_id)
        status = 500
        try:
            app = scope["app"]
            runtime: Runtime = app.state.runtime
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}
            extra: list[tuple[bytes, bytes]] = []
            try:
                info = await _account(runtime, public_id)
                client = (scope.get("client") or ("?",))[0]
                status, payload = await handle(app, runtime, info, headers, _body(receive), client=client)
            except (OperationalError, psycopg.OperationalError) as exc:
                log.warning("database unavailable: %s", str(exc).splitlines()[0][:200] if str(exc) else exc)
                status, payload = 503, {"detail": DATABASE_DOWN}
                extra.append((b"retry-after", b"5"))
            except ClientGone:
                status = 499  # nginx's "client closed request": nothing was stored, nothing to send
                return
            await _send_json(send, status, payload, _response_headers(runtime, scope, request_id) + extra)
        finally:
            record("POST", ACCOUNT_ROUTE, status, time.perf_counter() - started, request_id)
            request_id_var.reset(token)


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


_HEADERS: dict[bool, list[tuple[bytes, bytes]]] = {}  # by "came over TLS"


def _response_headers(runtime: Runtime, scope: Scope, request_id: str) -> list[tuple[bytes, bytes]]:
    """What crm.http_security and config.observe add to every response, plus the request id."""
    https = is_https(scope, runtime.settings.trusted_proxies)
    fixed = _HEADERS.get(https)
    if fixed is None:
        extra = security_headers(api=False, https=https)
        fixed = _HEADERS[https] = [(k.encode(), v.encode()) for k, v in extra.items()]
    return [*fixed, (b"x-request-id", request_id.encode("ascii"))]


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})
