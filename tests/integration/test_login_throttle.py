"""The login throttle's policy over both stores (database table, and Redis when configured)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from config.runtime import Runtime
from crm.login_throttle import (
    DatabaseThrottleStore,
    LoginThrottle,
    RedisThrottleStore,
    ThrottlePolicy,
    ThrottleStore,
    TooManyLogins,
)

POLICY = ThrottlePolicy(
    max_failures=3, backoff_seconds=10, lockout_seconds=60, user_max_failures=6, ip_max_failures=8
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, runtime: Runtime) -> Iterator[ThrottleStore]:
    if request.param == "database":
        yield DatabaseThrottleStore()
    elif runtime.redis is not None:
        yield RedisThrottleStore(runtime.redis)
    else:  # an unreachable Redis fails the PostgreSQL + Redis pass itself (tests/conftest.py)
        pytest.skip("the embedded pass has no Redis; the PostgreSQL + Redis pass tests this store")


def _retry_after(throttle: LoginThrottle, session: Session, user: str, ip: str) -> int:
    try:
        throttle.check(session, user, ip)
    except TooManyLogins as exc:
        return exc.retry_after
    return 0


def test_backoff_doubles_per_failure_up_to_the_cap(store: ThrottleStore, session: Session) -> None:
    clock = Clock()
    throttle = LoginThrottle(store, POLICY, clock)
    for _ in range(2):
        throttle.failed(session, "sato", "1.2.3.4")
    assert _retry_after(throttle, session, "sato", "1.2.3.4") == 0
    waits = []
    for _ in range(5):
        throttle.failed(session, "sato", "1.2.3.4")
        waits.append(_retry_after(throttle, session, "sato", "1.2.3.4"))
        clock.now += waits[-1]  # the attacker waits the lock out, then guesses again
    assert waits == [10, 20, 40, 60, 60]
    assert _retry_after(throttle, session, "SATO", "5.6.7.8") == 0  # another address is not locked


def test_success_clears_the_address_counter(store: ThrottleStore, session: Session) -> None:
    throttle = LoginThrottle(store, POLICY, Clock())
    for _ in range(2):
        throttle.failed(session, "sato", "1.2.3.4")
    throttle.succeeded(session, "sato", "1.2.3.4")
    for _ in range(2):
        throttle.failed(session, "sato", "1.2.3.4")
    assert _retry_after(throttle, session, "sato", "1.2.3.4") == 0


def test_user_lock_is_bounded_and_not_extended_by_attempts(store: ThrottleStore, session: Session) -> None:
    clock = Clock()
    throttle = LoginThrottle(store, POLICY, clock)
    for i in range(POLICY.user_max_failures):
        throttle.failed(session, "sato", f"10.0.0.{i}")
    assert _retry_after(throttle, session, "sato", "192.0.2.1") == 60  # locked for everyone
    for _ in range(10):  # refused attempts are not counted (login checks first)
        clock.now += 5
        assert _retry_after(throttle, session, "sato", "192.0.2.1") > 0
    clock.now += 11
    assert _retry_after(throttle, session, "sato", "192.0.2.1") == 0  # the lock ended on time
    throttle.failed(session, "sato", "10.9.9.9")
    assert _retry_after(throttle, session, "sato", "192.0.2.1") == 0  # counting starts again


def test_password_spraying_locks_the_address(store: ThrottleStore, session: Session) -> None:
    throttle = LoginThrottle(store, POLICY, Clock())
    for i in range(POLICY.ip_max_failures):
        throttle.failed(session, f"user{i}", "6.6.6.6")
    assert _retry_after(throttle, session, "someone-else", "6.6.6.6") == 60
    assert _retry_after(throttle, session, "someone-else", "7.7.7.7") == 0


def test_counters_are_forgotten_after_the_window(store: ThrottleStore, session: Session) -> None:
    clock = Clock()
    throttle = LoginThrottle(store, POLICY, clock)
    for _ in range(2):
        throttle.failed(session, "sato", "1.2.3.4")
    clock.now += POLICY.window_seconds + 1
    if isinstance(store, RedisThrottleStore):
        pytest.skip("Redis forgets by TTL in real time; the window is covered by EXPIRE")
    throttle.failed(session, "sato", "1.2.3.4")
    assert _retry_after(throttle, session, "sato", "1.2.3.4") == 0
