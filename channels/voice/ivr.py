"""Where a call goes: the handling center now (hours, holidays, 年末年始, backup rules), its queue
limit and counselors on duty, else voicemail. Pure given the centers and two counters.

Precedence, one guard per line:

1. the chosen center, or the center its backup rules / parent chain name for this day type
   (routing.calendar.resolve_handling_center); nobody open → voicemail at the chosen center;
2. the open center has counselors on duty and fewer than ``max_queue`` callers waiting → its queue;
3. else its ``busy`` backup (平日バックアップ相談) if that one is open, staffed and not full → that queue;
4. else voicemail at the open center.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from routing import calendar


@dataclass(frozen=True)
class Destination:
    """``queue_center`` set: enqueue there; else leave a voicemail for ``voicemail_center``."""

    queue_center: Any
    voicemail_center: Any
    reason: str
    next_opening: str = ""


def next_opening_text(center: Any, at: datetime) -> str:
    """「次の受付開始は…です。」 or nothing when the center never opens within two weeks."""
    opening = calendar.next_opening(center, at)
    return f"次の受付開始は{opening.month}月{opening.day}日 {opening:%H:%M}です。" if opening else ""


def choose_destination(
    center: Any,
    at: datetime,
    lookup: Callable[[str], Any],
    *,
    waiting: Callable[[Any], int],
    on_duty: Callable[[Any], int],
    max_queue: int,
) -> Destination:
    """Apply the precedence above to a call for ``center`` at ``at``."""
    handling = calendar.resolve_handling_center(center, at, lookup)
    if handling.center is None:
        return Destination(None, center, f"closed: {handling.reason}", next_opening_text(center, at))
    open_center = handling.center

    def usable(c: Any) -> bool:
        return on_duty(c) > 0 and waiting(c) < max_queue

    if usable(open_center):
        return Destination(open_center, None, handling.reason)
    why = "no counselor on duty" if on_duty(open_center) <= 0 else f"{waiting(open_center)} callers waiting"
    busy_code = (open_center.backup_rules or {}).get("busy")
    busy = lookup(busy_code) if busy_code else None
    if busy is not None and calendar.is_open(busy, at) and usable(busy):
        return Destination(busy, None, f"{open_center.code} busy ({why}) -> {busy.code}")
    return Destination(None, open_center, f"{open_center.code} busy ({why}): voicemail", "")
