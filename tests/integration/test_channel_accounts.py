"""Channel accounts as data: create, read with decrypted secrets, rotate keys, break, ensure."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from config.runtime import Runtime
from config.settings import Settings
from crm.channel_accounts import (
    check_inbound_token,
    create_account,
    delete_account,
    disable_account,
    ensure_account,
    ensure_env_accounts,
    get_account,
    get_account_by_id,
    list_accounts,
    rotate_inbound_token,
    update_account,
    webhook_path,
)
from crm.errors import Conflict, NotFound, Unprocessable
from crm.models import AuditLog, ChannelAccount
from tests.factories import make_center

KEY1 = Fernet.generate_key().decode()
KEY2 = Fernet.generate_key().decode()
LINE_SECRETS = {"channel_secret": "a" * 32, "access_token": "line-access-token-xyz"}


def _line(session: Session, center_id: int, keys: list[str], address: str | None = None):  # type: ignore[no-untyped-def]
    info, token = create_account(
        session,
        kind="line",
        center_id=center_id,
        name=None,
        address=address,
        settings={},
        secrets=LINE_SECRETS,
        keys=keys,
    )
    assert token is None
    return info


def test_create_line_account_reads_back_with_secrets(session: Session) -> None:
    center = make_center(session, "TKY")
    info = _line(session, center.id, [KEY1])  # type: ignore[arg-type]
    assert info.address == "center:TKY" and info.center_code == "TKY" and info.kind == "line"
    assert webhook_path(info) == f"/channels/line/{info.public_id}/webhook"
    assert len(info.public_id) >= 16
    found = get_account(session, public_id=info.public_id, keys=[KEY1])
    assert found is not None and dict(found.secrets) == LINE_SECRETS and found.broken_reason is None
    shown = repr(found) + str(found.secrets) + repr(found.secrets)
    assert all(v not in shown for v in LINE_SECRETS.values())
    stored = session.get(ChannelAccount, info.id)
    assert stored is not None and LINE_SECRETS["access_token"] not in (stored.secrets_encrypted or "")
    assert get_account(session, public_id="no-such-id", keys=[KEY1]) is None


def test_email_and_voice_get_an_inbound_token_once(session: Session) -> None:
    center = make_center(session)
    email, token = create_account(
        session,
        kind="email",
        center_id=center.id,
        name="相談メール",
        address="soudan@center.example.jp",
        settings={"imap_host": "imap.example.jp"},
        secrets={"imap_password": "pw"},
        keys=[KEY1],
    )
    assert token and check_inbound_token(email, token)
    assert not check_inbound_token(email, token + "x") and not check_inbound_token(email, "")
    assert webhook_path(email) == f"/channels/email/{email.public_id}/inbound"
    voice, vtoken = create_account(
        session,
        kind="voice",
        center_id=None,
        name=None,
        address="+81188000000",
        settings={},
        secrets={},
        keys=[KEY1],
    )
    assert vtoken and vtoken != token and voice.center_id is None
    assert webhook_path(voice) == f"/channels/twilio/{voice.public_id}/voice"
    new = rotate_inbound_token(session, account_id=voice.id, keys=[KEY1])
    fresh = get_account_by_id(session, account_id=voice.id, keys=[KEY1])
    assert fresh is not None and check_inbound_token(fresh, new) and not check_inbound_token(fresh, vtoken)


def test_key_rotation_keeps_accounts_readable(session: Session) -> None:
    center = make_center(session)
    info = _line(session, center.id, [KEY1])  # type: ignore[arg-type]
    rotated = get_account(session, public_id=info.public_id, keys=[KEY2, KEY1])
    assert rotated is not None and dict(rotated.secrets) == LINE_SECRETS
    update_account(session, account_id=info.id, keys=[KEY2, KEY1], secrets={"access_token": "new-token"})
    after = get_account(session, public_id=info.public_id, keys=[KEY2])  # re-encrypted under key2
    assert after is not None and after.secrets["access_token"] == "new-token"
    assert after.secrets["channel_secret"] == LINE_SECRETS["channel_secret"]


def test_missing_key_marks_only_that_account_broken(
    runtime: Runtime, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = make_center(session), make_center(session)
    old = _line(session, a.id, [KEY1])  # type: ignore[arg-type]
    ok = _line(session, b.id, [KEY2])  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG):
        broken = get_account(session, public_id=old.public_id, keys=[KEY2])
        working = get_account(session, public_id=ok.public_id, keys=[KEY2])
    assert broken is not None and broken.broken_reason and "MADOGUCHI_ENCRYPTION_KEYS" in broken.broken_reason
    assert dict(broken.secrets) == {}
    assert working is not None and working.broken_reason is None and dict(working.secrets) == LINE_SECRETS
    # PostgreSQL: committed on its own connection, so it survives the caller's rollback.
    # SQLite (one writer, the caller holds the lock): stored with the caller's commit.
    session.commit() if runtime.engine.dialect.name == "sqlite" else session.rollback()
    with Session(runtime.engine) as other:
        row = other.get(ChannelAccount, old.id)
        assert row is not None and row.broken_reason == broken.broken_reason
    assert all(v not in caplog.text for v in LINE_SECRETS.values())
    # Setting the secrets again repairs it; restoring the key would too.
    update_account(session, account_id=old.id, keys=[KEY2], secrets=LINE_SECRETS)
    repaired = get_account(session, public_id=old.public_id, keys=[KEY2])
    assert repaired is not None and repaired.broken_reason is None


def test_validation_errors_name_the_field_and_store_nothing(session: Session) -> None:
    center = make_center(session)
    cases = [
        ({"kind": "fax", "address": "x"}, "kind:"),
        ({"kind": "email", "address": "not-an-email"}, "address:"),
        ({"kind": "voice", "address": "03-1234-5678"}, "address:"),
        ({"kind": "line", "address": "abc"}, "address:"),
        ({"kind": "line", "address": None, "secrets": {"channel_secret": "s"}}, "secrets.access_token:"),
        ({"kind": "email", "address": "a@example.jp", "center_id": None}, "center:"),
        ({"kind": "email", "address": "a@example.jp", "center_id": 999_999}, "center:"),
        ({"kind": "email", "address": "a@example.jp", "settings": {"imap_port": 0}}, "settings.imap_port:"),
    ]
    for fields, prefix in cases:
        args = {
            "center_id": center.id,
            "name": None,
            "settings": {},
            "secrets": LINE_SECRETS if fields["kind"] == "line" else {},
        }
        args.update(fields)
        with pytest.raises(Unprocessable) as exc:
            create_account(session, keys=[KEY1], **args)  # type: ignore[arg-type]
        assert exc.value.message.startswith(prefix), (fields, exc.value.message)
    assert session.exec(select(ChannelAccount)).all() == []


def test_duplicate_address_is_a_conflict(session: Session) -> None:
    center = make_center(session)
    _line(session, center.id, [KEY1], address="1650000001")  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="address"):
        _line(session, center.id, [KEY1], address="1650000001")  # type: ignore[arg-type]
    assert len(list_accounts(session, kind="line", keys=[KEY1])) == 1


def test_update_disable_delete_and_audit(session: Session) -> None:
    a, b = make_center(session), make_center(session)
    info = _line(session, a.id, [KEY1])  # type: ignore[arg-type]
    with pytest.raises(Unprocessable, match="^kind: unknown field"):
        update_account(session, account_id=info.id, keys=[KEY1], kind="email")
    with pytest.raises(Unprocessable, match=r"^settings\.nope"):
        update_account(session, account_id=info.id, keys=[KEY1], settings={"nope": 1})
    moved = update_account(
        session,
        account_id=info.id,
        keys=[KEY1],
        center_id=b.id,
        name="B LINE",
        settings={"api_base_url": "http://127.0.0.1:9/"},
    )
    assert moved.center_id == b.id and moved.name == "B LINE" and moved.settings["api_base_url"]
    assert [x.id for x in list_accounts(session, center_id=b.id, keys=[KEY1])] == [info.id]
    disable_account(session, account_id=info.id, actor_id=None)
    assert get_account_by_id(session, account_id=info.id, keys=[KEY1]).enabled is False  # type: ignore[union-attr]
    delete_account(session, account_id=info.id)
    assert get_account_by_id(session, account_id=info.id, keys=[KEY1]) is None
    with pytest.raises(NotFound):
        disable_account(session, account_id=info.id)
    actions = [r.action for r in session.exec(select(AuditLog).order_by(AuditLog.id)).all()]  # type: ignore[arg-type]
    assert actions == ["channel.create", "channel.update", "channel.disable", "channel.delete"]
    details = " ".join(str(r.detail) for r in session.exec(select(AuditLog)).all())
    assert all(v not in details for v in LINE_SECRETS.values())


def test_ensure_account_creates_then_updates_in_place(session: Session) -> None:
    center = make_center(session, "ENS")
    first = ensure_account(
        session,
        kind="line",
        center_id=center.id,
        address=None,
        name=None,
        secrets=LINE_SECRETS,
        settings={},
        keys=[KEY1],
    )
    again = ensure_account(
        session,
        kind="line",
        center_id=center.id,
        address=None,
        name=None,
        secrets={**LINE_SECRETS, "access_token": "rotated"},
        settings={},
        keys=[KEY1],
    )
    assert again.id == first.id and again.public_id == first.public_id
    assert again.secrets["access_token"] == "rotated"
    assert len(list_accounts(session, keys=[KEY1])) == 1
    audited = len(session.exec(select(AuditLog)).all())
    same = ensure_account(
        session,
        kind="line",
        center_id=center.id,
        address=None,
        name=None,
        secrets={**LINE_SECRETS, "access_token": "rotated"},
        settings={},
        keys=[KEY1],
    )
    assert same.id == first.id and len(session.exec(select(AuditLog)).all()) == audited  # no write at all


def test_ensure_env_accounts_uses_the_line_settings(runtime: Runtime, session: Session) -> None:
    make_center(session, "ENV1")
    base = runtime.settings.model_dump()
    settings = Settings(
        **{
            **base,
            "line_channel_secret": "e" * 32,
            "line_channel_access_token": "env-token",
            "line_center_code": "ENV1",
            "encryption_keys": [KEY1],
        }
    )
    info = ensure_env_accounts(runtime.engine, settings)
    assert info is not None and info.center_code == "ENV1" and info.secrets["access_token"] == "env-token"
    assert ensure_env_accounts(runtime.engine, settings).id == info.id  # type: ignore[union-attr]
    assert ensure_env_accounts(runtime.engine, runtime.settings) is None  # LINE not configured
    missing = Settings(
        **{
            **base,
            "line_channel_secret": "e" * 32,
            "line_channel_access_token": "t",
            "line_center_code": "NOPE",
        }
    )
    assert ensure_env_accounts(runtime.engine, missing) is None
    make_center(session, "ENV2")
    unset = Settings(**{**base, "line_channel_secret": "e" * 32, "line_channel_access_token": "t2"})
    first = ensure_env_accounts(runtime.engine, unset)  # no center code: the first center, as before
    assert first is not None and first.id == info.id and first.secrets["access_token"] == "t2"


def test_a_refused_update_leaves_nothing_for_a_later_commit(runtime: Runtime, session: Session) -> None:
    a, b = make_center(session, "HALF1"), make_center(session, "HALF2")
    a_id, b_id = a.id, b.id
    info = _line(session, a_id, [KEY1])  # type: ignore[arg-type]
    with pytest.raises(Unprocessable, match="^address:"):
        update_account(session, account_id=info.id, keys=[KEY1], center_id=b_id, name="moved", address="bad")
    session.commit()  # e.g. a caller that goes on with the same session
    with Session(runtime.engine) as other:
        row = other.get(ChannelAccount, info.id)
        assert row is not None and row.center_id == a_id and row.name == info.name
    moved = update_account(session, account_id=info.id, keys=[KEY1], center_id=b_id)
    assert moved.address == "center:HALF2" and moved.center_code == "HALF2"  # the per-center key follows
