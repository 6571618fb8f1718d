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
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

FAILURE_TTL = 7 * 24 * 3600  # failed jobs stay inspectable for a week (rq info / the failed registry)
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
        self._ensure_thread()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._periodic, self._next_tick = [], {}
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
        """Enqueue periodic jobs on a ticker thread; every worker may run one, each tick runs once."""
        self._stop.clear()

        def tick() -> None:
            while not self._stop.wait(1.0):
                now = time.time()
                for p in periodic:
                    slot = int(now // p.every_seconds)
                    self.enqueue(p.func, job_id=f"periodic-{p.func.__module__}-{p.func.__qualname__}-{slot}")

        self._ticker = threading.Thread(target=tick, name="madoguchi-ticker", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
