"""POST /channels/email/{public_id}/inbound over the real app: token, limits, and raw mail that
becomes a readable ticket (ISO-2022-JP with ① ㈱), a reply that joins it, and automatic mail that
opens nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from config.runtime import Runtime
from config.settings import Settings
from crm.channel_accounts import create_account, disable_account, webhook_path
from crm.models import InboundEvent, Message, Ticket
from tests.api.conftest import clean_client
from tests.factories import make_center

CORPUS = Path(__file__).parents[1] / "fixtures" / "email"
RFC822 = {"Content-Type": "message/rfc822"}


@pytest.fixture
def email_client(migrated: Settings) -> Iterator[TestClient]:
    settings = migrated.model_copy(update={"email_max_bytes": 50_000})
    with clean_client(settings) as c:
        rt = rt_of(c)
        with Session(rt.engine, expire_on_commit=False) as s:
            center = make_center(s, code="MAIL01")
            info, token = create_account(
                s,
                kind="email",
                center_id=center.id,
                name="窓口メール",
                address="soudan@tokyo.demo.example",
                keys=rt.settings.encryption_keys,
            )
        c.url = webhook_path(info)  # type: ignore[attr-defined]
        c.mail_headers = {"Authorization": f"Bearer {token}", **RFC822}  # type: ignore[attr-defined]
        c.account = info  # type: ignore[attr-defined]
        c.center_id = center.id  # type: ignore[attr-defined]
        yield c


def rt_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


def post(client: TestClient, name: str, headers: dict[str, str] | None = None) -> object:
    body = (CORPUS / name).read_bytes()
    return client.post(client.url, content=body, headers=client.mail_headers if headers is None else headers)  # type: ignore[attr-defined]


def counts(client: TestClient) -> tuple[int, int, int]:
    with Session(rt_of(client).engine) as s:
        return (
            int(s.exec(select(func.count()).select_from(InboundEvent)).one()),
            int(s.exec(select(func.count()).select_from(Ticket)).one()),
            int(s.exec(select(func.count()).select_from(Message)).one()),
        )


def test_iso2022jp_mail_becomes_a_readable_ticket_and_the_reply_joins_it(email_client: TestClient) -> None:
    res = post(email_client, "outlook_iso2022jp.eml")
    assert res.status_code == 202, res.text  # type: ignore[attr-defined]
    rt_of(email_client).jobs.drain()
    with Session(rt_of(email_client).engine) as s:
        ticket = s.exec(select(Ticket)).one()
        assert ticket.center_id == email_client.center_id  # type: ignore[attr-defined]
        msg = s.exec(select(Message)).one()
        assert "①契約書の件で相談です。" in msg.body and "㈱髙橋商事の﨑田様" in msg.body
        assert msg.external_id == "outlook-1@example.jp"
        assert msg.meta["subject"] == "①㈱の契約について"
    assert post(email_client, "reply_quoted.eml").status_code == 202  # type: ignore[attr-defined]
    rt_of(email_client).jobs.drain()
    with Session(rt_of(email_client).engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 1
        reply = s.exec(select(Message).where(Message.external_id == "outlook-2@example.jp")).one()
        assert reply.body == "件名: RE：①㈱の契約について\n\nありがとうございます。"
        assert reply.meta["quoted"].startswith("2026年12月1日")


def test_same_mail_twice_is_stored_once(email_client: TestClient) -> None:
    assert post(email_client, "outlook_iso2022jp.eml").status_code == 202  # type: ignore[attr-defined]
    res = post(email_client, "outlook_iso2022jp.eml")
    assert res.status_code == 202 and res.json()["stored"] == 0  # type: ignore[attr-defined]
    rt_of(email_client).jobs.drain()
    assert counts(email_client) == (1, 1, 1)


@pytest.mark.parametrize(
    "name", ["auto_reply.eml", "bounce_japanese.eml", "dsn_report.eml", "mailing_list.eml"]
)
def test_automatic_mail_opens_nothing(email_client: TestClient, name: str) -> None:
    assert post(email_client, name).status_code == 202  # type: ignore[attr-defined]
    rt_of(email_client).jobs.drain()
    assert counts(email_client) == (1, 0, 0)


def test_broken_mail_is_stored_with_its_warning(email_client: TestClient) -> None:
    assert post(email_client, "multipart_no_boundary.eml").status_code == 202  # type: ignore[attr-defined]
    rt_of(email_client).jobs.drain()
    with Session(rt_of(email_client).engine) as s:
        msg = s.exec(select(Message)).one()
        assert "境界がありません" in msg.body
        assert any("boundary" in w for w in msg.meta["warnings"])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (RFC822, 401),
        ({"Authorization": "Bearer wrong", **RFC822}, 401),
        ({"Authorization": "Basic abc", **RFC822}, 401),
    ],
)
def test_missing_or_wrong_token_stores_nothing(
    email_client: TestClient, headers: dict[str, str], status: int
) -> None:
    res = post(email_client, "outlook_iso2022jp.eml", headers)
    assert res.status_code == status and "inbound token" in res.json()["detail"]  # type: ignore[attr-defined]
    assert counts(email_client) == (0, 0, 0)


def test_wrong_content_type_is_415(email_client: TestClient) -> None:
    headers = {**email_client.mail_headers, "Content-Type": "text/plain"}  # type: ignore[attr-defined]
    assert post(email_client, "outlook_iso2022jp.eml", headers).status_code == 415  # type: ignore[attr-defined]
    assert counts(email_client) == (0, 0, 0)


def test_oversized_is_413(email_client: TestClient) -> None:
    body = b"From: a@b.jp\nSubject: big\n\n" + b"x" * 60_000
    res = email_client.post(email_client.url, content=body, headers=email_client.mail_headers)  # type: ignore[attr-defined]
    assert res.status_code == 413 and "MADOGUCHI_EMAIL_MAX_BYTES" in res.json()["detail"]
    assert counts(email_client) == (0, 0, 0)


def test_unknown_account_404_and_disabled_410(email_client: TestClient) -> None:
    res = email_client.post("/channels/email/nope/inbound", content=b"x", headers=email_client.mail_headers)  # type: ignore[attr-defined]
    assert res.status_code == 404
    with Session(rt_of(email_client).engine) as s:
        disable_account(s, account_id=email_client.account.id)  # type: ignore[attr-defined]
    from channels.inbox import account_cache

    account_cache(rt_of(email_client)).clear()
    assert post(email_client, "outlook_iso2022jp.eml").status_code == 410  # type: ignore[attr-defined]
    assert counts(email_client) == (0, 0, 0)


class Relay:
    """An aiosmtpd relay that keeps what it was given."""

    def __init__(self) -> None:
        self.mail: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.mail.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def relay_client(migrated: Settings) -> Iterator[tuple[TestClient, Relay]]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    relay = Relay()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with clean_client(migrated) as c:
            rt = rt_of(c)
            with Session(rt.engine, expire_on_commit=False) as s:
                center = make_center(s, code="MAIL02")
                from tests.factories import make_user

                make_user(s, center, "suzuki")
                info, token = create_account(
                    s,
                    kind="email",
                    center_id=center.id,
                    name="窓口",
                    address="soudan@tokyo.demo.example",
                    settings={"smtp_url": f"smtp://127.0.0.1:{port}"},
                    keys=rt.settings.encryption_keys,
                )
            c.url = webhook_path(info)  # type: ignore[attr-defined]
            c.mail_headers = {"Authorization": f"Bearer {token}", **RFC822}  # type: ignore[attr-defined]
            yield c, relay
    finally:
        controller.stop()


def test_counselor_answer_reaches_the_relay_and_its_bounce_opens_nothing(
    relay_client: tuple[TestClient, Relay],
) -> None:
    from email import message_from_bytes
    from email.policy import default

    from tests.api.conftest import login

    client, relay = relay_client
    rt = rt_of(client)
    assert post(client, "outlook_iso2022jp.eml").status_code == 202  # type: ignore[attr-defined]
    rt.jobs.drain()
    with Session(rt.engine) as s:
        ticket_id = s.exec(select(Ticket)).one().id
    res = client.post(
        f"/api/tickets/{ticket_id}/reply",
        json={"body": "ご相談ありがとうございます。①について。"},
        headers=login(client, "suzuki"),
    )
    assert res.status_code == 202, res.text
    rt.jobs.drain()
    ((rcpts, raw),) = relay.mail
    assert rcpts == ["hanako@example.jp"]
    sent = message_from_bytes(raw, policy=default)
    assert sent["From"] == "soudan@tokyo.demo.example"
    assert sent.get_content().strip() == "ご相談ありがとうございます。①について。"
    answer_id = sent["Message-ID"].strip("<>")
    with Session(rt.engine) as s:
        out = s.exec(select(Message).where(Message.direction == "outbound")).one()
        assert out.status == "sent" and out.meta["vendor_message_ids"] == [answer_id]
    bounce = (
        b"From: MAILER-DAEMON@mail.example.jp\r\nTo: soudan@tokyo.demo.example\r\nSubject: Undeliverable\r\n"
        b"Message-ID: <b-77@mail.example.jp>\r\n\r\nUser unknown\r\n\r\nMessage-ID: <"
        + answer_id.encode()
        + b">\r\n"
    )
    res = client.post(client.url, content=bounce, headers=client.mail_headers)  # type: ignore[attr-defined]
    assert res.status_code == 202
    rt.jobs.drain()
    with Session(rt.engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 1
        assert s.exec(select(func.count()).select_from(Message)).one() == 2


def test_answer_threads_and_bounce_marks_it_failed(relay_client: tuple[TestClient, Relay]) -> None:
    """Needs the crm part of issue 11: thread metadata out, thread ids in, bounces applied."""
    from email import message_from_bytes
    from email.policy import default

    from tests.api.conftest import login

    client, relay = relay_client
    rt = rt_of(client)
    assert post(client, "outlook_iso2022jp.eml").status_code == 202  # type: ignore[attr-defined]
    rt.jobs.drain()
    with Session(rt.engine) as s:
        ticket_id = s.exec(select(Ticket)).one().id
    res = client.post(
        f"/api/tickets/{ticket_id}/reply", json={"body": "回答です。"}, headers=login(client, "suzuki")
    )
    assert res.status_code == 202, res.text
    rt.jobs.drain()
    ((_, raw),) = relay.mail
    sent = message_from_bytes(raw, policy=default)
    assert sent["Subject"] == "Re: ①㈱の契約について"
    assert sent["In-Reply-To"] == "<outlook-1@example.jp>"
    assert sent["References"] == "<outlook-1@example.jp>"
    answer_id = sent["Message-ID"].strip("<>")
    # the consumer answers from another address of theirs? No: same address, but only our id in In-Reply-To
    reply = (
        b"From: hanako@example.jp\r\nTo: soudan@tokyo.demo.example\r\nSubject: Re: x\r\n"
        b"Message-ID: <r-9@example.jp>\r\nIn-Reply-To: <" + answer_id.encode() + b">\r\n\r\nthanks\r\n"
    )
    assert client.post(client.url, content=reply, headers=client.mail_headers).status_code == 202  # type: ignore[attr-defined]
    rt.jobs.drain()
    bounce = (
        b"From: MAILER-DAEMON@mail.example.jp\r\nTo: soudan@tokyo.demo.example\r\nSubject: Undeliverable\r\n"
        b"Message-ID: <b-77@mail.example.jp>\r\n\r\n550 User unknown\r\n\r\nMessage-ID: <"
        + answer_id.encode()
        + b">\r\n"
    )
    assert client.post(client.url, content=bounce, headers=client.mail_headers).status_code == 202  # type: ignore[attr-defined]
    rt.jobs.drain()
    with Session(rt.engine) as s:
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 1
        answer = s.exec(select(Message).where(Message.external_id == answer_id)).one()
        assert answer.status == "failed" and "User unknown" in (answer.error or "")
        assert (
            s.exec(select(Message).where(Message.external_id == "r-9@example.jp")).one().ticket_id
            == ticket_id
        )


def test_a_mail_attachment_is_stored_with_its_japanese_name(email_client: TestClient) -> None:
    from crm.models import Attachment

    assert post(email_client, "nested_rfc2231.eml").status_code == 202  # type: ignore[attr-defined]
    rt = rt_of(email_client)
    rt.jobs.drain()
    with Session(rt.engine) as s:
        rows = s.exec(select(Attachment).order_by(Attachment.id)).all()  # type: ignore[arg-type]
    assert [a.filename for a in rows] == ["契約書①.pdf", "passwd"]  # "../../etc/passwd" made safe
    att = rows[0]
    assert att.filename == "契約書①.pdf" and att.content_type == "application/pdf"
    assert att.status == "stored" and att.storage_path and att.size == 13
    stored = rt.settings.data_dir / att.storage_path
    assert stored.read_bytes() == b"%PDF-1.4 fake"
    assert "契約書" not in att.storage_path  # the display name never reaches the file system
    assert post(email_client, "nested_rfc2231.eml").status_code == 202  # type: ignore[attr-defined]
    rt.jobs.drain()
    with Session(rt.engine) as s:
        assert (
            s.exec(select(func.count()).select_from(Attachment)).one() == 2
        )  # the redelivery stores nothing
