"""ACD figures from queue-log rows: a small day worked out by hand, each service-level definition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from routing.acd_stats import compute, estimated_wait_seconds, percentile

T0 = datetime(2026, 4, 6, 1, 0, tzinfo=UTC)


@dataclass
class Row:
    call_id: str
    queue: str
    event: str
    at: datetime
    wait_seconds: float | None = None
    talk_seconds: float | None = None


def call(cid: str, start: int, *events: tuple[str, int, float | None, float | None]) -> list[Row]:
    rows = [Row(cid, "q", "ENTERQUEUE", T0 + timedelta(seconds=start))]
    for event, at, wait, talk in events:
        rows.append(Row(cid, "q", event, T0 + timedelta(seconds=at), wait, talk))
    return rows


DAY = [
    *call("a", 0, ("CONNECT", 10, 10, None), ("COMPLETECALLER", 310, None, 300)),  # answered in 10 s
    *call("b", 0, ("CONNECT", 40, 40, None), ("COMPLETEAGENT", 640, None, 600)),  # answered in 40 s
    *call("c", 0, ("ABANDON", 5, 5, None)),  # short abandon
    *call("d", 0, ("ABANDON", 50, 50, None)),  # abandon after T
    *call(
        "e", 0, ("CALLBACK", 15, 15, None), ("CONNECT", 900, 900, None), ("COMPLETECALLER", 1000, None, 100)
    ),
    *call("f", 0, ("VOICEMAIL", 25, 25, None)),
    *call("g", 100),  # still waiting
]


def test_counts_and_every_service_level_definition_side_by_side() -> None:
    f = compute(DAY, threshold=20, short_abandon=10, now=T0 + timedelta(seconds=160))
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned) == (7, 3, 2, 1)
    assert (f.callbacks, f.voicemail, f.answered_within) == (1, 1, 1)
    sl = f.service_level
    assert sl["answered"] == 1 / 3
    assert sl["offered"] == 1 / 7
    assert sl["offered_minus_short"] == 1 / 6
    assert sl["answered_and_abandoned"] == 1 / 5
    # left the queue within 20 s: a (10), c (5), e (callback at 15) -> 3 of 7
    assert sl["left_queue_within"] == 3 / 7
    assert f.longest_waiting_seconds == 60


def test_waits_and_handle_times_are_true_means_and_nearest_rank_percentiles() -> None:
    f = compute(DAY, threshold=20, short_abandon=10)
    assert f.wait.count == 3 and f.wait.mean == (10 + 40 + 900) / 3 and f.wait.p50 == 40 and f.wait.p90 == 900
    assert f.handle.count == 3 and f.handle.mean == (300 + 600 + 100) / 3 and f.handle.p50 == 300
    assert f.longest_waiting_seconds is None  # without "now" nobody is measured


def test_a_call_that_entered_before_the_period_is_not_offered_in_it() -> None:
    late_rows = [r for r in call("x", 0, ("CONNECT", 30, 30, None)) if r.event != "ENTERQUEUE"]
    f = compute(late_rows, threshold=20, short_abandon=10)
    assert f.offered == 0 and f.answered == 0 and f.service_level["answered"] is None


def test_percentile_and_estimate_edges() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert estimated_wait_seconds(3, [120.0, 240.0], 2) == 3 * 180 / 2
    assert estimated_wait_seconds(2, [], 2) is None
    assert estimated_wait_seconds(2, [100.0], 0) is None
    assert estimated_wait_seconds(0, [100.0], 1) == 0.0
