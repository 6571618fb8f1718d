"""The SMTP listener (aiosmtpd) in front of the inbound pipeline, and answers out through an
aiosmtpd relay: the same thread, UTF-8, and the relay's refusals mapped to our error tree."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from channels.base import ChannelTemporaryError, InvalidRecipient, OutboundMessage
from channels.email.adapter import EmailAdapter
from channels.email.parse import parse_email
from channels.email.smtpd import start_smtpd
from config.runtime import Runtime
from crm.channel_accounts import create_account
from crm.messaging import ChannelKind
from crm.models import Message, Ticket
from tests.factories import make_center

CORPUS = Path(__file__).parents[1] / "fixtures" / "email"
ADDRESS = "soudan@tokyo.demo.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listener(runtime: Runtime) -> Iterator[tuple[Runtime, int]]:
    with Session(runtime.engine, expire_on_commit=False) as s:
        center = make_center(s, code="SMTP01")
        create_account(
            s,
            kind="email",
            center_id=center.id,
            name="mail",
            address=ADDRESS,
            keys=runtime.settings.encryption_keys,
        )
    runtime.settings = runtime.settings.model_copy(update={"email_max_bytes": 40_000})
    port = free_port()
    controller = start_smtpd(runtime, host="127.0.0.1", port=port)
    try:
        yield runtime, port
    finally:
        controller.stop()


def test_listener_stores_mail_for_our_address_and_refuses_others(listener: tuple[Runtime, int]) -> None:
    rt, port = listener
    raw = (CORPUS / "outlook_iso2022jp.eml").read_bytes()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("hanako@example.jp", ["other@tokyo.demo.example"], raw)
        assert refused.value.recipients["other@tokyo.demo.example"][0] == 550
        smtp.sendmail("hanako@example.jp", [ADDRESS], raw)
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as big:  # SIZE declared
            smtp.sendmail("hanako@example.jp", [ADDRESS], b"Subject: big\r\n\r\n" + b"x" * 50_000)
        assert big.value.smtp_code == 552
    rt.jobs.drain()
    with Session(rt.engine) as s:
        msg = s.exec(select(Message)).one()
        assert "№123 ㈱髙橋商事の﨑田様" in msg.body
        assert s.exec(select(Ticket)).one().id == msg.ticket_id


class Relay:
    def __init__(self, refuse: str | None = None) -> None:
        self.mail: list[bytes] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mail.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def answer(text: str = "ご相談ありがとうございます。①について回答します。") -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelKind.EMAIL,
        recipient="hanako@example.jp",
        text=text,
        retry_key="outbox-7",
        metadata={
            "subject": "①㈱の契約について",
            "in_reply_to": "outlook-1@example.jp",
            "references": ["outlook-1@example.jp"],
        },
    )


def test_answer_reaches_the_relay_in_the_same_thread(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    adapter = EmailAdapter(
        address=ADDRESS, relay_url=f"smtp://127.0.0.1:{port}", from_name="消費生活センター"
    )
    result = adapter.send(answer())
    (raw,) = handler.mail
    sent = message_from_bytes(raw, policy=default)
    assert sent["Subject"] == "Re: ①㈱の契約について"
    assert sent["In-Reply-To"] == "<outlook-1@example.jp>"
    assert sent["References"] == "<outlook-1@example.jp>"
    assert sent["From"].addresses[0].addr_spec == ADDRESS
    assert sent.get_content().strip() == "ご相談ありがとうございます。①について回答します。"
    assert result.external_ids == (sent["Message-ID"].strip("<>"),)
    assert result.external_ids[0].endswith("@tokyo.demo.example")
    # the consumer's reply to it is threaded back, and our own bounce names it
    parsed = parse_email(raw, own_domains=("tokyo.demo.example",))
    assert parsed.is_auto and parsed.auto_reason == "our own Message-ID"


@pytest.mark.parametrize(
    ("reply", "error"),
    [("450 4.2.0 mailbox busy", ChannelTemporaryError), ("550 5.1.1 user unknown", InvalidRecipient)],
)
def test_relay_refusals_map_to_the_error_tree(relay: tuple[Relay, int], reply: str, error: type) -> None:
    handler, port = relay
    handler.refuse = reply
    adapter = EmailAdapter(address=ADDRESS, relay_url=f"smtp://127.0.0.1:{port}")
    with pytest.raises(error, match=reply.split()[0]):
        adapter.send(answer())


def test_unreachable_relay_is_temporary() -> None:
    adapter = EmailAdapter(address=ADDRESS, relay_url=f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(ChannelTemporaryError, match="cannot be reached"):
        adapter.send(answer())
