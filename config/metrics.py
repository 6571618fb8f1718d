"""Prometheus metrics (prometheus-client): request latency, webhook outcomes, queue depths, job failures.

Several API processes: ``madoguchi serve --workers N`` (N > 1) sets ``PROMETHEUS_MULTIPROC_DIR`` (a
fresh ``<data_dir>/prometheus``) before uvicorn starts its processes, so the counters and histograms of
every process land in files there and ``/metrics``, whichever process answers, sums them (the
prometheus-client multiprocess mode). Only counters and histograms are recorded per process; depths
are read at scrape time (database and Redis), so they are the same from every process and need no
aggregation. One API process: the ordinary in-memory registry.

Labels are route templates, methods, statuses, channel kinds, results, queue and job names: never a
path with an id in it, a query string, a user or a text, so nothing personal can reach a scrape.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# LINE gives a webhook 2 s: the 1 s and 2 s buckets show how close we are.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

HTTP_LATENCY = Histogram(
    "madoguchi_http_request_duration_seconds",
    "HTTP request latency by route template, method and status",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOKS = Counter(
    "madoguchi_webhooks_total",
    "Vendor webhook requests by channel and result (stored, rejected_signature, malformed, ...)",
    ["channel", "result"],
)

# What a webhook's HTTP status means; a route may say more precisely with request.state.webhook_result.
WEBHOOK_RESULTS = {
    200: "accepted",
    400: "malformed",
    401: "rejected_signature",
    403: "rejected_signature",
    404: "unknown_account",
    413: "too_large",
    415: "unsupported_media_type",
    422: "malformed",
    503: "not_configured",
}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_LATENCY.labels(method=method, route=route, status=str(status)).observe(seconds)


def observe_webhook(channel: str, status: int, result: str | None = None) -> None:
    outcome = result or WEBHOOK_RESULTS.get(status) or ("error" if status >= 500 else f"http_{status}")
    WEBHOOKS.labels(channel=channel, result=outcome).inc()


def render(runtime: Any) -> bytes:
    """The exposition text: this process's (or every process's) metrics, then the depths read now."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        base = generate_latest(registry)
    else:
        base = generate_latest(REGISTRY)
    depths = CollectorRegistry(auto_describe=False)
    depths.register(DepthCollector(runtime))
    return base + generate_latest(depths)


def prepare_multiprocess_dir(path: os.PathLike[str] | str) -> str:
    """Empty ``path`` (files of processes that are gone would be summed forever) and return it."""
    from pathlib import Path

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()
    return str(directory)


class DepthCollector(Collector):
    """Gauges read at scrape time: inbound events and outbox rows waiting, RQ queues, live workers."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        for part in (self._database, self._jobs):
            try:
                yield from part()
            except Exception as exc:  # a scrape must answer even when a backend is down
                log.warning("metrics: %s not collected: %s: %s", part.__name__, type(exc).__name__, exc)

    def _database(self) -> Iterator[Metric]:
        counts = self.runtime.backlog_counts
        if counts is None:  # not wired (a bare runtime): nothing to report
            return
        inbound = GaugeMetricFamily(
            "madoguchi_inbound_events",
            "Stored webhook events not processed (pending) or failed",
            labels=["channel", "status"],
        )
        outbox = GaugeMetricFamily(
            "madoguchi_outbox_items", "Outbound sends owed, by status", labels=["channel", "status"]
        )
        for queue, channel, status, n in counts():
            (inbound if queue == "inbound" else outbox).add_metric([channel, status], n)
        yield inbound
        yield outbox

    def _jobs(self) -> Iterator[Metric]:
        jobs = self.runtime.jobs
        alive = GaugeMetricFamily("madoguchi_workers_alive", "Job workers with a recent heartbeat")
        alive.add_metric([], jobs.workers_alive())
        yield alive
        queue = getattr(jobs, "queue", None)
        if queue is not None:  # RQ
            depth = GaugeMetricFamily("madoguchi_rq_jobs", "RQ jobs by state", labels=["queue", "state"])
            depth.add_metric([queue.name, "queued"], len(queue))
            depth.add_metric([queue.name, "scheduled"], queue.scheduled_job_registry.count)
            depth.add_metric([queue.name, "started"], queue.started_job_registry.count)
            depth.add_metric([queue.name, "failed"], queue.failed_job_registry.count)
            yield depth
            ticks = CounterMetricFamily(
                "madoguchi_ticker_failures", "Ticker rounds that failed in this process"
            )
            ticks.add_metric([], getattr(jobs, "tick_failures", 0))
            yield ticks
        failures = getattr(jobs, "failures", None)
        if failures is not None:  # the in-process runner counts its own
            failed = CounterMetricFamily(
                "madoguchi_job_failures", "Jobs that raised, in this process, by job", labels=["job"]
            )
            for name, n in sorted(failures.items()):
                failed.add_metric([name], n)
            yield failed
