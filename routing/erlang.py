"""Staffing maths: Erlang C (callers wait forever) and Erlang A (callers abandon).

Notation: arrival rate ``lam`` per second, mean handling time ``aht`` seconds (service rate
``mu = 1/aht``), ``agents`` counselors, offered load ``a = lam * aht`` erlangs, answer threshold ``T``
seconds, mean patience ``patience`` seconds (abandon rate ``theta = 1/patience``).

Erlang C (M/M/c)::

    P(wait) = C(c, a) = B(c, a) / (1 - (a/c) * (1 - B(c, a)))      B = Erlang B, by recursion
    ASA     = C * aht / (c - a)
    SL(T)   = 1 - C * exp(-(c - a) * T / aht)

Erlang A (M/M/c+M) is solved exactly on its birth–death chain (birth ``lam``, death
``min(n, c)*mu + max(n - c, 0)*theta``), truncated where the stationary tail is below 1e-12. A caller
arriving with ``k`` others queued passes phases ``i = k..0`` at rate ``r_i = c*mu + i*theta`` while their
own patience runs out at rate ``theta``; from that follow P(abandon), the ASA of answered callers and
SL(T) (uniformization). Service level counts abandoned callers as missed:
``SL = answered within T / all arrivals``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

TAIL_EPS = 1e-12
MAX_QUEUE_STATES = 20_000


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures for one staffing level."""

    agents: int
    offered_load: float  # erlangs
    occupancy: float  # fraction of counselor time busy
    p_wait: float  # probability an arriving contact waits at all
    asa: float  # average speed of answer (seconds, answered contacts)
    service_level: float  # fraction answered within the threshold
    p_abandon: float  # 0 for Erlang C
    threshold: float
    model: str  # "erlang_c" | "erlang_a"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/c/c (numerically stable recursion)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c; 1.0 when the system is overloaded."""
    if agents <= 0 or load >= agents:
        return 1.0
    b = erlang_b(agents, load)
    return b / (1.0 - (load / agents) * (1.0 - b))


def erlang_c_metrics(arrival_rate: float, aht: float, agents: int, threshold: float) -> QueueMetrics:
    """Erlang C figures (infinite patience). Overload gives infinite ASA and zero service level."""
    _check(arrival_rate, aht, threshold)
    load = arrival_rate * aht
    if agents <= load:
        return QueueMetrics(agents, load, 1.0, 1.0, math.inf, 0.0, 0.0, threshold, "erlang_c")
    c = erlang_c(agents, load)
    asa = c * aht / (agents - load)
    sl = 1.0 - c * math.exp(-(agents - load) * threshold / aht)
    return QueueMetrics(agents, load, load / agents, c, asa, sl, 0.0, threshold, "erlang_c")


def erlang_a_metrics(
    arrival_rate: float, aht: float, agents: int, threshold: float, patience: float
) -> QueueMetrics:
    """Erlang A figures (exponential patience with mean ``patience`` seconds), exact on the chain."""
    _check(arrival_rate, aht, threshold)
    if patience <= 0:
        raise ValueError("patience must be positive (seconds)")
    if agents <= 0:
        raise ValueError("agents must be at least 1")
    lam, mu, theta = arrival_rate, 1.0 / aht, 1.0 / patience
    below, queue = _stationary(lam, mu, theta, agents)
    if queue is None:  # patience so long the truncated chain cannot hold the queue: overloaded
        p_ab = max(0.0, 1.0 - agents * mu / lam)
        return QueueMetrics(agents, lam * aht, 1.0, 1.0, math.inf, 0.0, p_ab, threshold, "erlang_a")
    total = sum(below) + sum(queue)
    p_below = [p / total for p in below]
    p_queue = [p / total for p in queue]
    p_wait = sum(p_queue)
    lq = sum(k * p for k, p in enumerate(p_queue))  # k = number already waiting ahead
    p_abandon = theta * lq / lam if lam > 0 else 0.0  # abandonment flow / arrival flow
    served_wait, served = 0.0, sum(p_below)
    survive, mean_time = 1.0, 0.0
    for k, p in enumerate(p_queue):
        rate = agents * mu + k * theta
        survive *= rate / (rate + theta)
        mean_time += 1.0 / (rate + theta)
        served += p * survive
        served_wait += p * survive * mean_time
    asa = served_wait / served if served > 0 else math.inf
    sl = sum(p_below) + _answered_within(p_queue, agents * mu, theta, threshold)
    busy = sum(min(n, agents) * p for n, p in enumerate(p_below)) + agents * p_wait
    return QueueMetrics(agents, lam * aht, busy / agents, p_wait, asa, sl, p_abandon, threshold, "erlang_a")


def queue_metrics(
    arrival_rate: float, aht: float, agents: int, threshold: float, patience: float | None = None
) -> QueueMetrics:
    """Erlang A when a patience is given, Erlang C otherwise."""
    if patience:
        return erlang_a_metrics(arrival_rate, aht, agents, threshold, patience)
    return erlang_c_metrics(arrival_rate, aht, agents, threshold)


def agents_for_service_level(
    arrival_rate: float,
    aht: float,
    target_sl: float,
    threshold: float,
    patience: float | None = None,
    max_agents: int = 10_000,
) -> QueueMetrics:
    """The fewest counselors answering ``target_sl`` of contacts within ``threshold`` seconds.

    ``arrival_rate`` is per second. Raises ValueError if ``max_agents`` is not enough.
    """
    if not 0 < target_sl < 1:
        raise ValueError("target service level must be between 0 and 1 (e.g. 0.8)")
    _check(arrival_rate, aht, threshold)
    load = arrival_rate * aht
    hi = max(1, math.floor(load) + 1)
    while erlang_c_metrics(arrival_rate, aht, hi, threshold).service_level < target_sl:
        hi += 1
        if hi > max_agents:
            raise ValueError(f"more than {max_agents} counselors would be needed for this load")
    if not patience:
        return erlang_c_metrics(arrival_rate, aht, hi, threshold)
    lo = 0  # Erlang A never needs more counselors than Erlang C: bisect on [1, hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if erlang_a_metrics(arrival_rate, aht, mid, threshold, patience).service_level >= target_sl:
            hi = mid
        else:
            lo = mid
    return erlang_a_metrics(arrival_rate, aht, hi, threshold, patience)


def _check(arrival_rate: float, aht: float, threshold: float) -> None:
    if arrival_rate < 0 or not math.isfinite(arrival_rate):
        raise ValueError("arrival rate must be a non-negative number")
    if aht <= 0 or not math.isfinite(aht):
        raise ValueError("average handling time must be positive (seconds)")
    if threshold < 0 or not math.isfinite(threshold):
        raise ValueError("service-level threshold must be non-negative (seconds)")


def _stationary(lam: float, mu: float, theta: float, c: int) -> tuple[list[float], list[float] | None]:
    """Unnormalised probabilities relative to state ``c``: states 0..c-1, and c, c+1, ... (queue k=0..);
    None for the queue part if it does not fade out within MAX_QUEUE_STATES."""
    below = [0.0] * c
    p = 1.0
    for n in range(c, 0, -1):  # pi_{n-1} = pi_n * n mu / lam
        p = p * n * mu / lam if lam > 0 else 0.0
        below[n - 1] = p
    queue = [1.0]
    k, p, mass = 0, 1.0, 1.0 + sum(below)
    while k < MAX_QUEUE_STATES:
        k += 1
        p *= lam / (c * mu + k * theta)
        queue.append(p)
        mass += p
        if p < TAIL_EPS * mass and lam < c * mu + k * theta:
            return below, queue
    return below, None


def _answered_within(p_queue: list[float], c_mu: float, theta: float, threshold: float) -> float:
    """P(arrive to a full system and get answered within the threshold), by uniformization."""
    if threshold <= 0 or not p_queue:
        return 0.0
    n = len(p_queue)
    rates = [c_mu + k * theta for k in range(n)]
    uni = rates[-1] + theta
    steps_mean = uni * threshold
    max_steps = int(steps_mean + 10 * math.sqrt(steps_mean) + 20)
    move = [r / uni for r in rates]
    stay = [1.0 - (r + theta) / uni for r in rates]
    g = [0.0] * n  # P(answered within m jumps | k waiting ahead on arrival)
    log_mean = math.log(steps_mean)
    acc = 0.0
    for m in range(1, max_steps + 1):
        g = [move[0] + stay[0] * g[0]] + [move[k] * g[k - 1] + stay[k] * g[k] for k in range(1, n)]
        weight = math.exp(-steps_mean + m * log_mean - math.lgamma(m + 1))  # Poisson(m; uni*T)
        acc += weight * sum(p * gk for p, gk in zip(p_queue, g, strict=True))
    return acc
