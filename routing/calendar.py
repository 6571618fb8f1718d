"""Center calendars: open or closed at an instant, who handles a contact when a center is closed.

Data, not code, decides (DOMAIN.md §1, §8):

* ``Center.hours``: ``{"mon": [["09:00", "17:00"]], ..., "sat": [], "holiday": [["10:00", "16:00"]]}``.
  A weekday key that is missing or empty means closed; on a public holiday the ``"holiday"`` key
  applies (missing = closed on holidays). Times are ``HH:MM`` or ``HH:MM:SS``; ``"24:00"`` ends an
  interval at midnight, so ``[["00:00", "24:00"]]`` is open all day.
* Japanese public holidays come from ``holidays.Japan`` (振替休日 and 国民の休日 included).
* ``Center.closed_dates``: ISO dates (``"2026-05-07"``) or yearly ``"MM-DD"`` entries. 188's
  年末年始 closure is such data (:data:`YEAR_END_CLOSURE`, ``12-29`` … ``01-03``), put on each center
  that observes it, never applied by code.
* ``Center.backup_rules``: per day type, the code of the center that takes over
  (``{"sat": "tokyo", "sun": "kokusen", "holiday": "kokusen", "after_hours": "kokusen",
  "busy": "kokusen", "busy_wait_seconds": 180}``); without a rule the chain goes to the parent
  center (municipal → prefectural → national, ``Center.parent_code``).

Everything here is pure given the centers; times are converted to the center's time zone
(Asia/Tokyo by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays

from config.clock import JST
from crm.center_hours import DAY_SECONDS, WEEKDAYS, clock_seconds, validate_hours
from crm.messaging import capabilities_of

__all__ = ["DAY_SECONDS", "WEEKDAYS", "clock_seconds", "validate_hours"]  # also used by crm

# 188's 年末年始 (DOMAIN.md §1): the yearly entries a center puts in its closed_dates to observe it.
YEAR_END_CLOSURE = ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")


class CenterLike(Protocol):
    code: str
    name: str
    parent_code: str | None
    hours: dict[str, Any]
    closed_dates: list[str]
    backup_rules: dict[str, Any]
    timezone: str


@lru_cache(maxsize=64)
def _japan_holidays(year: int) -> holidays.HolidayBase:
    return holidays.Japan(years=year)


def public_holiday(day: date) -> str | None:
    """The name of the Japanese public holiday on ``day`` (English), or None."""
    name = _japan_holidays(day.year).get(day)
    return str(name) if name else None


def local_time(center: CenterLike, at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return at.astimezone(ZoneInfo(center.timezone) if center.timezone else JST)


def is_closed_day(center: CenterLike, day: date) -> bool:
    """Closed all day: one of the center's closed dates (ISO or yearly ``MM-DD``, 年末年始 included)."""
    own = set(center.closed_dates or ())
    return day.strftime("%m-%d") in own or day.isoformat() in own


def day_type(center: CenterLike, day: date) -> str:
    """``closed`` | ``holiday`` | ``sat`` | ``sun`` | ``weekday`` (the key backup rules use)."""
    if is_closed_day(center, day):
        return "closed"
    if public_holiday(day):
        return "holiday"
    wd = WEEKDAYS[day.weekday()]
    return wd if wd in ("sat", "sun") else "weekday"


def _intervals(center: CenterLike, day: date) -> list[tuple[int, int]]:
    """The day's opening intervals as seconds after local midnight (end exclusive)."""
    kind = day_type(center, day)
    if kind == "closed":
        return []
    key = "holiday" if kind == "holiday" else WEEKDAYS[day.weekday()]
    return [(clock_seconds(start), clock_seconds(end)) for start, end in (center.hours or {}).get(key) or []]


def is_open(center: CenterLike, at: datetime) -> bool:
    """True if the center takes contacts at ``at`` (start inclusive, end exclusive)."""
    local = local_time(center, at)
    now = local.hour * 3600 + local.minute * 60 + local.second
    return any(start <= now < end for start, end in _intervals(center, local.date()))


def next_opening(center: CenterLike, at: datetime, horizon_days: int = 14) -> datetime | None:
    """When the center next opens after ``at`` (local time), or None within ``horizon_days``."""
    local = local_time(center, at)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        for start, _end in _intervals(center, day):
            opening = datetime.combine(day, time(), tzinfo=local.tzinfo) + timedelta(seconds=start)
            if opening > local:
                return opening
    return None


def rule_key(center: CenterLike, at: datetime) -> str:
    """Which backup rule applies when ``center`` is closed at ``at``."""
    kind = day_type(center, local_time(center, at).date())
    if kind in ("sat", "sun", "holiday"):
        return kind
    if kind == "closed":
        return "closed"
    return "after_hours"


@dataclass(frozen=True)
class Handling:
    """Who handles a contact: ``center`` (None = nobody open: send the after-hours answer)."""

    center: Any
    chain: tuple[str, ...]  # codes tried, in order
    reason: str


def resolve_handling_center(
    center: CenterLike, at: datetime, lookup: Callable[[str], CenterLike | None], max_hops: int = 6
) -> Handling:
    """Follow backup rules (per day type) and then the parent chain until an open center is found.

    ``lookup(code)`` returns a center by code (a dict's ``get`` is enough).
    """
    chain: list[str] = []
    current: CenterLike | None = center
    reason = "open"
    while current is not None and len(chain) <= max_hops:
        if current.code in chain:
            break
        chain.append(current.code)
        if is_open(current, at):
            return Handling(current, tuple(chain), reason)
        key = rule_key(current, at)
        rules = current.backup_rules or {}
        nxt = rules.get(key) or (rules.get("holiday") if key == "closed" else None) or current.parent_code
        reason = f"{current.code} closed ({key}) -> {nxt}" if nxt else f"{current.code} closed ({key})"
        current = lookup(nxt) if nxt else None
    return Handling(None, tuple(chain), reason)


AFTER_HOURS_TEXT = {
    "ja": {
        "voice": "お電話ありがとうございます。{name}です。ただいまの時間は受付を終了しております。{next}",
        "message": "お問い合わせありがとうございます。{name}です。ただいま受付時間外のため、"
        "受付再開後に相談員より順にご返信いたします。{next}",
    },
    "en": {
        "voice": "Thank you for calling {name}. We are closed now. {next}",
        "message": "Thank you for contacting {name}. We are outside our hours; a counselor will reply "
        "in order once we reopen. {next}",
    },
}


def after_hours_text(center: CenterLike, channel: str, at: datetime, language: str = "ja") -> str:
    """The automatic answer for a contact that arrives while nobody is open (channels send it)."""
    texts = AFTER_HOURS_TEXT.get(language, AFTER_HOURS_TEXT["en"])
    template = texts["voice" if capabilities_of(channel).realtime else "message"]  # spoken on a call
    opening = next_opening(center, at)
    if opening is None:
        nxt = ""
    elif language == "ja":
        nxt = f"次の受付開始は{opening.month}月{opening.day}日 {opening:%H:%M}です。"
    else:
        nxt = f"We open again on {opening:%Y-%m-%d} at {opening:%H:%M}."
    return template.format(name=center.name, next=nxt).strip()
