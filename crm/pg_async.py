"""A small asyncio pool of autocommitted psycopg connections, for hot paths that run on the event loop.

SQLAlchemy's pool is synchronous: a webhook that inserts through it pays a thread hop per request.
:class:`AsyncPgPool` keeps up to ``size`` ``psycopg.AsyncConnection`` objects of ONE event loop
(each autocommit: a single statement commits, durably, in its own round trip). A connection that
fails is dropped; a statement that failed on a reused connection (the server restarted since) is
retried once on a fresh one, so only idempotent statements belong here (``INSERT … ON CONFLICT DO
NOTHING``). ``psycopg.OperationalError`` reaches the caller when the database is really down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

__all__ = ["AsyncPgPool", "conninfo_of"]


def conninfo_of(engine: Engine) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL engine (``postgresql+psycopg://`` → ``postgresql://``)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncPgPool:
    """At most ``size`` autocommit connections, opened on first use, bound to the loop that made them."""

    def __init__(self, conninfo: str, size: int = 4, connect_timeout: float = 5.0) -> None:
        self._conninfo = conninfo
        self._size = size
        self._connect_timeout = connect_timeout
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._open: set[psycopg.AsyncConnection[Any]] = set()
        self._slots: asyncio.Semaphore | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run one idempotent statement; the rows it returns."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
            self.loop = asyncio.get_running_loop()
        async with self._slots:
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._connect()
            try:
                rows = await self._run(conn, sql, params)
            except psycopg.OperationalError:
                await self._discard(conn)
                if not reused:
                    raise
                conn = await self._connect()  # the server restarted since: once more, on a new one
                try:
                    rows = await self._run(conn, sql, params)
                except BaseException:
                    await self._discard(conn)
                    raise
            except BaseException:
                await self._discard(conn)
                raise
            self._idle.append(conn)
            return rows

    @staticmethod
    async def _run(
        conn: psycopg.AsyncConnection[Any], sql: str, params: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        cur = await conn.execute(sql, params)  # type: ignore[arg-type]
        return await cur.fetchall()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=max(1, int(self._connect_timeout))
        )
        self._open.add(conn)
        return conn

    async def _discard(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._open.discard(conn)
        with contextlib.suppress(Exception):  # already broken: nothing more to release
            await conn.close()

    async def close(self) -> None:
        """Close every connection (on the loop that opened them)."""
        self._idle.clear()
        for conn in list(self._open):
            await self._discard(conn)

    def close_unsafe(self) -> None:
        """Close every connection without a loop (its loop is gone): libpq's finish, no goodbye."""
        self._idle.clear()
        for conn in list(self._open):
            self._open.discard(conn)
            with contextlib.suppress(Exception):
                conn.pgconn.finish()
