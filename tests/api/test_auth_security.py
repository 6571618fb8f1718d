"""Login throttling, CSRF for cookie sessions, logout revocation and token claims, through the API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import create_app
from config.settings import Settings
from crm.models import AuditLog
from tests.api.conftest import login
from tests.conftest import TEST_SECRET, _reset_database
from tests.factories import PASSWORD, make_center, make_ticket, make_user


@pytest.fixture
def proxied(migrated: Settings) -> Iterator[TestClient]:
    """A client behind a trusted proxy, so a test can log in from several addresses (X-Forwarded-For)."""
    settings = migrated.model_copy(update={"trusted_proxies": ["testclient"]})
    with TestClient(create_app(settings, run_jobs=False)) as c:
        rt = c.app.state.runtime  # type: ignore[attr-defined]
        _reset_database(rt)
        if rt.redis is not None:
            rt.redis.flushdb()
        yield c


def _try(client: TestClient, password: str, ip: str = "198.51.100.7", user: str = "sato") -> int:
    res = client.post(
        "/api/auth/token", data={"username": user, "password": password}, headers={"X-Forwarded-For": ip}
    )
    return res.status_code


def test_bad_logins_lock_the_username_from_that_address_only(proxied: TestClient) -> None:
    rt = proxied.app.state.runtime  # type: ignore[attr-defined]
    with Session(rt.engine) as db:
        make_user(db, make_center(db, "TKY"), "sato")
    assert [_try(proxied, "guess") for _ in range(5)] == [401] * 5
    res = proxied.post(
        "/api/auth/token",
        data={"username": "sato", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert res.status_code == 429  # even the right password: the attacker may not keep guessing
    assert 1 <= int(res.headers["retry-after"]) <= 30
    assert "try again in" in res.json()["detail"]
    assert _try(proxied, PASSWORD, ip="203.0.113.9") == 200  # the real user elsewhere is not locked out
    with Session(rt.engine) as db:
        failed = db.exec(select(AuditLog).where(AuditLog.action == "auth.login_failed")).all()
        assert len(failed) == 5 and failed[0].ip == "198.51.100.7"


def test_a_distributed_guess_locks_the_username_for_a_bounded_time(proxied: TestClient) -> None:
    rt = proxied.app.state.runtime  # type: ignore[attr-defined]
    with Session(rt.engine) as db:
        make_user(db, make_center(db, "TKY"), "sato")
    limit = rt.settings.login_user_max_failures
    codes = [_try(proxied, "guess", ip=f"10.0.{i // 4}.{i % 4}") for i in range(limit)]
    assert codes == [401] * limit
    res = proxied.post(
        "/api/auth/token",
        data={"username": "sato", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert res.status_code == 429
    assert int(res.headers["retry-after"]) <= rt.settings.login_lockout_minutes * 60


def test_cookie_session_needs_csrf_token_and_own_origin(client: TestClient, db: Session) -> None:
    center = make_center(db, "TKY")
    make_user(db, center, "sato")
    ticket = make_ticket(db, center)
    db.commit()  # SQLite: release the write lock the read took
    res = client.post("/api/auth/token", data={"username": "sato", "password": PASSWORD})
    csrf = res.cookies["madoguchi_csrf"]
    url = f"/api/tickets/{ticket.id}/notes"
    note = {"body": "内部メモ"}
    assert client.get("/api/me").status_code == 200  # reads need no token
    res = client.post(url, json=note, headers={"Origin": "https://evil.example"})
    assert res.status_code == 403 and "cross-site" in res.json()["detail"]
    res = client.post(url, json=note, headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf})
    assert res.status_code == 403
    res = client.post(url, json=note)
    assert res.status_code == 403 and "X-CSRF-Token" in res.json()["detail"]
    assert client.post(url, json=note, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    res = client.post("/api/auth/token", data={"username": "sato", "password": PASSWORD},
                      headers={"Origin": "https://evil.example"})  # fmt: skip
    assert res.status_code == 403  # no other site may log a visitor in
    same = {"Origin": "http://testserver", "X-CSRF-Token": csrf}
    assert client.post(url, json=note, headers=same).status_code == 201
    assert client.post(url, json=note, headers={"X-CSRF-Token": csrf}).status_code == 201
    # a bearer token is not sent by browsers on their own: no CSRF check
    bearer = login(client, "sato")
    client.cookies.clear()
    res = client.post(url, json=note, headers={**bearer, "Origin": "https://evil.example"})
    assert res.status_code == 201


def test_logout_revokes_the_token(client: TestClient, db: Session) -> None:
    make_user(db, make_center(db, "TKY"), "sato")
    auth = login(client, "sato")
    client.cookies.clear()
    assert client.get("/api/me", headers=auth).status_code == 200
    assert client.post("/api/auth/logout", headers=auth).status_code == 204
    res = client.get("/api/me", headers=auth)
    assert res.status_code == 401 and "logged out" in res.json()["detail"]
    assert client.post("/api/auth/logout", headers=auth).status_code == 204  # idempotent


def test_console_logout_revokes_the_cookie(client: TestClient, db: Session) -> None:
    make_user(db, make_center(db, "TKY"), "sato")
    res = client.post("/api/auth/token", data={"username": "sato", "password": PASSWORD})
    token, csrf = res.json()["access_token"], res.cookies["madoguchi_csrf"]
    assert client.post("/api/auth/logout").status_code == 403  # a cookie logout needs the CSRF token
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("missing", ["exp", "jti"])
def test_tokens_that_cannot_expire_or_be_revoked_are_refused(
    client: TestClient, db: Session, missing: str
) -> None:
    user = make_user(db, make_center(db, "TKY"), "sato")
    claims = {"sub": str(user.id), "jti": "abcdefghijklmnop", "exp": int(time.time()) + 600}
    del claims[missing]
    forged = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
