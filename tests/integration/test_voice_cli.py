"""``madoguchi channel add voice``: a 188-style entry number with its default center and auth token."""

from __future__ import annotations

import json

import typer
from sqlmodel import Session

from config.runtime import Runtime
from crm.channel_accounts import get_account_by_id
from tests.factories import make_center
from tests.integration.test_admin_cli import _run, cli  # noqa: F401  (the fixture)


def test_an_entry_number_keeps_its_default_center_and_encrypted_token(
    cli: typer.Typer,  # noqa: F811
    runtime: Runtime,
    session: Session,
) -> None:
    make_center(session, "PREF1", level="prefectural")
    session.commit()
    code, out, _ = _run(
        cli,
        "channel",
        "add",
        "voice",
        "--number",
        "+81501880001",
        "--default-center",
        "PREF1",
        "--auth-token",
        "twilio-auth-token-for-cli-test",
        "--json",
    )
    assert code == 0, out
    doc = json.loads(out)
    assert doc["center_id"] is None and doc["inbound_path"] == f"/channels/twilio/{doc['public_id']}/voice"
    info = get_account_by_id(session, account_id=doc["id"], keys=runtime.settings.encryption_keys)
    assert info is not None and info.settings["default_center"] == "PREF1"
    assert info.secrets["auth_token"] == "twilio-auth-token-for-cli-test"
    assert "twilio-auth-token-for-cli-test" not in out
