"""Channel-account field checks: each refusal names the field a person has to fix."""

from __future__ import annotations

import pytest

from crm.channel_validation import (
    clean_secrets,
    clean_settings,
    normalize_address,
    require_secrets,
    rules_for,
)
from crm.errors import Unprocessable


@pytest.mark.parametrize(
    ("kind", "address", "expected"),
    [
        ("line", "1657012345", "1657012345"),
        ("line", "center:TKY-01", "center:TKY-01"),
        ("email", "Soudan@Center.Example.JP", "Soudan@center.example.jp"),
        ("voice", "+81312345678", "+81312345678"),
        ("voice", " +8118800000 ", "+8118800000"),
    ],
)
def test_good_addresses_are_normalized(kind: str, address: str, expected: str) -> None:
    assert normalize_address(kind, address) == expected


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("line", "abc123"),
        ("line", "U1234567890abcdef"),
        ("email", "no-at-sign"),
        ("email", "a@b"),
        ("email", "a b@example.jp"),
        ("email", "a@-bad-.jp"),
        ("voice", "03-1234-5678"),
        ("voice", "+81 3 1234 5678"),
        ("voice", "+0312345678"),
        ("voice", "+1234567"),
        ("voice", "+1234567890123456"),
        ("voice", "188"),
        ("voice", ""),
    ],
)
def test_malformed_addresses_name_the_field(kind: str, address: str) -> None:
    with pytest.raises(Unprocessable, match=r"^address: "):
        normalize_address(kind, address)


def test_unknown_kind_names_kind() -> None:
    with pytest.raises(Unprocessable, match=r"^kind: 'fax' is not one of line, email, voice"):
        rules_for("fax")


def test_settings_unknown_key_and_bad_values() -> None:
    assert clean_settings("email", {"imap_host": "imap.example.jp", "imap_port": 993}) == {
        "imap_host": "imap.example.jp",
        "imap_port": 993,
    }
    with pytest.raises(Unprocessable, match=r"^settings\.imap_hots: unknown setting"):
        clean_settings("email", {"imap_hots": "x"})
    with pytest.raises(Unprocessable, match=r"^settings\.imap_port: "):
        clean_settings("email", {"imap_port": "993"})
    with pytest.raises(Unprocessable, match=r"^settings\.imap_port: "):
        clean_settings("email", {"imap_port": True})
    with pytest.raises(Unprocessable, match=r"^settings\.api_base_url: "):
        clean_settings("line", {"api_base_url": "file:///etc/passwd"})


def test_secrets_checked_and_required() -> None:
    with pytest.raises(Unprocessable, match=r"^secrets\.password: unknown secret"):
        clean_secrets("line", {"password": "x"})
    with pytest.raises(Unprocessable, match=r"^secrets\.channel_secret: starts or ends with whitespace"):
        clean_secrets("line", {"channel_secret": "abc\n"})
    with pytest.raises(Unprocessable, match=r"^secrets\.access_token: required"):
        require_secrets("line", {"channel_secret": "abc"})
    with pytest.raises(Unprocessable, match=r"^secrets\.inbound_token: unknown secret"):
        clean_secrets("email", {"inbound_token": "chosen-by-caller"})
