"""The one place that builds engines, Redis, job runners, broadcasters and channel adapters.

The API process and the RQ worker both call :func:`build_runtime`; jobs find it again with
:func:`get_runtime`. Nothing connects at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from config.jobs import InProcessJobs, Jobs, PeriodicJob, RQJobs
from config.live import LocalBroadcaster, RedisBroadcaster
from config.settings import Settings
from crm import events
from crm.db import make_engine

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], None]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    jobs: Jobs
    live: LocalBroadcaster
    redis: Any = None
    adapters: dict[str, Any] = field(default_factory=dict)
    handlers: dict[str, list[EventHandler]] = field(default_factory=dict)
    periodic: list[PeriodicJob] = field(default_factory=list)

    def dispatch(self, event: events.DomainEvent) -> None:
        """Broadcast a committed event and enqueue each handler registered for its name."""
        payload = event.to_dict()
        self.live.publish(payload)
        for handler in self.handlers.get(event.name, []):
            self.jobs.enqueue(handler, payload)

    def on(self, event_name: str, handler: EventHandler) -> None:
        self.handlers.setdefault(event_name, []).append(handler)

    def close(self) -> None:
        self.jobs.stop()
        self.live.stop()
        for adapter in self.adapters.values():
            close = getattr(adapter, "close", None)
            if callable(close):
                close()  # SDK connection pools
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


_runtime: Runtime | None = None
_extensions: list[Callable[[Runtime], None]] = []


def register_extension(fn: Callable[[Runtime], None]) -> Callable[[Runtime], None]:
    """Packages (routing, knowledge, channels) add their handlers, adapters and periodic jobs here."""
    if fn not in _extensions:
        _extensions.append(fn)
    return fn


def build_runtime(settings: Settings) -> Runtime:
    """Build (but do not start) everything the process needs, and make it the current runtime."""
    engine = make_engine(settings.database_url, durable=settings.env != "test")
    redis = None
    jobs: Jobs
    live: LocalBroadcaster
    if settings.redis_url:
        from redis import Redis

        redis = Redis.from_url(settings.redis_url)
        jobs = RQJobs(redis, settings.queue_name)
        live = RedisBroadcaster(redis)
    else:
        jobs = InProcessJobs()
        live = LocalBroadcaster()
    runtime = Runtime(settings=settings, engine=engine, jobs=jobs, live=live, redis=redis)
    _load_extensions()
    for extend in _extensions:
        extend(runtime)
    if settings.is_dev:
        _add_sandbox_adapters(runtime)
    set_runtime(runtime)
    return runtime


def _add_sandbox_adapters(runtime: Runtime) -> None:
    from channels.base import ChannelKind
    from channels.sandbox import SandboxAdapter

    for kind in ChannelKind:
        if kind.value not in runtime.adapters:
            outbox = runtime.settings.data_dir / "sandbox-outbox.jsonl"
            runtime.adapters[kind.value] = SandboxAdapter(kind, outbox)
            log.info("channel %s is not configured: replies go to the sandbox file %s", kind.value, outbox)


def _load_extensions() -> None:
    # Importing these modules registers their extensions; kept lazy to avoid import cycles.
    from config.modules import import_optional

    for module in ("crm.wiring", "channels.wiring", "routing.wiring", "knowledge.wiring"):
        import_optional(module)


def set_runtime(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime
    events.set_dispatcher(runtime.dispatch if runtime is not None else None)


def get_runtime() -> Runtime:
    """The runtime of this process; jobs use it to reach the database and adapters."""
    if _runtime is None:
        raise RuntimeError("no runtime: call config.wiring.build_runtime(settings) first")
    return _runtime
