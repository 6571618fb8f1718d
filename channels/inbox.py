"""The webhook side of the one inbound pipeline, for every channel: find the account, verify, store
raw, enqueue — nothing else before the vendor gets its answer.

``resolve_account(public_id)`` is cached in-process for ``ACCOUNT_TTL_SECONDS`` (5 s): the hot path
does not read the accounts table (nor decrypt secrets) per request, and disabling an account or
rotating its secret takes effect within that time. :func:`accept` is the rest of the hot path: ONE
``INSERT … ON CONFLICT DO NOTHING`` (crm.inbound_events.store_raw) and one enqueue per sender with
new events (usually one). If enqueueing fails (Redis down), the periodic sweep picks them up.
The same from the event loop, with group commit on PostgreSQL: :mod:`channels.inbox_async`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlmodel import Session

from channels.base import RawEvent
from channels.jobs import enqueue_sender
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo, get_account
from crm.inbound_events import StoreResult, store_raw

log = logging.getLogger(__name__)
ACCOUNT_TTL_SECONDS = 5.0


class AccountCache:
    """public id → account (or None: unknown), kept ``ttl`` seconds."""

    def __init__(
        self, load: Callable[[str], ChannelAccountInfo | None], ttl: float = ACCOUNT_TTL_SECONDS
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._entries: dict[str, tuple[float, ChannelAccountInfo | None]] = {}
        self._lock = threading.Lock()

    def fresh(self, public_id: str) -> bool:
        """Whether ``get`` would answer from memory (no database read)."""
        entry = self._entries.get(public_id)
        return entry is not None and time.monotonic() - entry[0] < self._ttl

    def get(self, public_id: str) -> ChannelAccountInfo | None:
        now = time.monotonic()
        entry = self._entries.get(public_id)
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        info = self._load(public_id)
        with self._lock:
            if len(self._entries) > 10_000:  # unknown ids probed at random must not grow it forever
                self._entries.clear()
            self._entries[public_id] = (now, info)
        return info

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def account_cache(runtime: Runtime) -> AccountCache:
    """The runtime's cache of accounts by public id (created on first use)."""
    cache = getattr(runtime, "_account_cache", None)
    if cache is None:

        def load(public_id: str) -> ChannelAccountInfo | None:
            with Session(runtime.engine) as session:
                info = get_account(session, public_id=public_id, keys=runtime.settings.encryption_keys)
                session.commit()  # SQLite: a broken account's reason rides on this session
            return info

        cache = AccountCache(load)
        runtime._account_cache = cache  # type: ignore[attr-defined]
    return cache


def accept(runtime: Runtime, account: ChannelAccountInfo, events: Sequence[RawEvent]) -> StoreResult:
    """Store the verified events (committed), then enqueue one job per sender with new events."""
    result = store_raw(runtime.engine, channel=account.kind, account_id=account.id, events=events)
    enqueue_new(runtime, account.id, result)
    return result


def enqueue_new(runtime: Runtime, account_id: int, result: StoreResult) -> None:
    for sender in result.new_senders:
        try:
            enqueue_sender(runtime, account_id, sender)
        except Exception:
            log.exception("could not enqueue the events of %s; the sweep will pick them up", sender)
