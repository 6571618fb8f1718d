"""config.clock: "today" and a datetime's date are JST dates at every hour and in either process TZ."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from config.clock import JST, jst_date, jst_day_bounds, now_jst, now_utc, today_jst
from tests.clock import Instant


def test_today_and_now_are_the_jst_day_of_the_instant(jst_clock: Instant) -> None:
    assert today_jst() == jst_clock.day
    assert jst_date(now_utc()) == jst_clock.day and now_jst().date() == jst_clock.day
    start, end = jst_day_bounds(today_jst())
    assert start <= now_utc() < end and end - start == timedelta(days=1)


def test_the_suite_clock_really_moves_time_and_the_process_time_zone(jst_clock: Instant) -> None:
    assert abs((now_utc() - jst_clock.at).total_seconds()) < 60
    # The naive local clock follows TZ: the server's date.today() is the bug these instants expose.
    tz_is_utc = time.localtime().tm_gmtoff == 0
    assert date.today() == (now_utc().date() if tz_is_utc else jst_clock.day)


def test_jst_date_of_a_utc_datetime_after_15_00_is_the_next_day() -> None:
    assert jst_date(datetime(2026, 4, 5, 15, 30, tzinfo=UTC)) == date(2026, 4, 6)
    assert jst_date(datetime(2026, 4, 5, 14, 59, tzinfo=UTC)) == date(2026, 4, 5)
    assert jst_date(datetime(2026, 4, 6, 0, 30, tzinfo=JST)) == date(2026, 4, 6)


def test_jst_date_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        jst_date(datetime(2026, 4, 6, 0, 30))


def test_jst_day_bounds_are_utc_15_00_to_15_00() -> None:
    start, end = jst_day_bounds(date(2026, 12, 29))
    assert start == datetime(2026, 12, 28, 15, 0, tzinfo=UTC) and start.tzinfo == UTC
    assert end == datetime(2026, 12, 29, 15, 0, tzinfo=UTC)
