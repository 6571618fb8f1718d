"""Channel accounts (a center's LINE official account, email address, phone number) as data.

crm owns the rows; channel code reads them only through :class:`ChannelAccountInfo` (see
:mod:`crm.channel_account_reads`) and changes them only through the functions here, which validate
(:mod:`crm.channel_validation`), encrypt secrets (:mod:`crm.crypto`), audit and commit.
"""

from __future__ import annotations

import logging
import re
import secrets as token_source
import string
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.settings import Settings
from crm.audit import write_audit
from crm.channel_account_reads import (
    INBOUND_TOKEN,
    INBOUND_TOKEN_HASH,
    ChannelAccountInfo,
    account_info,
    check_inbound_token,
    get_account,
    get_account_by_id,
    hash_token,
    list_accounts,
    path_field,
    webhook_path,
)
from crm.channel_validation import (
    clean_name,
    clean_secrets,
    clean_settings,
    normalize_address,
    require_secrets,
    rules_for,
)
from crm.crypto import SecretsUnreadable, decrypt_secrets, encrypt_secrets, rotate_token
from crm.errors import Conflict, NotFound, Unprocessable
from crm.models import Center, ChannelAccount, utcnow

__all__ = [
    "INBOUND_TOKEN",
    "INBOUND_TOKEN_HASH",
    "ChannelAccountInfo",
    "check_inbound_token",
    "create_account",
    "delete_account",
    "disable_account",
    "ensure_account",
    "ensure_env_accounts",
    "get_account",
    "get_account_by_id",
    "list_accounts",
    "path_field",
    "reencrypt_accounts",
    "rotate_inbound_token",
    "update_account",
    "webhook_path",
]

log = logging.getLogger(__name__)

PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
UPDATABLE = frozenset({"name", "address", "center_id", "settings", "secrets", "enabled"})

_PUBLIC_ID_ALPHABET = string.ascii_letters + string.digits


def new_public_id() -> str:
    """An opaque webhook id: 16 letters and digits (≈ 95 bits). Never starting with '-', so it can be
    passed to a command line as it is (``--account ID``, ``madoguchi channel disable ID``)."""
    return "".join(token_source.choice(_PUBLIC_ID_ALPHABET) for _ in range(16))


# -- changes -------------------------------------------------------------------------------------


def create_account(
    session: Session,
    *,
    kind: str,
    center_id: int | None,
    name: str | None,
    address: str | None,
    settings: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    keys: Sequence[str],
    actor_id: int | None = None,
    public_id: str | None = None,
) -> tuple[ChannelAccountInfo, str | None]:
    """Create an account; returns it and its inbound token (email, voice), shown this once.

    A LINE account without a Channel ID is keyed ``center:<CODE>`` (one per center until given one).
    ``public_id`` is random unless given (demo data that a README can refer to).
    """
    rules = rules_for(kind)
    if public_id is not None and not PUBLIC_ID.match(public_id):
        raise Unprocessable("public_id: 16-32 url-safe characters (letters, digits, '-', '_')")
    center = _center(session, kind, center_id)
    if kind == "line" and not address and center is not None:
        address = f"center:{center.code}"
    address = normalize_address(kind, address)
    name = clean_name(name) if name else _default_name(kind, center)
    clean = clean_settings(kind, settings or {})
    plain = clean_secrets(kind, secrets or {})
    require_secrets(kind, plain)
    token = None
    if rules.has_inbound_token:
        token = token_source.token_urlsafe(32)
        plain[INBOUND_TOKEN] = token
        clean[INBOUND_TOKEN_HASH] = hash_token(token)
    row = ChannelAccount(
        public_id=public_id or new_public_id(),
        center_id=center.id if center is not None else None,
        kind=kind,
        name=name,
        address=address,
        settings=clean,
        secrets_encrypted=encrypt_secrets(keys, plain) if plain else None,
    )
    _save(session, row)
    _commit_audited(session, actor_id, "create", row.id or 0, {"kind": kind, "secrets": sorted(plain)})
    return account_info(session, row, keys), token


def update_account(
    session: Session, *, account_id: int, keys: Sequence[str], actor_id: int | None = None, **changes: Any
) -> ChannelAccountInfo:
    """Change name, address, center_id, settings (merged; None removes a key), secrets (merged), enabled."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise Unprocessable(f"{sorted(unknown)[0]}: unknown field (allowed: {', '.join(sorted(UPDATABLE))})")
    row = _row(session, account_id)
    try:
        _apply_changes(session, row, changes, keys)
    except Unprocessable:
        session.rollback()  # nothing half-changed may ride on a later commit
        raise
    row.updated_at = utcnow()
    _save(session, row)
    _commit_audited(
        session,
        actor_id,
        "update",
        account_id,
        {"changed": sorted(changes), "secrets": sorted(changes.get("secrets") or {})},
    )
    return account_info(session, row, keys)


def _apply_changes(
    session: Session, row: ChannelAccount, changes: Mapping[str, Any], keys: Sequence[str]
) -> None:
    if "center_id" in changes:
        old = session.get(Center, row.center_id) if row.center_id is not None else None
        center = _center(session, row.kind, changes["center_id"])
        row.center_id = center.id if center is not None else None
        if old is not None and center is not None and row.address == f"center:{old.code}":
            row.address = f"center:{center.code}"  # the per-center LINE key follows its center
    if "name" in changes:
        row.name = clean_name(changes["name"])
    if "address" in changes:
        row.address = normalize_address(row.kind, changes["address"])
    if "enabled" in changes:
        if not isinstance(changes["enabled"], bool):
            raise Unprocessable("enabled: must be true or false")
        row.enabled = changes["enabled"]
    if changes.get("settings") is not None:
        row.settings = _merged_settings(row, changes["settings"])
    if changes.get("secrets"):
        _merge_secrets(row, changes["secrets"], keys)


def disable_account(session: Session, *, account_id: int, actor_id: int | None = None) -> None:
    """Stop taking traffic on the account (its webhook answers 410); rows that refer to it stay."""
    row = _row(session, account_id)
    row.enabled = False
    row.updated_at = utcnow()
    session.add(row)
    _commit_audited(session, actor_id, "disable", account_id)


def delete_account(session: Session, *, account_id: int, actor_id: int | None = None) -> None:
    """Delete an account nothing refers to yet; one with consultations must be disabled instead."""
    row = _row(session, account_id)
    session.delete(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            f"channel account {account_id} has consultations or messages: disable it instead "
            "(PATCH enabled=false or `madoguchi channel disable`)"
        ) from exc
    _commit_audited(session, actor_id, "delete", account_id, {"kind": row.kind})


def rotate_inbound_token(
    session: Session, *, account_id: int, keys: Sequence[str], actor_id: int | None = None
) -> str:
    """Replace an email/voice account's inbound token; the new one is returned this once."""
    row = _row(session, account_id)
    if not rules_for(row.kind).has_inbound_token:
        raise Unprocessable(f"kind: a {row.kind} account has no inbound token")
    current = _decrypted_or_422(row, keys)
    token = token_source.token_urlsafe(32)
    row.secrets_encrypted = encrypt_secrets(keys, {**current, INBOUND_TOKEN: token})
    row.settings = {**(row.settings or {}), INBOUND_TOKEN_HASH: hash_token(token)}
    row.updated_at = utcnow()
    session.add(row)
    _commit_audited(session, actor_id, "rotate_token", account_id)
    return token


def reencrypt_accounts(session: Session, *, keys: Sequence[str]) -> tuple[int, int]:
    """Re-encrypt every account's secrets under the first key (after a rotation); (done, unreadable)."""
    done = unreadable = 0
    rows = session.exec(
        select(ChannelAccount).where(col(ChannelAccount.secrets_encrypted).is_not(None))
    ).all()
    for row in rows:
        try:
            row.secrets_encrypted = rotate_token(keys, row.secrets_encrypted or "")
        except SecretsUnreadable:
            unreadable += 1
            continue
        session.add(row)
        done += 1
    _commit_audited(session, None, "reencrypt", "*", {"done": done, "unreadable": unreadable})
    return done, unreadable


def ensure_account(
    session: Session,
    *,
    kind: str,
    center_id: int | None,
    address: str | None,
    name: str | None,
    secrets: Mapping[str, Any],
    settings: Mapping[str, Any],
    keys: Sequence[str],
) -> ChannelAccountInfo:
    """Create the account, or bring the one with the same (kind, address) in line (enabled is kept).

    Nothing is written (or audited) when the account already matches, so every process start may
    call it; two processes racing to create it both end with the one row.
    """
    if kind == "line" and not address:
        center = _center(session, kind, center_id)
        address = f"center:{center.code}" if center is not None else address
    address = normalize_address(kind, address)
    existing = _by_address(session, kind, address)
    if existing is None:
        try:
            info, _token = create_account(
                session,
                kind=kind,
                center_id=center_id,
                name=name,
                address=address,
                settings=settings,
                secrets=secrets,
                keys=keys,
            )
            return info
        except Conflict:
            existing = _by_address(session, kind, address)
            if existing is None:
                raise
    current = account_info(session, existing, keys)
    changes: dict[str, Any] = {}
    if existing.center_id != center_id:
        changes["center_id"] = center_id
    if name and name != existing.name:
        changes["name"] = name
    if any(current.settings.get(k) != v for k, v in settings.items()):
        changes["settings"] = dict(settings)
    if current.broken_reason or any(current.secrets.get(k) != v for k, v in secrets.items()):
        changes["secrets"] = dict(secrets)
    if not changes:
        return current
    return update_account(session, account_id=current.id, keys=keys, **changes)


def _by_address(session: Session, kind: str, address: str) -> ChannelAccount | None:
    query = select(ChannelAccount).where(ChannelAccount.kind == kind, ChannelAccount.address == address)
    return session.exec(query).first()


def ensure_env_accounts(engine: Engine, settings: Settings) -> ChannelAccountInfo | None:
    """The ``MADOGUCHI_LINE_*`` shortcut: create or update the one LINE account it describes at start-up.

    Its center is ``MADOGUCHI_LINE_CENTER_CODE``, or the first center when unset (as before accounts
    were data). None when LINE is not configured or that center does not exist yet.
    """
    if not settings.line_enabled:
        return None
    with Session(engine, expire_on_commit=False) as session:
        code = settings.line_center_code
        query = select(Center).where(Center.code == code) if code else select(Center).order_by(col(Center.id))
        center = session.exec(query).first()
        if center is None:
            log.warning("MADOGUCHI_LINE_CENTER_CODE=%r: no such center yet; LINE account not created", code)
            return None
        line_settings = {
            "api_base_url": settings.line_api_base_url,
            "blob_base_url": settings.line_blob_base_url,
        }
        return ensure_account(
            session,
            kind="line",
            center_id=center.id,
            address=None,
            name=None,
            secrets={
                "channel_secret": settings.line_channel_secret,
                "access_token": settings.line_channel_access_token,
            },
            settings=line_settings,
            keys=settings.encryption_keys,
        )


# -- helpers -------------------------------------------------------------------------------------


def _commit_audited(
    session: Session,
    actor_id: int | None,
    action: str,
    object_id: int | str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit ``channel.<action>`` (key names only, never a secret value) and commit with the change."""
    write_audit(
        session,
        actor_id=actor_id,
        action=f"channel.{action}",
        object_type="channel_account",
        object_id=object_id,
        detail=detail,
    )
    session.commit()


def _row(session: Session, account_id: int) -> ChannelAccount:
    row = session.get(ChannelAccount, account_id)
    if row is None:
        raise NotFound(f"no channel account {account_id}; see GET /api/channels or `madoguchi channel list`")
    return row


def _center(session: Session, kind: str, center_id: Any) -> Center | None:
    rules = rules_for(kind)
    if center_id is None:
        if rules.center_required:
            raise Unprocessable(f"center: a {kind} account belongs to a center")
        return None
    center = session.get(Center, center_id) if isinstance(center_id, int) else None
    if center is None:
        raise Unprocessable(f"center: no center with id {center_id!r}")
    return center


def _default_name(kind: str, center: Center | None) -> str:
    label = {"line": "LINE", "email": "メール", "voice": "電話"}.get(kind, kind)
    return f"{center.name} {label}" if center is not None else f"{label} (全センター)"


def _merged_settings(row: ChannelAccount, changes: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, Mapping):
        raise Unprocessable("settings: must be an object")
    kept = {k: v for k, v in (row.settings or {}).items() if k not in changes}
    additions = clean_settings(row.kind, {k: v for k, v in changes.items() if v is not None})
    return {**kept, **additions}


def _merge_secrets(row: ChannelAccount, changes: Mapping[str, Any], keys: Sequence[str]) -> None:
    """Merge new secrets in; if the stored ones are unreadable, the new set must be complete."""
    if not isinstance(changes, Mapping):
        raise Unprocessable("secrets: must be an object")
    fresh = clean_secrets(row.kind, changes)
    try:
        current = decrypt_secrets(keys, row.secrets_encrypted) if row.secrets_encrypted else {}
    except SecretsUnreadable:
        current = {}  # the inbound token still checks against its hash in settings
    merged = {**current, **fresh}
    require_secrets(row.kind, merged)
    row.secrets_encrypted = encrypt_secrets(keys, merged)
    row.broken_reason = None


def _decrypted_or_422(row: ChannelAccount, keys: Sequence[str]) -> dict[str, str]:
    try:
        return decrypt_secrets(keys, row.secrets_encrypted) if row.secrets_encrypted else {}
    except SecretsUnreadable as exc:
        raise Unprocessable(f"secrets: {exc}") from exc


def _save(session: Session, row: ChannelAccount) -> None:
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            f"address: a {row.kind} account with address {row.address!r} already exists "
            "(see `madoguchi channel list`)"
        ) from exc
