"""Center calendars: open or closed at an instant, who handles a contact when a center is closed.

Data, not code, decides (DOMAIN.md §1, §8):

* ``Center.hours``: ``{"mon": [["09:00", "17:00"]], ..., "sat": [], "holiday": [["10:00", "16:00"]]}``.
  A weekday key that is missing or empty means closed; on a public holiday the ``"holiday"`` key
  applies (missing = closed on holidays).
* Japanese public holidays come from ``holidays.Japan`` (振替休日 and 国民の休日 included).
* ``Center.closed_dates``: ISO dates (``"2026-05-07"``) or yearly ``"MM-DD"`` entries.
* :data:`HOTLINE_CLOSED_DAYS`: 188's 年末年始 closure 12/29–1/3, applied to every center.
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

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOTLINE_CLOSED_DAYS = ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")  # 188 年末年始


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
    return at.astimezone(ZoneInfo(center.timezone or "Asia/Tokyo"))


def is_closed_day(center: CenterLike, day: date) -> bool:
    """Closed all day: 年末年始 or one of the center's own closed dates."""
    md = day.strftime("%m-%d")
    own = set(center.closed_dates or ())
    return md in HOTLINE_CLOSED_DAYS or md in own or day.isoformat() in own


def day_type(center: CenterLike, day: date) -> str:
    """``closed`` | ``holiday`` | ``sat`` | ``sun`` | ``weekday`` (the key backup rules use)."""
    if is_closed_day(center, day):
        return "closed"
    if public_holiday(day):
        return "holiday"
    wd = WEEKDAYS[day.weekday()]
    return wd if wd in ("sat", "sun") else "weekday"


def _intervals(center: CenterLike, day: date) -> list[tuple[time, time]]:
    kind = day_type(center, day)
    if kind == "closed":
        return []
    key = "holiday" if kind == "holiday" else WEEKDAYS[day.weekday()]
    out = []
    for start, end in (center.hours or {}).get(key) or []:
        out.append((time.fromisoformat(start), time.fromisoformat(end)))
    return out


def is_open(center: CenterLike, at: datetime) -> bool:
    """True if the center takes contacts at ``at`` (start inclusive, end exclusive)."""
    local = local_time(center, at)
    now = local.time()
    return any(start <= now < end for start, end in _intervals(center, local.date()))


def next_opening(center: CenterLike, at: datetime, horizon_days: int = 14) -> datetime | None:
    """When the center next opens after ``at`` (local time), or None within ``horizon_days``."""
    local = local_time(center, at)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        for start, _end in _intervals(center, day):
            opening = datetime.combine(day, start, tzinfo=local.tzinfo)
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
    template = texts["voice" if channel == "voice" else "message"]
    opening = next_opening(center, at)
    if opening is None:
        nxt = ""
    elif language == "ja":
        nxt = f"次の受付開始は{opening.month}月{opening.day}日 {opening:%H:%M}です。"
    else:
        nxt = f"We open again on {opening:%Y-%m-%d} at {opening:%H:%M}."
    return template.format(name=center.name, next=nxt).strip()
