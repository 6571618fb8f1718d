"""Live events for dashboards: fan-out to subscribers in this process, via Redis pub/sub when deployed."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]
CHANNEL = "madoguchi:events"


class LocalBroadcaster:
    """In-process fan-out (embedded default)."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.add(fn)
        return lambda: self._unsubscribe(fn)

    def _unsubscribe(self, fn: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(fn)

    def publish(self, payload: dict[str, Any]) -> None:
        self._deliver(payload)

    def _deliver(self, payload: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for fn in subscribers:
            try:
                fn(payload)
            except Exception:
                log.exception("live subscriber failed")

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


class RedisBroadcaster(LocalBroadcaster):
    """Publishes to Redis; a listener thread relays every process's events to local subscribers."""

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis
        self._pubsub: Any = None
        self._thread: Any = None

    def publish(self, payload: dict[str, Any]) -> None:
        self.redis.publish(CHANNEL, json.dumps(payload, ensure_ascii=False, default=str))

    def start(self) -> None:
        if self._thread is not None:
            return
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{CHANNEL: self._on_message})
        self._thread = self._pubsub.run_in_thread(
            sleep_time=0.5, daemon=True, exception_handler=_wait_after_redis_error
        )

    def _on_message(self, message: dict[str, Any]) -> None:
        try:
            self._deliver(json.loads(message["data"]))
        except (ValueError, KeyError):
            log.warning("dropping unreadable live event")

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread.join(timeout=5)
            self._thread = None
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None


def _wait_after_redis_error(exc: BaseException, _pubsub: Any, _thread: Any) -> None:
    """Keep the listener thread alive through a Redis restart (redis-py resubscribes on reconnect)."""
    log.warning("live events: Redis unreachable (%s: %s); retrying in 1 s", type(exc).__name__, exc)
    time.sleep(1.0)
