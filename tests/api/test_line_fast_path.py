"""The LINE account webhook answered by channels.line.webhook.FastPath (pure ASGI, ahead of FastAPI):
the same headers, metrics and refusals as every other route, and on PostgreSQL a 503 the vendor
retries when the hot path's own connections cannot reach the database."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app import create_app
from channels.line.webhook import FastPath
from config.runtime import Runtime
from config.settings import Settings
from crm.channel_accounts import webhook_path
from crm.models import InboundEvent
from tests.conftest import _reset_database
from tests.factories import make_center
from tests.fakes.line_server import FakeLineServer, fixture_event, line_settings, signed_headers, webhook_body
from tests.line_accounts import line_account

LOOPBACK = ("127.0.0.1", 50124)  # /metrics answers loopback clients only


@pytest.fixture
def fast_client(migrated: Settings, line: FakeLineServer) -> Iterator[TestClient]:
    app = create_app(line_settings(migrated, line, line_center_code="LINE01"), run_jobs=False)
    with TestClient(app, client=LOOPBACK) as c:
        rt = rt_of(c)
        _reset_database(rt)
        if rt.redis is not None:
            rt.redis.flushdb()
        with Session(rt.engine, expire_on_commit=False) as s:
            make_center(s, code="LINE01")
        c.webhook_url = webhook_path(line_account(rt))  # type: ignore[attr-defined]
        yield c


def rt_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


def stored(client: TestClient) -> int:
    with Session(rt_of(client).engine) as s:
        return int(s.exec(select(func.count()).select_from(InboundEvent)).one())


def post(client: TestClient, event_id: str, **headers: str) -> Any:
    event = fixture_event("text", timestamp=int(time.time() * 1000), webhookEventId=event_id)
    body = webhook_body(event)
    return client.post(client.webhook_url, content=body, headers={**signed_headers(body), **headers})  # type: ignore[attr-defined]


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_fast_path_is_mounted_outermost(fast_client: TestClient) -> None:
    stack = fast_client.app.user_middleware  # type: ignore[attr-defined]
    assert stack[0].cls is FastPath


def test_account_webhook_has_the_security_headers_and_keeps_a_sane_request_id(
    fast_client: TestClient,
) -> None:
    res = post(fast_client, "01HFAST1", **{"X-Request-ID": "lb-7f3a.42"})
    assert res.status_code == 200 and res.json() == {"received": 1, "stored": 1}
    assert res.headers["content-type"] == "application/json"
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["x-frame-options"] == "DENY"
    assert res.headers["referrer-policy"] == "no-referrer"
    assert res.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert res.headers.get_list("x-request-id") == ["lb-7f3a.42"]
    bad = post(fast_client, "01HFAST2", **{"X-Request-ID": "no spaces allowed"})
    assert re.fullmatch(r"[0-9a-f]{32}", bad.headers["x-request-id"])


def test_account_webhook_outcomes_are_counted_in_metrics(fast_client: TestClient) -> None:
    def counts() -> tuple[float, float, float]:
        text = fast_client.get("/metrics").text
        return (
            sample(text, "madoguchi_webhooks_total", channel="line", result="accepted"),
            sample(text, "madoguchi_webhooks_total", channel="line", result="rejected_signature"),
            sample(
                text,
                "madoguchi_http_request_duration_seconds_count",
                route="/channels/line/{public_id}/webhook",
                status="200",
            ),
        )

    accepted, rejected, timed = counts()
    assert post(fast_client, "01HMETRIC1").status_code == 200
    assert post(fast_client, "01HMETRIC1").json()["stored"] == 0  # a redelivery is accepted too
    assert post(fast_client, "01HMETRIC2", **{"X-Line-Signature": "forged"}).status_code == 401
    assert counts() == (accepted + 2, rejected + 1, timed + 2)
    assert stored(fast_client) == 1
    text = fast_client.get("/metrics").text
    public_id = fast_client.webhook_url.split("/")[3]  # type: ignore[attr-defined]
    assert public_id not in text  # labels carry the route template, never the account's id


def test_unknown_account_is_404_on_the_fast_path_too(fast_client: TestClient) -> None:
    body = webhook_body(fixture_event("text", timestamp=int(time.time() * 1000)))
    res = fast_client.post("/channels/line/nope/webhook", content=body, headers=signed_headers(body))
    assert res.status_code == 404 and "no LINE channel account" in res.json()["detail"]
    assert res.headers["x-frame-options"] == "DENY"
    assert stored(fast_client) == 0


def test_other_methods_and_paths_still_reach_fastapi(fast_client: TestClient) -> None:
    assert fast_client.get(fast_client.webhook_url).status_code == 405  # type: ignore[attr-defined]
    assert fast_client.post("/channels/line/a/b/webhook", content=b"{}").status_code == 404


def test_database_unreachable_from_the_hot_path_is_503_retry_later_and_nothing_stored(
    fast_client: TestClient,
) -> None:
    rt = rt_of(fast_client)
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("the event-loop connections are the PostgreSQL path (SQLite stores in a thread)")
    from crm.pg_async import AsyncPgPool

    assert post(fast_client, "01HWARM").status_code == 200  # builds the runtime's group commit
    group = rt._group_commit  # type: ignore[attr-defined]
    real = group.pool
    group.pool = AsyncPgPool("postgresql://postgres@127.0.0.1:1/none", connect_timeout=1)  # nothing listens
    try:
        res = post(fast_client, "01HDOWN")
    finally:
        group.pool = real
    assert res.status_code == 503 and res.headers["retry-after"] == "5"
    assert "nothing was stored" in res.json()["detail"]
    assert post(fast_client, "01HDOWN").json() == {"received": 1, "stored": 1}  # LINE's retry lands
    assert stored(fast_client) == 2
