"""Spike detection: a value whose count this week is far above its own recent weeks (pure, no I/O).

Method (a conditional Poisson test, documented so a partner agency can check it): with ``x`` records
this week and ``m`` in the ``baseline`` weeks before it, if the weekly rate had not changed then,
given ``n = x + m``, ``x`` is Binomial(n, 1 / (baseline + 1)). The one-sided p-value
P(X ≥ x) is exact for any rate, so the baseline's own noise is accounted for (no estimated λ
plugged in). Counts that vary more than Poisson (they do: campaigns, holidays) are scaled down by
the baseline's dispersion φ = variance / mean (≥ 1), as in quasi-Poisson surveillance (Farrington):
the test is run on ``x / φ`` of ``n / φ``. A week is a spike when all hold:

1. p-value < ``alpha`` (default 0.001);
2. ``x`` ≥ ``min_count`` (default 5; also ≥ the small-cell threshold, so a spike never shows a
   suppressed cell);
3. ``x`` ≥ ``min_ratio`` × the baseline's weekly mean (default 2).

False alarms: bench/trends_spikes.py measures the share of (series, week) tests flagged on generated
series without a spike (2000 series × 8 weeks per rate, λ 0.5–50): Poisson pooled 0.0002 (at most
0.0006 at any rate), negative binomial (variance λ + λ²/5) pooled 0.005 (at most 0.009). The price:
a week at 3 × a usual 5 cases is found 39 % of the time (Poisson), 5 × is found ≥ 99 % from λ = 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

ALPHA = 0.001
BASELINE_WEEKS = 8
MIN_HISTORY = 4  # weeks of baseline needed before a week is tested
MIN_COUNT = 5
MIN_RATIO = 2.0


@dataclass(frozen=True)
class Spike:
    """A value's week that is far above its baseline."""

    value: str
    week: date
    count: int
    expected: float  # the baseline's weekly mean
    ratio: float | None  # None when the baseline was empty
    p_value: float


def binom_sf(x: int, n: int, p: float) -> float:
    """P(X ≥ x) for X ~ Binomial(n, p), summed in log space (stable for large n)."""
    if x <= 0:
        return 1.0
    if x > n:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    lg_n = math.lgamma(n + 1)
    total = 0.0
    for k in range(x, n + 1):
        term = lg_n - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q
        total += math.exp(term)
    return min(1.0, total)


def dispersion(history: list[int]) -> float:
    """Quasi-Poisson scale φ = variance / mean of the baseline weeks, at least 1."""
    mean = sum(history) / len(history)
    if mean <= 0 or len(history) < 2:
        return 1.0
    variance = sum((c - mean) ** 2 for c in history) / (len(history) - 1)
    return max(1.0, variance / mean)


def check_week(
    counts: list[int],
    t: int,
    *,
    alpha: float = ALPHA,
    baseline: int = BASELINE_WEEKS,
    min_count: int = MIN_COUNT,
    min_ratio: float = MIN_RATIO,
) -> tuple[bool, float, float]:
    """(is a spike, p-value, baseline weekly mean) for week ``t`` of ``counts``."""
    history = counts[max(0, t - baseline) : t]
    if len(history) < MIN_HISTORY:
        return False, 1.0, 0.0
    x, m = counts[t], sum(history)
    mean = m / len(history)
    phi = dispersion(history)
    p_value = binom_sf(math.floor(x / phi), math.floor((x + m) / phi), 1.0 / (len(history) + 1))
    spike = p_value < alpha and x >= min_count and x >= min_ratio * mean
    return spike, p_value, mean


def detect_spikes(
    weeks: list[date],
    series: list[tuple[str, list[int]]],
    *,
    only_from: date | None = None,
    alpha: float = ALPHA,
    min_count: int = MIN_COUNT,
) -> list[Spike]:
    """Every (value, week) spike in ``series`` (weekly counts aligned with ``weeks``), strongest first.

    ``only_from``: test only the weeks starting on or after it (the earlier ones are baseline)."""
    found: list[Spike] = []
    for value, counts in series:
        for t, week in enumerate(weeks):
            if only_from is not None and week < only_from:
                continue
            spike, p_value, mean = check_week(counts, t, alpha=alpha, min_count=min_count)
            if spike:
                ratio = round(counts[t] / mean, 1) if mean else None
                found.append(Spike(value, week, counts[t], round(mean, 2), ratio, p_value))
    found.sort(key=lambda s: (s.p_value, -s.count, s.value))
    return found
