"""API fixtures: a TestClient over the real app, on the test database and job runner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import create_app
from config.runtime import Runtime, get_runtime
from config.settings import Settings
from tests.conftest import _reset_database
from tests.factories import PASSWORD


@contextmanager
def clean_client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient over the real app on ``settings``, with an emptied database and Redis."""
    app = create_app(settings, run_jobs=False)
    with TestClient(app) as c:
        rt: Runtime = app.state.runtime
        _reset_database(rt)
        if rt.redis is not None:
            rt.redis.flushdb()
        yield c


@pytest.fixture
def client(migrated: Settings) -> Iterator[TestClient]:
    with clean_client(migrated) as c:
        yield c


@pytest.fixture
def app_runtime(client: TestClient) -> Runtime:
    """The runtime the app built (jobs: ``app_runtime.jobs.drain()``)."""
    return get_runtime()


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in through the real token endpoint; returns the Authorization header."""
    res = client.post("/api/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


@pytest.fixture
def db(app_runtime: Runtime) -> Iterator[Session]:
    """A session on the app's database, closed after the test (SQLite: releases the write lock).

    On SQLite every transaction holds the write lock, so commit (or expire_all + commit) after reading
    in a test before calling the API again.
    """
    with Session(app_runtime.engine, expire_on_commit=False) as session:
        yield session
