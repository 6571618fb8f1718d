"""Reading channel accounts: :class:`ChannelAccountInfo` is all channel code ever sees of one.

Secrets are decrypted in-process and hidden from ``repr``/``str``. Secrets that cannot be decrypted
(a rotated key went missing) mark the account broken (PostgreSQL: committed on a separate connection)
and the account is returned with ``broken_reason`` set and no secrets; every other account keeps working.
Import these through :mod:`crm.channel_accounts`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from crm.channel_validation import rules_for
from crm.crypto import SecretsUnreadable, decrypt_secrets
from crm.models import Center, ChannelAccount

log = logging.getLogger("crm.channel_accounts")

INBOUND_TOKEN = "inbound_token"
INBOUND_TOKEN_HASH = "inbound_token_sha256"  # kept in settings: checkable without decrypting


class _Hidden(Mapping[str, str]):
    """A read-only mapping whose repr and str never show the values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<secrets: {', '.join(sorted(self._values)) or 'none'}>"

    __str__ = __repr__


@dataclass(frozen=True)
class ChannelAccountInfo:
    """What channel code sees of an account. ``secrets`` is empty when ``broken_reason`` is set."""

    id: int
    public_id: str
    center_id: int | None
    center_code: str | None
    kind: str
    name: str
    address: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, str] = field(repr=False)
    enabled: bool
    broken_reason: str | None

    @property
    def has_secrets(self) -> bool:
        return bool(self.secrets) or self.broken_reason is not None


def webhook_path(info: ChannelAccountInfo) -> str:
    """Where the vendor posts for this account (opaque id only: never a secret, number or center)."""
    return rules_for(info.kind).path_template.format(public_id=info.public_id)


def path_field(kind: str) -> str:
    """``webhook_path`` (LINE) or ``inbound_path`` (email, voice): the name used in API and CLI output."""
    return rules_for(kind).path_name


def check_inbound_token(account: ChannelAccountInfo, token: str) -> bool:
    """True if ``token`` is the account's inbound token (constant-time)."""
    expected = account.settings.get(INBOUND_TOKEN_HASH)
    if not expected or not token:
        return False
    return hmac.compare_digest(hash_token(token), str(expected))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- reads ---------------------------------------------------------------------------------------


def get_account(session: Session, *, public_id: str, keys: Sequence[str]) -> ChannelAccountInfo | None:
    """The account behind a webhook URL's opaque id, or None."""
    row = session.exec(select(ChannelAccount).where(ChannelAccount.public_id == public_id)).first()
    return account_info(session, row, keys) if row is not None else None


def get_account_by_id(session: Session, *, account_id: int, keys: Sequence[str]) -> ChannelAccountInfo | None:
    row = session.get(ChannelAccount, account_id)
    return account_info(session, row, keys) if row is not None else None


def list_accounts(
    session: Session, *, kind: str | None = None, center_id: int | None = None, keys: Sequence[str]
) -> list[ChannelAccountInfo]:
    """Accounts ordered by id, optionally of one kind and/or one center."""
    query = select(ChannelAccount).order_by(ChannelAccount.id)  # type: ignore[arg-type]
    if kind is not None:
        query = query.where(ChannelAccount.kind == kind)
    if center_id is not None:
        query = query.where(ChannelAccount.center_id == center_id)
    return [account_info(session, row, keys) for row in session.exec(query).all()]


def account_info(session: Session, row: ChannelAccount, keys: Sequence[str]) -> ChannelAccountInfo:
    """The view of ``row`` with its secrets decrypted (or ``broken_reason`` set, recorded)."""
    secrets: dict[str, str] = {}
    broken = row.broken_reason
    if row.secrets_encrypted:
        try:
            secrets = decrypt_secrets(keys, row.secrets_encrypted)
            broken = None
        except SecretsUnreadable as exc:
            broken = f"secrets unreadable: {exc}"[:500]
    if broken != row.broken_reason:
        _record_broken(session, row, broken)
    center = session.get(Center, row.center_id) if row.center_id is not None else None
    assert row.id is not None
    return ChannelAccountInfo(
        id=row.id,
        public_id=row.public_id,
        center_id=row.center_id,
        center_code=center.code if center is not None else None,
        kind=row.kind,
        name=row.name,
        address=row.address,
        settings=MappingProxyType(dict(row.settings or {})),
        secrets=_Hidden(secrets),
        enabled=row.enabled,
        broken_reason=broken,
    )


def _record_broken(session: Session, row: ChannelAccount, reason: str | None) -> None:
    """Mark (or clear) broken on its own connection so the caller's transaction is untouched.

    SQLite has one writer and the caller's transaction already holds the lock: there the change rides
    on the caller's session (stored when it commits; recomputed on every read anyway).
    """
    if reason:
        log.error("channel account %s (%s) is broken: %s", row.id, row.kind, reason)
    else:
        log.info("channel account %s (%s) is readable again", row.id, row.kind)
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        row.broken_reason = reason
        session.add(row)
        return
    with Session(bind) as side:
        stored = side.get(ChannelAccount, row.id)
        if stored is not None:
            stored.broken_reason = reason
            side.add(stored)
            side.commit()
    set_committed_value(row, "broken_reason", reason)  # in step, without dirtying the caller's session
