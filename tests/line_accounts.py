"""Test helpers for LINE channel accounts: the MADOGUCHI_LINE_* account, extra accounts, and
storing signed events the way the webhook does (verify, split, store, enqueue)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from channels.inbox import accept
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo, create_account, ensure_env_accounts
from crm.inbound_events import StoreResult
from tests.fakes.line_server import signed_headers, webhook_body


def line_account(rt: Runtime) -> ChannelAccountInfo:
    """The account of the ``MADOGUCHI_LINE_*`` settings (its center must exist)."""
    info = ensure_env_accounts(rt.engine, rt.settings)
    assert info is not None, "create the MADOGUCHI_LINE_CENTER_CODE center first"
    return info


def add_line_account(
    rt: Runtime, center_id: int, *, secret: str, token: str, api_url: str, name: str | None = None
) -> ChannelAccountInfo:
    """Another LINE official account, of the center ``center_id``."""
    with Session(rt.engine) as session:
        info, _ = create_account(
            session,
            kind="line",
            center_id=center_id,
            name=name,
            address=None,
            settings={"api_base_url": api_url, "blob_base_url": api_url},
            secrets={"channel_secret": secret, "access_token": token},
            keys=rt.settings.encryption_keys,
        )
    return info


def accept_events(
    rt: Runtime, events: list[dict[str, Any]], account: ChannelAccountInfo | None = None
) -> StoreResult:
    """What the webhook does with a signed body: verify with the account's secret, store, enqueue."""
    account = account or line_account(rt)
    adapter = rt.adapters.get("line", account.id)
    assert adapter is not None
    body = webhook_body(*events)
    adapter.verify(signed_headers(body, account.secrets["channel_secret"]), body)
    return accept(rt, account, adapter.split(body))
