"""Dates as people write them in a consultation, resolved in JST against the day the message was sent.

Absolute: 「2026年11月8日」「11月16日」「10/20」; a month: 「9月の末」「去年の12月」「11月に」.
Relative: 「昨日」「一昨日」「3日前」「2週間前」「先週の土曜」「先月の15日」「今月5日」「先月」「先週」.
A value is an ISO date ``YYYY-MM-DD``, or ``YYYY-MM`` when only the month is known (「先月」). 「当日」
「その日」 refer to another date of the record (the contract day): they are returned as ``SAME_DAY``.
Dates after the message day are dropped (a consumer reports what happened); a month/day without a
year more than 60 days after the message day is taken as last year's (「12月に」 said in January).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

SAME_DAY = "same-day"
WEEKDAYS = "月火水木金土日"
_KANJI_SMALL = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


@dataclass(frozen=True)
class DateMention:
    """A date found in a text: its value (ISO day, ``YYYY-MM`` or ``SAME_DAY``), words and position."""

    value: str
    text: str
    start: int
    end: int


def _n(s: str) -> int:
    return int(s) if s.isdigit() else _KANJI_SMALL.get(s, 0)


def _month_before(day: date, months: int = 1) -> tuple[int, int]:
    y, m = day.year, day.month - months
    while m <= 0:
        y, m = y - 1, m + 12
    return y, m


def _ymd(year: int | None, month: int, dom: int | None, today: date) -> str | None:
    guessed = year is None
    year = year or today.year
    try:
        found = date(year, month, dom or 1)
    except ValueError:
        return None
    if guessed and (found - today).days > 60:
        found = found.replace(year=year - 1)
    if found > today:
        return None
    return found.isoformat() if dom else f"{found.year:04d}-{found.month:02d}"


def _day(d: date, today: date) -> str | None:
    return d.isoformat() if d <= today else None


def _last_week(today: date) -> str | None:
    monday = today - timedelta(days=today.weekday() + 7)
    sunday = monday + timedelta(days=6)
    return f"{monday.year:04d}-{monday.month:02d}" if monday.month == sunday.month else None


# (pattern, resolver(match, today) -> value | None); earlier patterns win on overlapping spans
_PATTERNS: list[tuple[re.Pattern[str], object]] = []


def _rule(pattern: str):  # type: ignore[no-untyped-def]
    def wrap(fn):  # type: ignore[no-untyped-def]
        _PATTERNS.append((re.compile(pattern), fn))
        return fn

    return wrap


@_rule(r"(\d{4})[年/.-](\d{1,2})[月/.-](\d{1,2})日?")
def _full(m: re.Match[str], today: date) -> str | None:
    return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)), today)


@_rule(r"(?:去年|昨年)の?(\d{1,2})月")
def _last_year_month(m: re.Match[str], today: date) -> str | None:
    return _ymd(today.year - 1, int(m.group(1)), None, today)


@_rule(r"(?<![\d/])(\d{1,2})月(\d{1,2})日|(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
def _month_day(m: re.Match[str], today: date) -> str | None:
    month, dom = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return _ymd(None, int(month), int(dom), today)


@_rule(r"先月の?(\d{1,2})日")
def _last_month_day(m: re.Match[str], today: date) -> str | None:
    y, mo = _month_before(today)
    return _ymd(y, mo, int(m.group(1)), today)


@_rule(r"今月の?(\d{1,2})日")
def _this_month_day(m: re.Match[str], today: date) -> str | None:
    return _ymd(today.year, today.month, int(m.group(1)), today)


@_rule(r"(先々週|先週|今週)の?([月火水木金土日])曜")
def _weekday(m: re.Match[str], today: date) -> str | None:
    monday = today - timedelta(days=today.weekday())
    back = {"今週": 0, "先週": 7, "先々週": 14}[m.group(1)]
    return _day(monday - timedelta(days=back) + timedelta(days=WEEKDAYS.index(m.group(2))), today)


@_rule(r"(\d{1,2}|[一二三四五六七八九十])日前")
def _days_ago(m: re.Match[str], today: date) -> str | None:
    return _day(today - timedelta(days=_n(m.group(1))), today)


@_rule(r"(\d{1,2}|[一二三四五六七八九十])週間前")
def _weeks_ago(m: re.Match[str], today: date) -> str | None:
    return _day(today - timedelta(days=7 * _n(m.group(1))), today)


@_rule(r"(\d{1,2}|[一二三四五六七八九十])(?:か|ヶ|ヵ|カ|ケ)月前")
def _months_ago(m: re.Match[str], today: date) -> str | None:
    y, mo = _month_before(today, _n(m.group(1)))
    return f"{y:04d}-{mo:02d}"


@_rule(r"一昨日|おととい")
def _day_before_yesterday(_m: re.Match[str], today: date) -> str | None:
    return (today - timedelta(days=2)).isoformat()


@_rule(r"昨日|きのう")
def _yesterday(_m: re.Match[str], today: date) -> str | None:
    return (today - timedelta(days=1)).isoformat()


@_rule(r"今日|本日")
def _today(_m: re.Match[str], today: date) -> str | None:
    return today.isoformat()


@_rule(r"当日|その日|同日|即日")
def _same_day(_m: re.Match[str], _today: date) -> str | None:
    return SAME_DAY


@_rule(r"先月")
def _last_month(_m: re.Match[str], today: date) -> str | None:
    y, mo = _month_before(today)
    return f"{y:04d}-{mo:02d}"


@_rule(r"先週")
def _last_week_month(_m: re.Match[str], today: date) -> str | None:
    return _last_week(today)


@_rule(r"(?<![\d/])(\d{1,2})月(?:の?(?:末|初め|始め|上旬|中旬|下旬|頃|ごろ|くらい)|に|中)")
def _month_only(m: re.Match[str], today: date) -> str | None:
    return _ymd(None, int(m.group(1)), None, today)


def find_dates(text: str, today: date) -> list[DateMention]:
    """Every date mentioned in NFKC ``text``, resolved against ``today`` (the message's JST date)."""
    taken: list[tuple[int, int]] = []
    out: list[DateMention] = []
    for pattern, resolve in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            value = resolve(m, today)  # type: ignore[operator]
            taken.append((m.start(), m.end()))
            if value is not None:
                out.append(DateMention(value, m.group(0), m.start(), m.end()))
    return sorted(out, key=lambda d: d.start)
