"""channels.inbox_async on PostgreSQL: concurrent webhooks share statements (group commit), every
event is stored once whatever the races, one bad body does not refuse the others, and the senders
of new events are nudged (Redis) before the webhooks are answered."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

import pytest
from sqlmodel import Session, select

from channels.base import RawEvent
from channels.inbox_async import accept_async, close_group_commit, group_commit
from channels.jobs import nudge_keys
from config.runtime import Runtime
from crm.channel_accounts import ChannelAccountInfo
from crm.inbound_events import StoreResult
from crm.models import InboundEvent, InboundEventStatus
from tests.factories import make_center
from tests.line_accounts import add_line_account


@pytest.fixture
def account(runtime: Runtime) -> ChannelAccountInfo:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("group commit is the PostgreSQL path (SQLite stores in a worker thread)")
    with Session(runtime.engine, expire_on_commit=False) as s:
        center = make_center(s, code="GC01")
    return add_line_account(runtime, center.id, secret="s", token="t", api_url="http://127.0.0.1:9")  # type: ignore[arg-type]


def body(*ids: str, sender: str = "Ua") -> list[RawEvent]:
    return [
        RawEvent(event_id=i, sender=sender, occurred_at_ms=n, raw=f'{{"id":"{i}"}}')
        for n, i in enumerate(ids)
    ]


def accept_all(
    runtime: Runtime, bodies: Sequence[tuple[ChannelAccountInfo, list[RawEvent]]]
) -> tuple[list[StoreResult | BaseException], int]:
    """Every body at once, as concurrent webhooks of one API process; (results, statements run)."""

    async def main() -> tuple[list[StoreResult | BaseException], int]:
        group = group_commit(runtime)
        assert group is not None
        statements = 0
        fetch = group.pool.fetch

        async def counting(sql: str, params: Sequence[object]) -> list[tuple[object, ...]]:
            nonlocal statements
            statements += 1
            return await fetch(sql, params)

        group.pool.fetch = counting  # type: ignore[method-assign]
        try:
            results = await asyncio.gather(
                *(accept_async(runtime, a, events) for a, events in bodies), return_exceptions=True
            )
        finally:
            await close_group_commit(runtime)
        return list(results), statements

    return asyncio.run(main())


def stored_ids(runtime: Runtime) -> list[str]:
    with Session(runtime.engine) as s:
        return sorted(s.exec(select(InboundEvent.provider_event_id)).all())


def test_concurrent_webhooks_share_statements_and_store_each_event_once(
    runtime: Runtime, account: ChannelAccountInfo
) -> None:
    bodies = [(account, body(f"e{i:03d}", sender=f"U{i % 3}")) for i in range(60)]
    bodies.append((account, body("e000", sender="U0")))  # LINE's redelivery, racing the original
    bodies.append((account, body("e001", "e500", sender="U1")))  # one old event, one new
    results, statements = accept_all(runtime, bodies)
    assert all(isinstance(r, StoreResult) for r in results)
    assert [r.stored for r in results] == [1] * 60 + [0, 1]  # type: ignore[union-attr]
    assert [r.received for r in results][-2:] == [1, 2]  # type: ignore[union-attr]
    assert stored_ids(runtime) == sorted([f"e{i:03d}" for i in range(60)] + ["e500"])
    assert statements < len(bodies) // 2  # waiting bodies went out together
    if runtime.redis is not None:
        nudged = {n.decode().split("\t")[1] for n in runtime.redis.lrange(nudge_keys(runtime)[0], 0, -1)}
        assert nudged == {"U0", "U1", "U2"}
        assert len(runtime.jobs.queue) == 1  # type: ignore[attr-defined]  # one drain job for all


def test_a_body_that_cannot_be_stored_does_not_refuse_the_others(
    runtime: Runtime, account: ChannelAccountInfo
) -> None:
    gone = dataclasses.replace(account, id=account.id + 1000)  # an account deleted meanwhile (FK)
    bodies = [(account, body(f"ok{i}")) for i in range(10)]
    bodies.insert(5, (gone, body("orphan")))
    results, _ = accept_all(runtime, bodies)
    assert isinstance(results[5], Exception) and "foreign key" in str(results[5]).lower()
    assert [r.stored for r in results if isinstance(r, StoreResult)] == [1] * 10
    assert stored_ids(runtime) == sorted(f"ok{i}" for i in range(10))


def test_a_webhook_alone_is_stored_in_its_own_statement_byte_for_byte(
    runtime: Runtime, account: ChannelAccountInfo
) -> None:
    raw = '{"text":"定期購入の解約 \\"引用\\" \\\\ 😢 {}[],\'"}'
    event = RawEvent(event_id="solo", sender='U"quoted\\', occurred_at_ms=2**40, raw=raw)
    results, statements = accept_all(runtime, [(account, [event])])
    assert statements == 1 and results[0].stored == 1  # type: ignore[union-attr]
    with Session(runtime.engine) as s:
        row = s.exec(select(InboundEvent)).one()
    assert (row.raw, row.sender, row.occurred_at_ms) == (raw, 'U"quoted\\', 2**40)
    assert row.channel_account_id == account.id and row.status == InboundEventStatus.PENDING
