"""A center's opening-hours data (``Center.hours``): its shape and validation.

crm owns the Center row, so the check of what may be stored lives here; routing.calendar reads the
same data to decide who is open (and re-exports these names).
"""

from __future__ import annotations

from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SECONDS = 24 * 3600


def clock_seconds(value: str) -> int:
    """Seconds after midnight for ``HH:MM[:SS]`` (``"24:00"`` = end of day); ValueError otherwise."""
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"opening hours time {value!r} is not HH:MM or HH:MM:SS")
    h, m, s = (int(p) for p in (*parts, "00")[:3])
    if m > 59 or s > 59 or h * 3600 + m * 60 + s > DAY_SECONDS:
        raise ValueError(f"opening hours time {value!r} is outside 00:00-24:00")
    return h * 3600 + m * 60 + s


def validate_hours(hours: dict[str, Any]) -> None:
    """Raise ValueError naming the first bad key, time or interval in a center's ``hours``."""
    allowed = (*WEEKDAYS, "holiday")
    for key, intervals in (hours or {}).items():
        if key not in allowed:
            raise ValueError(f"opening hours key {key!r} is not one of {', '.join(allowed)}")
        for interval in intervals or []:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise ValueError(f"opening hours for {key} need [start, end] pairs, got {interval!r}")
            start, end = (clock_seconds(t) for t in interval)
            if start >= end:
                raise ValueError(f"opening hours for {key}: {interval[0]} is not before {interval[1]}")
