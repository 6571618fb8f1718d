"""Shared fixtures: a real database (SQLite file, or a fresh PostgreSQL database) and job runner.

The backend comes from the environment, as in production:

* nothing set: embedded default, a SQLite file per test session and in-process jobs;
* ``MADOGUCHI_DATABASE_URL=postgresql+psycopg://...`` and ``MADOGUCHI_REDIS_URL=redis://...``: a
  throw-away database is created on that server for the session, and jobs go through real Redis.

Under ``CI=true`` an unreachable PostgreSQL or Redis fails the run; it is never skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from bootstrap import Runtime, build_runtime, set_runtime
from config.settings import Settings
from crm.db import create_scratch_database, drop_database
from crm.schema import load_models, migrate
from tests.fakes.line_server import FakeLineServer

pytest_plugins = ("tests.clock",)  # jst_clock / jst_midnight: run at chosen instants and TZs
TEST_SECRET = "test-secret-key-" + "x" * 32


def _create_pg_database(base_url: str) -> str:
    try:
        return create_scratch_database(base_url, f"madoguchi_test_{os.getpid()}")
    except Exception as exc:  # pragma: no cover - environment problem, reported clearly
        where = make_url(base_url).render_as_string(hide_password=True)
        pytest.exit(f"PostgreSQL at {where} is unreachable: {exc}", 2)


def _check_redis(url: str) -> None:
    from redis import Redis

    try:
        Redis.from_url(url).ping()
    except Exception as exc:
        pytest.exit(f"Redis at {url} is unreachable: {exc}", 2)


def _worker_redis_url(url: str) -> str:
    """Under pytest-xdist each worker flushes a Redis database of its own (gw0 the given one, gw1 the next)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) + int(worker[2:])
    if db > 15:
        pytest.exit(f"pytest-xdist worker {worker} would need Redis db {db}; run fewer workers (-n)", 2)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    env_db = os.environ.get("MADOGUCHI_DATABASE_URL", "")
    env_redis = os.environ.get("MADOGUCHI_REDIS_URL") or None
    data_dir = tmp_path_factory.mktemp("var")
    pg_url = None
    if env_db.startswith("postgresql"):
        db_url = pg_url = _create_pg_database(env_db)
    else:
        db_url = f"sqlite:///{data_dir / 'test.db'}"
    if env_redis:
        env_redis = _worker_redis_url(env_redis)
        _check_redis(env_redis)
    settings = Settings(
        env="test",
        database_url=db_url,
        redis_url=env_redis,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        queue_name=f"madoguchi-test-{os.getpid()}",
    )
    yield settings
    if pg_url is not None:
        drop_database(pg_url)


@pytest.fixture(scope="session")
def migrated(base_settings: Settings) -> Settings:
    runtime = build_runtime(base_settings)
    migrate(runtime.engine)
    # Tables a package has added but not yet migrated; tests/integration/test_migrations.py flags the drift.
    load_models().metadata.create_all(runtime.engine)
    _add_missing_columns(runtime.engine)
    runtime.close()
    set_runtime(None)
    return base_settings


def _add_missing_columns(engine: Engine) -> None:
    """Columns a package has added to an existing table but not yet migrated (nullable here; the
    lead regenerates the migration, and tests/integration/test_migrations.py flags the drift)."""
    with engine.begin() as conn:
        inspector = inspect(conn)
        for table in load_models().metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))


def _reset_database(runtime: Runtime) -> None:
    metadata = load_models().metadata
    tables = list(reversed(metadata.sorted_tables))
    with runtime.engine.begin() as conn:
        if runtime.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())
            has_seq = conn.execute(
                text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first()
            if has_seq:
                conn.execute(text("DELETE FROM sqlite_sequence"))
    for hook in RESET_HOOKS:
        hook(runtime)


def _reset_search_index(runtime: Runtime) -> None:
    from knowledge.index import reset_search_index

    reset_search_index(runtime)


def _forget_channel_accounts(runtime: Runtime) -> None:
    """The accounts table was emptied: drop cached accounts and adapters (ids restart at 1)."""
    from channels.inbox import account_cache

    runtime.adapters.forget()  # type: ignore[attr-defined]
    account_cache(runtime).clear()


# Non-ORM state to reset with the tables: the search index, cached channel accounts.
RESET_HOOKS: list[Callable[[Runtime], None]] = [_reset_search_index, _forget_channel_accounts]


@contextmanager
def clean_runtime(settings: Settings, *, live: bool = True) -> Iterator[Runtime]:
    """A fresh runtime on ``settings`` over an emptied database and Redis, closed afterwards."""
    rt = build_runtime(settings)
    _reset_database(rt)
    if rt.redis is not None:
        rt.redis.flushdb()
    if live:
        rt.live.start()
    try:
        yield rt
    finally:
        rt.close()
        set_runtime(None)


@pytest.fixture
def runtime(migrated: Settings) -> Iterator[Runtime]:
    """A fresh runtime over an emptied database; jobs run in-process or through real Redis."""
    with clean_runtime(migrated) as rt:
        yield rt


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll until ``predicate()`` holds (for deliveries that cross a thread or Redis)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def line() -> Iterator[FakeLineServer]:
    """A local server that answers like the LINE Messaging API and records what the SDK sent."""
    with FakeLineServer() as server:
        yield server


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    with Session(runtime.engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def data_dir(migrated: Settings) -> Path:
    return migrated.data_dir
