"""False-alarm rate and power of the spike detector on generated weekly series.

    .venv/bin/python bench/trends_spikes.py [--series 2000] [--seed 1]

No-spike series: 16 weeks of Poisson(λ) counts, and overdispersed ones (negative binomial with the
same mean and variance λ + λ²/r, r = 5: real consultation counts vary more than Poisson). Weeks 8–15
are tested against the 8 before them; a false alarm is a (series, week) flagged. Power: the same
series with the last week raised to 2, 3 or 5 × λ (rounded), counted as found when that week is
flagged. The baseline is the naive rule measured in the same run: "this week ≥ 2 × the mean of the
8 weeks before, and ≥ 5" (no test). Writes bench/results/trends_spikes.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.trends.spikes import ALPHA, MIN_COUNT, check_week  # noqa: E402

OUT = ROOT / "bench" / "results" / "trends_spikes.json"
RATES = (0.5, 1, 2, 5, 10, 20, 50)
WEEKS, FIRST_TESTED = 16, 8
DISPERSION_R = 5.0


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson sample: Knuth for small λ, a normal approximation above 60 (not used here)."""
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def negbin(rng: random.Random, lam: float, r: float) -> int:
    """Negative binomial as a gamma-Poisson mixture with mean λ and variance λ + λ²/r."""
    return poisson(rng, rng.gammavariate(r, lam / r))


def naive(counts: list[int], t: int) -> bool:
    history = counts[t - 8 : t]
    return counts[t] >= MIN_COUNT and counts[t] >= 2 * (sum(history) / len(history))


def run(kind: str, lam: float, n: int, rng: random.Random) -> dict[str, Any]:
    draw = (lambda: poisson(rng, lam)) if kind == "poisson" else (lambda: negbin(rng, lam, DISPERSION_R))
    tests = alarms = naive_alarms = 0
    found = {2: 0, 3: 0, 5: 0}
    naive_found = {2: 0, 3: 0, 5: 0}
    for _ in range(n):
        counts = [draw() for _ in range(WEEKS)]
        for t in range(FIRST_TESTED, WEEKS):
            tests += 1
            alarms += check_week(counts, t)[0]
            naive_alarms += naive(counts, t)
        for factor in found:
            spiked = counts[:-1] + [max(1, round(lam * factor)) if counts[-1] < lam * factor else counts[-1]]
            found[factor] += check_week(spiked, WEEKS - 1)[0]
            naive_found[factor] += naive(spiked, WEEKS - 1)
    return {
        "kind": kind,
        "lambda": lam,
        "tests": tests,
        "false_alarm_rate": alarms / tests,
        "naive_false_alarm_rate": naive_alarms / tests,
        "power": {f"x{f}": found[f] / n for f in found},
        "naive_power": {f"x{f}": naive_found[f] / n for f in naive_found},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=2000, help="series per rate and kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    rows = [run(kind, lam, args.series, rng) for kind in ("poisson", "negbin") for lam in RATES]
    print(f"alpha {ALPHA}; {args.series} series x {WEEKS - FIRST_TESTED} tested weeks per row")
    print(f"{'kind':8} {'λ':>5} {'FAR':>9} {'naive FAR':>10} {'power x2/x3/x5':>18} {'naive x2/x3/x5':>18}")
    for r in rows:
        p, q = r["power"], r["naive_power"]
        print(
            f"{r['kind']:8} {r['lambda']:>5} {r['false_alarm_rate']:>9.5f} {r['naive_false_alarm_rate']:>10.5f} "
            f"{p['x2']:.2f}/{p['x3']:.2f}/{p['x5']:.2f}{'':>6} {q['x2']:.2f}/{q['x3']:.2f}/{q['x5']:.2f}"
        )
    summary: dict[str, Any] = {}
    for kind in ("poisson", "negbin"):
        mine = [r for r in rows if r["kind"] == kind]
        far = sum(r["false_alarm_rate"] * r["tests"] for r in mine) / sum(r["tests"] for r in mine)
        nfar = sum(r["naive_false_alarm_rate"] * r["tests"] for r in mine) / sum(r["tests"] for r in mine)
        summary[kind] = {
            "false_alarm_rate": far,
            "naive_false_alarm_rate": nfar,
            "ratio_to_naive": (far / nfar) if nfar else None,
        }
        print(f"{kind}: pooled FAR {far:.5f} vs naive {nfar:.5f} (ratio {summary[kind]['ratio_to_naive']})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "alpha": ALPHA,
        "series": args.series,
        "seed": args.seed,
        "rows": rows,
        "summary": summary,
        "seconds": round(time.perf_counter() - started, 1),
    }
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
