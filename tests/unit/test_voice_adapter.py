"""Parsing stored call steps (pure): the call becomes a message at the IVR's center, progress becomes
a CallUpdate, anything unreadable is refused with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from channels.base import Ignored, InboundMessage, InvalidRecipient, MalformedPayload, OutboundMessage
from channels.voice.adapter import VoiceAdapter, call_event
from crm.messaging import CallUpdate, ChannelKind

AT = datetime(2026, 4, 6, 1, 0, tzinfo=UTC)
FORM = {"CallSid": "CA1", "From": "+819011112222", "To": "+81501880188"}
ADAPTER = VoiceAdapter(auth_token="x")


def test_a_queued_call_is_a_message_at_the_chosen_center() -> None:
    raw = call_event(
        "call", FORM, at=AT, event_id="CA1:call", center_code="tokyo-setagaya", postal_code="1540001"
    )
    assert raw.sender == "+819011112222" and raw.occurred_at_ms == int(AT.timestamp() * 1000)
    (msg,) = ADAPTER.parse(raw.raw)
    assert isinstance(msg, InboundMessage)
    assert (msg.channel, msg.external_id, msg.kind, msg.center_code) == (
        ChannelKind.VOICE,
        "CA1",
        "call",
        "tokyo-setagaya",
    )
    assert msg.metadata["postal_code"] == "1540001" and msg.metadata["caller"] == "+819011112222"


def test_a_voicemail_carries_its_recording_url_and_length() -> None:
    form = {**FORM, "RecordingUrl": "https://api.twilio.com/RE1", "RecordingDuration": "14"}
    (msg,) = ADAPTER.parse(
        call_event("voicemail", form, at=AT, event_id="CA1:voicemail", center_code="tokyo").raw
    )
    assert isinstance(msg, InboundMessage) and msg.external_id == "CA1:voicemail" and msg.kind == "voicemail"
    assert (
        msg.metadata["recording_url"] == "https://api.twilio.com/RE1"
        and msg.metadata["recording_seconds"] == 14
    )
    assert "14 s" in msg.text


def test_progress_is_a_call_update_with_durations() -> None:
    form = {**FORM, "CallStatus": "completed", "CallDuration": "185"}
    (item,) = ADAPTER.parse(call_event("update", form, at=AT, event_id="x", status="completed").raw)
    assert isinstance(item, CallUpdate) and item.call_id == "CA1" and item.duration_seconds == 185
    (bad,) = ADAPTER.parse(
        call_event("update", {**form, "CallDuration": "lots"}, at=AT, event_id="y", status="x").raw
    )
    assert isinstance(bad, CallUpdate) and bad.duration_seconds is None


@pytest.mark.parametrize(
    "raw", ["", "not json", "[]", json.dumps({"type": "call"}), json.dumps({"params": {}})]
)
def test_unreadable_stored_events_are_refused(raw: str) -> None:
    with pytest.raises(MalformedPayload):
        ADAPTER.parse(raw)


def test_an_unknown_step_is_ignored_with_its_name() -> None:
    (item,) = ADAPTER.parse(call_event("dance", FORM, at=AT, event_id="z").raw)
    assert isinstance(item, Ignored) and "dance" in item.reason


def test_a_call_cannot_be_sent_text() -> None:
    with pytest.raises(InvalidRecipient, match="call the consumer back"):
        ADAPTER.send(OutboundMessage(channel=ChannelKind.VOICE, recipient="+81", text="hi", retry_key="k"))


def test_a_status_callback_body_splits_into_one_event_per_status() -> None:
    (event,) = ADAPTER.split(b"CallSid=CA9&CallStatus=busy&From=%2B819011112222")
    assert event.event_id == "CA9:status:busy" and event.sender == "+819011112222"
    with pytest.raises(MalformedPayload, match="CallSid and CallStatus"):
        ADAPTER.split(b"From=x")
