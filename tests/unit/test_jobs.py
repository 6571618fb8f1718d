"""The in-process job runner: runs jobs, dedupes by job id, honours delays, keeps going after errors."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from config.jobs import InProcessJobs, PeriodicJob

calls: list[tuple[str, int]] = []
lock = threading.Lock()


def record(name: str, n: int) -> None:
    with lock:
        calls.append((name, n))


def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def jobs() -> InProcessJobs:
    calls.clear()
    runner = InProcessJobs()
    yield runner
    runner.stop()


def test_jobs_run_in_order_of_enqueueing(jobs: InProcessJobs) -> None:
    for i in range(5):
        jobs.enqueue(record, "a", i)
    jobs.drain()
    assert calls == [("a", i) for i in range(5)]


def test_same_job_id_while_pending_runs_once(jobs: InProcessJobs) -> None:
    jobs.enqueue(record, "x", 1, job_id="k", delay=60)
    jobs.enqueue(record, "x", 2, job_id="k", delay=60)
    jobs.run_delayed_now()
    jobs.drain()
    assert calls == [("x", 1)]


def test_delayed_job_waits_until_due(jobs: InProcessJobs) -> None:
    jobs.enqueue(record, "later", 1, delay=60)
    jobs.enqueue(record, "now", 1)
    jobs.drain()
    assert calls == [("now", 1)]
    jobs.run_delayed_now()
    jobs.drain()
    assert calls == [("now", 1), ("later", 1)]


def test_a_failing_job_does_not_stop_the_runner(
    jobs: InProcessJobs, caplog: pytest.LogCaptureFixture
) -> None:
    jobs.enqueue(explode)
    jobs.enqueue(record, "after", 1)
    jobs.drain()
    assert calls == [("after", 1)]
    assert "failed" in caplog.text


def test_periodic_jobs_tick(jobs: InProcessJobs) -> None:
    done = threading.Event()

    def tick() -> None:
        record("tick", 0)
        done.set()

    jobs.start([PeriodicJob(tick, every_seconds=0.05)])
    assert done.wait(5)


def test_work_arriving_while_a_job_runs_gets_its_own_run(jobs: InProcessJobs) -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)
        record("slow", 1)

    jobs.enqueue(slow, job_id="per-sender")
    assert started.wait(5)
    jobs.enqueue(record, "follow-up", 1, job_id="per-sender")  # same id while the first runs
    release.set()
    jobs.drain()
    assert calls == [("slow", 1), ("follow-up", 1)]


def fail_once_marker() -> None:
    raise RuntimeError("temporary")


@pytest.fixture
def rq_jobs() -> Any:
    url = os.environ.get("MADOGUCHI_REDIS_URL")
    if not url:
        pytest.skip("needs MADOGUCHI_REDIS_URL (the PostgreSQL + Redis pass runs it)")
    from redis import Redis

    from config.jobs import RQJobs

    redis = Redis.from_url(url)
    runner = RQJobs(redis, f"test-jobs-{os.getpid()}")
    runner.queue.empty()
    yield runner
    runner.queue.empty()
    redis.close()


def test_rq_job_ids_with_any_characters_are_accepted(rq_jobs: Any) -> None:
    rq_jobs.enqueue(record, "rq", 1, job_id="periodic:routing.jobs.expire_offers:123")
    rq_jobs.enqueue(
        record, "rq", 2, job_id="periodic:routing.jobs.expire_offers:123"
    )  # coalesced while queued
    assert len(rq_jobs.queue) == 1


def test_rq_failed_job_does_not_block_later_work_with_the_same_id(rq_jobs: Any) -> None:
    rq_jobs.enqueue(fail_once_marker, job_id="line-sender-U1")
    rq_jobs.drain()
    rq_jobs.enqueue(record, "after-failure", 1, job_id="line-sender-U1")
    assert len(rq_jobs.queue) == 1
