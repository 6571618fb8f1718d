"""Center calendars: hours, Japanese public holidays, 年末年始, and the backup chain."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from config.clock import now_utc, today_jst
from crm.models import Center
from routing.calendar import (
    YEAR_END_CLOSURE,
    after_hours_text,
    day_type,
    is_open,
    next_opening,
    resolve_handling_center,
    validate_hours,
)
from tests.clock import Instant

JST = ZoneInfo("Asia/Tokyo")
WEEK = {d: [["09:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}

KOKUSEN = Center(
    code="kokusen",
    name="国民生活センター",
    prefecture="全国",
    level="national",
    hours={
        **{d: [["10:00", "12:00"], ["13:00", "16:00"]] for d in WEEK},
        "sat": [["10:00", "16:00"]],
        "sun": [["10:00", "16:00"]],
        "holiday": [["10:00", "16:00"]],
    },
    closed_dates=list(YEAR_END_CLOSURE),
)
PREF = Center(
    code="tokyo",
    name="東京都消費生活総合センター",
    prefecture="東京都",
    level="prefectural",
    parent_code="kokusen",
    hours={**{d: [["09:00", "17:00"]] for d in WEEK}, "sat": [["09:00", "17:00"]]},
    closed_dates=list(YEAR_END_CLOSURE),
    backup_rules={"sun": "kokusen", "holiday": "kokusen", "after_hours": "kokusen"},
)
CITY = Center(
    code="setagaya",
    name="世田谷区消費生活センター",
    prefecture="東京都",
    level="municipal",
    parent_code="tokyo",
    hours=WEEK,
    closed_dates=[*YEAR_END_CLOSURE, "2026-06-15"],
    backup_rules={"sat": "tokyo", "sun": "kokusen", "holiday": "kokusen"},
)
CENTERS = {c.code: c for c in (KOKUSEN, PREF, CITY)}


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=JST)


@pytest.mark.parametrize(
    ("when", "handler", "why"),
    [
        ("2026-04-08 10:00", "setagaya", "weekday within hours"),
        ("2026-04-11 10:00", "tokyo", "Saturday goes to the prefectural center"),
        ("2026-04-12 11:00", "kokusen", "Sunday goes to the national center"),
        ("2026-11-23 11:00", "kokusen", "勤労感謝の日 (public holiday) goes to the national center"),
        ("2026-05-06 11:00", "kokusen", "振替休日 is a holiday too"),
        ("2026-04-08 16:30", "tokyo", "weekday after the city's hours: parent (prefectural) chain"),
        ("2026-04-08 17:30", None, "weekday evening: prefectural and national closed too"),
        ("2026-06-15 10:00", "kokusen", "the city's own closed day uses its holiday rule"),
        ("2026-12-30 11:00", None, "年末年始: 188 is closed everywhere"),
        ("2027-01-03 11:00", None, "年末年始 ends on 1/3"),
        ("2026-04-12 17:00", None, "Sunday evening: nobody open"),
    ],
)
def test_resolve_handling_center(when: str, handler: str | None, why: str) -> None:
    got = resolve_handling_center(CITY, at(when), CENTERS.get)
    assert (got.center.code if got.center else None) == handler, why


def test_day_types() -> None:
    assert day_type(CITY, at("2026-11-23 00:00").date()) == "holiday"
    assert day_type(CITY, at("2026-12-29 00:00").date()) == "closed"
    assert day_type(CITY, at("2026-04-11 00:00").date()) == "sat"
    assert day_type(CITY, at("2026-04-08 00:00").date()) == "weekday"


def test_hours_edges_and_timezone() -> None:
    assert is_open(CITY, at("2026-04-08 09:00"))
    assert not is_open(CITY, at("2026-04-08 16:00"))  # end is exclusive
    assert is_open(CITY, datetime.fromisoformat("2026-04-08T01:00:00+00:00"))  # 10:00 JST
    with pytest.raises(ValueError):
        is_open(CITY, datetime(2026, 4, 8, 10, 0))


def test_yearly_closed_date_and_next_opening() -> None:
    center = Center(
        code="x", name="X", prefecture="東京都", hours=WEEK, closed_dates=["05-07", *YEAR_END_CLOSURE]
    )
    assert not is_open(center, at("2027-05-07 10:00"))
    assert next_opening(center, at("2026-12-28 17:00")) == at("2027-01-04 09:00")


def test_year_end_is_data_a_center_may_stay_open() -> None:
    # A center that does not list 年末年始 in its closed dates takes contacts on 12/30.
    center = Center(code="x", name="X", prefecture="東京都", hours=WEEK)
    assert is_open(center, at("2026-12-30 10:00"))
    assert day_type(center, at("2026-12-30 10:00").date()) == "weekday"


def test_24_00_keeps_a_center_open_until_midnight() -> None:
    all_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")}
    center = Center(code="x", name="X", prefecture="東京都", hours=all_day)
    assert is_open(center, at("2026-04-08 23:59")) and is_open(
        center, at("2026-04-08 23:59").replace(second=59)
    )
    assert is_open(center, at("2026-04-09 00:00"))
    late = Center(code="y", name="Y", prefecture="東京都", hours={"mon": [["18:00", "24:00"]]})
    assert next_opening(late, at("2026-04-06 10:00")) == at("2026-04-06 18:00")


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"monday": [["09:00", "17:00"]]}, "'monday' is not one of"),
        ({"mon": [["9:00", "17:00"]]}, "'9:00' is not HH:MM"),
        ({"mon": [["09:00", "24:30"]]}, "outside 00:00-24:00"),
        ({"mon": [["09:60", "17:00"]]}, "outside 00:00-24:00"),
        ({"mon": [["17:00", "09:00"]]}, "17:00 is not before 09:00"),
        ({"mon": [["09:00"]]}, "need [start, end] pairs"),
        ({"mon": [[9, 17]]}, "is not HH:MM"),
    ],
)
def test_bad_hours_are_refused_with_the_reason(hours: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        validate_hours(hours)
    validate_hours({"mon": [["09:00", "12:00"], ["13:00", "24:00"]], "holiday": []})  # a good one passes


def test_after_hours_text_names_center_and_reopening() -> None:
    text = after_hours_text(CITY, "line", at("2026-04-10 18:00"))
    assert "世田谷区消費生活センター" in text and "4月13日 09:00" in text
    voice = after_hours_text(CITY, "voice", at("2026-04-10 18:00"), language="en")
    assert voice.startswith("Thank you for calling") and "2026-04-13" in voice


def test_today_open_and_next_opening_follow_the_jst_day(jst_clock: Instant) -> None:
    center = Center(
        code="x",
        name="X",
        prefecture="東京都",
        hours={d: [["09:00", "17:00"]] for d in WEEK},
        closed_dates=list(YEAR_END_CLOSURE),
    )
    now = now_utc()
    assert day_type(center, today_jst()) == jst_clock.day_type
    assert is_open(center, now) == (jst_clock.next_opening is None)
    text = after_hours_text(center, "line", now)
    if jst_clock.next_opening:
        assert f"次の受付開始は{jst_clock.next_opening}です" in text, text


def test_cycle_in_rules_ends() -> None:
    a = Center(code="a", name="A", prefecture="x", hours={}, backup_rules={"after_hours": "b"})
    b = Center(code="b", name="B", prefecture="x", hours={}, backup_rules={"after_hours": "a"})
    got = resolve_handling_center(a, at("2026-04-08 10:00"), {"a": a, "b": b}.get)
    assert got.center is None and got.chain == ("a", "b")
