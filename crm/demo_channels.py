"""Demo channel accounts: one LINE official account and one email address per demo center (idempotent).

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
    return added
