"""Staffing maths: Erlang C (callers wait forever) and Erlang A (callers abandon), bounded in time.

Notation: arrival rate ``lam`` per second, mean handling time ``aht`` seconds (service rate
``mu = 1/aht``), ``agents`` counselors, offered load ``a = lam * aht`` erlangs, answer threshold ``T``
seconds, mean patience ``patience`` seconds (abandon rate ``theta = 1/patience``).

Erlang C (M/M/c)::

    P(wait) = C(c, a) = B(c, a) / (1 - (a/c) * (1 - B(c, a)))      B = Erlang B, by recursion
    ASA     = C * aht / (c - a)
    SL(T)   = 1 - C * exp(-(c - a) * T / aht)

Erlang A (M/M/c+M) is solved exactly on its birth–death chain (birth ``lam``, death
``min(n, c)*mu + max(n - c, 0)*theta``; weights summed in log space, so no factorial overflows),
truncated where the stationary tail is below 1e-12. A caller arriving with ``k`` others queued passes
phases ``i = k..0`` at rate ``r_i = c*mu + i*theta`` while their own patience runs out at rate
``theta``; from that follow P(abandon), the ASA of answered callers and SL(T): the arithmetic death
rates give the waiting-time survival of the whole queue in closed form (see ``_answered_within``),
integrated by Gauss–Legendre, O(queue length) per node; past the time by which every phase is over
with probability 1 - 1e-14, SL(T) is P(answered). Service level counts abandoned callers as missed:
``SL = answered within T / all arrivals``.

Bounds: :data:`LIMITS` are the documented input ranges (the HTTP API and the CLI refuse anything
outside them, naming the field); the search for the number of counselors is one O(c) pass of the
Erlang B recurrence (C) or a bisection (A); and every computation draws on a :class:`WorkBudget`
(about a second of CPU), past which it stops with :class:`StaffingInputError` saying what to lower.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

TAIL_EPS = 1e-12
MAX_QUEUE_STATES = 20_000
MAX_AGENTS = 10_000
WORK_UNITS = 12_000_000  # inner-loop steps one request may spend (about a second of CPython)
STATE_UNITS = 10  # one state of the stationary chain costs about ten inner-loop steps


class StaffingInputError(ValueError):
    """An input outside its documented range, or a combination too large to compute; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    unit: str

    def check(self, field: str, value: float) -> None:
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise StaffingInputError(field, f"must be a finite number between {self.low:g} and {self.high:g}")
        if not self.low <= value <= self.high:
            raise StaffingInputError(
                field, f"must be between {self.low:g} and {self.high:g} {self.unit} (got {value:g})"
            )


@dataclass(frozen=True)
class Limits:
    """The documented input ranges of every staffing computation (API, CLI)."""

    arrivals_per_hour: Range = Range(0.01, 100_000, "contacts per hour")
    aht_seconds: Range = Range(1, 14_400, "seconds")
    target: Range = Range(0.01, 0.999, "(fraction answered in time)")
    within_seconds: Range = Range(0, 3_600, "seconds")
    patience_seconds: Range = Range(1, 86_400, "seconds")
    agents: Range = Range(1, MAX_AGENTS, "counselors")

    def check(
        self,
        *,
        arrivals_per_hour: float,
        aht_seconds: float,
        target: float,
        within_seconds: float,
        patience_seconds: float | None = None,
        agents: int | None = None,
    ) -> None:
        """Raise StaffingInputError naming the first field out of range (or a load no staff can serve)."""
        self.arrivals_per_hour.check("arrivals_per_hour", arrivals_per_hour)
        self.aht_seconds.check("aht_seconds", aht_seconds)
        self.target.check("target", target)
        self.within_seconds.check("within_seconds", within_seconds)
        if patience_seconds is not None:
            self.patience_seconds.check("patience_seconds", patience_seconds)
        if agents is not None:
            self.agents.check("agents", agents)
        load = arrivals_per_hour * aht_seconds / 3600.0
        if load >= MAX_AGENTS:
            raise StaffingInputError(
                "arrivals_per_hour",
                f"arrivals_per_hour × aht_seconds / 3600 = {load:,.0f} erlangs: more than the "
                f"{MAX_AGENTS:,} counselors this tool plans for",
            )


LIMITS = Limits()


class WorkBudget:
    """Counts inner-loop steps; stops a computation that would run past ``units``."""

    def __init__(self, units: int = WORK_UNITS) -> None:
        self.left = units

    def spend(self, units: int, field: str = "within_seconds") -> None:
        self.left -= units
        if self.left < 0:
            raise StaffingInputError(
                field,
                "this combination is too large to compute in time: lower within_seconds or "
                "patience_seconds, or plan a smaller queue",
            )


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
    """Blocking probability of M/M/c/c (numerically stable recursion, O(agents))."""
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def _c_from_b(agents: int, load: float, b: float) -> float:
    return b / (1.0 - (load / agents) * (1.0 - b))


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c; 1.0 when the system is overloaded."""
    if agents <= 0 or load >= agents:
        return 1.0
    return _c_from_b(agents, load, erlang_b(agents, load))


def _c_metrics(agents: int, load: float, b: float, aht: float, threshold: float) -> QueueMetrics:
    if agents <= load:
        return QueueMetrics(agents, load, 1.0, 1.0, math.inf, 0.0, 0.0, threshold, "erlang_c")
    c = _c_from_b(agents, load, b)
    asa = c * aht / (agents - load)
    sl = min(1.0, max(0.0, 1.0 - c * math.exp(-(agents - load) * threshold / aht)))
    return QueueMetrics(agents, load, load / agents, c, asa, sl, 0.0, threshold, "erlang_c")


def erlang_c_metrics(arrival_rate: float, aht: float, agents: int, threshold: float) -> QueueMetrics:
    """Erlang C figures (infinite patience). Overload gives infinite ASA and zero service level."""
    _check(arrival_rate, aht, threshold)
    load = arrival_rate * aht
    return _c_metrics(agents, load, erlang_b(agents, load), aht, threshold)


def erlang_a_metrics(
    arrival_rate: float,
    aht: float,
    agents: int,
    threshold: float,
    patience: float,
    budget: WorkBudget | None = None,
) -> QueueMetrics:
    """Erlang A figures (exponential patience with mean ``patience`` seconds), exact on the chain."""
    _check(arrival_rate, aht, threshold)
    if not patience > 0 or not math.isfinite(patience):
        raise ValueError("patience must be a positive number of seconds")
    if agents <= 0:
        raise ValueError("agents must be at least 1")
    budget = budget or WorkBudget()
    lam, mu, theta = arrival_rate, 1.0 / aht, 1.0 / patience
    if lam <= 0:
        return QueueMetrics(agents, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, threshold, "erlang_a")
    chain = _stationary(lam, mu, theta, agents, budget)
    if chain is None:  # patience so long the truncated chain cannot hold the queue: overloaded
        p_ab = max(0.0, 1.0 - agents * mu / lam)
        return QueueMetrics(agents, lam * aht, 1.0, 1.0, math.inf, 0.0, p_ab, threshold, "erlang_a")
    p_below, p_queue = chain
    p_wait = sum(p_queue)
    lq = sum(k * p for k, p in enumerate(p_queue))  # k = number already waiting ahead
    p_abandon = theta * lq / lam  # abandonment flow / arrival flow
    served_wait, served = 0.0, sum(p_below)
    survive, mean_time = 1.0, 0.0
    for k, p in enumerate(p_queue):
        rate = agents * mu + k * theta
        survive *= rate / (rate + theta)
        mean_time += 1.0 / (rate + theta)
        served += p * survive
        served_wait += p * survive * mean_time
    asa = served_wait / served if served > 0 else math.inf
    sl = sum(p_below) + _answered_within(p_queue, agents * mu, theta, lam, threshold, budget)
    busy = sum(min(n, agents) * p for n, p in enumerate(p_below)) + agents * p_wait
    return QueueMetrics(
        agents,
        lam * aht,
        min(1.0, busy / agents),
        min(1.0, p_wait),
        asa,
        min(1.0, max(0.0, sl)),
        min(1.0, max(0.0, p_abandon)),
        threshold,
        "erlang_a",
    )


def queue_metrics(
    arrival_rate: float,
    aht: float,
    agents: int,
    threshold: float,
    patience: float | None = None,
    budget: WorkBudget | None = None,
) -> QueueMetrics:
    """Erlang A when a patience is given, Erlang C otherwise."""
    if patience:
        return erlang_a_metrics(arrival_rate, aht, agents, threshold, patience, budget)
    return erlang_c_metrics(arrival_rate, aht, agents, threshold)


def agents_for_service_level(
    arrival_rate: float,
    aht: float,
    target_sl: float,
    threshold: float,
    patience: float | None = None,
    max_agents: int = MAX_AGENTS,
    budget: WorkBudget | None = None,
) -> QueueMetrics:
    """The fewest counselors answering ``target_sl`` of contacts within ``threshold`` seconds.

    ``arrival_rate`` is per second. One pass of the Erlang B recurrence finds the Erlang C answer
    (O(c)); with a patience, Erlang A bisects below it. Raises ValueError if ``max_agents`` is not enough.
    """
    if not 0 < target_sl < 1:
        raise ValueError("target service level must be between 0 and 1 (e.g. 0.8)")
    _check(arrival_rate, aht, threshold)
    budget = budget or WorkBudget()
    load = arrival_rate * aht
    best: QueueMetrics | None = None
    b = 1.0
    for n in range(1, max_agents + 1):
        b = load * b / (n + load * b)
        if n > load:
            m = _c_metrics(n, load, b, aht, threshold)
            if m.service_level >= target_sl:
                best = m
                break
    budget.spend(max_agents if best is None else best.agents)
    if best is None:
        raise StaffingInputError(
            "arrivals_per_hour", f"more than {max_agents} counselors would be needed for this load"
        )
    if not patience:
        return best
    return _erlang_a_search(
        arrival_rate, aht, target_sl, threshold, patience, best.agents, max_agents, budget
    )


def _erlang_a_search(
    arrival_rate: float,
    aht: float,
    target_sl: float,
    threshold: float,
    patience: float,
    start: int,
    max_agents: int,
    budget: WorkBudget,
) -> QueueMetrics:
    """The fewest counselors for ``target_sl`` under Erlang A, searching from the Erlang C answer."""
    # Erlang A usually needs fewer counselors than Erlang C, and with long patience (the costly case:
    # a long queue) nearly as many: gallop from the Erlang C answer, then bisect.
    found = erlang_a_metrics(arrival_rate, aht, start, threshold, patience, budget)
    hi, step = start, 1
    lo = 0
    while found.service_level < target_sl:  # callers abandoning before T count as missed
        lo, hi = hi, min(max_agents, hi + step)
        if lo == max_agents:
            raise StaffingInputError(
                "arrivals_per_hour", f"more than {max_agents} counselors would be needed for this load"
            )
        found, step = erlang_a_metrics(arrival_rate, aht, hi, threshold, patience, budget), step * 2
    step = 1
    while lo == 0 and hi - step >= 1:
        m = erlang_a_metrics(arrival_rate, aht, hi - step, threshold, patience, budget)
        if m.service_level < target_sl:
            lo = hi - step
            break
        hi, found, step = hi - step, m, step * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        m = erlang_a_metrics(arrival_rate, aht, mid, threshold, patience, budget)
        if m.service_level >= target_sl:
            hi, found = mid, m
        else:
            lo = mid
    return found


def _check(arrival_rate: float, aht: float, threshold: float) -> None:
    if not arrival_rate >= 0 or not math.isfinite(arrival_rate):
        raise ValueError("arrival rate must be a non-negative number")
    if not aht > 0 or not math.isfinite(aht):
        raise ValueError("average handling time must be positive (seconds)")
    if not threshold >= 0 or not math.isfinite(threshold):
        raise ValueError("service-level threshold must be non-negative (seconds)")


def _stationary(
    lam: float, mu: float, theta: float, c: int, budget: WorkBudget
) -> tuple[list[float], list[float]] | None:
    """Normalised probabilities of states 0..c-1 and of c, c+1, ... (queue k=0..), from log weights;
    None if the queue part does not fade out within MAX_QUEUE_STATES."""
    log_lam = math.log(lam)
    logs = [0.0]
    for n in range(1, c + 1):
        logs.append(logs[-1] + log_lam - math.log(n * mu))
    top = max(logs)
    cut = math.log(TAIL_EPS)
    k = 0
    while True:
        k += 1
        rate = c * mu + k * theta
        logs.append(logs[-1] + log_lam - math.log(rate))
        top = max(top, logs[-1])
        if logs[-1] - top < cut and lam < rate:
            break
        if k >= MAX_QUEUE_STATES:
            budget.spend(STATE_UNITS * (c + k))
            return None
    budget.spend(STATE_UNITS * (c + k))
    weights = [math.exp(v - top) for v in logs]
    total = sum(weights)
    probs = [w / total for w in weights]
    return probs[:c], probs[c:]


def _answered_within(
    p_queue: list[float], c_mu: float, theta: float, lam: float, threshold: float, budget: WorkBudget
) -> float:
    """P(arrive to a full system and get answered within the threshold).

    With ``S(t) = sum_k p_k P(V_k > t)`` (``V_k``: time to reach a counselor with ``k`` ahead, own
    patience aside), the chain's arithmetic rates give ``S(t) = exp(lam/theta*(1 - e^-theta t) - c mu t)
    * sum_k p_k e^(-k theta t)``, and ``answered within T = S(0) - e^-theta T S(T) - theta int_0^T
    e^-theta v S(v) dv``: Gauss–Legendre on doubling panels, O(n) per node.
    """
    if threshold <= 0 or not p_queue:
        return 0.0
    n = len(p_queue)
    rates = [c_mu + k * theta for k in range(n)]
    answered = _answered_ever(p_queue, rates, theta)
    # Every phase is over by ``horizon`` with probability 1 - 1e-14 (sub-gamma tail of a sum of
    # exponentials): beyond it, answered within T is answered at all.
    exits = [r + theta for r in rates]
    mean = math.fsum(1.0 / e for e in exits)
    var = math.fsum(1.0 / (e * e) for e in exits)
    horizon = mean + math.sqrt(64.0 * var) + 32.0 / exits[0]
    if threshold >= horizon:
        return answered
    y = lam / theta

    def survival(v: float) -> float:  # S(v)
        q = math.exp(-theta * v)
        poly = 0.0
        for p in reversed(p_queue):
            poly = poly * q + p
        if poly <= 0.0:
            return 0.0
        return math.exp(min(700.0, -y * math.expm1(-theta * v) - c_mu * v + math.log(poly)))

    edges = [0.0]
    width = min(threshold, 0.25 / (c_mu + theta + lam))
    while edges[-1] + width < threshold:
        edges.append(edges[-1] + width)
        width *= 2.0
    edges.append(threshold)
    budget.spend(n * (len(edges) * len(_GL_NODES) + 2))
    integral = 0.0
    for a, b in zip(edges, edges[1:], strict=False):
        half, mid = (b - a) / 2.0, (a + b) / 2.0
        integral += half * math.fsum(
            w * math.exp(-theta * (mid + half * x)) * survival(mid + half * x)
            for x, w in zip(_GL_NODES, _GL_WEIGHTS, strict=True)
        )
    value = survival(0.0) - math.exp(-theta * threshold) * survival(threshold) - theta * integral
    return min(max(value, 0.0), answered)


def _gauss_legendre(order: int) -> tuple[list[float], list[float]]:
    """Nodes and weights on [-1, 1] (Newton on the Legendre recurrence)."""
    nodes, weights = [], []
    for i in range(1, order + 1):
        x = math.cos(math.pi * (i - 0.25) / (order + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, order + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = order * (x * p1 - p0) / (x * x - 1.0)
            step = p1 / dp
            x -= step
            if abs(step) < 1e-15:
                break
        nodes.append(x)
        weights.append(2.0 / ((1.0 - x * x) * dp * dp))
    return nodes, weights


_GL_NODES, _GL_WEIGHTS = _gauss_legendre(12)


def _answered_ever(p_queue: list[float], rates: list[float], theta: float) -> float:
    """P(arrive to a full system and be answered at all, however long it takes)."""
    total, survive = 0.0, 1.0
    for p, r in zip(p_queue, rates, strict=True):
        survive *= r / (r + theta)
        total += p * survive
    return total
