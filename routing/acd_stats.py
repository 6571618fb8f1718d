"""Every ACD figure, computed from the queue log's rows (routing.queue_log), never from counters.

A call counts in the period its ENTERQUEUE falls in. Definitions (T = ``threshold`` seconds; a
wait of exactly T is within T, as in routing.sim):

* offered: ENTERQUEUE rows; answered: calls with a CONNECT (a callback's CONNECT counts as answered,
  with its wait measured from the original ENTERQUEUE: the callback kept its place);
* abandoned: ABANDON rows; short abandons (wait < ``short_abandon``) are counted apart;
* service level, side by side (each None when its denominator is 0):

  ============================  ====================================================================
  ``answered``                  answered within T / answered
  ``offered``                   answered within T / offered
  ``offered_minus_short``       answered within T / (offered − short abandons)
  ``answered_and_abandoned``    answered within T / (answered + abandoned)  (routing.sim's definition)
  ``left_queue_within``         calls that left the queue for any reason within T / offered
                                (Amazon Connect's "service level X", contacts removed from queue)
  ============================  ====================================================================

* wait: mean / p50 / p90 over answered calls; handle: over COMPLETECALLER/COMPLETEAGENT talk times
  (and a transferred connected call's first leg). A call moved to another queue (TRANSFER,
  EXITWITHTIMEOUT on overflow) is offered again there: each queue entry counts.
  Percentiles are nearest-rank (the value of the ceil(p·n)-th smallest), so every figure is one
  that was observed.
* longest waiting now: the oldest call still in line (callbacks included) at ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from routing.queue_log import (
    ABANDON,
    CALLBACK,
    COMPLETES,
    CONNECT,
    ENTERQUEUE,
    EXITWITHTIMEOUT,
    LEAVES,
    TRANSFER,
    VOICEMAIL,
)


class EventLike(Protocol):
    call_id: str
    queue: str
    event: str
    at: datetime
    wait_seconds: float | None
    talk_seconds: float | None


@dataclass(frozen=True)
class Distribution:
    count: int
    mean: float | None
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class AcdFigures:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    voicemail: int
    callbacks: int
    transferred: int
    answered_within: int
    wait: Distribution
    handle: Distribution
    service_level: dict[str, float | None]
    longest_waiting_seconds: float | None
    threshold_seconds: float
    short_abandon_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered)))
    return ordered[rank - 1]


def distribution(values: Sequence[float]) -> Distribution:
    if not values:
        return Distribution(0, None, None, None)
    return Distribution(
        len(values), sum(values) / len(values), percentile(values, 0.5), percentile(values, 0.9)
    )


def _ratio(num: int, den: int) -> float | None:
    return num / den if den > 0 else None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def compute(
    rows: Iterable[EventLike],
    *,
    threshold: float,
    short_abandon: float,
    now: datetime | None = None,
) -> AcdFigures:
    """The figures of the calls whose ENTERQUEUE is among ``rows`` (pure)."""
    by_call: dict[str, list[EventLike]] = {}
    for row in rows:
        by_call.setdefault(row.call_id, []).append(row)
    offered = answered = abandoned = short = timed_out = voicemail = callbacks = transferred = 0
    within = left_within = 0
    waits: list[float] = []
    talks: list[float] = []
    longest: float | None = None
    for own in by_call.values():
        own.sort(key=lambda r: _aware(r.at))
        entries = [r for r in own if r.event == ENTERQUEUE]
        if not entries:
            continue  # the call entered before the period
        offered += len(entries)
        first_leave: EventLike | None = None
        still_waiting = True
        for row in own:
            if row.event in LEAVES and first_leave is None:
                first_leave = row
            if row.event == ENTERQUEUE:
                still_waiting = True
            elif row.event == CONNECT:
                answered += 1
                wait = row.wait_seconds or 0.0
                waits.append(wait)
                within += wait <= threshold
                still_waiting = False
            elif row.event == ABANDON:
                abandoned += 1
                short += (row.wait_seconds or 0.0) < short_abandon
                still_waiting = False
            elif row.event == EXITWITHTIMEOUT:
                timed_out += 1
                still_waiting = False
            elif row.event == VOICEMAIL:
                voicemail += 1
                still_waiting = False
            elif row.event == CALLBACK:
                callbacks += 1
            elif row.event == TRANSFER:
                transferred += 1
                still_waiting = False
                if row.talk_seconds is not None:  # a connected call handed on: its first leg's talk
                    talks.append(row.talk_seconds)
            elif row.event in COMPLETES and row.talk_seconds is not None:
                talks.append(row.talk_seconds)
        if first_leave is not None and (first_leave.wait_seconds or 0.0) <= threshold:
            left_within += 1
        if still_waiting and now is not None:
            waited = (_aware(now) - _aware(entries[-1].at)).total_seconds()
            longest = waited if longest is None else max(longest, waited)
    service_level = {
        "answered": _ratio(within, answered),
        "offered": _ratio(within, offered),
        "offered_minus_short": _ratio(within, offered - short),
        "answered_and_abandoned": _ratio(within, answered + abandoned),
        "left_queue_within": _ratio(left_within, offered),
    }
    return AcdFigures(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        timed_out=timed_out,
        voicemail=voicemail,
        callbacks=callbacks,
        transferred=transferred,
        answered_within=within,
        wait=distribution(waits),
        handle=distribution(talks),
        service_level=service_level,
        longest_waiting_seconds=longest,
        threshold_seconds=threshold,
        short_abandon_seconds=short_abandon,
    )


def estimated_wait_seconds(position: int, handle_times: Sequence[float], counselors: int) -> float | None:
    """A caller's expected wait: ``position`` calls ahead served by ``counselors`` at the recent mean
    handle time (None without any recent handle time or counselor on duty)."""
    if position <= 0:
        return 0.0
    if not handle_times or counselors <= 0:
        return None
    return position * (sum(handle_times) / len(handle_times)) / counselors
