"""How the two multi-skill goals of issue 17 move with the mix of staff (`bench/routing.py` runs 5 + 3 only).

The scenario of the issue: 60 general, 12 金融・保険 and 6 越境取引 contacts an hour, AHT 300 s, 8
counselors, some general-only and the rest holding every skill. For each split this prints the policy's and
round robin's ASA on the same simulated arrivals (held-out seeds), the exact best any policy can do
(`routing.skill_bound.optimal_asa`) and the pooled Erlang C bound, then the two goals: "≥ 15 % better than
round robin" and "within 10 % of the pooled bound". Writes bench/results/routing_staffing.json.

    .venv/bin/python bench/routing_staffing.py [--hours 2000] [--seeds 11,29]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parent.parent)
)  # before bench/, whose routing.py shadows the package

from routing.erlang import erlang_c_metrics
from routing.sim import AgentGroup, Scenario, compare
from routing.skill_bound import optimal_asa

ARRIVALS = {"general": 60, "金融・保険": 12, "越境取引": 6}
ALL_SKILLS = frozenset(ARRIVALS)
SPLITS = ((5, 3), (4, 4), (3, 5))
RESULTS = Path(__file__).parent / "results" / "routing_staffing.json"


def staffing_row(general_only: int, all_skill: int, hours: float, seeds: list[int]) -> dict[str, object]:
    """Policy, round robin, the exact optimum and the pooled bound for one split of the 8 counselors."""
    pooled = erlang_c_metrics(sum(ARRIVALS.values()) / 3600, 300, general_only + all_skill, 60).asa
    best = optimal_asa(general_only, all_skill, ARRIVALS["general"], 18, 300, max_queue=60).lower_asa
    policy, rr = [], []
    for seed in seeds:
        sc = Scenario(
            arrivals_per_hour=dict(ARRIVALS),
            staffing=[AgentGroup(general_only, frozenset({"general"})), AgentGroup(all_skill, ALL_SKILLS)],
            aht_seconds=300,
            hours=hours,
            warmup_hours=2,
        )
        runs = compare(sc, random.Random(seed))
        policy.append(runs["policy"].overall.asa)
        rr.append(runs["round_robin"].overall.asa)
    p, r = statistics.mean(policy), statistics.mean(rr)
    return {
        "general_only": general_only,
        "all_skill": all_skill,
        "policy_asa": p,
        "round_robin_asa": r,
        "optimal_asa": best,
        "pooled_erlang_c_asa": pooled,
        "policy_better_than_round_robin": 1 - p / r,
        "policy_above_pooled": p / pooled - 1,
        "best_possible_above_pooled": best / pooled - 1,
        "best_possible_better_than_round_robin": 1 - best / r,
        "both_goals_reachable": (1 - best / r) >= 0.15 and best / pooled - 1 <= 0.10,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2000)
    ap.add_argument("--seeds", default="11,29", help="held-out arrival streams (never tuned on)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    rows = [staffing_row(g, a, args.hours, seeds) for g, a in SPLITS]
    print(
        "general+all | policy | round robin | best possible | pooled | policy vs RR | best vs RR | best above pooled"
    )
    for row in rows:
        print(
            f"{row['general_only']}+{row['all_skill']} | {row['policy_asa']:.1f} s | {row['round_robin_asa']:.1f} s"
            f" | {row['optimal_asa']:.1f} s | {row['pooled_erlang_c_asa']:.1f} s"
            f" | {row['policy_better_than_round_robin']:.1%} | {row['best_possible_better_than_round_robin']:.1%}"
            f" | {row['best_possible_above_pooled']:+.1%}"
        )
    RESULTS.write_text(
        json.dumps(
            {"hours": args.hours, "seeds": seeds, "rows": rows, "seconds": time.perf_counter() - t0}, indent=2
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
