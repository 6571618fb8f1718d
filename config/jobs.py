"""One ``enqueue()`` seam for background work, two runners, the same job functions.

* :class:`InProcessJobs` (embedded default): a worker thread and a timer heap in this process.
* :class:`RQJobs` (``MADOGUCHI_REDIS_URL`` set): RQ on Redis with the JSON serializer; ``madoguchi
  worker`` runs the workers and the scheduler.

Jobs take ids, not objects, and keep their own retry state in the database, so either runner can be
restarted without losing work: a periodic sweep re-enqueues whatever is still due.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

FAILURE_TTL = 7 * 24 * 3600  # failed jobs stay inspectable for a week (rq info / the failed registry)
TICK_SECONDS = 1.0
TICK_MAX_BACKOFF = 2.0  # while Redis is down: short, so work resumes within seconds of its return
HEARTBEAT_MAX_AGE = 15.0  # a worker without a heartbeat for this long counts as down (/readyz)
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")

JobFunc = Callable[..., Any]


@dataclass(frozen=True)
class PeriodicJob:
    func: JobFunc
    every_seconds: float


class Jobs(Protocol):
    def enqueue(
        self, func: JobFunc, *args: Any, job_id: str | None = None, delay: float | None = None
    ) -> None: ...

    def drain(self, timeout: float = 30.0) -> None: ...

    def start(self, periodic: list[PeriodicJob]) -> None: ...

    def stop(self) -> None: ...

    def workers_alive(self, max_age: float = ...) -> int: ...


def heartbeat_key(queue_name: str) -> str:
    return f"madoguchi:{queue_name}:worker-heartbeats"


def _job_name(func: JobFunc) -> str:
    return safe_job_id(f"{func.__module__}-{func.__qualname__}")


def safe_job_id(job_id: str) -> str:
    """RQ accepts letters, digits, '_' and '-' in job ids."""
    return _UNSAFE_ID_CHARS.sub("-", job_id)


class InProcessJobs:
    """Runs jobs on one background thread; ``drain()`` waits until every due job has run."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str | None, JobFunc, tuple[Any, ...]]] = []
        self._pending_ids: set[str] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._periodic: list[PeriodicJob] = []
        self._next_tick: dict[int, float] = {}
        self._started = False
        self.failures: Counter[str] = Counter()  # job name -> failures in this process (/metrics)

    def enqueue(
        self, func: JobFunc, *args: Any, job_id: str | None = None, delay: float | None = None
    ) -> None:
        with self._cond:
            if job_id is not None:
                if job_id in self._pending_ids:
                    return
                self._pending_ids.add(job_id)
            run_at = time.monotonic() + (delay or 0.0)
            heapq.heappush(self._heap, (run_at, next(self._seq), job_id, func, args))
            self._cond.notify_all()
        self._ensure_thread()

    def start(self, periodic: list[PeriodicJob]) -> None:
        with self._cond:
            self._periodic = list(periodic)
            now = time.monotonic()
            self._next_tick = {i: now + p.every_seconds for i, p in enumerate(self._periodic)}
            self._started = True
        self._ensure_thread()

    def workers_alive(self, max_age: float = 0.0) -> int:
        """1 while the job thread of this process runs (after :meth:`start`), else 0."""
        thread = self._thread
        return int(self._started and thread is not None and thread.is_alive())

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._periodic, self._next_tick = [], {}
            self._started = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        self._stopping = False

    def drain(self, timeout: float = 30.0) -> None:
        """Block until no job is due or running (jobs delayed into the future are left waiting)."""
        deadline = time.monotonic() + timeout
        self._ensure_thread()
        with self._cond:
            while self._running or (self._heap and self._heap[0][0] <= time.monotonic()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("in-process jobs did not finish in time")
                self._cond.wait(min(remaining, 0.05))

    def run_delayed_now(self) -> None:
        """Make every delayed job due at once (tests use this instead of sleeping)."""
        with self._cond:
            self._heap = [(0.0, seq, jid, f, a) for (_, seq, jid, f, a) in self._heap]
            heapq.heapify(self._heap)
            self._cond.notify_all()

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="madoguchi-jobs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                # Stopping drops what is still queued: jobs keep their state in the database and the
                # periodic sweeps of the next process pick it up.
                job = None if self._stopping else self._next_due_locked()
                while job is None:
                    if self._stopping:
                        return
                    self._cond.wait(self._wait_seconds_locked())
                    job = None if self._stopping else self._next_due_locked()
                self._running += 1
                # Released at start: work arriving while this job runs gets a run of its own.
                if job[2] is not None:
                    self._pending_ids.discard(job[2])
            _, _, job_id, func, args = job
            try:
                func(*args)
            except Exception:
                # Never fatal to the thread: a database outage fails this run, the next tick retries.
                self.failures[_job_name(func)] += 1
                log.exception("job %s%s failed", getattr(func, "__qualname__", func), args)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _next_due_locked(self) -> tuple[float, int, str | None, JobFunc, tuple[Any, ...]] | None:
        now = time.monotonic()
        for i, when in list(self._next_tick.items()):
            if when <= now:
                self._next_tick[i] = now + self._periodic[i].every_seconds
                heapq.heappush(self._heap, (now, next(self._seq), None, self._periodic[i].func, ()))
        if self._heap and self._heap[0][0] <= now:
            return heapq.heappop(self._heap)
        return None

    def _wait_seconds_locked(self) -> float:
        candidates = [1.0]
        if self._heap:
            candidates.append(self._heap[0][0] - time.monotonic())
        candidates.extend(t - time.monotonic() for t in self._next_tick.values())
        return max(0.005, min(candidates))


class RQJobs:
    """RQ on Redis. Jobs with a ``job_id`` are unique while queued or scheduled."""

    def __init__(self, redis: Any, queue_name: str) -> None:
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.redis = redis
        self.serializer = JSONSerializer
        self.queue = Queue(queue_name, connection=redis, serializer=JSONSerializer)
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"
        self.tick_failures = 0

    def enqueue(
        self, func: JobFunc, *args: Any, job_id: str | None = None, delay: float | None = None
    ) -> None:
        """Enqueue; a ``job_id`` coalesces with a job of that id that is still waiting to run.

        A job of that id that is running gets a follow-up run (the work may have arrived after it
        looked); one that finished or failed is replaced, so an old failure never blocks new work.
        """
        from rq.exceptions import DuplicateJobError

        rq_id = self._claim_id(job_id) if job_id else None
        if job_id and rq_id is None:
            return
        options: dict[str, Any] = {
            "job_id": rq_id,
            "unique": rq_id is not None,
            "result_ttl": 0,
            "failure_ttl": FAILURE_TTL,
        }
        try:
            if delay and delay > 0:
                self.queue.enqueue_in(timedelta(seconds=delay), func, *args, **options)
            else:
                self.queue.enqueue_call(func, args=args, **options)
        except DuplicateJobError:
            log.debug("job %s already queued", rq_id)

    def _claim_id(self, job_id: str) -> str | None:
        from rq.job import Job, JobStatus

        rq_id = safe_job_id(job_id)
        raw = self.redis.hget(Job.key_for(rq_id), "status")  # one field, not the whole job
        if raw is None:
            return rq_id
        status = raw.decode() if isinstance(raw, bytes) else str(raw)
        if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.CREATED):
            return None
        if status == JobStatus.STARTED:
            return f"{rq_id}-{uuid.uuid4().hex[:8]}"
        Job.fetch(rq_id, connection=self.redis, serializer=self.serializer).delete()
        return rq_id

    def drain(self, timeout: float = 30.0) -> None:
        """Run every queued job in this process (tests), like ``rq worker --burst``."""
        from rq import SimpleWorker

        deadline = time.monotonic() + timeout
        worker = SimpleWorker([self.queue], connection=self.redis, serializer=self.serializer)
        while len(self.queue) and time.monotonic() < deadline:
            worker.work(burst=True, logging_level="WARNING")
        if len(self.queue):
            raise TimeoutError("RQ jobs did not finish in time")

    def run_delayed_now(self) -> None:
        """Move every scheduled job to the queue at once (tests use this instead of sleeping)."""
        registry = self.queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            registry.remove(job_id)
            job = self.queue.fetch_job(job_id)
            if job is not None:
                self.queue._enqueue_job(job)

    def start(self, periodic: list[PeriodicJob]) -> None:
        """Start the ticker thread: periodic jobs, once per slot across workers, and this worker's heartbeat."""
        self._stop.clear()
        self._ticker = threading.Thread(
            target=self._tick_forever, args=(list(periodic),), name="madoguchi-ticker", daemon=True
        )
        self._ticker.start()

    def _tick_forever(self, periodic: list[PeriodicJob]) -> None:
        """Tick until stopped. A Redis (or any) error is logged and retried with a short backoff; the
        first tick that works again runs every periodic job at once (what fell due during the outage)."""
        last_slot: dict[int, int] = {}
        failures = 0
        wait = TICK_SECONDS
        while not self._stop.wait(wait):
            try:
                if failures:
                    self._resume(periodic)
                    log.warning(
                        "ticker: Redis answers again after %d failed ticks; periodic jobs resumed", failures
                    )
                self._tick(periodic, last_slot)
                self.heartbeat()
                failures, wait = 0, TICK_SECONDS
            except Exception as exc:
                failures += 1
                self.tick_failures += 1
                wait = min(TICK_MAX_BACKOFF, TICK_SECONDS * 2 ** min(failures - 1, 4))
                if failures == 1:
                    log.exception(
                        "ticker: periodic jobs not enqueued; retrying every %.0f s", TICK_MAX_BACKOFF
                    )
                elif failures % 30 == 0:
                    log.error(
                        "ticker: still failing after %d ticks: %s: %s", failures, type(exc).__name__, exc
                    )

    def _tick(self, periodic: list[PeriodicJob], last_slot: dict[int, int]) -> None:
        now = time.time()
        for i, p in enumerate(periodic):
            slot = int(now // p.every_seconds)
            if last_slot.get(i) == slot:
                continue
            name = _job_name(p.func)
            # One worker per slot wins the claim, so N workers still run each tick once.
            claim = f"madoguchi:{self.queue.name}:tick:{name}:{slot}"
            if self.redis.set(claim, b"1", nx=True, ex=int(p.every_seconds) + 60):
                self.enqueue(p.func, job_id=f"periodic-{name}-{slot}")
            last_slot[i] = slot

    def _resume(self, periodic: list[PeriodicJob]) -> None:
        for p in periodic:
            self.enqueue(p.func, job_id=f"periodic-{_job_name(p.func)}-resume")

    def heartbeat(self) -> None:
        """Record that this worker process is alive (``/readyz`` counts recent heartbeats)."""
        key = heartbeat_key(self.queue.name)
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zadd(key, {self.worker_name: now})
        pipe.zremrangebyscore(key, "-inf", now - HEARTBEAT_MAX_AGE * 10)
        pipe.execute()

    def workers_alive(self, max_age: float = HEARTBEAT_MAX_AGE) -> int:
        """How many workers sent a heartbeat in the last ``max_age`` seconds."""
        return int(self.redis.zcount(heartbeat_key(self.queue.name), time.time() - max_age, "+inf"))

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)


def run_rq_worker(jobs: RQJobs, *, burst: bool = False, logging_level: str = "INFO") -> None:
    """Run an RQ worker (with the scheduler) until SIGINT/SIGTERM; never exit because Redis went away.

    RQ's own loop retries a failed dequeue, but any other Redis error (registering, the scheduler's
    locks, finishing a job) makes ``work()`` return: then this waits for Redis and starts a new worker.
    """
    from redis.exceptions import RedisError
    from rq import SimpleWorker
    from rq.exceptions import StopRequested

    stop = threading.Event()

    class Worker(SimpleWorker):
        max_connection_wait_time = TICK_MAX_BACKOFF  # RQ's default backs off to 60 s

        def request_stop(self, signum: Any, frame: Any) -> None:
            stop.set()
            super().request_stop(signum, frame)

    while not stop.is_set():
        worker = Worker([jobs.queue], connection=jobs.redis, serializer=jobs.serializer)
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
            failed = False
        except StopRequested:
            break
        except RedisError as exc:
            failed = True
            log.error("worker: Redis error (%s: %s); reconnecting", type(exc).__name__, exc)
        if burst and not failed:
            return
        _wait_for_redis(jobs.redis, stop)


def _wait_for_redis(redis: Any, stop: threading.Event) -> None:
    """Sleep a little (no tight restart loop), then until Redis answers or a signal asks to stop."""
    from redis.exceptions import RedisError
    from rq.exceptions import StopRequested

    try:
        while not stop.wait(TICK_SECONDS):
            try:
                redis.ping()
                return
            except RedisError:
                continue
    except StopRequested:  # RQ's signal handler, still installed, raises it
        stop.set()
