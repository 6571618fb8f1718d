"""``POST /channels/line/webhook``: verify, store raw, enqueue, answer 200 (LINE waits 2 seconds).

The signature is checked on the raw bytes before anything is parsed or stored. The route stays
thin: storing is :func:`channels.line.ingest.store_events`, processing is a job per sender.
"""

from __future__ import annotations

import logging

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTasks

from channels.base import InvalidSignature, MalformedPayload
from channels.line.adapter import LineAdapter, load_events
from channels.line.ingest import StoreResult, store_events
from config.wiring import Runtime

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])


# Stores (and enqueues) run on at most this many threads per process: more only adds GIL and
# connection contention (bench/line_ingest.py, 32 connections: 460 vs 338-397 events/s, p99 168 vs 348 ms).
DB_THREADS = 4


def _db_limiter(request: Request) -> CapacityLimiter:
    """One limiter per app (it belongs to the app's event loop)."""
    limiter = getattr(request.app.state, "line_db_limiter", None)
    if limiter is None:
        limiter = request.app.state.line_db_limiter = CapacityLimiter(DB_THREADS)
    return limiter


class BodyTooLarge(Exception):
    pass


@router.post(
    "/channels/line/webhook",
    summary="LINE Messaging API webhook",
    responses={
        401: {"description": "missing or wrong X-Line-Signature; nothing stored"},
        400: {"description": "signed but not LINE's JSON shape"},
        413: {"description": "body larger than MADOGUCHI_MAX_BODY_BYTES"},
        415: {"description": "Content-Type is not application/json"},
        503: {"description": "the LINE channel is not configured on this server"},
    },
)
async def line_webhook(request: Request) -> JSONResponse:
    """Accept a LINE webhook: events are stored once each (by webhookEventId) and processed by jobs."""
    runtime: Runtime = request.app.state.runtime
    adapter = runtime.adapters.get("line")
    if not isinstance(adapter, LineAdapter):
        return _error(
            503,
            "the LINE channel is not configured: set MADOGUCHI_LINE_CHANNEL_SECRET and MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN",
        )
    limit = runtime.settings.max_body_bytes
    try:
        raw = await _read_body(request, limit)
    except BodyTooLarge:
        return _error(413, f"the request body is larger than {limit:,} bytes (MADOGUCHI_MAX_BODY_BYTES)")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _error(415, f"Content-Type must be application/json, got {content_type or 'nothing'!r}")
    try:
        adapter.verify(request.headers, raw)
        events = load_events(raw)
    except InvalidSignature as exc:
        log.warning("LINE webhook refused from %s: %s", request.client.host if request.client else "?", exc)
        return _error(401, f"signature check failed: {exc}")
    except MalformedPayload as exc:
        return _error(400, str(exc))
    result = await to_thread.run_sync(store_events, runtime.engine, events, limiter=_db_limiter(request))
    # The events are committed: LINE gets its 200 now, the jobs are enqueued right after it is sent
    # (Redis round trips stay out of the latency; if this process dies first, the sweep enqueues).
    tasks = BackgroundTasks()
    if result.new_senders:
        limiter, senders = _db_limiter(request), result.new_senders

        async def enqueue_after_response() -> None:
            await to_thread.run_sync(enqueue_senders, runtime, senders, limiter=limiter)

        tasks.add_task(enqueue_after_response)
    return JSONResponse({"received": result.received, "stored": result.stored}, background=tasks)


def accept_events(runtime: Runtime, events: list[dict]) -> StoreResult:  # type: ignore[type-arg]
    """Store the events (committed), then enqueue one processing job per sender with new events."""
    result = store_events(runtime.engine, events)
    enqueue_senders(runtime, result.new_senders)
    return result


def enqueue_senders(runtime: Runtime, senders: tuple[str, ...]) -> None:
    """One processing job per sender; if enqueueing fails (Redis down) the periodic sweep picks them up."""
    from channels.line.jobs import enqueue_sender

    for sender in senders:
        try:
            enqueue_sender(runtime, sender)
        except Exception:
            log.exception("could not enqueue LINE events of %s; the sweep will pick them up", sender)


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
