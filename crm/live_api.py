"""GET /api/events: the live event stream (Server-Sent Events) for consoles and dashboards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from crm.deps import RuntimeDep, StreamingUser
from crm.models import Role, User

router = APIRouter(prefix="/api")
KEEPALIVE_SECONDS = 15.0


def visible_to(user: User, payload: dict[str, Any]) -> bool:
    """Admins see everything; others see events of their center and events addressed to them."""
    if user.role == Role.ADMIN:
        return True
    if payload.get("user_id") is not None and payload.get("user_id") == user.id:
        return True
    return payload.get("center_id") is not None and payload.get("center_id") == user.center_id


@router.get("/events", tags=["live"])
async def events(
    request: Request,
    runtime: RuntimeDep,
    user: StreamingUser,
    limit: int | None = Query(default=None, ge=1, le=10_000, description="close after this many events"),
) -> StreamingResponse:
    """Stream domain events as SSE (``event: <name>``, JSON ``data``), filtered to what you may see."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    def on_event(payload: dict[str, Any]) -> None:
        if visible_to(user, payload):
            loop.call_soon_threadsafe(_offer, queue, payload)

    unsubscribe = runtime.live.subscribe(on_event)

    async def stream() -> AsyncIterator[str]:
        sent = 0
        try:
            yield ": connected\n\n"
            while limit is None or sent < limit:
                if await request.is_disconnected():
                    break
                try:
                    payload = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                data = json.dumps(payload, ensure_ascii=False, default=str)
                yield f"event: {payload.get('event', 'message')}\ndata: {data}\n\n"
                sent += 1
        finally:
            unsubscribe()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _offer(queue: asyncio.Queue[dict[str, Any]], payload: dict[str, Any]) -> None:
    if queue.full():  # a slow consumer loses the oldest events, never blocks the publisher
        queue.get_nowait()
    queue.put_nowait(payload)
