"""Trend statistics and spikes as JSON the supervisor console draws (see the contract in api.py).

Every count leaves through :func:`knowledge.trends.stats.cell` (small cells suppressed); examples of
a spike are the cross-center view of the case (knowledge.sharing.shareable_case: PII-masked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from crm.errors import BadRequest, Forbidden
from crm.models import Contact, Ticket, User
from crm.queries import visible_center_ids
from knowledge.sharing import shareable_case
from knowledge.trends.records import DIMENSIONS, TrendRecord, check_range, load_records, values_of
from knowledge.trends.spikes import BASELINE_WEEKS, detect_spikes
from knowledge.trends.stats import K_ANONYMITY, cell, count_series, period_start, period_totals, protect_table

FILTERS = ("channel", "category", "sales_method", "age_band", "center", "prefecture")
MAX_TOP = 50
EXAMPLE_CHARS = 160


@dataclass(frozen=True)
class Scope:
    """What to count: period, centers the caller may see, attribute filters."""

    date_from: date
    date_to: date
    center_ids: set[int] | None
    filters: dict[str, str]


def scope_for(
    user: User, *, date_from: date, date_to: date, center_id: int | None = None, **filters: str | None
) -> Scope:
    """The caller's scope: their own center (an admin: every center, or ``center_id``)."""
    check_range(date_from, date_to)
    allowed = visible_center_ids(user)
    if center_id is not None:
        if allowed is not None and center_id not in allowed:
            raise Forbidden(f"center {center_id} is not yours: statistics cover your own center only")
        allowed = {center_id}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise BadRequest(f"unknown filter {', '.join(sorted(unknown))}")
    return Scope(date_from, date_to, allowed, {k: v for k, v in filters.items() if v})


def _records(session: Session, scope: Scope, date_from: date | None = None) -> list[TrendRecord]:
    rows = load_records(
        session, date_from=date_from or scope.date_from, date_to=scope.date_to, center_ids=scope.center_ids
    )
    return [r for r in rows if all(value in values_of(r, key) for key, value in scope.filters.items())]


def record_count(session: Session, scope: Scope) -> int | None:
    """How many records the scope holds (None when it is a small cell)."""
    return _shown(len(_records(session, scope)))


def _shown(count: int) -> int | None:
    return cell(count).count


def trend_counts(
    session: Session, scope: Scope, *, dimension: str, period: str, top: int = 10
) -> dict[str, Any]:
    """Counts per period of the ``top`` values of ``dimension`` (null = a suppressed small cell)."""
    if dimension not in DIMENSIONS:
        raise BadRequest(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    if not 1 <= top <= MAX_TOP:
        raise BadRequest(f"top must be between 1 and {MAX_TOP}")
    records = _records(session, scope)
    starts, series = count_series(
        records, dimension=dimension, period=period, date_from=scope.date_from, date_to=scope.date_to
    )
    cells, totals, value_totals = protect_table(
        [s.counts for s in series], period_totals(records, starts, period)
    )
    return {
        "dimension": dimension,
        "period": period,
        "date_from": scope.date_from.isoformat(),
        "date_to": scope.date_to.isoformat(),
        "k": K_ANONYMITY,
        "counted": "approved records (決裁済み) only",
        "periods": [s.isoformat() for s in starts],
        "totals": totals,
        "series": [
            {"value": s.value, "counts": cells[j], "total": value_totals[j]}
            for j, s in enumerate(series[:top])
        ],
        "more_values": max(0, len(series) - top),
    }


def find_spikes(session: Session, scope: Scope, *, dimension: str, examples: int = 3) -> list[dict[str, Any]]:
    """Weeks in the scope where a value of ``dimension`` spiked, with PII-masked example cases."""
    if dimension not in DIMENSIONS:
        raise BadRequest(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    first_week = period_start(scope.date_from, "week")
    history_from = first_week - timedelta(weeks=BASELINE_WEEKS)
    records = _records(session, scope, date_from=history_from)
    weeks, series = count_series(
        records, dimension=dimension, period="week", date_from=history_from, date_to=scope.date_to
    )
    spikes = detect_spikes(weeks, [(s.value, s.counts) for s in series], only_from=first_week)
    out = []
    for spike in spikes:
        in_week = [
            r.ticket_id
            for r in records
            if period_start(r.day, "week") == spike.week and spike.value in values_of(r, dimension)
        ]
        out.append(
            {
                "dimension": dimension,
                "value": spike.value,
                "week": spike.week.isoformat(),
                "count": spike.count,
                "expected": spike.expected,
                "ratio": spike.ratio,
                "p_value": spike.p_value,
                "examples": _examples(session, in_week[-examples:] if examples else []),
            }
        )
    return out


def _examples(session: Session, ticket_ids: list[int]) -> list[dict[str, str]]:
    """The cross-center view of a few cases: subject and summary PII-masked, trimmed."""
    if not ticket_ids:
        return []
    rows = session.exec(
        select(Ticket, Contact)
        .join(Contact, col(Contact.id) == Ticket.contact_id)
        .where(col(Ticket.id).in_(ticket_ids))
        .order_by(col(Ticket.id))
    ).all()
    out = []
    for ticket, contact in rows:
        case = shareable_case(ticket, contact)
        out.append({"subject": case.subject[:EXAMPLE_CHARS], "summary": case.summary[:EXAMPLE_CHARS]})
    return out
