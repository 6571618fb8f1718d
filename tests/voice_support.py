"""Shared set-up for the 188 voice tests: Twilio settings pointed at the local stand-in, the Tokyo
centers a 188 call is routed between, the 188 number's channel account, and signed-webhook helpers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from config.runtime import Runtime
from config.settings import Settings
from crm.channel_accounts import create_account
from crm.models import Center
from tests.factories import make_center
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioServer

PUBLIC = "https://madoguchi.example.jp"
NUMBER = "+81501234188"
CALLER = "+819011112222"


def twilio_settings(migrated: Settings, twilio: FakeTwilioServer, **extra: Any) -> Settings:
    """The test settings with Twilio credentials and the REST base URL of the local stand-in."""
    return migrated.model_copy(
        update={
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_api_base_url": twilio.url,
            "public_base_url": PUBLIC,
            **extra,
        }
    )


def tokyo_centers(s: Session) -> tuple[Center, Center]:
    """東京都 (prefectural, 100/154) and its municipal 世田谷区 center (154)."""
    tokyo = make_center(s, "tokyo", level="prefectural", prefecture="東京都", postal_prefixes=["100", "154"])
    setagaya = make_center(
        s,
        "tokyo-setagaya",
        level="municipal",
        prefecture="東京都",
        parent_code="tokyo",
        postal_prefixes=["154"],
        municipalities=["世田谷区"],
    )
    return tokyo, setagaya


def add_188_number(s: Session, settings: Settings) -> str:
    """The national 188 entry number as a voice channel account (default center 東京都); its public id."""
    info, _ = create_account(
        s,
        kind="voice",
        center_id=None,
        name="188 entry",
        address=NUMBER,
        settings={"default_center": "tokyo"},
        secrets={"auth_token": AUTH_TOKEN},
        keys=settings.encryption_keys,
    )
    return info.public_id


def rt_of(client: TestClient) -> Runtime:
    return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]


def step(client: TestClient, name: str, query: str = "") -> str:
    """The path of the 188 number's voice webhook step ``name``."""
    return f"/channels/twilio/{client.public_id}/voice/{name}" + (f"?{query}" if query else "")  # type: ignore[attr-defined]


def form(sid: str, **extra: str) -> dict[str, str]:
    """A Twilio voice webhook form for call ``sid`` from the caller to the 188 number."""
    return {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": NUMBER, **extra}
