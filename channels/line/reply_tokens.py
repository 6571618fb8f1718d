"""The freshest LINE reply token per (channel account, chat), kept by the LINE adapter only.

A reply token lets the account answer a consumer's event for free, once, for about a minute. The
adapter remembers it when it parses the event and uses it in ``send()`` for an automatic answer's
first attempt (reply, then push as the fallback). Nothing outside channels/line/ knows about it.
With Redis the tokens are shared by every worker (``SET … EX``, taken with ``GETDEL``); without,
they live in this process's memory with the same expiry.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

TOKEN_SECONDS = 50  # LINE guarantees about one minute; keep a margin, then push instead


class ReplyTokens(Protocol):
    def remember(self, account_id: int | None, chat: str, token: str, ttl: float) -> None: ...

    def take(self, account_id: int | None, chat: str) -> str | None: ...


class MemoryReplyTokens:
    """In-process tokens with expiry (embedded mode: the jobs run in this process)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[int | None, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def remember(self, account_id: int | None, chat: str, token: str, ttl: float) -> None:
        if ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._tokens) > 10_000:  # drop the expired ones now and then
                self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
            self._tokens[(account_id, chat)] = (token, now + ttl)

    def take(self, account_id: int | None, chat: str) -> str | None:
        with self._lock:
            token, expires = self._tokens.pop((account_id, chat), ("", 0.0))
        return token if token and expires > time.monotonic() else None


class RedisReplyTokens:
    """Tokens in Redis, so the worker that delivers can use the token another worker parsed."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def remember(self, account_id: int | None, chat: str, token: str, ttl: float) -> None:
        if ttl >= 1:
            self.redis.set(_key(account_id, chat), token, ex=int(ttl))

    def take(self, account_id: int | None, chat: str) -> str | None:
        raw = self.redis.getdel(_key(account_id, chat))
        return raw.decode() if isinstance(raw, bytes) else raw


def _key(account_id: int | None, chat: str) -> str:
    return f"madoguchi:line:reply-token:{account_id or 0}:{chat}"


_memory = MemoryReplyTokens()


def reply_token_store(redis: Any = None) -> ReplyTokens:
    """Redis-backed when Redis is configured, else this process's memory."""
    return RedisReplyTokens(redis) if redis is not None else _memory
