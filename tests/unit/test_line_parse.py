"""parse() turns LINE's documented webhook shapes into our dataclasses; nothing unknown ever fails."""

from __future__ import annotations

import json

import pytest

from channels.base import InboundMessage, MalformedPayload
from channels.line.adapter import LineAdapter, event_id_of, load_events
from channels.line.events import (
    Follow,
    Ignored,
    Join,
    Leave,
    MessageEdited,
    Postback,
    Unfollow,
    Unsend,
    parse_event,
    safe_filename,
    sender_of,
)
from crm.inbound_events import event_rows, storable_event_id
from crm.messaging import strip_nul
from tests.fakes.line_server import fixture_event, fixture_events, webhook_body

ADAPTER = LineAdapter(channel_secret="s", access_token="t", api_base_url="http://127.0.0.1:9")

USER = "U4af4980629a0f0d1b2c3d4e5f6a7b8c9"


def test_text_message_keeps_original_text_emoji_and_mentions() -> None:
    msg = parse_event(fixture_event("text"))
    assert isinstance(msg, InboundMessage)
    assert msg.channel == "line" and msg.kind == "text"
    assert msg.external_id == "468789577898262530"
    assert msg.sender == USER
    assert msg.text.startswith("定期購入の解約ができません😢") and "𠮷野家" in msg.text
    assert "reply_token" not in InboundMessage.__dataclass_fields__  # a LINE concept: kept by the adapter
    assert msg.metadata["line_event_id"] == "01HTEXT0000000000000000001"
    assert msg.metadata["emojis"][0]["productId"] == "5ac1bfd5040ab15980c9b435"
    assert msg.metadata["mention"]["mentionees"][0]["userId"] == USER
    assert msg.at.year == 2023 and msg.at.tzinfo is not None


@pytest.mark.parametrize(
    ("name", "kind", "filename"),
    [
        ("image", "image", "line-image-354718705033693859.jpg"),
        ("video", "video", "line-video-325708.mp4"),
        ("audio", "audio", "line-audio-325709.m4a"),
        ("file", "file", "契約書 (控え).pdf"),
    ],
)
def test_media_messages_carry_an_attachment_to_download(name: str, kind: str, filename: str) -> None:
    msg = parse_event(fixture_event(name))
    assert isinstance(msg, InboundMessage) and msg.kind == kind
    (att,) = msg.attachments
    assert att.external_ref == msg.external_id
    assert att.filename == filename  # the file's "../../" path was dropped
    assert msg.text.startswith("[")


def test_external_image_is_described_not_downloaded() -> None:
    event = fixture_event("image")
    event["message"]["contentProvider"] = {
        "type": "external",
        "originalContentUrl": "https://example.com/original.jpg",
        "previewImageUrl": "https://example.com/preview.jpg",
    }
    msg = parse_event(event)
    assert isinstance(msg, InboundMessage) and msg.attachments == ()
    assert "https://example.com/original.jpg" in msg.text


def test_location_and_sticker_become_readable_placeholders() -> None:
    loc = parse_event(fixture_event("location"))
    assert isinstance(loc, InboundMessage) and loc.kind == "location"
    assert "東京都千代田区紀尾井町" in loc.text and "35.67966" in loc.text
    sticker = parse_event(fixture_event("sticker"))
    assert isinstance(sticker, InboundMessage) and sticker.kind == "sticker"
    assert sticker.text == "[スタンプ sticker: happy, smile]"


def test_non_message_events() -> None:
    follow = parse_event(fixture_event("follow"))
    assert isinstance(follow, Follow) and follow.user_id == USER and follow.reply_token == "rt-follow"
    assert isinstance(parse_event(fixture_event("unfollow")), Unfollow)
    postback = parse_event(fixture_event("postback_consent"))
    assert isinstance(postback, Postback) and postback.data == "consent=yes"
    unsend = parse_event(fixture_event("unsend"))
    assert isinstance(unsend, Unsend) and unsend.message_id == "468789577898262530"
    edited = parse_event(fixture_event("message_edited"))
    assert isinstance(edited, MessageEdited) and edited.message is not None
    assert edited.message.external_id == "468789577898262530" and "訂正" in edited.message.text
    join = parse_event(fixture_event("join"))
    assert isinstance(join, Join) and join.source_type == "group" and join.chat_id.startswith("C")  # type: ignore[union-attr]
    assert isinstance(parse_event(fixture_event("leave")), Leave)


def test_group_message_is_marked_as_from_a_group() -> None:
    msg = parse_event(fixture_event("group_message"))
    assert isinstance(msg, InboundMessage) and msg.metadata["source_type"] == "group"


@pytest.mark.parametrize("name", ["unknown", "member_joined"])
def test_unknown_or_unused_event_types_are_ignored_with_a_reason(name: str) -> None:
    item = parse_event(fixture_event(name))
    assert isinstance(item, Ignored) and item.reason
    assert item.event_id.startswith("01H")


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"type": "message"},
        {"type": "message", "message": {"type": "text"}, "timestamp": "yesterday"},
        {"type": "follow", "webhookEventId": 5, "source": "nope"},
        {"type": None},
    ],
)
def test_garbage_events_become_ignored_not_errors(garbage: dict) -> None:  # type: ignore[type-arg]
    assert isinstance(parse_event(garbage), Ignored)


def test_redelivery_flag_is_kept() -> None:
    event = fixture_event("text", deliveryContext={"isRedelivery": True})
    msg = parse_event(event)
    assert isinstance(msg, InboundMessage) and msg.metadata["redelivery"] is True


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"events": {}}',
        b'{"events": [1, 2]}',
        b"\xff\xfe{",
        b'{"destination": "U1"}',
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        load_events(body)


def test_verify_button_body_has_no_events() -> None:
    assert load_events(json.dumps({"destination": "U1", "events": fixture_events("verify")}).encode()) == []


def test_rows_for_storage_dedupe_within_one_body_and_hash_missing_ids() -> None:
    text = fixture_event("text")
    no_id = {k: v for k, v in fixture_event("follow").items() if k != "webhookEventId"}
    raw = ADAPTER.split(webhook_body(text, text, no_id))
    rows = event_rows("line", 1, raw)
    assert len(rows) == 2
    assert rows[0]["provider_event_id"] == "01HTEXT0000000000000000001"
    assert rows[0]["sender"] == USER and rows[0]["occurred_at_ms"] == 1700000000000
    assert rows[1]["provider_event_id"] == event_id_of(no_id) and event_id_of(no_id).startswith("sha256:")
    assert sender_of(fixture_event("join")).startswith("C")
    assert sender_of({"source": None}) == "unknown"


def test_long_event_ids_are_kept_distinct_not_cut() -> None:
    """Two ids that share their first 128 characters were one row (the second event was dropped)."""
    base = fixture_event("text")
    a = {**base, "webhookEventId": "E" * 128 + "-first"}
    b = {**base, "webhookEventId": "E" * 128 + "-second"}
    rows = event_rows("line", 1, ADAPTER.split(webhook_body(a, b)))
    ids = [r["provider_event_id"] for r in rows]
    assert len(set(ids)) == 2 and all(len(i) <= 128 for i in ids)
    assert storable_event_id("E" * 128) == "E" * 128  # ids that fit are stored whole


def test_nul_characters_are_replaced_before_storage() -> None:
    """PostgreSQL text cannot hold U+0000: the event failed forever; now it is stored (U+FFFD)."""
    event = fixture_event("text")
    event["message"] = {**event["message"], "text": "a\x00b"}
    (row,) = event_rows("line", 1, ADAPTER.split(webhook_body(event)))
    assert "\x00" not in row["raw"]
    (msg,) = ADAPTER.parse(row["raw"])
    assert isinstance(msg, InboundMessage) and strip_nul(msg.text) == "a\ufffdb"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\見積書.xlsx", "見積書.xlsx"),
        ("..", "fallback"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ("ｆｕｌｌｗｉｄｔｈ．pdf", "fullwidth.pdf"),
        ("what?<>|.txt", "what____.txt"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name, fallback="fallback") == expected
