"""The suite's clock: date-sensitive tests run at chosen instants and under both process time zones.

Request ``jst_clock`` in a test (first among its fixtures, so the app and its threads are built at the
travelled time) and it runs once per :data:`INSTANTS` entry under each of :data:`PROCESS_TZS`: the
hours where the UTC date and the JST date differ (00:00-09:00 JST), the edges of a center's day, 188's
年末年始 and a public holiday. ``jst_midnight`` is the cheap version for slow tests: 00:30 JST (15:30
UTC the day before) under both time zones.

Time ticks on from the instant (``tick=True``) so timeouts, JWT expiry and background threads behave;
the destination is given as a timestamp, so time-machine leaves the process time zone to
:func:`process_tz`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import time_machine

from config.clock import JST

PROCESS_TZS = ("UTC", "Asia/Tokyo")


@dataclass(frozen=True)
class Instant:
    """A moment to run at, and what a JST calendar says about it (stated, not computed)."""

    label: str
    at: datetime  # aware, JST
    day_type: str  # for a center that observes 年末年始: weekday | holiday | closed | sat | sun
    next_opening: str | None  # a weekday 09:00-17:00 center's next opening (月日 HH:MM), None if open

    @property
    def day(self) -> date:
        return self.at.date()


def _jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


INSTANTS = (
    Instant("mon-00:30", _jst("2026-04-06 00:30"), "weekday", "4月6日 09:00"),  # UTC: Sunday 15:30
    Instant("mon-08:59", _jst("2026-04-06 08:59"), "weekday", "4月6日 09:00"),  # UTC: Sunday 23:59
    Instant("mon-09:00", _jst("2026-04-06 09:00"), "weekday", None),  # UTC: Monday 00:00
    Instant("mon-23:59", _jst("2026-04-06 23:59"), "weekday", "4月7日 09:00"),
    Instant("12/28-23:59", _jst("2026-12-28 23:59"), "weekday", "1月4日 09:00"),  # last day before 年末年始
    Instant("12/29-00:30", _jst("2026-12-29 00:30"), "closed", "1月4日 09:00"),  # UTC: still 12/28
    Instant("holiday-eve-23:59", _jst("2026-02-10 23:59"), "weekday", "2月12日 09:00"),  # 2/11 建国記念の日
    Instant("holiday-00:30", _jst("2026-02-11 00:30"), "holiday", "2月12日 09:00"),  # UTC: 2/10 weekday
)
MIDNIGHT = INSTANTS[0]


@contextmanager
def process_tz(name: str) -> Iterator[None]:
    """Run with the process time zone ``name`` (``TZ`` + ``tzset``), restored afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@contextmanager
def at_instant(instant: Instant, tz: str) -> Iterator[Instant]:
    """The process clock at ``instant`` (ticking) with the process time zone ``tz``."""
    with process_tz(tz), time_machine.travel(instant.at.timestamp(), tick=True):
        yield instant


def _params(instants: tuple[Instant, ...]) -> list[object]:
    return [pytest.param((i, tz), id=f"{i.label}-TZ={tz}") for i in instants for tz in PROCESS_TZS]


@pytest.fixture(params=_params(INSTANTS))
def jst_clock(request: pytest.FixtureRequest) -> Iterator[Instant]:
    """Each instant of :data:`INSTANTS` under each process time zone."""
    instant, tz = request.param
    with at_instant(instant, tz):
        yield instant


@pytest.fixture(params=_params((MIDNIGHT,)))
def jst_midnight(request: pytest.FixtureRequest) -> Iterator[Instant]:
    """00:30 JST on a Monday (Sunday 15:30 UTC) under each process time zone."""
    instant, tz = request.param
    with at_instant(instant, tz):
        yield instant
