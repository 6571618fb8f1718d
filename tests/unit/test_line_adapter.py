"""LineAdapter against a local fake LINE server through the real line-bot-sdk."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.base import (
    AuthFailed,
    ChannelKind,
    ChannelPermanentError,
    ChannelTimeout,
    InvalidRecipient,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    RateLimited,
)
from channels.line.adapter import LineAdapter, derived_retry_key
from channels.line.media import ContentTooLarge, download_content
from channels.line.splitting import utf16_len
from config.settings import Settings
from tests.fakes.line_server import FakeLineServer, fixture_event, line_settings, sign, webhook_body

USER = "U4af4980629a0f0d1b2c3d4e5f6a7b8c9"


@pytest.fixture
def adapter(line: FakeLineServer, tmp_path: Path) -> Iterator[LineAdapter]:
    a = LineAdapter.from_settings(line_settings(Settings(env="test", data_dir=tmp_path), line))
    yield a
    a.close()


def out(text: str, key: str | None = None, to: str = USER) -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelKind.LINE, recipient=to, text=text, retry_key=key or str(uuid.uuid4())
    )


# -- signature ---------------------------------------------------------------------------------


def test_valid_signature_is_accepted(adapter: LineAdapter) -> None:
    body = webhook_body(fixture_event("text"))
    adapter.verify({"X-Line-Signature": sign(body)}, body)
    adapter.verify({"x-line-signature": sign(body)}, body)  # header names are case-insensitive


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Line-Signature": ""},
        {"X-Line-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Line-Signature": "署名"},
    ],
)
def test_missing_or_forged_signature_is_refused(adapter: LineAdapter, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature):
        adapter.verify(headers, webhook_body(fixture_event("text")))


def test_signature_of_another_secret_or_body_is_refused(adapter: LineAdapter) -> None:
    body = webhook_body(fixture_event("text"))
    with pytest.raises(InvalidSignature):
        adapter.verify({"X-Line-Signature": sign(body, "other-secret")}, body)
    with pytest.raises(InvalidSignature):
        adapter.verify({"X-Line-Signature": sign(body)}, body + b" ")


def test_signed_body_that_is_not_utf8_is_malformed_not_forged(adapter: LineAdapter) -> None:
    body = b'{"events": ["\xff"]}'
    with pytest.raises(MalformedPayload):
        adapter.verify({"X-Line-Signature": sign(body)}, body)
    with pytest.raises(InvalidSignature):
        adapter.verify({"X-Line-Signature": sign(b"x")}, body)


def test_split_then_parse_gives_one_neutral_item_per_event(adapter: LineAdapter) -> None:
    body = webhook_body(fixture_event("text"), fixture_event("follow"), fixture_event("unknown"))
    raw = adapter.split(body)
    assert [r.event_id for r in raw] == [e["webhookEventId"] for e in json.loads(body)["events"]]
    items = [item for r in raw for item in adapter.parse(r.raw)]
    assert [type(i).__name__ for i in items] == ["InboundMessage", "Followed", "Ignored"]


# -- push --------------------------------------------------------------------------------------


def test_push_sends_text_with_the_retry_key(adapter: LineAdapter, line: FakeLineServer) -> None:
    key = str(uuid.uuid4())
    result = adapter.send(out("ご連絡ありがとうございます。𠮷野家の件、確認します👨‍👩‍👧", key))
    (push,) = line.pushes()
    assert push.retry_key == key
    assert push.headers["authorization"] == "Bearer test-line-access-token"
    assert push.body["to"] == USER
    assert push.body["messages"] == [
        {"type": "text", "text": "ご連絡ありがとうございます。𠮷野家の件、確認します👨‍👩‍👧"}
    ]
    assert len(result.external_ids) == 1 and result.parts == 1


def test_long_message_is_split_over_requests_with_derived_keys(
    adapter: LineAdapter, line: FakeLineServer
) -> None:
    text = "返金😢😢😢😢😢😢！" * 2000
    key = str(uuid.uuid4())
    result = adapter.send(out(text, key))
    pushes = line.pushes()
    assert len(pushes) == 2
    assert [p.retry_key for p in pushes] == [key, derived_retry_key(key, 1)]
    assert all(1 <= len(p.body["messages"]) <= 5 for p in pushes)
    texts = [m["text"] for p in pushes for m in p.body["messages"]]
    assert "".join(texts) == text and all(utf16_len(t) <= 5000 for t in texts)
    assert result.parts == len(texts)


def test_derived_keys_are_stable_uuids() -> None:
    key = str(uuid.uuid4())
    assert derived_retry_key(key, 0) == key
    assert derived_retry_key(key, 1) == derived_retry_key(key, 1) != derived_retry_key(key, 2)
    uuid.UUID(derived_retry_key("not-a-uuid", 3))


def test_resend_with_the_same_key_is_not_delivered_twice(adapter: LineAdapter, line: FakeLineServer) -> None:
    key = str(uuid.uuid4())
    adapter.send(out("一度だけ届くはずです。", key))
    adapter.send(out("一度だけ届くはずです。", key))  # LINE answers 409: already accepted, not an error
    assert [r.status for r in line.requests_to("/v2/bot/message/push")] == [200, 409]
    assert line.pushed_texts() == ["一度だけ届くはずです。"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, RateLimited),
        (500, ChannelTimeout),
        (503, ChannelTimeout),
        (401, AuthFailed),
        (400, InvalidRecipient),
        (403, InvalidRecipient),
        (404, InvalidRecipient),
        (413, ChannelPermanentError),
    ],
)
def test_line_errors_map_to_channel_errors(
    adapter: LineAdapter, line: FakeLineServer, status: int, error: type
) -> None:
    line.fail_next(status, path_prefix="/v2/bot/message/push")
    with pytest.raises(error) as info:
        adapter.send(out("テスト"))
    assert str(status) in str(info.value) or status == 429
    assert line.pushes() == []


def test_blocked_user_is_an_invalid_recipient_with_lines_reason(
    adapter: LineAdapter, line: FakeLineServer
) -> None:
    line.block(USER)
    with pytest.raises(InvalidRecipient, match="Failed to send messages"):
        adapter.send(out("届きません"))


def test_wrong_token_is_auth_failed(line: FakeLineServer, tmp_path: Path) -> None:
    settings = line_settings(Settings(env="test", data_dir=tmp_path), line).model_copy(
        update={"line_channel_access_token": "wrong"}
    )
    with pytest.raises(AuthFailed, match="ACCESS_TOKEN"):
        LineAdapter.from_settings(settings).send(out("x"))


def test_unreachable_line_is_a_temporary_error(tmp_path: Path) -> None:
    server = FakeLineServer()
    url = server.url
    server.stop()  # nothing listens there any more
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        line_channel_secret="s",
        line_channel_access_token="t",
        line_api_base_url=url,
        line_blob_base_url=url,
    )
    with pytest.raises(ChannelTimeout, match="could not reach LINE"):
        LineAdapter.from_settings(settings).send(out("x"))


# -- reply, loading, profile, leave ------------------------------------------------------------------


def test_reply_token_answer(adapter: LineAdapter, line: FakeLineServer) -> None:
    adapter.reply("rt-1", ["ようこそ"])
    body = line.replies()[0].body
    assert body["replyToken"] == "rt-1" and body["messages"] == [{"type": "text", "text": "ようこそ"}]
    with pytest.raises(InvalidRecipient, match="Invalid reply token"):
        adapter.reply("rt-1", ["二回目"])  # tokens are single use


def test_loading_animation_profile_and_leave(adapter: LineAdapter, line: FakeLineServer) -> None:
    adapter.show_loading(USER, 37)
    assert line.requests_to("/v2/bot/chat/loading/start")[0].body == {"chatId": USER, "loadingSeconds": 35}
    line.add_profile(USER, "山田 花子", "ja")
    profile = adapter.get_profile(USER)
    assert (profile.display_name, profile.language) == ("山田 花子", "ja")
    with pytest.raises(InvalidRecipient):
        adapter.get_profile("Uunknown")
    adapter.leave_chat("group", "Cgroup1")
    adapter.leave_chat("room", "Rroom1")
    assert [r.path for r in line.requests_to("/v2/bot/", "POST")][-2:] == [
        "/v2/bot/group/Cgroup1/leave",
        "/v2/bot/room/Rroom1/leave",
    ]


# -- content download --------------------------------------------------------------------------


def test_ten_megabyte_image_is_stored_content_addressed(
    adapter: LineAdapter, line: FakeLineServer, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    line.add_content("m1", data, "image/jpeg")
    stored = download_content(adapter, "m1", tmp_path, max_bytes=20_000_000)
    assert stored.size == len(data) and stored.content_type == "image/jpeg"
    assert stored.storage_path == f"attachments/{stored.sha256[:2]}/{stored.sha256}"
    assert (tmp_path / stored.storage_path).read_bytes() == data
    assert list((tmp_path / "attachments" / "tmp").iterdir()) == []


def test_too_large_content_is_refused_and_nothing_is_kept(
    adapter: LineAdapter, line: FakeLineServer, tmp_path: Path
) -> None:
    line.add_content("big", b"x" * 2_000_001)
    with pytest.raises(ContentTooLarge) as info:
        download_content(adapter, "big", tmp_path, max_bytes=2_000_000)
    assert info.value.limit == 2_000_000
    assert not any(p.is_file() for p in (tmp_path / "attachments").rglob("*"))


def test_missing_content_and_preparing_content(
    adapter: LineAdapter, line: FakeLineServer, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRecipient):
        download_content(adapter, "gone", tmp_path, max_bytes=1000)
    line.fail_next(202, path_prefix="/v2/bot/message/")
    with pytest.raises(ChannelTimeout, match="preparing"):
        download_content(adapter, "m2", tmp_path, max_bytes=1000)


def test_automatic_answer_uses_the_reply_token_then_falls_back_to_push(
    adapter: LineAdapter, line: FakeLineServer
) -> None:
    event = fixture_event("text", replyToken="rt-auto", timestamp=int(time.time() * 1000))
    adapter.parse(json.dumps(event))  # the adapter keeps the chat's fresh reply token (LINE-only state)
    first = OutboundMessage(ChannelKind.LINE, USER, "受付時間外です。", "k-auto-1", automatic=True)
    adapter.send(first)
    assert [r.body["replyToken"] for r in line.replies()] == ["rt-auto"] and not line.pushes()
    again = OutboundMessage(ChannelKind.LINE, USER, "受付時間外です。", "k-auto-2", automatic=True)
    adapter.send(again)  # the token is spent (single use): the answer goes by push
    assert [p.body["to"] for p in line.pushes()] == [USER]


def test_counselor_replies_and_retries_never_use_the_reply_token(
    adapter: LineAdapter, line: FakeLineServer
) -> None:
    event = fixture_event("text", replyToken="rt-fresh", timestamp=int(time.time() * 1000))
    adapter.parse(json.dumps(event))
    adapter.send(out("相談員の返信です。"))  # not automatic: push with the retry key
    retry = OutboundMessage(ChannelKind.LINE, USER, "受付時間外です。", "k-auto-3", automatic=True, attempt=2)
    adapter.send(retry)  # a retry cannot know whether the token was used: push
    assert line.replies() == [] and len(line.pushes()) == 2


def test_a_stale_reply_token_is_not_kept(adapter: LineAdapter, line: FakeLineServer) -> None:
    event = fixture_event("follow", timestamp=int((time.time() - 600) * 1000))
    adapter.parse(json.dumps(event))
    adapter.send(OutboundMessage(ChannelKind.LINE, USER, "ようこそ", "k-late", automatic=True))
    assert line.replies() == [] and [p.body["to"] for p in line.pushes()] == [USER]
