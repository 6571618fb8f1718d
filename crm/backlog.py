"""How much inbound and outbound work is waiting or failed, for the metrics scrape (config/metrics.py).

crm owns the tables, so crm counts them; the composition root hands this function to the runtime.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from crm.models import InboundEvent, InboundEventStatus, OutboxItem, OutboxStatus


def backlog_counts(engine: Engine) -> list[tuple[str, str, str, int]]:
    """``(queue, channel, status, count)`` rows, queue being ``"inbound"`` or ``"outbox"``."""
    inbound_waiting = (InboundEventStatus.PENDING, InboundEventStatus.FAILED)
    outbox_waiting = (OutboxStatus.PENDING, OutboxStatus.FAILED)
    rows: list[tuple[str, str, str, int]] = []
    with engine.connect() as conn:
        for channel, status, n in conn.execute(
            select(col(InboundEvent.channel), col(InboundEvent.status), func.count())
            .where(col(InboundEvent.status).in_(inbound_waiting))
            .group_by(col(InboundEvent.channel), col(InboundEvent.status))
        ).all():
            rows.append(("inbound", str(channel), _value(status), int(n)))
        for channel, outbox_status, n in conn.execute(
            select(col(OutboxItem.channel), col(OutboxItem.status), func.count())
            .where(col(OutboxItem.status).in_(outbox_waiting))
            .group_by(col(OutboxItem.channel), col(OutboxItem.status))
        ).all():
            rows.append(("outbox", str(channel), _value(outbox_status), int(n)))
    return rows


def _value(status: Any) -> str:
    return str(getattr(status, "value", status))
