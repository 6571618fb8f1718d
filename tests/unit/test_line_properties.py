"""Property tests for the LINE channel's pure parts: message splitting, the webhook body reader and the
event parser, over generated input (issue 10: "hypothesis property tests for the parsers, LINE splitting")."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import MalformedPayload
from channels.line.adapter import load_events
from channels.line.events import parse_event
from channels.line.splitting import split_text, utf16_len

# Japanese text with sentence ends, emoji (two UTF-16 units) and whitespace, as consumers write it.
japanese = st.text(
    alphabet=st.sampled_from(list("あいうえおカキクケコ契約解約定期購入。、！？\n 　😀🙏𠮷ｱｲｳ.!?")),
    max_size=12_000,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(text=japanese, limit=st.integers(min_value=2, max_value=5_000))
def test_split_pieces_fit_the_limit_and_keep_every_visible_character(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(0 < utf16_len(p) <= limit for p in parts)
    assert all(p.strip() for p in parts)  # LINE refuses empty text objects
    # nothing lost or reordered: only pieces that were whitespace alone are dropped
    assert _visible("".join(parts)) == _visible(text)


def _visible(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_webhook_body_is_events_or_a_clear_refusal(body: bytes) -> None:
    try:
        events = load_events(body)
    except MalformedPayload as exc:
        assert str(exc)
        return
    assert isinstance(events, list) and all(isinstance(e, dict) for e in events)


@settings(max_examples=200, deadline=None)
@given(
    event=st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "follow", "unfollow", "postback", "unsend", "join", "x"])},
        optional={
            "timestamp": json_values,
            "source": json_values,
            "message": json_values,
            "replyToken": json_values,
            "webhookEventId": json_values,
            "mode": json_values,
        },
    )
)
def test_any_event_dict_parses_to_an_item_never_an_exception(event: dict) -> None:  # type: ignore[type-arg]
    assert parse_event(event) is not None
