"""Security headers on every response: no caching of personal data, no framing, HSTS behind TLS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import create_app
from config.settings import Settings
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def test_api_responses_with_personal_data_are_never_cached(client: TestClient, db: Session) -> None:
    center = make_center(db, "TKY")
    make_user(db, center, "sato")
    r = receive(db, center, "山田花子です。090-1234-5678", sender="U1")
    auth = login(client, "sato")
    for path in ("/api/tickets", f"/api/tickets/{r.ticket_id}", "/api/me"):
        res = client.get(path, headers=auth)
        assert res.status_code == 200
        assert res.headers["cache-control"] == "no-store", path
        assert res.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/tickets").headers["cache-control"] == "no-store"  # errors too


def test_api_and_console_cannot_be_framed(client: TestClient) -> None:
    for path in ("/api/me", "/healthz", "/"):
        res = client.get(path)
        assert res.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"], path
    # the console keeps its own, stricter policy
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_no_hsts_over_plain_http(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_hsts_over_https(client: TestClient) -> None:
    res = client.get("https://testserver/healthz")
    assert res.headers["strict-transport-security"].startswith("max-age=31536000")


@pytest.fixture
def proxied(migrated: Settings) -> Iterator[TestClient]:
    settings = migrated.model_copy(update={"trusted_proxies": ["testclient"]})
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def test_hsts_behind_a_trusted_tls_proxy(proxied: TestClient, client: TestClient) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "strict-transport-security" in proxied.get("/healthz", headers=forwarded).headers
    # the same header from a client that is not a trusted proxy is not believed
    assert "strict-transport-security" not in client.get("/healthz", headers=forwarded).headers


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["x-request-id"]
    assert made != "<script>" and len(made) == 32
