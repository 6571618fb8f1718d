"""Live events in memory (embedded): ids, the bounded replay buffer, resync when a gap cannot be filled."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from config.live import REPLAY_EVENTS, LiveEvent, LocalBroadcaster, parse_event_id
from crm.live_api import CLIENT_BACKLOG, LiveClient


def published(live: LocalBroadcaster, n: int, center_id: int = 1) -> list[str]:
    seen: list[LiveEvent] = []
    stop = live.listen(seen.append)
    for i in range(n):
        live.publish({"event": "MessageReceived", "ticket_id": i, "center_id": center_id})
    stop()
    return [ev.id for ev in seen]


def test_ids_count_up_by_one_and_frames_carry_them() -> None:
    live = LocalBroadcaster()
    frames: list[bytes] = []
    live.listen(lambda ev: frames.append(ev.frame()))
    ids = published(live, 3)
    assert [parse_event_id(i) for i in ids] == [(live.epoch, 1), (live.epoch, 2), (live.epoch, 3)]
    assert frames[0].startswith(f"id: {ids[0]}\nevent: MessageReceived\ndata: {{".encode())
    assert live.position() == ids[-1]


def test_a_short_gap_is_replayed_exactly_once_in_order() -> None:
    live = LocalBroadcaster()
    ids = published(live, 10)
    missed = live.replay(ids[6])
    assert missed is not None and [ev.id for ev in missed] == ids[7:]
    assert live.replay(ids[-1]) == []  # up to date: nothing to send, no resync


@pytest.mark.parametrize(
    "last_id", ["", "garbage", "abc-", "-5", "x" * 200, "deadbeef-1", "épö-3", "1-2-x", "00000000-99999"]
)
def test_unknown_garbage_or_foreign_ids_mean_resync(last_id: str) -> None:
    live = LocalBroadcaster()
    published(live, 3)
    assert live.replay(last_id) is None


def test_a_gap_longer_than_the_buffer_means_resync() -> None:
    live = LocalBroadcaster()
    ids = published(live, REPLAY_EVENTS + 5)
    assert live.replay(ids[2]) is None  # trimmed away
    kept = live.replay(ids[10])
    assert kept is not None and len(kept) == REPLAY_EVENTS + 5 - 11


def test_a_console_away_too_long_resyncs_even_if_the_events_are_kept() -> None:
    live = LocalBroadcaster()
    ids = published(live, 3)
    live.max_age_seconds = 0.0
    assert live.replay(ids[0]) is None


def test_another_process_epoch_means_resync() -> None:
    first, second = LocalBroadcaster(), LocalBroadcaster()
    ids = published(first, 2)
    published(second, 5)
    assert second.replay(ids[0]) is None


def test_a_console_that_falls_behind_gets_one_resync_instead_of_a_partial_stream() -> None:
    async def scenario() -> list[LiveEvent]:
        client = LiveClient(lambda payload: payload.get("center_id") == 1)
        live = LocalBroadcaster()
        live.listen(client.offer)
        for i in range(CLIENT_BACKLOG + 3):
            live.publish({"event": "MessageReceived", "center_id": 1, "ticket_id": i})
            live.publish({"event": "MessageReceived", "center_id": 2, "ticket_id": i})  # not visible
        return list(client.pending)

    # A thread of its own: a session-scoped Playwright browser keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(asyncio.run, scenario()).result()
    assert pending[0].is_resync and pending[0].payload["refetch"] is True
    assert all(ev.payload.get("center_id") in (1, None) for ev in pending)
    assert len(pending) == 3  # the resync, then the newest events
