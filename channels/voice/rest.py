"""Twilio's REST API through the official SDK: redirect a queued call, dial a callback, mint tokens,
add / hold / remove conference participants (a warm transfer's consult leg).

The client's API domain is pointed at ``MADOGUCHI_TWILIO_API_BASE_URL`` (or the number's
``api_base_url`` setting), so tests answer it with a local HTTP server (tests/fakes/twilio_server.py).

Exception tree (SDK errors translated with ``raise … from``)::

    TwilioRestException 429           → RateLimited
    TwilioRestException 5xx / network → ChannelTimeout
    TwilioRestException 401 / 403     → AuthFailed
    TwilioRestException other 4xx     → InvalidRecipient (e.g. the call already ended: 21220)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.rest import Client

from channels.base import AuthFailed, ChannelError, ChannelTimeout, InvalidRecipient, RateLimited
from config.settings import Settings


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str
    api_base_url: str


def credentials(
    settings: Settings,
    account_settings: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> TwilioCredentials:
    """The number's own credentials where it has them, else the ``MADOGUCHI_TWILIO_*`` ones."""
    own = account_settings or {}
    secret = secrets or {}
    return TwilioCredentials(
        account_sid=str(own.get("account_sid") or settings.twilio_account_sid),
        auth_token=str(secret.get("auth_token") or settings.twilio_auth_token),
        api_base_url=str(own.get("api_base_url") or settings.twilio_api_base_url),
    )


def client_for(creds: TwilioCredentials) -> Client:
    """An SDK client whose API domain is ``creds.api_base_url``."""
    if not creds.account_sid or not creds.auth_token:
        raise AuthFailed(
            "Twilio is not configured: set MADOGUCHI_TWILIO_ACCOUNT_SID and MADOGUCHI_TWILIO_AUTH_TOKEN"
        )
    client = Client(creds.account_sid, creds.auth_token)
    client.api.base_url = creds.api_base_url.rstrip("/")
    return client


def _translate(exc: Exception) -> ChannelError:
    if isinstance(exc, TwilioRestException):
        status = exc.status or 0
        text = f"Twilio answered {status} (code {exc.code}): {exc.msg}"
        if status == 429:
            return RateLimited(text)
        if status >= 500:
            return ChannelTimeout(text)
        if status in (401, 403):
            return AuthFailed(text)
        return InvalidRecipient(text)
    return ChannelTimeout(f"Twilio could not be reached: {exc}")


def redirect_call(client: Client, call_sid: str, url: str) -> None:
    """Send a live call (e.g. one waiting in a queue) to new TwiML at ``url``."""
    try:
        client.calls(call_sid).update(url=url, method="POST")
    except (TwilioException, OSError) as exc:
        raise _translate(exc) from exc


def dial(client: Client, *, to: str, from_: str, url: str, status_url: str) -> str:
    """Place an outbound call (a callback); returns its CallSid."""
    try:
        call = client.calls.create(
            to=to,
            from_=from_,
            url=url,
            method="POST",
            status_callback=status_url,
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
    except (TwilioException, OSError) as exc:
        raise _translate(exc) from exc
    return str(call.sid)


def softphone_token(settings: Settings, *, identity: str) -> tuple[str, int]:
    """A short-lived access token with a VoiceGrant for the browser softphone; (jwt, ttl seconds)."""
    missing = [
        name
        for name, value in (
            ("MADOGUCHI_TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("MADOGUCHI_TWILIO_API_KEY", settings.twilio_api_key),
            ("MADOGUCHI_TWILIO_API_SECRET", settings.twilio_api_secret),
            ("MADOGUCHI_TWILIO_TWIML_APP_SID", settings.twilio_twiml_app_sid),
        )
        if not value
    ]
    if missing:
        raise AuthFailed(f"the softphone is not configured: set {', '.join(missing)}")
    ttl = settings.twilio_token_ttl_seconds
    token = AccessToken(
        settings.twilio_account_sid,
        settings.twilio_api_key,
        settings.twilio_api_secret,
        identity=identity,
        ttl=ttl,
    )
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.twilio_twiml_app_sid, incoming_allow=True))
    jwt = token.to_jwt()
    return (jwt.decode() if isinstance(jwt, bytes) else str(jwt)), ttl


def end_call(client: Client, call_sid: str) -> None:
    """Hang up a live call (the counselor ended the consultation)."""
    try:
        client.calls(call_sid).update(status="completed")
    except (TwilioException, OSError) as exc:
        raise _translate(exc) from exc


def add_participant(
    client: Client, conference: str, *, to: str, from_: str, status_url: str, label: str, timeout: int = 30
) -> tuple[str, str]:
    """Dial ``to`` into the conference named ``conference`` (a consult leg that does not end it when it
    leaves); returns (its CallSid, the conference's SID)."""
    try:
        leg = client.conferences(conference).participants.create(
            from_=from_,
            to=to,
            label=label[:64],
            timeout=timeout,
            beep="false",
            end_conference_on_exit=False,
            early_media=True,
            status_callback=status_url,
            status_callback_method="POST",
            status_callback_event=["ringing", "answered", "completed"],
        )
    except (TwilioException, OSError) as exc:
        raise _translate(exc) from exc
    return str(leg.call_sid), str(leg.conference_sid)


def hold_participant(
    client: Client, conference_sid: str, call_sid: str, *, hold: bool, hold_url: str
) -> None:
    """Put a conference participant on hold (``hold_url``: our TwiML, nothing from a CDN) or back."""
    try:
        participant = client.conferences(conference_sid).participants(call_sid)
        if hold:
            participant.update(hold=True, hold_url=hold_url, hold_method="POST")
        else:
            participant.update(hold=False)
    except (TwilioException, OSError) as exc:
        raise _translate(exc) from exc


def remove_participant(client: Client, conference_sid: str, call_sid: str) -> None:
    """Take a leg out of the conference (hangs it up; a ringing leg stops ringing)."""
    try:
        client.conferences(conference_sid).participants(call_sid).delete()
    except (TwilioException, OSError) as exc:
        raise _translate(exc) from exc
