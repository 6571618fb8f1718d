"""With Redis, a webhook nudges instead of enqueueing an RQ job per event: many nudges, one drain job,
every event processed once; a nudge lost with Redis is found by the sweep (the event row is the truth)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from channels.base import ChannelKind
from channels.fake import FakeAdapter
from channels.jobs import enqueue_sender, nudge_keys, sweep
from config.runtime import Runtime
from crm.inbound_events import store_raw
from crm.models import InboundEvent, Message
from tests.factories import make_center

KIND = ChannelKind.EMAIL


@pytest.fixture
def fake(runtime: Runtime) -> Iterator[FakeAdapter]:
    if runtime.redis is None:
        pytest.skip("nudges are the Redis path (embedded mode enqueues in-process jobs)")
    adapter = FakeAdapter(KIND)
    runtime.adapters.install(KIND.value, adapter)  # type: ignore[attr-defined]
    with Session(runtime.engine) as s:
        make_center(s, code="FAKE1")
    yield adapter


def store(rt: Runtime, fake: FakeAdapter, *events: dict[str, object]) -> None:
    body = json.dumps({"events": list(events)}).encode()
    result = store_raw(rt.engine, channel=KIND.value, account_id=None, events=fake.split(body))
    for sender in result.new_senders:  # what channels.inbox.accept does after the insert
        enqueue_sender(rt, None, sender)


def ev(i: int, sender: str) -> dict[str, object]:
    return {"id": f"n{i}", "sender": sender, "text": f"相談{i}", "at_ms": int(time.time() * 1000) + i}


def messages(rt: Runtime) -> list[str]:
    with Session(rt.engine) as s:
        return sorted(m.body for m in s.exec(select(Message)).all())


def test_many_webhooks_enqueue_one_drain_job_and_every_event_is_applied_once(
    runtime: Runtime, fake: FakeAdapter
) -> None:
    for i in range(6):
        store(runtime, fake, ev(i, f"sender{i % 3}@example.jp"))  # 6 webhooks from 3 consumers
    assert runtime.redis.llen(nudge_keys(runtime)[0]) == 6
    assert len(runtime.jobs.queue) == 1  # type: ignore[attr-defined]
    runtime.jobs.drain()
    assert messages(runtime) == sorted(f"相談{i}" for i in range(6))
    assert runtime.redis.llen(nudge_keys(runtime)[0]) == 0
    assert not runtime.redis.exists(nudge_keys(runtime)[1])  # the next webhook enqueues a new drain
    store(runtime, fake, ev(7, "late@example.jp"))
    assert len(runtime.jobs.queue) == 1  # type: ignore[attr-defined]
    runtime.jobs.drain()
    assert "相談7" in messages(runtime)


def test_nudges_lost_with_redis_are_found_by_the_sweep(runtime: Runtime, fake: FakeAdapter) -> None:
    store(runtime, fake, ev(1, "lost@example.jp"))
    runtime.redis.flushdb()  # Redis restarted without persistence: the nudge and the drain job are gone
    with Session(runtime.engine) as s:
        pending = s.exec(select(InboundEvent)).all()
        for row in pending:  # older than the sweep's grace period
            row.received_at = row.received_at - timedelta(minutes=5)
            s.add(row)
        s.commit()
    assert sweep() == 1
    runtime.jobs.drain()
    assert messages(runtime) == ["相談1"]
