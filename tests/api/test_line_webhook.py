"""POST /channels/line/{public_id}/webhook over the real app: per-account verification, the
MADOGUCHI_LINE_* alias, and full LINE conversation round trips (one per center and account)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app import create_app
from config.runtime import Runtime
from config.settings import Settings
from crm.channel_accounts import disable_account, webhook_path
from crm.models import Center, ChannelAccount, ContactIdentity, InboundEvent, Message, Ticket
from tests.api.conftest import clean_client, login
from tests.conftest import _reset_database
from tests.factories import make_center, make_user
from tests.fakes.line_server import (
    SECRET,
    FakeLineServer,
    fixture_event,
    line_settings,
    sign,
    signed_headers,
    webhook_body,
)
from tests.line_accounts import add_line_account, line_account

ALIAS = "/channels/line/webhook"
USER = "U4af4980629a0f0d1b2c3d4e5f6a7b8c9"


@pytest.fixture
def line_client(migrated: Settings, line: FakeLineServer) -> Iterator[TestClient]:
    settings = line_settings(migrated, line, line_center_code="LINE01", max_body_bytes=200_000)
    with clean_client(settings) as c:
        with Session(rt_of(c).engine, expire_on_commit=False) as s:
            make_center(s, code="LINE01")
        c.webhook_url = webhook_path(line_account(rt_of(c)))  # type: ignore[attr-defined]
        yield c


def rt_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


def stored(client: TestClient) -> int:
    with Session(rt_of(client).engine) as s:
        return int(s.exec(select(func.count()).select_from(InboundEvent)).one())


def ev(name: str, **overrides: Any) -> dict[str, Any]:
    return fixture_event(name, **{"timestamp": int(time.time() * 1000), **overrides})


def post(client: TestClient, body: bytes, headers: dict[str, str] | None = None) -> Any:
    """POST to the LINE01 account's own webhook URL."""
    url = client.webhook_url  # type: ignore[attr-defined]
    return client.post(url, content=body, headers=signed_headers(body) if headers is None else headers)


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


def test_line_not_configured_answers_503_on_the_alias(client: TestClient) -> None:
    body = webhook_body(ev("text"))
    res = client.post(ALIAS, content=body, headers=signed_headers(body))
    assert res.status_code == 503 and "MADOGUCHI_LINE_CHANNEL_SECRET" in res.json()["detail"]


def test_alias_is_the_shortcut_account(line_client: TestClient) -> None:
    body = webhook_body(ev("text"))
    assert post(line_client, body).status_code == 200
    assert line_client.post(ALIAS, content=body, headers=signed_headers(body)).json()["stored"] == 0
    account_id = line_account(rt_of(line_client)).id  # same account, same event: stored once
    with Session(rt_of(line_client).engine) as s:
        assert [e.channel_account_id for e in s.exec(select(InboundEvent)).all()] == [account_id]


def test_alias_before_its_center_exists_answers_503_and_stores_nothing(
    migrated: Settings, line: FakeLineServer
) -> None:
    with clean_client(line_settings(migrated, line, line_center_code="NOPE")) as c:
        body = webhook_body(ev("text"))
        res = c.post(ALIAS, content=body, headers=signed_headers(body))
        assert res.status_code == 503 and "NOPE" in res.json()["detail"] and "center" in res.json()["detail"]
        assert stored(c) == 0


def test_unknown_account_id_is_404_and_stores_nothing(line_client: TestClient) -> None:
    body = webhook_body(ev("text"))
    res = line_client.post(
        "/channels/line/not-an-account/webhook", content=body, headers=signed_headers(body)
    )
    assert res.status_code == 404 and "no LINE channel account" in res.json()["detail"]
    assert stored(line_client) == 0


def test_disabled_account_is_410_within_the_cache_time(line_client: TestClient) -> None:
    rt = rt_of(line_client)
    info = line_account(rt)
    with Session(rt.engine) as s:
        disable_account(s, account_id=info.id)
    _expire_caches(rt)
    res = post(line_client, webhook_body(ev("text")))
    assert res.status_code == 410 and "disabled" in res.json()["detail"]
    assert stored(line_client) == 0


def test_account_with_undecryptable_secrets_is_503_and_others_still_work(
    line_client: TestClient, line: FakeLineServer
) -> None:
    from cryptography.fernet import Fernet

    rt = rt_of(line_client)
    with Session(rt.engine, expire_on_commit=False) as s:
        other_center = make_center(s, code="B01")
    other = add_line_account(rt, other_center.id, secret="secret-b", token="token-b", api_url=line.url)  # type: ignore[arg-type]
    # A's secrets were encrypted with a key this server no longer has (rotated away).
    unreadable = (
        Fernet(Fernet.generate_key()).encrypt(b'{"channel_secret": "x", "access_token": "y"}').decode()
    )
    table = ChannelAccount.__table__  # type: ignore[attr-defined]
    a_id = line_account(rt).id
    with rt.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == a_id).values(secrets_encrypted=unreadable))
    _expire_caches(rt)
    res = post(line_client, webhook_body(ev("text")))
    assert res.status_code == 503 and "MADOGUCHI_ENCRYPTION_KEYS" in res.json()["detail"]
    body = webhook_body(ev("text", webhookEventId="01HOTHER"))
    ok = line_client.post(webhook_path(other), content=body, headers=signed_headers(body, "secret-b"))
    assert ok.status_code == 200 and stored(line_client) == 1


def test_body_signed_with_another_accounts_secret_is_refused(
    line_client: TestClient, line: FakeLineServer
) -> None:
    rt = rt_of(line_client)
    with Session(rt.engine, expire_on_commit=False) as s:
        center_b = make_center(s, code="B01")
    add_line_account(rt, center_b.id, secret="secret-of-b", token="token-b", api_url=line.url)  # type: ignore[arg-type]
    body = webhook_body(ev("text"))
    res = post(line_client, body, signed_headers(body, "secret-of-b"))  # B's secret on A's URL
    assert res.status_code == 401 and "signature" in res.json()["detail"]
    assert stored(line_client) == 0


def _expire_caches(rt: Runtime) -> None:
    """What ACCOUNT_TTL_SECONDS (5 s) does by itself, without sleeping."""
    from channels.inbox import account_cache

    account_cache(rt).clear()
    rt.adapters.forget()  # type: ignore[attr-defined]


def test_line_conversation_round_trip(line_client: TestClient, line: FakeLineServer) -> None:
    rt = rt_of(line_client)
    with Session(rt.engine, expire_on_commit=False) as s:
        make_center(s, code="OTHER")
        center = s.exec(select(Center).where(Center.code == "LINE01")).one()
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
        account = line_account(rt)
        assert (
            main(
                ["send", "解約したいのに電話がつながりません", "--account", account.public_id, "--base", base]
            )
            == 0
        )
        assert '"stored":1' in capsys.readouterr().out
        assert (
            main(
                [
                    "send",
                    "偽物",
                    "--account",
                    account.public_id,
                    "--base",
                    base,
                    "--secret",
                    "not-the-channel-secret",
                ]
            )
            == 1
        )
        assert "signature check failed" in capsys.readouterr().out
        assert (
            main(["send", "エイリアス経由", "--to", base + ALIAS, "--secret", SECRET]) == 0
        )  # the shortcut's alias
        assert '"stored":1' in capsys.readouterr().out
        with Session(rt.engine) as s:
            events = s.exec(select(InboundEvent)).all()
        assert len(events) == 2 and "解約したいのに" in json.loads(events[0].raw)["message"]["text"]


def test_two_centers_each_answer_through_their_own_account(
    line_client: TestClient, line: FakeLineServer
) -> None:
    """Center A (the shortcut account) and center B (its own account, secret and token)."""
    rt = rt_of(line_client)
    line.add_account("token-of-b")
    with Session(rt.engine, expire_on_commit=False) as s:
        center_a = s.exec(select(Center).where(Center.code == "LINE01")).one()
        center_b = make_center(s, code="B01", name="北区消費生活センター")
        make_user(s, center_a, "a-counselor")
        make_user(s, center_b, "b-counselor")
    account_b = add_line_account(rt, center_b.id, secret="secret-of-b", token="token-of-b", api_url=line.url)  # type: ignore[arg-type]
    user_b = "U0000000000000000000000000000000b"
    event_b = ev("text", webhookEventId="01HB", source={"type": "user", "userId": user_b})
    event_b["message"] = {**event_b["message"], "id": "b-1", "text": "北区の相談です"}
    body_b = webhook_body(event_b)
    assert post(line_client, webhook_body(ev("text"))).status_code == 200
    res_b = line_client.post(
        webhook_path(account_b), content=body_b, headers=signed_headers(body_b, "secret-of-b")
    )
    assert res_b.status_code == 200
    rt.jobs.drain()
    with Session(rt.engine) as s:
        tickets = {t.center_id: t for t in s.exec(select(Ticket)).all()}
    assert set(tickets) == {center_a.id, center_b.id}
    assert tickets[center_b.id].channel_account_id == account_b.id
    assert tickets[center_a.id].channel_account_id == line_account(rt).id
    for username, ticket, text in (
        ("a-counselor", tickets[center_a.id], "Aセンターです。"),
        ("b-counselor", tickets[center_b.id], "Bセンターです。"),
    ):
        res = line_client.post(
            f"/api/tickets/{ticket.id}/reply", json={"body": text}, headers=login(line_client, username)
        )
        assert res.status_code == 202, res.text
    rt.jobs.drain()
    assert line.pushed_texts(USER, token=line.token) == ["Aセンターです。"]
    assert line.pushed_texts(user_b, token="token-of-b") == ["Bセンターです。"]
    assert line.pushed_texts(user_b, token=line.token) == []  # never through the other center's account
