"""Demo channel accounts: a LINE official account, an email address and a direct phone number per demo
center, and one 188-style entry number (idempotent).

Ids and secrets are derived from the center code, so a README can name them: the LINE accounts point
at the local LINE stand-in (``python -m tests.fakes.line_server serve``, port 8090), and
``python -m tests.fakes.line_server send --account <public_id> --secret <channel_secret> ...`` posts to
one of them. Fake values for a demo, never real credentials.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence

from sqlmodel import Session, select

from crm.channel_accounts import create_account
from crm.models import Center, ChannelAccount

DEMO_LINE_API = "http://127.0.0.1:8090"  # tests.fakes.line_server serve's default port


def _digest(label: str) -> bytes:
    return hashlib.sha256(f"madoguchi-demo:{label}".encode()).digest()


def demo_public_id(kind: str, code: str) -> str:
    """The opaque id of a demo center's account (no center code in it)."""
    return base64.urlsafe_b64encode(_digest(f"{kind}:{code}")).decode("ascii")[:16]


def demo_line_secrets(code: str) -> dict[str, str]:
    """The fake channel secret and access token of a demo center's LINE account."""
    return {
        "channel_secret": _digest(f"line-secret:{code}").hex()[:32],
        "access_token": f"demo-line-access-token-{code}",
    }


def demo_email_address(code: str) -> str:
    return f"soudan@{code}.demo.example"


DEMO_188_NUMBER = "+81501880188"  # a 188-style entry: asks for the postal code (no center of its own)


def demo_voice_number(code: str) -> str:
    """A demo center's direct phone number (E.164, 050 range, derived from the code)."""
    return f"+8150{int.from_bytes(_digest(f'voice:{code}')[:8], 'big') % 10**8:08d}"


def demo_twilio_auth_token() -> str:
    """The fake auth token the demo numbers' webhooks are signed with (tests.fakes.twilio_server.sign)."""
    return _digest("twilio-auth-token").hex()[:32]


def _load_demo_188(session: Session, centers: Mapping[str, Center], keys: Sequence[str]) -> int:
    if session.exec(select(ChannelAccount).where(ChannelAccount.address == DEMO_188_NUMBER)).first():
        return 0
    default = next((code for code, c in centers.items() if c.level == "prefectural"), None)
    create_account(
        session,
        kind="voice",
        center_id=None,
        name="消費者ホットライン188 (demo)",
        address=DEMO_188_NUMBER,
        settings={"default_center": default} if default else {},
        secrets={"auth_token": demo_twilio_auth_token()},
        keys=keys,
        public_id=demo_public_id("voice", "188"),
    )
    return 1


def load_demo_channels(session: Session, centers: Mapping[str, Center], keys: Sequence[str]) -> int:
    """Create the accounts that do not exist yet; returns how many were added."""
    existing = {(a.kind, a.address) for a in session.exec(select(ChannelAccount)).all()}
    added = 0
    for code, center in centers.items():
        wanted = [
            (
                "line",
                f"center:{code}",
                {"api_base_url": DEMO_LINE_API, "blob_base_url": DEMO_LINE_API},
                demo_line_secrets(code),
            ),
            ("email", demo_email_address(code), {}, {}),
            ("voice", demo_voice_number(code), {}, {"auth_token": demo_twilio_auth_token()}),
        ]
        for kind, address, settings, secrets in wanted:
            if (kind, address) in existing:
                continue
            create_account(
                session,
                kind=kind,
                center_id=center.id,
                name=None,
                address=address,
                settings=settings,
                secrets=secrets,
                keys=keys,
                public_id=demo_public_id(kind, code),
            )
            added += 1
    return added + _load_demo_188(session, centers, keys)
