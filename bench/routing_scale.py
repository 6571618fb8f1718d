"""Routing at national size, by simulation: 800 centers, 3,000 counselors, 1M consultations a year.

    .venv/bin/python bench/routing_scale.py [--peak 2.0] [--hours 200] [--aht 1200] [--seed 17]

Routing is partitioned by center (a ticket is only ever offered to counselors of the center that
handles it, and a dispatch holds only its own center's advisory lock), so the nation is simulated
as 800 independent centers, each driving the real policy (routing.sim). Center sizes follow a
skewed distribution (a few prefectural centers with dozens of counselors, hundreds of municipal
windows with one to three), and each center's arrivals are proportional to its counselors. The
year's 1M consultations over 245 working days x 8 h give the average rate; ``--peak`` multiplies
it (the busiest hours of the week). Prints figures, compares each center with Erlang C, estimates
the advisory lock's utilisation from the dispatch hold time measured in bench/routing.py, and
writes bench/results/routing_scale.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.erlang import erlang_c_metrics
from routing.sim import simulate, single_skill

CENTERS = 800
COUNSELORS = 3000
CONSULTATIONS_PER_YEAR = 1_000_000
WORKING_HOURS_PER_YEAR = 245 * 8
THRESHOLD = 60.0


def center_sizes(rng: random.Random, centers: int = CENTERS, counselors: int = COUNSELORS) -> list[int]:
    """Counselors per center: at least one each, the rest spread by a Pareto draw (skewed: a few
    large prefectural centers, many one- to three-person windows), summing to ``counselors``."""
    weights = [rng.paretovariate(1.2) for _ in range(centers)]
    spare = counselors - centers
    total = sum(weights)
    sizes = [1 + int(spare * w / total) for w in weights]
    for i in sorted(range(centers), key=lambda i: -weights[i])[: counselors - sum(sizes)]:
        sizes[i] += 1
    return sizes


def run(peak: float, hours: float, aht: float, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    sizes = center_sizes(rng)
    national_per_hour = CONSULTATIONS_PER_YEAR / WORKING_HOURS_PER_YEAR * peak
    per_counselor = national_per_hour / COUNSELORS
    t0 = time.perf_counter()
    rows = []
    for i, n in enumerate(sizes):
        lam = per_counselor * n
        sc = single_skill(lam, aht, n, hours=hours, warmup_hours=min(2.0, hours / 10))
        sim = simulate(sc, random.Random(seed * 1000 + i))
        theory = erlang_c_metrics(lam / 3600, aht, n, THRESHOLD)
        rows.append(
            {
                "counselors": n,
                "per_hour": lam,
                "arrivals": sim.overall.arrivals,
                "answered": sim.overall.answered,
                "wait_s": sim.overall.total_wait,
                "in_threshold": sim.overall.answered_in_threshold,
                "asa": sim.overall.asa,
                "erlang_c_asa": theory.asa,
                "occupancy": sim.occupancy,
                "decisions": sim.decisions,
            }
        )
    seconds = time.perf_counter() - t0
    answered = sum(r["answered"] for r in rows)
    decisions = sum(r["decisions"] for r in rows)
    by_size: dict[str, list[dict]] = {"1": [], "2-3": [], "4-9": [], "10+": []}
    for r in rows:
        n = r["counselors"]
        key = "1" if n == 1 else "2-3" if n <= 3 else "4-9" if n <= 9 else "10+"
        by_size[key].append(r)
    size_classes = {
        k: {
            "centers": len(v),
            "counselors": sum(r["counselors"] for r in v),
            "asa_s": sum(r["wait_s"] for r in v) / max(sum(r["answered"] for r in v), 1),
            "erlang_c_asa_s": _weighted(v, "erlang_c_asa"),
            "service_level": sum(r["in_threshold"] for r in v) / max(sum(r["answered"] for r in v), 1),
            "occupancy": _weighted(v, "occupancy"),
        }
        for k, v in by_size.items()
        if v
    }
    biggest = max(rows, key=lambda r: r["counselors"])
    return {
        "centers": CENTERS,
        "counselors": COUNSELORS,
        "consultations_per_year": CONSULTATIONS_PER_YEAR,
        "peak_factor": peak,
        "aht_seconds": aht,
        "simulated_hours_per_center": hours,
        "national_contacts_per_hour": national_per_hour,
        "assignments_per_second_needed": national_per_hour / 3600,
        "largest_center": {"counselors": biggest["counselors"], "per_hour": biggest["per_hour"]},
        "median_center_counselors": statistics.median(sizes),
        "contacts_simulated": sum(r["arrivals"] for r in rows),
        "asa_s": sum(r["wait_s"] for r in rows) / max(answered, 1),
        "service_level": sum(r["in_threshold"] for r in rows) / max(answered, 1),
        "by_center_size": size_classes,
        "policy_decisions": decisions,
        "simulation_seconds": seconds,
        "decisions_per_second_simulated": decisions / max(seconds, 1e-9),
    }


def _weighted(rows: list[dict], key: str) -> float:
    total = sum(r["answered"] for r in rows)
    return sum(r[key] * r["answered"] for r in rows if math.isfinite(r[key])) / max(total, 1)


def lock_utilisation(out: dict[str, object], dispatch_ms: float) -> dict[str, float]:
    """The advisory lock is held for one dispatch; the busiest center triggers a dispatch on every
    arrival and every freed seat (2 per contact). Utilisation = rate x hold time = the chance a
    second dispatcher finds the lock taken (it then retries a second later; nothing is lost)."""
    largest = out["largest_center"]["per_hour"]  # type: ignore[index]
    per_second = 2 * largest / 3600
    return {
        "dispatch_hold_ms": dispatch_ms,
        "largest_center_dispatches_per_second": per_second,
        "largest_center_lock_utilisation": per_second * dispatch_ms / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peak", type=float, default=2.0, help="busy-hour multiple of the average rate")
    parser.add_argument("--hours", type=float, default=200.0, help="simulated hours per center")
    parser.add_argument("--aht", type=float, default=1200.0, help="seconds per consultation (talk + record)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--dispatch-ms", type=float, default=25.0, help="lock hold per dispatch (bench/routing.py figure)"
    )
    args = parser.parse_args()
    out = run(args.peak, args.hours, args.aht, args.seed)
    out["advisory_lock"] = lock_utilisation(out, args.dispatch_ms)
    print(
        f"{out['centers']} centers, {out['counselors']} counselors (median {out['median_center_counselors']:.0f} per "
        f"center, largest {out['largest_center']['counselors']}), {out['consultations_per_year']:,} a year, "  # type: ignore[index]
        f"peak x{args.peak}: {out['national_contacts_per_hour']:.0f} contacts/h nationally = "
        f"{out['assignments_per_second_needed']:.2f} assignments/s"
    )
    print(
        f"simulated {out['contacts_simulated']:,} contacts ({args.hours:.0f} h per center, AHT {args.aht:.0f} s): "
        f"ASA {out['asa_s']:.1f} s, answered within {THRESHOLD:.0f} s {out['service_level']:.1%}"
    )
    for k, v in out["by_center_size"].items():  # type: ignore[attr-defined]
        print(
            f"  centers with {k:>4} counselors: {v['centers']:3d} centers, {v['counselors']:4d} counselors, "
            f"ASA {v['asa_s']:6.1f} s (Erlang C {v['erlang_c_asa_s']:6.1f} s), SL {v['service_level']:.1%}, "
            f"occupancy {v['occupancy']:.1%}"
        )
    lock = out["advisory_lock"]
    print(
        f"advisory lock: busiest center {lock['largest_center_dispatches_per_second']:.3f} dispatches/s x "  # type: ignore[index]
        f"{lock['dispatch_hold_ms']:.0f} ms = {lock['largest_center_lock_utilisation']:.2%} busy"  # type: ignore[index]
    )
    print(
        f"policy decisions: {out['policy_decisions']:,} in {out['simulation_seconds']:.1f} s of simulation "
        f"({out['decisions_per_second_simulated']:,.0f}/s)"
    )
    path = Path(__file__).parent / "results" / "routing_scale.json"
    path.write_text(json.dumps({"args": vars(args), **out}, ensure_ascii=False, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
