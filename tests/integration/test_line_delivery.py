"""Counselor replies go out by push through the outbox; LINE media comes into the attachment store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from channels.base import ChannelKind, OutboundMessage
from channels.line.splitting import utf16_len
from config.runtime import Runtime
from config.settings import Settings
from crm.models import (
    Attachment,
    Message,
    MessageStatus,
    Note,
    OutboxItem,
    OutboxStatus,
    Ticket,
    User,
    utcnow,
)
from crm.services import post_reply
from tests.conftest import clean_runtime
from tests.factories import make_center, make_user
from tests.fakes.line_server import FakeLineServer, fixture_event, line_settings
from tests.line_accounts import accept_events

USER = "U4af4980629a0f0d1b2c3d4e5f6a7b8c9"
LIMIT = 12_000_000


@pytest.fixture
def rt(migrated: Settings, line: FakeLineServer) -> Iterator[Runtime]:
    settings = line_settings(migrated, line, line_center_code="LINE01", line_max_attachment_bytes=LIMIT)
    with clean_runtime(settings, live=False) as runtime:
        yield runtime


@pytest.fixture
def counselor(rt: Runtime) -> User:
    with Session(rt.engine, expire_on_commit=False) as s:
        center = make_center(s, code="LINE01")
        return make_user(s, center, "line-counselor")


def receive(rt: Runtime, *events: dict[str, Any]) -> None:
    accept_events(rt, list(events))
    rt.jobs.drain()


def ev(name: str, **overrides: Any) -> dict[str, Any]:
    return fixture_event(name, **{"timestamp": int(time.time() * 1000), **overrides})


def reply(rt: Runtime, counselor: User, body: str) -> int:
    """A consumer writes, the counselor answers; returns the outbound message id."""
    receive(rt, ev("text"))
    with Session(rt.engine, expire_on_commit=False) as s:
        ticket = s.exec(select(Ticket)).one()
        message = post_reply(s, ticket=ticket, author=counselor, body=body)
    rt.jobs.drain()
    return message.id  # type: ignore[return-value]


def time_passes(rt: Runtime) -> None:
    """The backoff delay is over: the outbox row is due and its delayed job runs now."""
    with rt.engine.begin() as conn:
        conn.execute(update(OutboxItem).values(next_attempt_at=utcnow()))
    rt.jobs.run_delayed_now()  # type: ignore[attr-defined]
    rt.jobs.drain()


def load(rt: Runtime, message_id: int) -> tuple[Message, OutboxItem]:
    with Session(rt.engine) as s:
        msg = s.get(Message, message_id)
        item = s.exec(select(OutboxItem).where(OutboxItem.message_id == message_id)).one()
        assert msg is not None
        return msg, item


# -- outbound ------------------------------------------------------------------------------------


def test_reply_is_pushed_with_the_outbox_retry_key(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    message_id = reply(rt, counselor, "ご相談ありがとうございます。契約書の日付を教えてください。")
    msg, item = load(rt, message_id)
    (push,) = line.pushes()
    assert push.body["to"] == USER and push.retry_key == item.retry_key
    assert push.body["messages"][0]["text"] == "ご相談ありがとうございます。契約書の日付を教えてください。"
    assert msg.status == MessageStatus.SENT and item.status == OutboxStatus.SENT
    assert msg.meta["vendor_message_ids"]


def test_rate_limited_then_delivered_once_with_the_same_key(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    line.fail_next(429, path_prefix="/v2/bot/message/push")
    message_id = reply(rt, counselor, "少々お待ちください。")
    msg, item = load(rt, message_id)
    assert msg.status == MessageStatus.QUEUED and item.status == OutboxStatus.PENDING and item.last_error
    time_passes(rt)
    msg, item = load(rt, message_id)
    assert msg.status == MessageStatus.SENT
    attempts = line.requests_to("/v2/bot/message/push")
    assert [a.status for a in attempts] == [429, 200]
    assert {a.retry_key for a in attempts} == {item.retry_key}
    assert line.pushed_texts() == ["少々お待ちください。"]


def test_send_that_reached_line_before_a_crash_is_not_delivered_twice(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    line.fail_next(500, path_prefix="/v2/bot/message/push")
    message_id = reply(rt, counselor, "一度だけ届きます。")
    _, item = load(rt, message_id)
    # The worker sent it, LINE accepted, then the worker died before recording "sent".
    adapter = rt.adapters.get("line", item.channel_account_id)
    adapter.send(OutboundMessage(ChannelKind.LINE, USER, "一度だけ届きます。", item.retry_key))
    time_passes(rt)
    msg, _ = load(rt, message_id)
    assert msg.status == MessageStatus.SENT
    assert line.pushed_texts() == ["一度だけ届きます。"]
    assert [r.status for r in line.requests_to("/v2/bot/message/push")] == [500, 200, 409]


def test_blocked_user_fails_the_message_with_the_reason(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    line.block(USER)
    message_id = reply(rt, counselor, "届かない返信")
    msg, item = load(rt, message_id)
    assert msg.status == MessageStatus.FAILED and item.status == OutboxStatus.FAILED
    assert "LINE refused the push (400)" in (msg.error or "") and "Failed to send messages" in (
        msg.error or ""
    )
    assert len(line.requests_to("/v2/bot/message/push")) == 1  # a 4xx is not retried


def test_twenty_thousand_character_reply_is_split(rt: Runtime, counselor: User, line: FakeLineServer) -> None:
    body = "返金😢😢😢😢😢😢！" * 2000 + "以上です。"  # 18,005 characters, 30,005 UTF-16 units
    message_id = reply(rt, counselor, body)
    msg, item = load(rt, message_id)
    assert msg.status == MessageStatus.SENT
    pushes = line.pushes()
    assert len(pushes) == 2 and all(len(p.body["messages"]) <= 5 for p in pushes)
    assert pushes[0].retry_key == item.retry_key and pushes[1].retry_key != item.retry_key
    texts = line.pushed_texts()
    assert "".join(texts) == body and all(utf16_len(t) <= 5000 for t in texts)


# -- media ---------------------------------------------------------------------------------------


def attachment(rt: Runtime) -> Attachment:
    with Session(rt.engine) as s:
        return s.exec(select(Attachment)).one()


def notes(rt: Runtime) -> list[str]:
    with Session(rt.engine) as s:
        return [n.body for n in s.exec(select(Note)).all()]


def test_ten_megabyte_image_is_downloaded_and_stored(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    data = b"\xff\xd8\xff\xe0" + bytes(range(256)) * (10 * 1024 * 1024 // 256)
    line.add_content("354718705033693859", data, "image/jpeg")
    receive(rt, ev("image"))
    att = attachment(rt)
    assert att.status == "stored" and att.size == len(data) and att.content_type == "image/jpeg"
    assert att.filename == "line-image-354718705033693859.jpg"
    assert (rt.settings.data_dir / att.storage_path).read_bytes() == data  # type: ignore[operator]


def test_too_large_image_is_refused_and_the_counselor_is_told(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    line.add_content("354718705033693859", b"x" * (LIMIT + 1))
    receive(rt, ev("image"))
    att = attachment(rt)
    assert att.status == "too_large" and att.storage_path is None
    assert any("larger than the limit" in n for n in notes(rt))


def test_file_declared_too_large_is_not_even_downloaded(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    event = ev("file")
    event["message"]["fileSize"] = LIMIT * 2
    receive(rt, event)
    assert attachment(rt).status == "too_large"
    assert line.requests_to("/v2/bot/message/325710/content") == []


def test_download_is_retried_after_a_temporary_failure(
    rt: Runtime, counselor: User, line: FakeLineServer
) -> None:
    line.add_content("325708", b"video bytes", "video/mp4")
    line.fail_next(500, path_prefix="/v2/bot/message/325708/content")
    receive(rt, ev("video"))
    assert attachment(rt).status == "pending"
    rt.jobs.run_delayed_now()  # type: ignore[attr-defined]
    rt.jobs.drain()
    att = attachment(rt)
    assert att.status == "stored" and att.content_type == "video/mp4"


def test_content_gone_from_line_fails_with_a_note(rt: Runtime, counselor: User, line: FakeLineServer) -> None:
    receive(rt, ev("audio"))  # the fake LINE has no content for it: 404
    assert attachment(rt).status == "failed"
    assert any("could not be downloaded" in n for n in notes(rt))
