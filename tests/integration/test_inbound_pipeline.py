"""The one inbound pipeline with a channel that is not LINE (channels.fake.FakeAdapter): store raw,
a per-sender job parses and crm applies; automatic answers go through the outbox onto the timeline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from channels.base import ChannelKind, RateLimited
from channels.fake import FakeAdapter
from channels.jobs import enqueue_sender
from config.runtime import Runtime
from crm.inbound_events import store_raw
from crm.models import Direction, InboundEvent, Message, OutboxItem, Ticket
from crm.services import post_reply
from tests.factories import make_center, make_user

KIND = ChannelKind.EMAIL


@pytest.fixture
def fake(runtime: Runtime) -> Iterator[FakeAdapter]:
    adapter = FakeAdapter(KIND)
    runtime.adapters.install(KIND.value, adapter)  # type: ignore[attr-defined]
    yield adapter


def deliver_events(rt: Runtime, fake: FakeAdapter, *events: dict[str, object]) -> None:
    body = json.dumps({"events": list(events)}).encode()
    fake.verify({"X-Fake-Signature": fake.sign(body)}, body)
    result = store_raw(rt.engine, channel=KIND.value, account_id=None, events=fake.split(body))
    for sender in result.new_senders:
        enqueue_sender(rt, None, sender)
    rt.jobs.drain()


def now_ms() -> int:
    return int(time.time() * 1000)


def test_a_message_becomes_a_ticket_and_a_reply_leaves_through_the_adapter(
    runtime: Runtime, fake: FakeAdapter
) -> None:
    with Session(runtime.engine, expire_on_commit=False) as s:
        center = make_center(s, code="FAKE1", name="みなと市消費生活センター")
        counselor = make_user(s, center, "fake-counselor")
    deliver_events(
        runtime, fake, {"id": "m1", "sender": "taro@example.jp", "text": "解約できません", "at_ms": now_ms()}
    )
    with Session(runtime.engine, expire_on_commit=False) as s:
        ticket = s.exec(select(Ticket)).one()
        assert ticket.channel == KIND.value and ticket.center_id == center.id
        post_reply(s, ticket=ticket, author=counselor, body="ご連絡ありがとうございます。")
    runtime.jobs.drain()
    assert [(m.recipient, m.text, m.automatic) for m in fake.sent] == [
        ("taro@example.jp", "ご連絡ありがとうございます。", False)
    ]
    assert [type(item).__name__ for item, _ in fake.applied] == ["InboundMessage"]


def test_the_greeting_goes_through_the_outbox_onto_the_timeline(runtime: Runtime, fake: FakeAdapter) -> None:
    with Session(runtime.engine) as s:
        make_center(s, code="FAKE1", name="みなと市消費生活センター")
    deliver_events(
        runtime, fake, {"id": "m1", "sender": "hanako@example.jp", "text": "相談です", "at_ms": now_ms()}
    )
    deliver_events(
        runtime, fake, {"id": "f1", "sender": "hanako@example.jp", "type": "follow", "at_ms": now_ms()}
    )
    (greeting,) = fake.sent
    assert greeting.automatic and "みなと市消費生活センター" in greeting.text
    with Session(runtime.engine) as s:
        timeline = s.exec(select(Message).order_by(col(Message.id))).all()
        assert [(m.direction, m.kind, m.status.value) for m in timeline] == [
            (Direction.INBOUND, "text", "received"),
            (Direction.OUTBOUND, "auto", "sent"),
        ]
        assert s.exec(select(OutboxItem)).one().status.value == "sent"


def test_a_greeting_without_a_ticket_is_an_outbox_row_and_is_retried(
    runtime: Runtime, fake: FakeAdapter
) -> None:
    with Session(runtime.engine) as s:
        make_center(s, code="FAKE1")
    fake.fail_with(RateLimited("429"))
    deliver_events(
        runtime, fake, {"id": "f1", "sender": "new@example.jp", "type": "follow", "at_ms": now_ms()}
    )
    assert fake.sent == []
    with Session(runtime.engine) as s:
        item = s.exec(select(OutboxItem)).one()
        assert item.message_id is None and item.body and item.status.value == "pending" and item.last_error
        assert s.exec(select(InboundEvent)).one().status.value == "processed"
        assert s.exec(select(Ticket)).all() == []
