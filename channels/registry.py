"""The adapter registry: one adapter per (kind, channel account), built lazily from the account.

``get(kind, account_id)`` loads the account (crm.channel_accounts, secrets decrypted) the first time,
builds its adapter with the kind's factory and keeps it. The account is re-read at most every
``ACCOUNT_TTL_SECONDS``: a changed token or secret builds a new adapter, a disabled or broken account
stops sending within that time. ``account_id`` None (rows older than channel accounts) means the
kind's default account: the ``MADOGUCHI_LINE_*`` shortcut account, else the only enabled one. In
dev/test a kind without any account sends to the sandbox file instead (channels.sandbox).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from channels.base import ChannelAdapter, ChannelKind
from config.settings import Settings
from crm.channel_accounts import ChannelAccountInfo, get_account_by_id, list_accounts

log = logging.getLogger(__name__)

ACCOUNT_TTL_SECONDS = 5.0
Factory = Callable[[ChannelAccountInfo], ChannelAdapter]


def adapter_factories(settings: Settings, redis: Any = None) -> dict[str, Factory]:
    """How to build the adapter of each kind from its account (vendor SDKs are imported lazily)."""

    def line(info: ChannelAccountInfo) -> ChannelAdapter:
        from channels.line.adapter import LineAdapter
        from channels.line.reply_tokens import reply_token_store

        return LineAdapter.for_account(info, settings, reply_tokens=reply_token_store(redis))

    def email(info: ChannelAccountInfo) -> ChannelAdapter:
        from channels.email.adapter import EmailAdapter

        return EmailAdapter.for_account(info, settings)

    def voice(info: ChannelAccountInfo) -> ChannelAdapter:
        from channels.voice.adapter import VoiceAdapter

        token = info.secrets.get("auth_token") or settings.twilio_auth_token
        return VoiceAdapter(auth_token=token, account_id=info.id)

    return {ChannelKind.LINE.value: line, ChannelKind.EMAIL.value: email, ChannelKind.VOICE.value: voice}


class AdapterRegistry:
    """Adapters keyed by (kind, account id); thread-safe, lazy, refreshed after a short TTL."""

    def __init__(self, engine: Engine, settings: Settings, *, factories: Mapping[str, Factory]) -> None:
        self.engine = engine
        self.settings = settings
        self.factories = dict(factories)
        self._lock = threading.Lock()
        self._cache: dict[
            tuple[str, int], tuple[float, ChannelAccountInfo | None, ChannelAdapter | None]
        ] = {}
        self._sandbox: dict[str, ChannelAdapter] = {}
        self._overrides: dict[tuple[str, int | None], ChannelAdapter] = {}
        self._defaults: dict[str, tuple[float, int | None]] = {}

    def get(self, kind: str, account_id: int | None = None) -> ChannelAdapter | None:
        """The adapter for this account (None: unknown, disabled or broken account, or no factory)."""
        override = self._overrides.get((kind, account_id)) or self._overrides.get((kind, None))
        if override is not None:
            return override
        if account_id is None:
            account_id = self.default_account_id(kind)
            if account_id is None:
                return self._sandbox_for(kind)
        key = (kind, account_id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < ACCOUNT_TTL_SECONDS:
            return cached[2]
        info = self._load(account_id)
        adapter = cached[2] if cached is not None and cached[1] == info else None
        if adapter is None and info is not None and info.enabled and not info.broken_reason:
            factory = self.factories.get(info.kind)
            adapter = factory(info) if factory else None
        with self._lock:
            old = self._cache.get(key)
            self._cache[key] = (now, info, adapter)
        if old is not None and old[2] is not None and old[2] is not adapter:
            old[2].close()
        return adapter

    def __getitem__(self, kind: str) -> ChannelAdapter:
        """``registry["line"]``: the kind's default adapter (KeyError when there is none)."""
        adapter = self.get(kind)
        if adapter is None:
            raise KeyError(kind)
        return adapter

    def default_account_id(self, kind: str) -> int | None:
        """The kind's account for rows without one: the shortcut account, else the only enabled one
        (remembered for ACCOUNT_TTL_SECONDS like the accounts themselves)."""
        now = time.monotonic()
        cached = self._defaults.get(kind)
        if cached is not None and now - cached[0] < ACCOUNT_TTL_SECONDS:
            return cached[1]
        account_id = self._find_default(kind)
        self._defaults[kind] = (now, account_id)
        return account_id

    def _find_default(self, kind: str) -> int | None:
        with Session(self.engine) as session:
            accounts = list_accounts(session, kind=kind, keys=self.settings.encryption_keys)
        enabled = [a for a in accounts if a.enabled]
        shortcut = [a for a in enabled if a.address == f"center:{self.settings.line_center_code}"]
        chosen = shortcut or (enabled if len(enabled) == 1 else [])
        return chosen[0].id if chosen else None

    def peek(self, kind: str, account_id: int) -> ChannelAdapter | None:
        """The cached adapter if it is fresh (no database read): the webhook's hot path."""
        override = self._overrides.get((kind, account_id)) or self._overrides.get((kind, None))
        if override is not None:
            return override
        cached = self._cache.get((kind, account_id))
        if cached is not None and time.monotonic() - cached[0] < ACCOUNT_TTL_SECONDS:
            return cached[2]
        return None

    def install(self, kind: str, adapter: ChannelAdapter, account_id: int | None = None) -> None:
        """Use ``adapter`` for this kind (and account; None: every account) — tests and tools."""
        self._overrides[(kind, account_id)] = adapter

    def forget(self) -> None:
        """Drop every cached account (after the accounts table was emptied, e.g. between tests)."""
        with self._lock:
            cached, self._cache = self._cache, {}
            self._defaults = {}
        for _, _, adapter in cached.values():
            if adapter is not None:
                adapter.close()

    def close(self) -> None:
        self.forget()
        for adapter in self._sandbox.values():
            adapter.close()

    def _load(self, account_id: int) -> ChannelAccountInfo | None:
        with Session(self.engine) as session:
            return get_account_by_id(session, account_id=account_id, keys=self.settings.encryption_keys)

    def _sandbox_for(self, kind: str) -> ChannelAdapter | None:
        if not self.settings.is_dev:
            return None
        adapter = self._sandbox.get(kind)
        if adapter is None:
            from channels.sandbox import SandboxAdapter

            outbox = self.settings.data_dir / "sandbox-outbox.jsonl"
            adapter = self._sandbox[kind] = SandboxAdapter(ChannelKind(kind), outbox)
            log.info("channel %s has no account: replies go to the sandbox file %s", kind, outbox)
        return adapter
