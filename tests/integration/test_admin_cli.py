"""`madoguchi channel|center|user ...`: the same services as the API, JSON out, secrets never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from sqlmodel import Session
from typer.testing import CliRunner

from config.runtime import Runtime
from crm import admin_cli
from crm.channel_accounts import check_inbound_token, get_account_by_id
from crm.models import Role
from tests.factories import make_center, make_user

ROOT = Path(__file__).resolve().parents[2]
SECRET, TOKEN = "cli-line-channel-secret-0123456789", "cli-line-access-token-abcdef"


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(admin_cli, "get_settings", lambda: runtime.settings)
    app = typer.Typer()
    for name, group in admin_cli.GROUPS.items():
        app.add_typer(group, name=name)
    return app


def _run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_madoguchi_channel_add_line_json_then_list(runtime: Runtime, session: Session) -> None:
    make_center(session, "CLI1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update(MADOGUCHI_ENV="test", MADOGUCHI_DATABASE_URL=runtime.settings.database_url)

    def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
        code = "import madoguchi_cli; madoguchi_cli.main()"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = madoguchi(
        "channel",
        "add",
        "line",
        "--center",
        "CLI1",
        "--channel-secret",
        SECRET,
        "--access-token",
        TOKEN,
        "--name",
        "CLI LINE",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    doc = json.loads(added.stdout)
    assert doc["webhook_path"] == f"/channels/line/{doc['public_id']}/webhook" and doc["id"] >= 1
    assert "inbound_token" not in doc and "inbound_path" not in doc
    listed = madoguchi("channel", "list", "--json")
    table = madoguchi("channel", "list")
    assert [c["public_id"] for c in json.loads(listed.stdout)] == [doc["public_id"]]
    for out in (added, listed, table):
        assert SECRET not in out.stdout + out.stderr and TOKEN not in out.stdout + out.stderr
    info = get_account_by_id(session, account_id=doc["id"], keys=runtime.settings.encryption_keys)
    assert info is not None and info.secrets["access_token"] == TOKEN and info.name == "CLI LINE"


def test_email_and_voice_print_their_inbound_token_once(
    cli: typer.Typer, runtime: Runtime, session: Session
) -> None:
    make_center(session, "CLI2")
    code, out, _ = _run(
        cli,
        "channel",
        "add",
        "email",
        "--center",
        "CLI2",
        "--address",
        "soudan@cli2.example.jp",
        "--imap-host",
        "imap.cli2.example.jp",
        "--imap-password",
        "imap-pw-secret",
        "--json",
    )
    assert code == 0, out
    email = json.loads(out)
    assert email["inbound_path"] == f"/channels/email/{email['public_id']}/inbound" and email["inbound_token"]
    info = get_account_by_id(session, account_id=email["id"], keys=runtime.settings.encryption_keys)
    assert info is not None and check_inbound_token(info, email["inbound_token"])
    session.commit()  # SQLite: release the write lock before the CLI writes
    code, out, _ = _run(cli, "channel", "add", "voice", "--number", "+81188000001", "--json")
    voice = json.loads(out)
    assert code == 0 and voice["center_id"] is None and voice["inbound_path"].endswith("/voice")
    code, out, _ = _run(cli, "channel", "list", "--json")
    assert (
        email["inbound_token"] not in out
        and voice["inbound_token"] not in out
        and "imap-pw-secret" not in out
    )
    code, out, _ = _run(cli, "channel", "disable", str(voice["id"]))
    assert code == 0
    assert [c["enabled"] for c in json.loads(_run(cli, "channel", "list", "--json")[1])] == [True, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("channel", "add", "voice", "--number", "03-1234-5678"),
            "address: '03-1234-5678' is not a phone number",
        ),
        (
            ("channel", "add", "email", "--center", "CLI3", "--address", "nope"),
            "address: 'nope' is not an email",
        ),
        (
            ("channel", "add", "line", "--center", "NOPE", "--channel-secret", "s", "--access-token", "t"),
            "no center with code 'NOPE'",
        ),
        (("channel", "disable", "999"), "no channel account 999"),
        (("center", "update", "CLI3", "--hours", '{"mon": [["18:00", "09:00"]]}'), "hours: "),
        (("center", "update", "CLI3", "--closed-dates", "2026-13-01"), "closed_dates[0]: "),
        (("user", "update", "nobody", "--role", "admin"), "no user 'nobody'"),
    ],
)
def test_errors_exit_1_with_the_field_named(
    cli: typer.Typer, session: Session, args: tuple[str, ...], message: str
) -> None:
    make_center(session, "CLI3")
    code, out, err = _run(cli, *args)
    assert code == 1 and message in err, (out, err)


def test_center_add_update_list_and_user_update(cli: typer.Typer, session: Session) -> None:
    center = make_center(session, "CLI4")
    make_user(session, center, "cli-counselor")
    code, out, err = _run(
        cli,
        "center",
        "add",
        "CLI5",
        "--name",
        "第五センター",
        "--prefecture",
        "千葉県",
        "--parent",
        "CLI4",
        "--hours",
        '{"mon": [["09:00", "16:00"]]}',
        "--closed-dates",
        "12-29,12-30",
        "--backup-rules",
        '{"sun": "CLI4"}',
        "--postal-prefixes",
        "260,261",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["parent_code"] == "CLI4" and doc["closed_dates"] == ["12-29", "12-30"]
    code, out, err = _run(cli, "center", "update", "CLI5", "--backup-rules", '{"sat": "CLI4"}', "--json")
    assert code == 0 and json.loads(out)["backup_rules"] == {"sat": "CLI4"}
    codes = [c["code"] for c in json.loads(_run(cli, "center", "list", "--json")[1])]
    assert codes == ["CLI4", "CLI5"]
    code, out, err = _run(
        cli,
        "user",
        "update",
        "cli-counselor",
        "--center",
        "CLI5",
        "--skills",
        "多重債務,情報通信",
        "--languages",
        "ja,en",
        "--inactive",
        "--json",
    )
    assert code == 0, err
    user = json.loads(out)
    assert (
        user["skills"] == ["多重債務", "情報通信"]
        and user["languages"] == ["ja", "en"]
        and not user["is_active"]
    )
    listed = json.loads(_run(cli, "user", "list", "--center", "CLI5", "--json")[1])
    assert [u["username"] for u in listed] == ["cli-counselor"]
    assert _run(cli, "user", "list", "--role", "boss")[0] == 1
    assert Role.COUNSELOR.value == user["role"]
