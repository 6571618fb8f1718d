"""What a running process holds (engine, Redis, jobs, live events, adapters, event handlers), and the
one accessor jobs use to reach it.

``bootstrap.build_runtime`` builds it and installs it with :func:`set_runtime`; jobs call
:func:`get_runtime`. This module imports nothing from crm, channels or routing: it sits below them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from config.jobs import Jobs, PeriodicJob
from config.live import LocalBroadcaster
from config.settings import Settings

log = logging.getLogger(__name__)

# A job run with the event's payload; what it returns is the job's result, never read by dispatch.
EventHandler = Callable[[dict[str, Any]], object]


class Event(Protocol):
    """A committed domain event (crm.events.DomainEvent)."""

    @property
    def name(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class Adapters(Protocol):
    """The adapter registry (channels.registry.AdapterRegistry), keyed by (kind, account id)."""

    def get(self, kind: str, account_id: int | None = None) -> Any: ...

    def close(self) -> None: ...


class _NoAdapters:
    def get(self, kind: str, account_id: int | None = None) -> Any:
        return None

    def close(self) -> None:
        return None


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    jobs: Jobs
    live: LocalBroadcaster
    redis: Any = None
    adapters: Adapters = field(default_factory=_NoAdapters)
    handlers: dict[type, list[EventHandler]] = field(default_factory=dict)
    periodic: list[PeriodicJob] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Waiting and failed work as (queue, channel, status, count), for /metrics (crm.backlog, wired by bootstrap).
    backlog_counts: Callable[[], list[tuple[str, str, str, int]]] | None = None

    def dispatch(self, event: Event) -> None:
        """Broadcast a committed event and enqueue each handler registered for its class."""
        payload = event.to_dict()
        self.live.publish(payload)
        for handler in self.handlers.get(type(event), []):
            self.jobs.enqueue(handler, payload)

    def close(self) -> None:
        self.jobs.stop()
        self.live.stop()
        self.adapters.close()
        for close in self.closers:
            close()
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


_runtime: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    """Install the process's runtime (bootstrap.set_runtime also installs the event dispatcher)."""
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    """The runtime of this process; jobs use it to reach the database and adapters."""
    if _runtime is None:
        raise RuntimeError("no runtime: call bootstrap.build_runtime(settings) first")
    return _runtime
