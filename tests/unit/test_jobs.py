"""The in-process job runner: runs jobs, dedupes by job id, honours delays, keeps going after errors."""

from __future__ import annotations

import threading

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
