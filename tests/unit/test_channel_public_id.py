"""Webhook ids are typed on command lines (`--account ID`, `madoguchi channel disable ID`)."""

from __future__ import annotations

from crm.channel_accounts import PUBLIC_ID, new_public_id


def test_generated_public_ids_are_valid_unique_and_never_look_like_an_option() -> None:
    ids = [new_public_id() for _ in range(5000)]
    assert all(PUBLIC_ID.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert not any(
        i.startswith("-") for i in ids
    )  # token_urlsafe's ids did, 1 in 32: argparse then refused them
    assert all(i.isalnum() for i in ids)
