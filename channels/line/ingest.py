"""Store verified LINE webhook events durably, once each, before any processing.

One ``INSERT … ON CONFLICT DO NOTHING`` per webhook body (SQLite and PostgreSQL dialect inserts),
committed before LINE gets its 200 (on PostgreSQL as a single autocommitted statement: one round trip):
a redelivered event (same ``webhookEventId``) or a repeated POST inserts nothing and is not an error.
Processing happens later in :mod:`channels.line.jobs`, per sender, in timestamp order.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from channels.line.events import sender_of
from crm.models import InboundEvent, InboundEventStatus, utcnow

log = logging.getLogger(__name__)
CHANNEL = "line"


@dataclass(frozen=True)
class StoreResult:
    received: int
    stored: int
    new_senders: tuple[str, ...]

    @property
    def duplicates(self) -> int:
        return self.received - self.stored


def event_id_of(event: dict[str, Any]) -> str:
    """``webhookEventId``; for an event without one, a stable hash of its content (still idempotent)."""
    value = event.get("webhookEventId")
    if isinstance(value, str) and value:
        return value[:128]
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Column values for each distinct event of one webhook body."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        event_id = event_id_of(event)
        if event_id in rows:
            continue
        ts = event.get("timestamp")
        rows[event_id] = {
            "channel": CHANNEL,
            "provider_event_id": event_id,
            "sender": sender_of(event),
            "occurred_at_ms": ts
            if isinstance(ts, int) and not isinstance(ts, bool) and 0 <= ts < 2**62
            else 0,
            "raw": json.dumps(event, ensure_ascii=False, separators=(",", ":")),
            "status": InboundEventStatus.PENDING,
            "error": None,
            "received_at": now,
            "processed_at": None,
        }
    return list(rows.values())


def store_events(engine: Engine, events: list[dict[str, Any]]) -> StoreResult:
    """Insert the events that are new and commit; returns how many were new and for which senders."""
    rows = event_rows(events)
    if not rows:
        return StoreResult(received=len(events), stored=0, new_senders=())
    table = InboundEvent.__table__  # type: ignore[attr-defined]
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    # Parameters apart from the statement, so its compiled form is cached; several rows go out as
    # one multi-row INSERT … RETURNING ("insertmanyvalues", up to 1,000 rows a statement).
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["channel", "provider_event_id"])
        .returning(table.c.sender)
    )
    if engine.dialect.name == "postgresql":
        # One statement is atomic on its own: in autocommit mode PostgreSQL commits it (durably,
        # synchronous_commit stays on) in the same round trip, instead of BEGIN / INSERT / COMMIT.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            inserted = _insert(conn, stmt, rows)
    else:
        with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE (crm.db), one writer at a time
            inserted = _insert(conn, stmt, rows)
    senders = tuple(dict.fromkeys(s for s in inserted if s))
    if len(inserted) < len(events):
        log.info(
            "LINE webhook: %d of %d events were already stored (redelivery)",
            len(events) - len(inserted),
            len(events),
        )
    return StoreResult(received=len(events), stored=len(inserted), new_senders=senders)


def _insert(conn: Connection, stmt: Any, rows: list[dict[str, Any]]) -> list[str]:
    result = conn.execute(stmt, rows[0] if len(rows) == 1 else rows)
    return [r[0] for r in result.all()]
