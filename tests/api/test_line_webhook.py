"""POST /channels/line/webhook over the real app, and a full LINE conversation round trip."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app import create_app
from config.settings import Settings
from config.wiring import Runtime
from crm.models import ContactIdentity, InboundEvent, Message, Ticket
from tests.api.conftest import clean_client, login
from tests.conftest import _reset_database
from tests.factories import make_center, make_user
from tests.fakes.line_server import (
    FakeLineServer,
    fixture_event,
    line_settings,
    sign,
    signed_headers,
    webhook_body,
)

URL = "/channels/line/webhook"
USER = "U4af4980629a0f0d1b2c3d4e5f6a7b8c9"


@pytest.fixture
def line_client(migrated: Settings, line: FakeLineServer) -> Iterator[TestClient]:
    settings = line_settings(migrated, line, line_center_code="LINE01", max_body_bytes=200_000)
    with clean_client(settings) as c:
        yield c


def rt_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


def stored(client: TestClient) -> int:
    with Session(rt_of(client).engine) as s:
        return int(s.exec(select(func.count()).select_from(InboundEvent)).one())


def ev(name: str, **overrides: Any) -> dict[str, Any]:
    return fixture_event(name, **{"timestamp": int(time.time() * 1000), **overrides})


def post(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post(URL, content=body, headers=signed_headers(body) if headers is None else headers)


def test_signed_webhook_is_stored_and_processed(line_client: TestClient) -> None:
    res = post(line_client, webhook_body(ev("text")))
    assert res.status_code == 200 and res.json() == {"received": 1, "stored": 1}
    assert stored(line_client) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Line-Signature": "forged"},
        {"Content-Type": "application/json", "X-Line-Signature": sign(b"another body")},
    ],
)
def test_missing_or_forged_signature_gets_401_and_stores_nothing(
    line_client: TestClient, headers: dict[str, str]
) -> None:
    res = post(line_client, webhook_body(ev("text")), headers)
    assert res.status_code == 401 and "signature" in res.json()["detail"]
    assert stored(line_client) == 0


def test_wrong_content_type_gets_415(line_client: TestClient) -> None:
    body = webhook_body(ev("text"))
    res = post(line_client, body, {"Content-Type": "text/plain", "X-Line-Signature": sign(body)})
    assert res.status_code == 415 and "application/json" in res.json()["detail"]
    res = post(line_client, body, {"X-Line-Signature": sign(body)})
    assert res.status_code == 415
    assert stored(line_client) == 0


def test_oversized_body_gets_413_with_the_limit(line_client: TestClient) -> None:
    event = ev("text")
    event["message"]["text"] = "長" * 100_000  # 300 KB of UTF-8
    res = post(line_client, webhook_body(event))
    assert res.status_code == 413 and "200,000 bytes" in res.json()["detail"]
    assert stored(line_client) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"events": "nope"}',
        b'{"events": [1]}',
        b'{"events": ["\xff"]}',
        "🙂".encode("utf-16"),
    ],
)
def test_signed_garbage_gets_400(line_client: TestClient, body: bytes) -> None:
    res = post(line_client, body)
    assert res.status_code == 400, res.text
    assert stored(line_client) == 0


def test_verify_button_and_unknown_events_get_200(line_client: TestClient) -> None:
    assert post(line_client, json.dumps({"destination": "U1", "events": []}).encode()).status_code == 200
    assert post(line_client, webhook_body(ev("unknown"))).status_code == 200


def test_repeated_and_redelivered_posts_store_once(line_client: TestClient) -> None:
    event = ev("text")
    assert post(line_client, webhook_body(event)).json()["stored"] == 1
    assert post(line_client, webhook_body(event)).json() == {"received": 1, "stored": 0}
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert post(line_client, webhook_body(redelivered)).status_code == 200
    assert stored(line_client) == 1


def test_line_not_configured_answers_503(client: TestClient) -> None:
    body = webhook_body(ev("text"))
    res = client.post(URL, content=body, headers=signed_headers(body))
    assert res.status_code == 503 and "MADOGUCHI_LINE_CHANNEL_SECRET" in res.json()["detail"]


def test_line_conversation_round_trip(line_client: TestClient, line: FakeLineServer) -> None:
    rt = rt_of(line_client)
    with Session(rt.engine, expire_on_commit=False) as s:
        make_center(s, code="OTHER")
        center = make_center(s, code="LINE01")
        make_user(s, center, "sato")
    # the consumer writes on LINE
    assert post(line_client, webhook_body(ev("text"))).status_code == 200
    rt.jobs.drain()
    with Session(rt.engine) as s:
        ticket = s.exec(select(Ticket)).one()
        assert ticket.center_id == center.id and ticket.channel == "line"
        ticket_id, contact_id = ticket.id, ticket.contact_id
    # the counselor answers from the console
    headers = login(line_client, "sato")
    res = line_client.post(
        f"/api/tickets/{ticket_id}/reply", json={"body": "ご相談ありがとうございます。"}, headers=headers
    )
    assert res.status_code == 202, res.text
    rt.jobs.drain()
    assert line.pushed_texts(USER) == ["ご相談ありがとうございます。"]
    detail = line_client.get(f"/api/tickets/{ticket_id}", headers=headers).json()
    assert [m["status"] for m in detail["messages"]] == ["received", "sent"]
    # the next message reuses the same contact and ticket
    follow_up = ev("text", webhookEventId="01HNEXT")
    follow_up["message"] = {**follow_up["message"], "id": "next-1", "text": "契約書は3月1日付です"}
    assert post(line_client, webhook_body(follow_up)).status_code == 200
    rt.jobs.drain()
    with Session(rt.engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 1
        assert s.exec(select(func.count()).select_from(ContactIdentity)).one() == 1
        assert {m.ticket_id for m in s.exec(select(Message)).all()} == {ticket_id}
        assert s.exec(select(ContactIdentity)).one().contact_id == contact_id


def test_readme_send_command_posts_a_signed_event_over_http(
    migrated: Settings, line: FakeLineServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m tests.fakes.line_server send ...` (README: try a conversation locally)."""
    from tests.fakes.line_server import main
    from tests.live_server import serve

    app = create_app(line_settings(migrated, line, line_center_code="LINE01"), run_jobs=False)
    with serve(app) as base:
        rt: Runtime = app.state.runtime
        _reset_database(rt)
        with Session(rt.engine) as s:
            make_center(s, "LINE01")
        assert main(["send", "解約したいのに電話がつながりません", "--to", base + URL]) == 0
        assert '"stored":1' in capsys.readouterr().out
        assert main(["send", "偽物", "--to", base + URL, "--secret", "not-the-channel-secret"]) == 1
        assert "signature check failed" in capsys.readouterr().out
        with Session(rt.engine) as s:
            events = s.exec(select(InboundEvent)).all()
        assert len(events) == 1 and "解約したいのに" in json.loads(events[0].raw)["message"]["text"]
