"""The raw inbound-event store, for every channel: store once, claim once, in per-sender order.

* :func:`store_raw` — ONE ``INSERT … ON CONFLICT DO NOTHING … RETURNING sender`` per webhook body,
  unique per (channel account, vendor event id); on PostgreSQL autocommitted in one round trip. A
  redelivered event inserts nothing and is not an error. :func:`store_raw_async`: the same from the
  event loop for several bodies at once (group commit, ONE ``INSERT … SELECT FROM unnest(…)``).
* :func:`pending_ids` / :func:`claim` / :func:`finish` / :func:`mark_failed` — what the per-sender job
  (channels.jobs) uses; a claim is an atomic UPDATE, so two workers never apply one event twice.
* :func:`stale_senders` — the sweep's backstop for jobs that were lost.

Vendor event ids are stored whole up to 128 characters; a longer id is stored as ``sha256:<hex>``
of the *whole* id (cutting it made two long ids collide and one event was dropped). NUL characters
cannot be stored in PostgreSQL text: they are replaced by U+FFFD here, at the edge (see
:func:`crm.messaging.strip_nul`), so such an event is stored and processed instead of failing forever.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from crm.messaging import RawEvent, strip_nul
from crm.models import InboundEvent, InboundEventStatus, utcnow
from crm.pg_async import AsyncPgPool

__all__ = ["ClaimedEvent", "InboundEventStatus", "StoreResult", "claim", "finish", "store_raw"]

log = logging.getLogger(__name__)
MAX_EVENT_ID = 128


@dataclass(frozen=True)
class StoreResult:
    received: int
    stored: int
    new_senders: tuple[str, ...]

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    channel: str
    channel_account_id: int | None
    provider_event_id: str
    raw: str


def storable_event_id(event_id: str) -> str:
    """The id as stored: whole when it fits, else a hash of the whole id (never a prefix)."""
    event_id = strip_nul(event_id)
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def event_rows(channel: str, account_id: int | None, events: Sequence[RawEvent]) -> list[dict[str, Any]]:
    """Column values for each distinct event of one webhook body."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        event_id = storable_event_id(event.event_id)
        if event_id in rows:
            continue
        ts = event.occurred_at_ms
        rows[event_id] = {
            "channel": channel,
            "channel_account_id": account_id,
            "provider_event_id": event_id,
            "sender": strip_nul(event.sender)[:255],
            "occurred_at_ms": ts if isinstance(ts, int) and 0 <= ts < 2**62 else 0,
            "raw": strip_nul(event.raw),
            "status": InboundEventStatus.PENDING,
            "error": None,
            "received_at": now,
            "processed_at": None,
        }
    return list(rows.values())


def store_raw(
    engine: Engine, *, channel: str, account_id: int | None, events: Sequence[RawEvent]
) -> StoreResult:
    """Insert the events that are new and commit; returns how many were new and for which senders."""
    rows = event_rows(channel, account_id, events)
    if not rows:
        return StoreResult(received=len(events), stored=0, new_senders=())
    if engine.dialect.name == "postgresql":
        inserted = _insert_pg(engine, rows)
    else:
        table = InboundEvent.__table__  # type: ignore[attr-defined]
        # Parameters apart from the statement, so its compiled form is cached; several rows go out
        # as one multi-row INSERT … RETURNING ("insertmanyvalues").
        stmt = (
            sqlite_insert(table)
            .on_conflict_do_nothing(index_elements=["channel_account_id", "provider_event_id"])
            .returning(table.c.sender)
        )
        with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE (crm.db), one writer at a time
            inserted = _insert(conn, stmt, rows)
    senders = tuple(dict.fromkeys(s for s in inserted if s))
    if len(inserted) < len(events):
        log.info(
            "%s webhook: %d of %d events were already stored",
            channel,
            len(events) - len(inserted),
            len(events),
        )
    return StoreResult(received=len(events), stored=len(inserted), new_senders=senders)


_PG_COLUMNS = (
    "channel",
    "channel_account_id",
    "provider_event_id",
    "sender",
    "occurred_at_ms",
    "raw",
    "received_at",
)
_PG_ROW = "(%s, %s, %s, %s, %s, %s, %s, 'PENDING')"


def _insert_pg(engine: Engine, rows: list[dict[str, Any]]) -> list[str]:
    """The hot path on PostgreSQL: one autocommitted statement on a pooled DBAPI connection.

    A single statement is atomic on its own; in autocommit mode PostgreSQL commits it (durably,
    synchronous_commit stays on) in the same round trip. Plain DBAPI here, not the ORM: it costs a
    quarter of the CPU per webhook (bench/line_ingest.py).
    """
    sql = (
        f"INSERT INTO inboundevent ({', '.join(_PG_COLUMNS)}, status) VALUES "
        + ", ".join([_PG_ROW] * len(rows))
        + " ON CONFLICT (channel_account_id, provider_event_id) DO NOTHING RETURNING sender"
    )
    params = [row[c] for row in rows for c in _PG_COLUMNS]
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        conn.autocommit = True  # type: ignore[union-attr]
        try:
            return [r[0] for r in conn.execute(sql, params).fetchall()]  # type: ignore[union-attr]
        finally:
            conn.autocommit = False  # type: ignore[union-attr]
    finally:
        pooled.close()  # back to the pool


# The batch statement: one text whatever the number of rows (one array per column), so psycopg
# prepares it once per connection and PostgreSQL does not parse and plan it per batch.
_PG_ARRAYS = ("varchar[]", "integer[]", "varchar[]", "varchar[]", "bigint[]", "text[]", "timestamptz[]")
PG_BATCH_INSERT = (
    f"INSERT INTO inboundevent ({', '.join(_PG_COLUMNS)}, status) "
    f"SELECT {', '.join(_PG_COLUMNS)}, 'PENDING' FROM unnest("
    + ", ".join(f"%b::{t}" for t in _PG_ARRAYS)  # binary: no quoting of the JSON
    + f") AS t({', '.join(_PG_COLUMNS)}) "
    "ON CONFLICT (channel_account_id, provider_event_id) DO NOTHING "
    "RETURNING channel_account_id, provider_event_id, sender"
)

Body = tuple[str, int | None, Sequence[RawEvent]]  # (channel, account id, the events of one webhook body)


async def store_raw_async(pool: AsyncPgPool, bodies: Sequence[Body]) -> list[StoreResult]:
    """:func:`store_raw` of several webhook bodies, from the event loop, in ONE autocommitted
    statement (a group commit: bodies that arrived while the previous statement was in flight).

    An event in two bodies of the batch counts as stored for the first. One result per body.
    """
    rows: list[dict[str, Any]] = []
    owner: dict[tuple[int | None, str], int] = {}  # (account, stored id) -> index of the body
    for index, (channel, account_id, events) in enumerate(bodies):
        for row in event_rows(channel, account_id, events):
            key = (account_id, row["provider_event_id"])
            if key not in owner:
                owner[key] = index
                rows.append(row)
    inserted: list[tuple[Any, ...]] = []
    if rows:
        # One lock order for every statement: two batches that share events wait, never deadlock.
        rows.sort(key=lambda r: (r["channel_account_id"] or 0, r["provider_event_id"]))
        inserted = await pool.fetch(PG_BATCH_INSERT, [[row[c] for row in rows] for c in _PG_COLUMNS])
    stored = [0] * len(bodies)
    senders: list[dict[str, None]] = [{} for _ in bodies]
    for account_id, event_id, sender in inserted:
        index = owner[(account_id, event_id)]
        stored[index] += 1
        if sender:
            senders[index][sender] = None
    results = []
    for index, (channel, _, events) in enumerate(bodies):
        if stored[index] < len(events):
            log.info(
                "%s webhook: %d of %d events were already stored",
                channel,
                len(events) - stored[index],
                len(events),
            )
        results.append(
            StoreResult(received=len(events), stored=stored[index], new_senders=tuple(senders[index]))
        )
    return results


def _insert(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> list[str]:
    result = conn.execute(stmt, rows[0] if len(rows) == 1 else rows)
    return [r[0] for r in result.all()]


def pending_ids(engine: Engine, *, account_id: int | None, sender: str, limit: int = 100) -> list[int]:
    """The sender's pending events on this account, oldest first by the vendor's timestamp."""
    account = (
        col(InboundEvent.channel_account_id).is_(None)
        if account_id is None
        else col(InboundEvent.channel_account_id) == account_id
    )
    with Session(engine) as session:
        ids = session.exec(
            select(InboundEvent.id)
            .where(account, InboundEvent.sender == sender, InboundEvent.status == InboundEventStatus.PENDING)
            .order_by(col(InboundEvent.occurred_at_ms), col(InboundEvent.id))
            .limit(limit)
        ).all()
    return [i for i in ids if i is not None]


def peek(engine: Engine, event_id: int) -> tuple[str, int | None] | None:
    """(channel, account id) of a pending event, read without a write transaction."""
    with Session(engine) as session:
        row = session.get(InboundEvent, event_id)
        if row is None or row.status != InboundEventStatus.PENDING:
            return None
        return row.channel, row.channel_account_id


def claim(session: Session, event_id: int) -> ClaimedEvent | None:
    """Claim a pending event inside the caller's transaction (None: another worker has it)."""
    # The UPDATE takes the row lock until commit: a second worker waits, then finds nothing to claim.
    result = session.execute(
        update(InboundEvent)
        .where(col(InboundEvent.id) == event_id, col(InboundEvent.status) == InboundEventStatus.PENDING)
        .values(status=InboundEventStatus.PROCESSED, processed_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(InboundEvent, event_id)
    assert row is not None
    return ClaimedEvent(row.id, row.channel, row.channel_account_id, row.provider_event_id, row.raw)  # type: ignore[arg-type]


def finish(session: Session, event_id: int, status: InboundEventStatus, reason: str | None) -> None:
    """Record the claimed event's final status (in the caller's transaction)."""
    row = session.get(InboundEvent, event_id)
    assert row is not None
    row.status = status
    row.error = reason[:500] if reason else None
    session.add(row)


def mark_failed(engine: Engine, event_id: int, error: str) -> None:
    """An event whose processing raised: FAILED with the reason (the others go on)."""
    with engine.begin() as conn:
        conn.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id, col(InboundEvent.status) == InboundEventStatus.PENDING)
            .values(status=InboundEventStatus.FAILED, error=error[:500], processed_at=utcnow())
        )


def stale_senders(
    engine: Engine, *, older_than_seconds: int = 2, limit: int = 500
) -> list[tuple[int | None, str]]:
    """(account, sender) pairs with events pending for a while: their job was lost."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with Session(engine) as session:
        rows = session.exec(
            select(InboundEvent.channel_account_id, InboundEvent.sender)
            .where(InboundEvent.status == InboundEventStatus.PENDING, col(InboundEvent.received_at) < cutoff)
            .distinct()
            .limit(limit)
        ).all()
    return [(account, sender) for account, sender in rows if sender]
