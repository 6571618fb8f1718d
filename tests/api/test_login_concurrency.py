"""Bad logins must not stall the service: no login holds a transaction while Argon2 runs.

On SQLite every transaction takes the write lock (BEGIN IMMEDIATE), so a login hashing inside one
blocks every webhook; on PostgreSQL it would keep a pooled connection idle in a transaction.
The test pauses the hashing of 8 concurrent bad logins and, meanwhile, writes from another connection.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app import create_app
from config.runtime import get_runtime
from config.settings import Settings
from crm import accounts
from tests.conftest import _reset_database
from tests.factories import make_center, make_user
from tests.live_server import serve

LOGINS = 8


def _write_while_hashing(engine: Any, user_id: int) -> str | None:
    """Write from a fresh connection with a short lock wait; the problem found, or None."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA busy_timeout=300")
            try:
                cur.execute("BEGIN IMMEDIATE")
            except Exception as exc:
                return f"the write lock is held while a login hashes: {exc}"
        else:
            cur.execute("SET lock_timeout = '300ms'")
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
            if cur.fetchone()[0]:
                cur.execute(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
                return f"a connection is idle in a transaction while a login hashes: {cur.fetchall()}"
        cur.execute('UPDATE "user" SET display_name = display_name WHERE id = ?'.replace("?", str(user_id)))
        raw.commit()
        return None
    finally:
        raw.invalidate()  # never hand the short lock timeout back to the pool


def test_concurrent_bad_logins_do_not_block_writes(
    migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashing = threading.Semaphore(0)
    written = threading.Event()
    real_verify = accounts.verify_password

    def paused_verify(password: str, password_hash: str) -> bool:
        hashing.release()
        written.wait(timeout=10)  # hold every hash until the write below has been tried
        return real_verify(password, password_hash)

    monkeypatch.setattr(accounts, "verify_password", paused_verify)
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        if runtime.redis is not None:
            runtime.redis.flushdb()
        with Session(runtime.engine, expire_on_commit=False) as session:
            user = make_user(session, make_center(session, "TKY"), "sato")
        codes: list[int] = []

        def bad_login(i: int) -> None:
            res = httpx.post(
                f"{url}/api/auth/token", data={"username": "sato", "password": f"guess{i}"}, timeout=30
            )
            codes.append(res.status_code)

        threads = [threading.Thread(target=bad_login, args=(i,)) for i in range(LOGINS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        together = sum(hashing.acquire(timeout=max(0.0, deadline - time.monotonic())) for _ in range(LOGINS))
        assert together, "no login reached the password check"
        problem = _write_while_hashing(runtime.engine, user.id)  # type: ignore[arg-type]
        written.set()
        for t in threads:
            t.join(timeout=30)
        assert problem is None, problem
        assert together == LOGINS, f"only {together} of {LOGINS} logins hashed at the same time"
        assert sorted(codes) == [401] * LOGINS
        with runtime.engine.connect() as conn:  # the server still answers writes afterwards
            assert conn.execute(text("SELECT 1")).scalar() == 1
