"""Supervisor reads: queue sizes, waiting times and counselors by status per center; staffing."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from crm.errors import Unprocessable
from crm.models import Center, Role, Ticket, TicketStatus, User, utcnow
from crm.queries import visible_center_ids
from routing.erlang import LIMITS, WorkBudget, agents_for_service_level, queue_metrics
from routing.models import Presence


def queue_overview(session: Session, *, user: User, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per visible center: queued/offered counts, longest and average wait, counselors by status."""
    now = now or utcnow()
    allowed = visible_center_ids(user)
    stmt = select(Center).order_by(col(Center.code))
    if allowed is not None:
        stmt = stmt.where(col(Center.id).in_(allowed))
    out = []
    for center in session.exec(stmt).all():
        waiting = session.exec(
            select(Ticket.status, Ticket.queued_at).where(
                Ticket.center_id == center.id,
                col(Ticket.status).in_((TicketStatus.QUEUED, TicketStatus.OFFERED)),
            )
        ).all()
        waits = [(now - q).total_seconds() for _, q in waiting if q is not None]
        statuses = Counter(
            p.status.value
            for p in session.exec(
                select(Presence)
                .join(User, col(User.id) == col(Presence.user_id))
                .where(User.center_id == center.id)
            ).all()
        )
        out.append(
            {
                "center_id": center.id,
                "center_code": center.code,
                "center_name": center.name,
                "queued": sum(1 for s, _ in waiting if s == TicketStatus.QUEUED),
                "offered": sum(1 for s, _ in waiting if s == TicketStatus.OFFERED),
                "longest_wait_seconds": max(waits, default=0.0),
                "average_wait_seconds": sum(waits) / len(waits) if waits else 0.0,
                "counselors": dict(statuses),
            }
        )
    return out


def staffing(
    *,
    arrivals_per_hour: float,
    aht_seconds: float,
    target: float,
    within_seconds: float,
    patience_seconds: float | None = None,
    agents: int | None = None,
) -> dict[str, Any]:
    """How many counselors for ``target`` answered within ``within_seconds`` (Erlang C, or A with patience).

    Inputs outside :data:`routing.erlang.LIMITS`, or too large to compute in about a second, raise
    Unprocessable (422) naming the field. Pure computation: callers must not hold a database session.
    """
    try:
        LIMITS.check(
            arrivals_per_hour=arrivals_per_hour,
            aht_seconds=aht_seconds,
            target=target,
            within_seconds=within_seconds,
            patience_seconds=patience_seconds,
            agents=agents,
        )
        budget = WorkBudget()
        rate = arrivals_per_hour / 3600.0
        best = agents_for_service_level(
            rate, aht_seconds, target, within_seconds, patience_seconds, budget=budget
        )
        table = [
            queue_metrics(rate, aht_seconds, n, within_seconds, patience_seconds, budget).to_dict()
            for n in range(max(1, best.agents - 2), best.agents + 3)
        ]
        given = (
            queue_metrics(rate, aht_seconds, agents, within_seconds, patience_seconds, budget).to_dict()
            if agents
            else None
        )
    except ValueError as exc:
        raise Unprocessable(str(exc)) from exc
    return _finite(
        {"required_agents": best.agents, "metrics": best.to_dict(), "table": table, "with_agents": given}
    )


def _finite(value: Any) -> Any:
    """JSON has no infinity: an overloaded row reports ``null`` for its ASA."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def is_supervisor(user: User) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN)
