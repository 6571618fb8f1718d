"""The best ASA any routing policy can reach in a two-group center: an exact lower bound.

The pooled Erlang C figure assumes every counselor can take every contact. With ``general_only``
counselors who take only general work and ``versatile`` counselors who take everything, the rare
work (``rare_per_hour``, every rare skill together) can go to the versatile ones only, and no
policy reaches the pooled figure. This module computes the optimum exactly for Poisson arrivals
and exponential handling times (the simulator's multi-skill scenario): a Markov decision process
on (general-only busy, versatile busy, general waiting, rare waiting), where after every arrival
or completion the policy may start any feasible set of contacts (or hold them), solved by
relative value iteration on the uniformized chain. Merging the rare skills into one class only
relaxes the problem, and so does truncating each queue at ``max_queue`` (arrivals beyond it are
dropped), so ``lower_asa`` is a lower bound on the ASA of *every* non-anticipating policy (one that
does not know handling times in advance): by Little's law ASA = E[waiting] / arrival rate.

The value-iteration bounds ``min(Th - h) <= gain <= max(Th - h)`` bracket the optimum of the
truncated problem; iteration stops when the bracket is narrower than ``rel_tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SkillBound:
    lower_asa: float  # seconds: no policy does better (truncation and merging only lower it)
    upper_asa: float  # seconds: the truncated optimum is at most this (bracket of the iteration)
    iterations: int
    max_queue: int


def optimal_asa(
    general_only: int,
    versatile: int,
    general_per_hour: float,
    rare_per_hour: float,
    aht_seconds: float,
    *,
    max_queue: int = 40,
    rel_tol: float = 1e-4,
    max_iterations: int = 50_000,
) -> SkillBound:
    """Exact optimal ASA (seconds) over all routing policies; see the module docstring."""
    if general_only < 0 or versatile < 1 or max_queue < 2 or aht_seconds <= 0:
        raise ValueError("need general_only >= 0, versatile >= 1, max_queue >= 2, aht_seconds > 0")
    if general_per_hour < 0 or rare_per_hour < 0 or general_per_hour + rare_per_hour <= 0:
        raise ValueError("arrival rates must be >= 0 and not both 0")
    g, f, n = general_only, versatile, max_queue
    lam_g, lam_r, mu = general_per_hour / 3600, rare_per_hour / 3600, 1 / aht_seconds
    rate = lam_g + lam_r + (g + f) * mu  # uniformization constant
    shape = (g + 1, f + 1, n + 1, n + 1)
    bg, bf, qg, qr = np.indices(shape)
    gather, size = _action_table(shape), int(np.prod(shape))
    cost = (qg + qr).astype(float) / rate
    up = np.minimum(np.arange(n + 1) + 1, n)  # one more waiting (dropped at the truncation)
    dn_g, dn_f = np.maximum(np.arange(g + 1) - 1, 0), np.maximum(np.arange(f + 1) - 1, 0)
    idle = ((g - bg) + (f - bf)) * mu
    h = np.zeros(shape)
    ext = np.empty(size + 1)
    ext[size] = np.inf  # infeasible actions gather this sentinel
    lo = hi = 0.0
    for it in range(1, max_iterations + 1):
        ext[:size] = h.ravel()
        pre = ext[gather].min(axis=0).reshape(shape)  # the best decision after each event
        new = (
            cost
            + (
                lam_g * pre[:, :, up, :]
                + lam_r * pre[:, :, :, up]
                + bg * mu * pre[dn_g]
                + bf * mu * pre[:, dn_f]
                + idle * pre
            )
            / rate
        )
        step = new - h
        lo, hi = float(step.min()), float(step.max())
        h = new - new.flat[0]
        if it > 10 and hi - lo <= rel_tol * max(lo, 1e-12):
            break
    per_second = rate / (lam_g + lam_r)  # E[waiting] per step -> per unit time, divided by λ
    return SkillBound(lo * per_second, hi * per_second, it, n)


def _action_table(shape: tuple[int, int, int, int]) -> np.ndarray:
    """For each action (a1 general to general-only, a2 general to versatile, a3 rare to versatile)
    and each state, the flat index of the state after it, or ``size`` where it is infeasible."""
    g, f = shape[0] - 1, shape[1] - 1
    bg, bf, qg, qr = (x.ravel() for x in np.indices(shape))
    size = bg.size
    rows = []
    for a1 in range(g + 1):
        for a2 in range(f + 1):
            for a3 in range(f + 1 - a2):
                ok = (bg + a1 <= g) & (bf + a2 + a3 <= f) & (qg >= a1 + a2) & (qr >= a3)
                target = np.ravel_multi_index(
                    (
                        np.minimum(bg + a1, g),
                        np.minimum(bf + a2 + a3, f),
                        np.maximum(qg - a1 - a2, 0),
                        np.maximum(qr - a3, 0),
                    ),
                    shape,
                )
                rows.append(np.where(ok, target, size))
    return np.stack(rows)
