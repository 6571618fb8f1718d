"""The one clock: now in UTC, and dates in JST (the day a Japanese center and its users mean).

Instants are stored and compared in UTC; a *date* (受付日, 休日, クーリング・オフ day 1, "today") is
always a JST date, whatever the server's time zone. Use these helpers instead of ``date.today()``,
``datetime.now()`` or ``some_utc_datetime.date()`` (tests/unit/test_clock_usage.py enforces it).

Naive datetimes are refused (``ValueError``), as the ORM does: SQLModel's ``UTCDateTime`` columns bind
only aware values and read back aware UTC (SQLite stores UTC without an offset and gets ``UTC`` put
back on read), so a naive value reaching these helpers came from elsewhere (``datetime.now()``, raw
SQL on SQLite) and its day would be a guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def now_utc() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC)


def now_jst() -> datetime:
    """Now, timezone-aware in JST (for wall-clock text such as 受付時間)."""
    return datetime.now(JST)


def today_jst() -> date:
    """Today's date in Japan (not the server's local date, not the UTC date)."""
    return datetime.now(JST).date()


def jst_date(at: datetime) -> date:
    """The JST date of an aware datetime; ``ValueError`` for a naive one."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: cannot tell its JST date")
    return at.astimezone(JST).date()


def jst_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The JST day ``day`` as a UTC half-open interval ``[start, end)`` for database filters."""
    start = datetime.combine(day, time.min, tzinfo=JST)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=JST)
    return start.astimezone(UTC), end.astimezone(UTC)
