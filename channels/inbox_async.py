"""The webhook side of the inbox from the event loop: store and nudge without a thread hop, with
group commit on PostgreSQL.

:func:`accept_async` returns once the body's events are committed and their senders nudged, like
:func:`channels.inbox.accept`. On PostgreSQL each API process keeps up to ``ASYNC_DB_CONNECTIONS``
statements in flight (crm.pg_async); a webhook that arrives while every connection is busy waits,
and the next free connection stores every waiting body in ONE ``INSERT … ON CONFLICT DO NOTHING``
(crm.inbound_events.store_raw_async) and nudges all their senders in ONE Redis command. Under load
that means fewer commits and round trips per event; at low load a webhook goes out alone at once
(no timer, nothing added to its latency). If the batch statement fails for another reason than a
lost connection, each body is stored alone, so one bad body cannot refuse the others.
On SQLite (embedded): :func:`channels.inbox.accept` in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence

import psycopg
import redis.asyncio
from anyio import CapacityLimiter, to_thread

from channels.base import RawEvent
from channels.inbox import accept, enqueue_new
from channels.jobs import DRAIN_PENDING_TTL, drain_nudges, nudge_keys
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo
from crm.inbound_events import Body, StoreResult, store_raw_async
from crm.pg_async import AsyncPgPool, conninfo_of

log = logging.getLogger(__name__)
ASYNC_DB_CONNECTIONS = 4  # per API process: enough to overlap commits, few for max_connections
MAX_BODIES = 100  # per statement
REDIS_TIMEOUT = 2.0  # seconds: a hung Redis costs a nudge (the sweep's job), not the webhook

# RPUSH every nudge and SET NX the drain flag in ONE command (EVAL; Redis caches the script): what
# channels.jobs.enqueue_sender does per sender with a pipeline. 1 when this call set the flag, i.e. a drain job must be enqueued.
_NUDGE_LUA = """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""


async def accept_async(
    runtime: Runtime,
    account: ChannelAccountInfo,
    events: Sequence[RawEvent],
    *,
    limiter: CapacityLimiter | None = None,
) -> StoreResult:
    """Store the verified events (committed), then nudge their senders; from the event loop."""
    group = group_commit(runtime)
    if group is None:
        return await to_thread.run_sync(accept, runtime, account, events, limiter=limiter)
    return await group.store((account.kind, account.id, events))


class GroupCommit:
    """The webhook bodies of one event loop waiting for a connection, stored together."""

    def __init__(
        self, runtime: Runtime, pool: AsyncPgPool, connections: int, nudges: redis.asyncio.Redis | None
    ) -> None:
        self.runtime = runtime
        self.pool = pool
        self.nudges = nudges  # this loop's own Redis client: a nudge never blocks the loop
        self.loop = asyncio.get_running_loop()
        self._connections = connections
        self._waiting: deque[tuple[Body, asyncio.Future[StoreResult]]] = deque()
        self._running = 0  # flushers that have not returned yet (counted synchronously)
        self._tasks: set[asyncio.Task[None]] = set()  # strong references until they are done

    async def store(self, body: Body) -> StoreResult:
        future: asyncio.Future[StoreResult] = self.loop.create_future()
        self._waiting.append((body, future))
        if self._running < self._connections:
            self._running += 1
            task = self.loop.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch = [self._waiting.popleft() for _ in range(min(len(self._waiting), MAX_BODIES))]
                try:
                    await self._store(batch)
                except BaseException as exc:  # never leave a webhook waiting
                    _fail(batch, exc if isinstance(exc, Exception) else RuntimeError("shutting down"))
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._running -= 1

    async def _store(self, batch: list[tuple[Body, asyncio.Future[StoreResult]]]) -> None:
        try:
            results: list[StoreResult | None] = list(
                await store_raw_async(self.pool, [body for body, _ in batch])
            )
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, psycopg.OperationalError):
                raise
            results = await self._one_by_one(batch)
        await self._nudge([(body, r) for (body, _), r in zip(batch, results, strict=True) if r is not None])
        for (_, future), result in zip(batch, results, strict=True):
            if result is not None and not future.done():
                future.set_result(result)

    async def _one_by_one(
        self, batch: list[tuple[Body, asyncio.Future[StoreResult]]]
    ) -> list[StoreResult | None]:
        results: list[StoreResult | None] = []
        for body, future in batch:
            try:
                results.append((await store_raw_async(self.pool, [body]))[0])
            except Exception as exc:
                _fail([(body, future)], exc)
                results.append(None)
        return results

    async def _nudge(self, stored: list[tuple[Body, StoreResult]]) -> None:
        nudges = [
            f"{'' if account_id is None else account_id}\t{sender}"
            for (_, account_id, _), result in stored
            for sender in result.new_senders
        ]
        if not nudges:
            return
        runtime = self.runtime
        if self.nudges is None:
            for (_, account_id, _), result in stored:
                enqueue_new(runtime, account_id, result)  # type: ignore[arg-type]
            return
        try:
            first = await self.nudges.eval(_NUDGE_LUA, 2, *nudge_keys(runtime), DRAIN_PENDING_TTL, *nudges)
            if first:  # once per drain job (rare): RQ's enqueue, synchronously
                runtime.jobs.enqueue(drain_nudges, job_id="inbound-drain")
        except Exception:
            log.exception("could not nudge %d sender(s); the sweep will pick their events up", len(nudges))


def _fail(batch: list[tuple[Body, asyncio.Future[StoreResult]]], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)


def group_commit(runtime: Runtime) -> GroupCommit | None:
    """The runtime's group commit for the running event loop (None: not PostgreSQL). One of a loop
    that is gone (a closed test client) is dropped with its connections."""
    if runtime.engine.dialect.name != "postgresql":
        return None
    loop = asyncio.get_running_loop()
    group: GroupCommit | None = getattr(runtime, "_group_commit", None)
    if group is not None and group.loop is not loop:
        group.pool.close_unsafe()
        group = None
    if group is None:
        pool = AsyncPgPool(conninfo_of(runtime.engine), size=ASYNC_DB_CONNECTIONS)
        nudges = None  # without our own client: channels.inbox.enqueue_new (in-process jobs, or sync Redis)
        url = runtime.settings.redis_url
        if runtime.redis is not None and url:
            nudges = redis.asyncio.Redis.from_url(
                url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
        group = GroupCommit(runtime, pool, ASYNC_DB_CONNECTIONS, nudges)
        runtime._group_commit = group  # type: ignore[attr-defined]
    return group


async def close_group_commit(runtime: Runtime) -> None:
    """Close the runtime's connections of the hot path (the app's lifespan shutdown)."""
    group: GroupCommit | None = getattr(runtime, "_group_commit", None)
    if group is not None:
        runtime._group_commit = None  # type: ignore[attr-defined]
        await group.pool.close()
        if group.nudges is not None:
            await group.nudges.aclose()
