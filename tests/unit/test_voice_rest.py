"""Twilio REST calls through the official SDK, answered by the local stand-in: what is sent, and each
vendor failure translated into our error tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.base import AuthFailed, ChannelTimeout, InvalidRecipient, RateLimited
from channels.voice import rest
from config.settings import Settings
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioServer


@pytest.fixture
def server() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer() as s:
        yield s


def client(server: FakeTwilioServer, token: str = AUTH_TOKEN) -> object:
    settings = Settings(
        env="test", twilio_account_sid=ACCOUNT_SID, twilio_auth_token=token, twilio_api_base_url=server.url
    )
    return rest.client_for(rest.credentials(settings))


def test_a_queued_call_is_redirected_to_new_twiml(server: FakeTwilioServer) -> None:
    server.live_call("CA1")
    rest.redirect_call(client(server), "CA1", "https://x.example/connect?ticket=5")  # type: ignore[arg-type]
    (req,) = server.state.requests
    assert req.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA1.json"
    assert req.form == {"Url": "https://x.example/connect?ticket=5", "Method": "POST"}


def test_a_callback_is_dialed_with_status_callbacks(server: FakeTwilioServer) -> None:
    sid = rest.dial(
        client(server),  # type: ignore[arg-type]
        to="+819011112222",
        from_="+81501234188",
        url="https://x.example/connect",
        status_url="https://x.example/status?parent=CA1",
    )
    assert sid.startswith("CA")
    form = server.state.requests[0].form
    assert (form["To"], form["From"], form["StatusCallback"]) == (
        "+819011112222",
        "+81501234188",
        "https://x.example/status?parent=CA1",
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimited), (500, ChannelTimeout), (503, ChannelTimeout), (400, InvalidRecipient)],
)
def test_vendor_failures_are_translated(
    server: FakeTwilioServer, status: int, error: type[Exception]
) -> None:
    server.live_call("CA1")
    server.fail_next(status)
    with pytest.raises(error, match=str(status)):
        rest.redirect_call(client(server), "CA1", "https://x.example/c")  # type: ignore[arg-type]


def test_a_call_that_already_ended_is_an_invalid_recipient(server: FakeTwilioServer) -> None:
    with pytest.raises(InvalidRecipient, match="404"):
        rest.redirect_call(client(server), "CAgone", "https://x.example/c")  # type: ignore[arg-type]


def test_wrong_credentials_and_no_credentials(server: FakeTwilioServer) -> None:
    with pytest.raises(AuthFailed, match="401"):
        rest.redirect_call(client(server, token="wrong-token"), "CA1", "https://x.example/c")  # type: ignore[arg-type]
    with pytest.raises(AuthFailed, match="MADOGUCHI_TWILIO_ACCOUNT_SID"):
        rest.client_for(rest.credentials(Settings(env="test")))


def test_an_unreachable_twilio_is_temporary() -> None:
    settings = Settings(
        env="test",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url="http://127.0.0.1:9",
    )
    with pytest.raises(ChannelTimeout):
        rest.redirect_call(rest.client_for(rest.credentials(settings)), "CA1", "https://x.example/c")


def test_placeholder_twilio_secrets_are_refused_outside_dev() -> None:
    prod = {
        "env": "prod",
        "secret_key": "k" * 40,
        "encryption_keys": "bWFkb2d1Y2hpLXByb2Qta2V5LW5vdC1mb3ItZGV2ISE=",
    }
    with pytest.raises(ValueError, match="MADOGUCHI_TWILIO_AUTH_TOKEN is a placeholder"):
        Settings(**prod, twilio_auth_token="changethis")  # type: ignore[arg-type]
    assert Settings(env="dev", twilio_auth_token="changethis").twilio_auth_token == "changethis"
