"""Login throttling: failed logins slow an attacker down without letting them lock a user out for good.

Three counters, each forgotten ``login_failure_window_minutes`` after its last failure:

1. **username + client IP**: after ``login_max_failures`` failures, that pair is locked for
   ``login_backoff_seconds``, doubling with every further failure, capped at ``login_lockout_minutes``.
   This is the lock an attacker hits; the real user on another address is not affected by it.
2. **username, from any IP**: after ``login_user_max_failures`` failures (a distributed guess), the
   username is locked for ``login_lockout_minutes``. Attempts during a lock are refused *without*
   counting, so they cannot extend it; when it ends the count starts again from zero. An attacker can
   therefore hold a user out for at most one lock per ``login_user_max_failures`` guesses.
3. **client IP, for all usernames**: after ``login_ip_max_failures`` failures (password spraying), the
   address is locked for ``login_lockout_minutes``.

A refused login answers 429 with ``Retry-After``. A successful login clears the username + IP counter.
Counters live in Redis when it is configured, else in the ``login_throttle`` table, so every API
process shares them. Locked requests are refused before any password hashing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.settings import Settings
from crm.errors import DomainError
from crm.models import LoginThrottle as ThrottleRow


class TooManyLogins(DomainError):
    """429: too many failed logins; ``headers`` carries Retry-After (app.py adds it)."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins for this username or address: try again in {retry_after} seconds "
            "(if you forgot your password, ask your supervisor or an admin to reset it)"
        )
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    backoff_seconds: int = 30
    lockout_seconds: int = 15 * 60
    user_max_failures: int = 20
    ip_max_failures: int = 100
    window_seconds: int = 60 * 60

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            max_failures=settings.login_max_failures,
            backoff_seconds=settings.login_backoff_seconds,
            lockout_seconds=settings.login_lockout_minutes * 60,
            user_max_failures=settings.login_user_max_failures,
            ip_max_failures=settings.login_ip_max_failures,
            window_seconds=settings.login_failure_window_minutes * 60,
        )

    def pair_lock_seconds(self, failures: int) -> float:
        """Backoff after the ``failures``-th failure of one username + IP (0: not locked yet)."""
        if failures < self.max_failures:
            return 0.0
        exponent = min(failures - self.max_failures, 30)
        return float(min(self.backoff_seconds * 2**exponent, self.lockout_seconds))


class ThrottleStore(Protocol):
    """Counters and locks by key; ``session`` is the caller's (the database store writes through it)."""

    def locked_until(self, session: Session, keys: Sequence[str], now: float) -> float: ...
    def add_failure(self, session: Session, key: str, now: float, window: float) -> int: ...
    def lock(self, session: Session, key: str, until: float, now: float) -> None: ...
    def clear(self, session: Session, key: str) -> None: ...
    def forget_expired(self, session: Session, now: float) -> None: ...


class DatabaseThrottleStore:
    """Counters in the ``login_throttle`` table (the embedded default, and PostgreSQL without Redis)."""

    def locked_until(self, session: Session, keys: Sequence[str], now: float) -> float:
        rows = session.exec(select(ThrottleRow.locked_until).where(col(ThrottleRow.key).in_(list(keys))))
        return max([0.0, *rows.all()])

    def add_failure(self, session: Session, key: str, now: float, window: float) -> int:
        for _ in range(3):
            stmt = (
                update(ThrottleRow)
                .where(col(ThrottleRow.key) == key)
                .values(
                    failures=_case_expired(now, 1, col(ThrottleRow.failures) + 1),
                    expires_at=now + window,
                )
                .returning(col(ThrottleRow.failures))
            )
            count = session.execute(stmt).scalar()
            if count is not None:
                return int(count)
            try:
                with session.begin_nested():
                    session.add(ThrottleRow(key=key, failures=1, expires_at=now + window))
                return 1
            except IntegrityError:  # another process inserted it meanwhile: count on it
                continue
        raise RuntimeError(f"could not count a failed login for {key!r}")

    def lock(self, session: Session, key: str, until: float, now: float) -> None:
        row = session.get(ThrottleRow, key)
        if row is None:
            session.add(ThrottleRow(key=key, failures=0, expires_at=until, locked_until=until))
        else:
            row.locked_until = max(row.locked_until, until)
            row.expires_at = max(row.expires_at, until)
        session.flush()

    def clear(self, session: Session, key: str) -> None:
        row = session.get(ThrottleRow, key)
        if row is not None:
            session.delete(row)
            session.flush()

    def forget_expired(self, session: Session, now: float) -> None:
        session.execute(
            delete(ThrottleRow).where(col(ThrottleRow.expires_at) < now, col(ThrottleRow.locked_until) < now)
        )


def _case_expired(now: float, fresh: Any, continued: Any) -> Any:
    from sqlalchemy import case

    return case((col(ThrottleRow.expires_at) < now, fresh), else_=continued)


class RedisThrottleStore:
    """Counters in Redis (deployment): ``INCR`` + ``EXPIRE``, locks as keys with a TTL."""

    prefix = "madoguchi:login:"

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def locked_until(self, session: Session, keys: Sequence[str], now: float) -> float:
        values = self.redis.mget([f"{self.prefix}lock:{k}" for k in keys])
        return max([0.0, *(float(v) for v in values if v is not None)])

    def add_failure(self, session: Session, key: str, now: float, window: float) -> int:
        name = f"{self.prefix}fail:{key}"
        pipe = self.redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, math.ceil(window))
        count, _ = pipe.execute()
        return int(count)

    def lock(self, session: Session, key: str, until: float, now: float) -> None:
        name = f"{self.prefix}lock:{key}"
        current = self.redis.get(name)
        if current is None or float(current) < until:
            self.redis.set(name, repr(until), ex=max(1, math.ceil(until - now)))

    def forget_expired(self, session: Session, now: float) -> None:
        """Nothing to do: Redis expires the keys itself."""

    def clear(self, session: Session, key: str) -> None:
        self.redis.delete(f"{self.prefix}fail:{key}", f"{self.prefix}lock:{key}")


class LoginThrottle:
    """The policy of the module docstring over a store. Each method ends its own short transaction."""

    def __init__(
        self, store: ThrottleStore, policy: ThrottlePolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    @staticmethod
    def _keys(username: str, ip: str | None) -> tuple[str, str, str]:
        user = username.strip().lower()[:150]
        addr = (ip or "unknown")[:64]
        return f"pair:{user}|{addr}", f"user:{user}", f"ip:{addr}"

    def check(self, session: Session, username: str, ip: str | None) -> None:
        """Raise :class:`TooManyLogins` if this username or address is locked now."""
        now = self.clock()
        until = self.store.locked_until(session, self._keys(username, ip), now)
        session.commit()
        if until > now:
            raise TooManyLogins(max(1, math.ceil(until - now)))

    def failed(self, session: Session, username: str, ip: str | None) -> None:
        """Count a failed login and lock what crossed its limit."""
        p = self.policy
        now = self.clock()
        pair, user, addr = self._keys(username, ip)
        self.store.forget_expired(session, now)
        pair_lock = p.pair_lock_seconds(self.store.add_failure(session, pair, now, p.window_seconds))
        if pair_lock:
            self.store.lock(session, pair, now + pair_lock, now)
        for key, limit in ((user, p.user_max_failures), (addr, p.ip_max_failures)):
            if self.store.add_failure(session, key, now, p.window_seconds) >= limit:
                self.store.clear(session, key)  # the next lock needs `limit` new failures
                self.store.lock(session, key, now + p.lockout_seconds, now)
        session.commit()

    def succeeded(self, session: Session, username: str, ip: str | None) -> None:
        """Forget this username + address's failures."""
        self.store.clear(session, self._keys(username, ip)[0])
        session.commit()


def throttle_for(settings: Settings, redis: Any = None) -> LoginThrottle:
    """The throttle of this deployment: Redis counters when Redis is configured, else the database."""
    store: ThrottleStore = RedisThrottleStore(redis) if redis is not None else DatabaseThrottleStore()
    return LoginThrottle(store, ThrottlePolicy.from_settings(settings))
