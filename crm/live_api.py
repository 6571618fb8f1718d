"""GET /api/events: the live event stream (Server-Sent Events) for consoles and dashboards.

Each event carries ``id: <epoch>-<seq>`` (config.live). A console that reconnects with the
``Last-Event-ID`` header (browsers' EventSource send it by themselves) or ``?last_event_id=`` first
gets what it missed, or one ``resync`` event when that is impossible (a long gap, a restarted Redis,
a console too slow to keep up): then it refetches its lists from the API.

Fan-out: one listener per event loop (:class:`LiveHub`) takes each event from the broadcaster's relay
thread with a single ``call_soon_threadsafe`` and hands the already-encoded frame to every visible
console's own queue, so 3,000 open consoles cost one JSON encoding and one wake-up each per event.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive

from config.live import LiveEvent, LocalBroadcaster, resync_event
from crm.deps import RuntimeDep, StreamingUser
from crm.models import Role, User

router = APIRouter(prefix="/api")
KEEPALIVE_SECONDS = 15.0
CLIENT_BACKLOG = 500  # a console this far behind gets a resync instead of the oldest events


def visible_to(user: User, payload: dict[str, Any]) -> bool:
    """Admins see everything; others see events of their center and events addressed to them."""
    if user.role == Role.ADMIN or payload.get("event") == "resync":
        return True
    if payload.get("user_id") is not None and payload.get("user_id") == user.id:
        return True
    return payload.get("center_id") is not None and payload.get("center_id") == user.center_id


class LiveClient:
    """One open console: what it may see and the frames waiting to be written to it."""

    __slots__ = ("accepts", "gone", "pending", "wakeup")

    def __init__(self, accepts: Callable[[dict[str, Any]], bool]) -> None:
        self.accepts = accepts
        self.pending: deque[LiveEvent] = deque()
        self.wakeup = asyncio.Event()
        self.gone = False  # the console disconnected

    async def watch_disconnect(self, receive: Receive) -> None:
        """Wake the stream when the console goes away (not only at the next keep-alive)."""
        while (await receive())["type"] != "http.disconnect":
            continue
        self.gone = True
        self.wakeup.set()

    def offer(self, ev: LiveEvent) -> None:
        if not self.accepts(ev.payload):
            return
        if len(self.pending) >= CLIENT_BACKLOG:
            self.pending.clear()
            ev = resync_event(ev.epoch, ev.seq, "this console fell behind the live events")
        self.pending.append(ev)
        self.wakeup.set()


class LiveHub:
    """The consoles of one event loop behind one broadcaster listener (dropped with the last console)."""

    def __init__(self, live: LocalBroadcaster, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clients: set[LiveClient] = set()
        self._unlisten = live.listen(self._from_any_thread)

    def _from_any_thread(self, ev: LiveEvent) -> None:
        self.loop.call_soon_threadsafe(self._fan_out, ev)

    def _fan_out(self, ev: LiveEvent) -> None:
        for client in list(self.clients):
            client.offer(ev)

    def close(self) -> None:
        self._unlisten()


_hubs: dict[tuple[int, int], LiveHub] = {}


def _join(live: LocalBroadcaster, client: LiveClient) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    key = (id(live), id(loop))
    hub = _hubs.get(key)
    if hub is None:
        hub = _hubs[key] = LiveHub(live, loop)
    hub.clients.add(client)

    def leave() -> None:
        hub.clients.discard(client)
        if not hub.clients and _hubs.get(key) is hub:
            del _hubs[key]
            hub.close()

    return leave


@router.get("/events", tags=["live"])
async def events(
    request: Request,
    runtime: RuntimeDep,
    user: StreamingUser,
    limit: int | None = Query(default=None, ge=1, le=10_000, description="close after this many events"),
    last_event_id: str | None = Query(
        default=None, max_length=80, description="resume after this event id (as the Last-Event-ID header)"
    ),
    last_event_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=80)] = None,
) -> StreamingResponse:
    """Stream domain events as SSE (``id``, ``event: <name>``, JSON ``data``), filtered to what you may see.

    With ``Last-Event-ID`` the missed events come first, or a ``resync`` event (refetch from the API).
    """
    live = runtime.live
    client = LiveClient(lambda payload: visible_to(user, payload))
    leave = _join(live, client)  # listening before reading the buffer: nothing falls in between
    resume_from = last_event_header or last_event_id
    missed = live.replay(resume_from) if resume_from else []
    replayed_upto = missed[-1].seq if missed else 0
    if missed is None:
        position = live.position().rpartition("-")
        missed = [resync_event(position[0], int(position[2] or 0), "the missed events are no longer kept")]
    head = f": connected\nid: {live.position()}\n\n".encode() if not resume_from else b": connected\n\n"
    backlog = [ev for ev in missed if ev.is_resync or visible_to(user, ev.payload)]
    return StreamingResponse(
        _stream(client, leave, head, backlog, replayed_upto, limit, request.receive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    client: LiveClient,
    leave: Callable[[], None],
    head: bytes,
    backlog: list[LiveEvent],
    replayed_upto: int,
    limit: int | None,
    receive: Receive,
) -> AsyncIterator[bytes]:
    sent = 0
    watcher = asyncio.ensure_future(client.watch_disconnect(receive))
    try:
        yield head
        while (limit is None or sent < limit) and not client.gone:
            if not backlog and not client.pending:
                client.wakeup.clear()
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        await client.wakeup.wait()
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if client.gone:
                    break
            # Live events the replay already covered are dropped (listening started before the replay).
            fresh = backlog + [ev for ev in client.pending if ev.is_resync or ev.seq > replayed_upto]
            backlog = []
            client.pending.clear()
            if limit is not None:
                fresh = fresh[: limit - sent]
            if fresh:
                yield b"".join(ev.frame() for ev in fresh)
                sent += len(fresh)
    finally:
        watcher.cancel()
        leave()
