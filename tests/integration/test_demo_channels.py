"""The demo gives every demo center its own LINE account, email address and phone number (plus a 188
entry number), with ids a README can name."""

from __future__ import annotations

from sqlmodel import Session

from config.runtime import Runtime
from crm.channel_accounts import get_account, list_accounts, webhook_path
from crm.demo import _load_centers, read_demo_file
from crm.demo_channels import demo_line_secrets, demo_public_id, load_demo_channels


def test_demo_channels_are_per_center_deterministic_and_idempotent(
    runtime: Runtime, session: Session
) -> None:
    keys = runtime.settings.encryption_keys
    centers = _load_centers(session, read_demo_file("centers.json"))
    session.commit()
    # LINE, email and a direct number per center, plus one 188-style entry number without a center
    assert load_demo_channels(session, centers, keys) == 3 * len(centers) + 1
    assert load_demo_channels(session, centers, keys) == 0
    accounts = list_accounts(session, keys=keys)
    assert sorted((a.center_code or "", a.kind) for a in accounts) == sorted(
        [(code, kind) for code in centers for kind in ("line", "email", "voice")] + [("", "voice")]
    )
    entry = get_account(session, public_id=demo_public_id("voice", "188"), keys=keys)
    assert entry is not None and entry.center_id is None and entry.settings["default_center"] == "tokyo"
    tokyo = get_account(session, public_id=demo_public_id("line", "tokyo"), keys=keys)
    assert (
        tokyo is not None
        and tokyo.center_code == "tokyo"
        and dict(tokyo.secrets) == demo_line_secrets("tokyo")
    )
    assert webhook_path(tokyo) == f"/channels/line/{demo_public_id('line', 'tokyo')}/webhook"
    assert "tokyo" not in webhook_path(tokyo)
    assert len({a.public_id for a in accounts}) == len(accounts)
    assert demo_line_secrets("tokyo") != demo_line_secrets("osaka")
