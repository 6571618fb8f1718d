"""X-Twilio-Signature: the SDK's own vector recomputed, and every way a forged request can differ."""

from __future__ import annotations

import pytest

from channels.base import InvalidSignature
from channels.voice.adapter import VoiceAdapter, caller_identity, is_withheld

# twilio-python tests/unit/test_request_validator.py (and Twilio's documentation)
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_the_sdk_vector_is_accepted() -> None:
    VoiceAdapter(auth_token="12345").verify_form(URL, PARAMS, EXPECTED)


@pytest.mark.parametrize(
    ("url", "params", "signature", "token"),
    [
        (URL, {**PARAMS, "Digits": "1235"}, EXPECTED, "12345"),  # tampered parameter
        (URL, {**PARAMS, "Extra": "1"}, EXPECTED, "12345"),  # added parameter
        ("https://mycompany.com/myapp.php?foo=1&bar=3", PARAMS, EXPECTED, "12345"),  # other query
        ("https://evil.example/myapp.php?foo=1&bar=2", PARAMS, EXPECTED, "12345"),  # other host
        (URL, PARAMS, EXPECTED, "54321"),  # another account's token
        (URL, PARAMS, "", "12345"),  # missing header
        (URL, PARAMS, "not base64 at all", "12345"),
        (URL, PARAMS, EXPECTED.lower(), "12345"),
    ],
)
def test_a_forged_request_is_refused(url: str, params: dict[str, str], signature: str, token: str) -> None:
    with pytest.raises(InvalidSignature):
        VoiceAdapter(auth_token=token).verify_form(url, params, signature)


def test_without_a_token_nothing_is_accepted() -> None:
    with pytest.raises(InvalidSignature, match="no Twilio auth token"):
        VoiceAdapter(auth_token="").verify_form(URL, PARAMS, EXPECTED)


def test_the_protocol_verify_reads_the_public_url_and_the_header() -> None:
    body = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in PARAMS.items()).encode()
    headers = {"X-Twilio-Signature": EXPECTED, "x-madoguchi-public-url": URL}
    VoiceAdapter(auth_token="12345").verify(headers, body)
    with pytest.raises(InvalidSignature):
        VoiceAdapter(auth_token="12345").verify({**headers, "x-madoguchi-public-url": URL + "&x=1"}, body)


@pytest.mark.parametrize(
    "number", ["anonymous", "Restricted", "+266696687", "", "0312345678", "client:user-1"]
)
def test_withheld_numbers_become_one_contact_per_call(number: str) -> None:
    assert is_withheld(number)
    assert caller_identity({"From": number, "CallSid": "CA77"}) == "withheld:CA77"


def test_a_real_number_is_the_contact_identity() -> None:
    assert not is_withheld("+819012345678")
    assert caller_identity({"From": "+819012345678", "CallSid": "CA1"}) == "+819012345678"
