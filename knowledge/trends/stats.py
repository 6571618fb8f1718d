"""Counts of records per period and dimension value, with small-cell suppression (pure, no I/O).

Weeks start on Monday (JST 受付日); months on the 1st. A cell of 1 … K-1 records is suppressed
(``count`` None, ``suppressed`` True) in anything that leaves the center, so a rare combination
(one 80歳以上 caller about one product in one week) cannot single a consumer out. Zero is shown: it
identifies no one. :func:`protect_table` adds the secondary suppression: a total that would give a
suppressed cell back by subtraction (it is the only hidden cell of its period or of its value) is
hidden too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from crm.errors import BadRequest
from knowledge.trends.records import TrendRecord, values_of

K_ANONYMITY = 3  # smallest count shown outside the center
PERIODS = ("day", "week", "month")
MAX_DAY_PERIODS = 366  # a daily series longer than a year is asked for by week instead


def period_start(day: date, period: str) -> date:
    """``day`` itself, the Monday of its week, or the 1st of its month."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise BadRequest(f"unknown period {period!r}: use day, week or month")


def period_starts(date_from: date, date_to: date, period: str) -> list[date]:
    """Every period start from the one holding ``date_from`` to the one holding ``date_to``."""
    if period == "day" and (date_to - date_from).days >= MAX_DAY_PERIODS:
        raise BadRequest(f"daily counts cover at most {MAX_DAY_PERIODS} days: ask by week or month")
    out, current = [], period_start(date_from, period)
    while current <= date_to:
        out.append(current)
        if period == "day":
            current += timedelta(days=1)
        elif period == "week":
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


@dataclass(frozen=True)
class Cell:
    """One count; ``count`` is None when suppressed."""

    count: int | None
    suppressed: bool = False


def cell(count: int, k: int = K_ANONYMITY) -> Cell:
    """A count as it may be shown: 0 and ≥ k as they are, 1 … k-1 suppressed."""
    if 0 < count < k:
        return Cell(None, True)
    return Cell(count)


@dataclass(frozen=True)
class Series:
    """Counts of one dimension value over consecutive periods."""

    value: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


def count_series(
    records: Iterable[TrendRecord], *, dimension: str, period: str, date_from: date, date_to: date
) -> tuple[list[date], list[Series]]:
    """Per value of ``dimension``, its count in each period of [date_from, date_to] (largest first)."""
    starts = period_starts(date_from, date_to, period)
    index = {start: i for i, start in enumerate(starts)}
    counts: dict[str, list[int]] = {}
    for record in records:
        i = index.get(period_start(record.day, period))
        if i is None:
            continue
        for value in values_of(record, dimension):
            counts.setdefault(value, [0] * len(starts))[i] += 1
    series = [Series(value, c) for value, c in counts.items()]
    series.sort(key=lambda s: (-s.total, s.value))
    return starts, series


def period_totals(records: Iterable[TrendRecord], starts: list[date], period: str) -> list[int]:
    """All records per period (a record with several keywords counts once)."""
    found = Counter(period_start(r.day, period) for r in records)
    return [found.get(s, 0) for s in starts]


def protect_table(
    matrix: list[list[int]], period_totals: list[int], k: int = K_ANONYMITY
) -> tuple[list[list[int | None]], list[int | None], list[int | None]]:
    """(cells, period totals, value totals) with small cells hidden and the totals that would reveal
    a hidden cell by subtraction hidden as well. ``matrix[value][period]``; every value, not only
    the ones shown (a value left out of a top-N list is still hidden from the reader)."""
    cells = [[cell(c, k).count for c in row] for row in matrix]
    totals = [cell(t, k).count for t in period_totals]
    value_totals = [cell(sum(row), k).count for row in matrix]
    for i in range(len(period_totals)):
        if sum(1 for row in cells if row[i] is None) == 1:
            totals[i] = None
    for j, row in enumerate(cells):
        if sum(1 for c in row if c is None) == 1:
            value_totals[j] = None
    return cells, totals, value_totals
