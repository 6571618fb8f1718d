"""Where a 188 call goes at a given instant, on the demo centers' published-style schedules.

Expected destinations were written from centers.json's hours, closed dates and backup rules (and
DOMAIN.md §1: 土日祝 → 国民生活センター休日相談, 年末年始 12/29–1/3 closed everywhere).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from channels.voice.ivr import choose_destination
from config.clock import JST

ROWS = json.loads((Path(__file__).parents[2] / "crm/demo_data/centers.json").read_text("utf-8"))
CENTERS = {r["code"]: SimpleNamespace(**{"timezone": "Asia/Tokyo", "municipalities": [], **r}) for r in ROWS}


def route(at: datetime, *, waiting: dict[str, int] | None = None, staff: dict[str, int] | None = None) -> Any:
    return choose_destination(
        CENTERS["tokyo-setagaya"],
        at,
        CENTERS.get,
        waiting=lambda c: (waiting or {}).get(c.code, 0),
        on_duty=lambda c: (staff or {}).get(c.code, 2),
        max_queue=20,
    )


@pytest.mark.parametrize(
    ("label", "at", "queue"),
    [
        ("weekday, open", datetime(2026, 4, 6, 10, 0, tzinfo=JST), "tokyo-setagaya"),
        ("weekday after 16:00: the prefectural center", datetime(2026, 4, 6, 16, 30, tzinfo=JST), "tokyo"),
        ("Saturday: the prefectural center", datetime(2026, 4, 11, 11, 0, tzinfo=JST), "tokyo"),
        ("Sunday: 国民生活センター", datetime(2026, 4, 12, 11, 0, tzinfo=JST), "kokusen"),
        ("みどりの日 (holiday): 国民生活センター", datetime(2026, 5, 4, 11, 0, tzinfo=JST), "kokusen"),
        (
            "the center's own closed day: its holiday rule",
            datetime(2026, 3, 31, 11, 0, tzinfo=JST),
            "kokusen",
        ),
    ],
)
def test_the_call_is_queued_where_someone_is_open(label: str, at: datetime, queue: str) -> None:
    dest = route(at)
    assert dest.queue_center is not None, f"{label}: {dest.reason}"
    assert dest.queue_center.code == queue, label


@pytest.mark.parametrize(
    ("label", "at", "opening"),
    [
        ("年末年始: everyone closed", datetime(2026, 12, 30, 11, 0, tzinfo=JST), "1月4日 09:00"),
        ("weekday night: everyone closed", datetime(2026, 4, 6, 20, 0, tzinfo=JST), "4月7日 09:00"),
    ],
)
def test_when_nobody_is_open_the_caller_leaves_a_voicemail_and_hears_the_next_opening(
    label: str, at: datetime, opening: str
) -> None:
    dest = route(at)
    assert dest.queue_center is None and dest.voicemail_center.code == "tokyo-setagaya", label
    assert opening in dest.next_opening, f"{label}: {dest.next_opening}"


def test_a_full_queue_overflows_to_the_busy_backup() -> None:
    dest = route(datetime(2026, 4, 6, 10, 0, tzinfo=JST), waiting={"tokyo-setagaya": 20})
    assert dest.queue_center.code == "tokyo" and "20 callers waiting" in dest.reason


def test_a_center_without_counselors_on_duty_overflows_too() -> None:
    dest = route(datetime(2026, 4, 6, 10, 0, tzinfo=JST), staff={"tokyo-setagaya": 0})
    assert dest.queue_center.code == "tokyo" and "no counselor on duty" in dest.reason


def test_when_the_backup_is_full_as_well_the_caller_leaves_a_voicemail() -> None:
    dest = route(datetime(2026, 4, 6, 10, 0, tzinfo=JST), waiting={"tokyo-setagaya": 20, "tokyo": 25})
    assert dest.queue_center is None and dest.voicemail_center.code == "tokyo-setagaya"
