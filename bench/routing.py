"""Routing figures: decision latency, PostgreSQL claim throughput across processes, simulation.

    .venv/bin/python bench/routing.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Prints the figures and writes bench/results/routing.json. Bounded to a few minutes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.erlang import erlang_c_metrics
from routing.policy import (
    AgentView,
    TicketView,
    choose_counselor,
    priority_order,
    reference_choice,
    skills_relaxed,
)
from routing.pool import AgentPool
from routing.sim import AgentGroup, Scenario, compare, simulate, single_skill
from routing.skill_bound import optimal_asa

NOW = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)
SKILLS = ["金融・保険", "不動産", "越境取引", "情報通信", "高齢者対応", "美容・医療"]


def _percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"p50_ms": s[len(s) // 2] * 1e3, "p99_ms": s[int(len(s) * 0.99)] * 1e3, "max_ms": s[-1] * 1e3}


def decision_latency(centers: int, counselors: int = 3000, tickets: int = 10_000) -> dict[str, object]:
    rng = random.Random(1)
    agents = [
        AgentView(
            id=i,
            center_id=i % centers,
            status="available" if rng.random() < 0.7 else "busy",
            skills=frozenset(rng.sample(SKILLS, rng.randint(1, 3))),
            capacity={"voice": 1, "line": 3, "email": 5},
            load={"line": rng.randint(0, 3), "email": rng.randint(0, 5)},
            idle_since=NOW - timedelta(seconds=rng.randint(0, 3600)),
        )
        for i in range(counselors)
    ]
    waiting = [
        TicketView(
            id=i,
            center_id=rng.randrange(centers),
            channel=rng.choice(["line", "email", "voice"]),
            waiting_since=NOW - timedelta(seconds=rng.randint(0, 1800)),
            required_skills=frozenset(rng.sample(SKILLS, 1)) if rng.random() < 0.6 else frozenset(),
            special_consideration=rng.random() < 0.1,
            serious_accident=rng.random() < 0.01,
        )
        for i in range(tickets)
    ]
    t0 = time.perf_counter()
    pool = AgentPool(agents)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ordered = priority_order(waiting, NOW)
    order_s = time.perf_counter() - t0
    samples = []
    assigned = 0
    for t in ordered:
        start = time.perf_counter()
        d = choose_counselor(t, pool, NOW)
        samples.append(time.perf_counter() - start)
        assigned += hasattr(d, "agent_id")
    reference = []  # the plain scan over every counselor, same process, every 10th ticket
    for t in ordered[::10]:
        start = time.perf_counter()
        assert reference_choice(t, agents, relaxed=skills_relaxed(t, NOW)) == choose_counselor(t, pool, NOW)
        reference.append(time.perf_counter() - start)
    ref = _percentiles(reference)
    return {
        "centers": centers,
        "counselors": counselors,
        "tickets_waiting": tickets,
        **_percentiles(samples),
        "index_build_ms": index_s * 1e3,
        "priority_sort_10k_ms": order_s * 1e3,
        "assignable": assigned,
        "reference_scan_p50_ms": ref["p50_ms"],
        "reference_scan_p99_ms": ref["p99_ms"],
    }


def _pg_round(engine: Any, db_url: str, mode: str, processes: int, counselors: int, capacity: int) -> dict:
    """Seed a fresh world, run ``processes`` workers of ``mode`` until the queue drains, count."""
    from sqlmodel import Session

    from routing.hammer import check_invariants, floor_worker, reset_tables, seed_world, worker

    with Session(engine) as s:
        reset_tables(s)
        center_id = seed_world(s, counselors=counselors, tickets=counselors * capacity, capacity=capacity)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=floor_worker, args=(db_url, center_id, seed, 60.0, out, processes))
        if mode == "floor"
        else ctx.Process(target=worker, args=(db_url, center_id, seed, 60.0, mode, out, processes))
        for seed in range(processes)
    ]
    for p in procs:
        p.start()
    stats = _collect(out, procs)
    _wait_disconnected(engine)
    span = max(s["ended"] for s in stats) - min(s["started"] for s in stats)
    accepted = sum(s.get("accepted", 0) for s in stats)
    with Session(engine) as s:
        inv = check_invariants(s)
    client = sum(s.get("client_cpu_s", 0.0) for s in stats)
    server = sum(s.get("server_cpu_s", 0.0) for s in stats)
    return {
        "client_cpu_ms_per_assignment": 1e3 * client / max(accepted, 1),
        "server_cpu_ms_per_assignment": 1e3 * server / max(accepted, 1),
        "cpu_bound_ceiling_per_second": (os.cpu_count() or 1) * accepted / max(client + server, 1e-9),
        "processes": processes,
        "assignments": accepted,
        "seconds": span,
        "assignments_per_second": accepted / span,
        "offers": sum(s.get("offers", 0) for s in stats),
        "lost_accept_races": sum(s.get("lost_races", 0) for s in stats),
        **{
            k: sum(s.get(k, 0) for s in stats)
            for k in ("dispatch_calls", "dispatch_empty", "dispatch_empty_cpu_us", "list_calls", "list_empty")
            if mode != "floor"
        },
        **{
            f"client_{k}_cpu_ms_per_assignment": sum(s.get(f"{k}_cpu_us", 0) for s in stats)
            / 1e3
            / max(accepted, 1)
            for k in ("dispatch", "list", "accept")
            if mode != "floor"
        },
        **inv,
    }


def _wait_disconnected(engine: Any, timeout: float = 10.0) -> None:
    """Let the round's backends exit, so the next round's start barrier counts only its own."""
    from routing.hammer import HAMMER_APP, PEERS_SQL

    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if not conn.exec_driver_sql(PEERS_SQL, {"app": HAMMER_APP}).scalar():
                return
            conn.rollback()
            time.sleep(0.02)


def _collect(out: Any, procs: list[Any], timeout: float = 180.0) -> list[dict]:
    """Each worker's stats; fails at once (not after the timeout) if a worker died."""
    import queue

    stats: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(stats) < len(procs):
        try:
            stats.append(out.get(timeout=1.0))
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"bench worker failed (exit codes {dead}) or timed out") from None
    for p in procs:
        p.join()
    return stats


def pg_throughput(
    base_url: str, processes: int = 4, counselors: int = 400, capacity: int = 5, rounds: int = 5
) -> dict[str, object]:
    """Assignments per second with ``processes`` OS processes: the raw-SQL floor (psycopg, one
    ``FOR UPDATE SKIP LOCKED`` claim + UPDATE + COMMIT per assignment), ``batch`` (dispatch_center
    + accept_offer) and ``mixed`` (also route_ticket), interleaved ``rounds`` times in this run so
    machine noise hits all three alike; each mode's median round and its ratio to the floor."""
    from sqlalchemy import text

    from crm.db import create_scratch_database, drop_database, make_engine
    from crm.schema import load_models

    db_url = create_scratch_database(base_url, "madoguchi_bench_routing")
    engine = make_engine(db_url)
    try:
        load_models().metadata.create_all(engine)
        with engine.connect() as conn:
            sync = conn.execute(text("SHOW synchronous_commit")).scalar()
        runs: dict[str, list[dict]] = {"floor": [], "batch": [], "mixed": []}
        for _ in range(rounds):
            for mode in runs:
                runs[mode].append(_pg_round(engine, db_url, mode, processes, counselors, capacity))
        results: dict[str, object] = {"synchronous_commit": sync, "rounds": rounds}
        floor_rate = statistics.median(r["assignments_per_second"] for r in runs["floor"])
        floor_rates = [r["assignments_per_second"] for r in runs["floor"]]
        for mode, rows in runs.items():
            rates = [r["assignments_per_second"] for r in rows]
            median = sorted(rows, key=lambda r: r["assignments_per_second"])[len(rows) // 2]
            paired = [x / f for x, f in zip(rates, floor_rates, strict=True)]  # same round: seconds apart
            results[mode] = {
                **median,
                "assignments_per_second": statistics.median(rates),
                "rounds_per_second": rates,
                "ratio_to_floor": statistics.median(rates) / floor_rate,
                "paired_ratios_to_floor": paired,
                "median_paired_ratio_to_floor": statistics.median(paired),
                "double_assignments_all_rounds": sum(r["double_assignments"] for r in rows),
                "capacity_violations_all_rounds": sum(r["capacity_violations"] for r in rows),
            }
        return results
    finally:
        engine.dispose()
        drop_database(db_url)


def simulation() -> dict[str, object]:
    sc = single_skill(96, 300, 10, hours=1100, warmup_hours=5)
    t0 = time.perf_counter()
    sim = simulate(sc, random.Random(7))
    theory = erlang_c_metrics(96 / 3600, 300, 10, 60)
    single = {
        "scenario": "M/M/10, 96/h, AHT 300 s",
        "sim_asa": sim.overall.asa,
        "erlang_c_asa": theory.asa,
        "sim_sl": sim.overall.service_level,
        "erlang_c_sl": theory.service_level,
        "asa_rel_error": sim.overall.asa / theory.asa - 1,
        "arrivals": sim.overall.arrivals,
        "seconds": time.perf_counter() - t0,
    }
    multi = {"scenario": "5 general-only + 3 all-skill counselors; 60/12/6 per hour, AHT 300 s"}
    pooled = erlang_c_metrics(78 / 3600, 300, 8, 60)  # every counselor could take every contact
    multi["pooled_erlang_c_asa"] = pooled.asa
    multi["pooled_erlang_c_sl"] = pooled.service_level
    t0 = time.perf_counter()  # the best ANY policy can do with 3 of 8 counselors holding the rare skills
    best = optimal_asa(5, 3, 60, 18, 300, max_queue=60)
    multi["optimal_policy_asa"] = best.lower_asa
    multi["optimal_policy_asa_upper"] = best.upper_asa
    multi["optimal_above_pooled_bound"] = best.lower_asa / pooled.asa - 1
    multi["optimal_seconds"] = time.perf_counter() - t0
    # seed 3: the stream RARE_SKILL_BONUS was chosen on (dev); seeds 11 and 29: held out, never tuned
    # on (29 was chosen before any run on it)
    for split, seed in MULTI_SKILL_SEEDS:
        multi[split] = _multi_skill(seed, pooled.asa, best.lower_asa)
    return {"single_skill": single, "multi_skill": multi}


MULTI_SKILL_SEEDS = (("dev_seed3", 3), ("heldout_seed11", 11), ("heldout_seed29", 29))


def _multi_skill(seed: int, pooled_asa: float, optimal_asa: float, hours: float = 3000) -> dict[str, object]:
    sc = Scenario(
        arrivals_per_hour={"general": 60, "金融・保険": 12, "越境取引": 6},
        staffing=[
            AgentGroup(5, frozenset({"general"})),
            AgentGroup(3, frozenset({"general", "金融・保険", "越境取引"})),
        ],
        aht_seconds=300,
        hours=hours,
        warmup_hours=2,
    )
    runs = compare(sc, random.Random(seed), pooled=True)
    p, rr, pool = runs["policy"], runs["round_robin"], runs["pooled"]
    return {
        "hours": hours,
        "arrivals": p.overall.arrivals,
        "policy_asa": p.overall.asa,
        "round_robin_asa": rr.overall.asa,
        "pooled_same_arrivals_asa": pool.overall.asa,
        "above_pooled_same_arrivals": p.overall.asa / pool.overall.asa - 1,
        "above_optimal_policy": p.overall.asa / optimal_asa - 1,
        "round_robin_above_optimal_policy": rr.overall.asa / optimal_asa - 1,
        "idle_while_waiting": p.idle_while_waiting + rr.idle_while_waiting,
        "policy_sl": p.overall.service_level,
        "round_robin_sl": rr.overall.service_level,
        "better_than_round_robin": 1 - p.overall.asa / rr.overall.asa,
        "above_pooled_bound": p.overall.asa / pooled_asa - 1,
        **{f"policy_{k}_asa": v.asa for k, v in p.per_skill.items()},
        **{f"round_robin_{k}_asa": v.asa for k, v in rr.per_skill.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--parts", default="latency,pg,sim", help="comma-separated: latency, pg, sim")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved floor/batch/mixed rounds")
    args = parser.parse_args()
    parts = set(args.parts.split(",")) - ({"pg"} if args.skip_pg else set())
    out: dict[str, object] = {}
    if "latency" in parts:
        out["decision_latency"] = [decision_latency(30), decision_latency(1)]
    for row in out.get("decision_latency", []):  # type: ignore[attr-defined]
        print(
            f"decision latency, {row['counselors']} counselors in {row['centers']} center(s), "  # type: ignore[index]
            f"{row['tickets_waiting']} waiting: p50 {row['p50_ms']:.3f} ms, p99 {row['p99_ms']:.3f} ms "
            f"(reference scan p99 {row['reference_scan_p99_ms']:.3f} ms)"
        )  # type: ignore[index]
    if "pg" in parts:
        out["postgres"] = pg = pg_throughput(args.pg, rounds=args.rounds)
        print(
            f"PostgreSQL (synchronous_commit={pg['synchronous_commit']}), median of {pg['rounds']} interleaved rounds:"
        )
        for mode in ("floor", "batch", "mixed"):
            r = pg[mode]  # type: ignore[index]
            print(
                f"  {mode}: {r['assignments']} assignments by {r['processes']} processes "
                f"= {r['assignments_per_second']:.0f}/s (rounds {', '.join(f'{x:.0f}' for x in r['rounds_per_second'])}), "
                f"ratio to floor {r['ratio_to_floor']:.2f} (median of per-round ratios "
                f"{r['median_paired_ratio_to_floor']:.2f}); "
                + (
                    "no offers or capacity rule (the floor); "
                    if mode == "floor"
                    else f"double assignments {r['double_assignments_all_rounds']}, "
                    f"capacity violations {r['capacity_violations_all_rounds']}; "
                )
                + "CPU per assignment: client "
                f"{r['client_cpu_ms_per_assignment']:.2f} ms + PostgreSQL {r['server_cpu_ms_per_assignment']:.2f} ms"
            )
    if "sim" in parts:
        _simulation_report(out)
    name = "routing" if parts == {"latency", "pg", "sim"} else "routing_" + "_".join(sorted(parts))
    path = Path(__file__).parent / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    print(f"wrote {path}")


def _simulation_report(out: dict[str, object]) -> None:
    out["simulation"] = simulation()
    s, m = out["simulation"]["single_skill"], out["simulation"]["multi_skill"]  # type: ignore[index]
    print(
        f"sim vs Erlang C (M/M/10): ASA {s['sim_asa']:.1f} s vs {s['erlang_c_asa']:.1f} s "
        f"({s['asa_rel_error']:+.1%}), SL {s['sim_sl']:.3f} vs {s['erlang_c_sl']:.3f}"
    )
    print(
        f"multi-skill: best ASA any policy can reach (exact MDP, routing.skill_bound) {m['optimal_policy_asa']:.1f} s, "
        f"{m['optimal_above_pooled_bound']:+.1%} above the pooled Erlang C bound {m['pooled_erlang_c_asa']:.1f} s"
    )
    for split, _ in MULTI_SKILL_SEEDS:
        r = m[split]
        print(
            f"multi-skill ({split}, {r['hours']:.0f} h, {r['arrivals']:,} contacts): policy ASA {r['policy_asa']:.1f} s vs "
            f"round-robin {r['round_robin_asa']:.1f} s ({r['better_than_round_robin']:+.1%} better), pooled Erlang C "
            f"bound {m['pooled_erlang_c_asa']:.1f} s ({r['above_pooled_bound']:+.1%} above it), pooled on the same "
            f"arrivals {r['pooled_same_arrivals_asa']:.1f} s ({r['above_pooled_same_arrivals']:+.1%}), optimum "
            f"({r['above_optimal_policy']:+.1%}); per skill policy/rr: "
            f"general {r['policy_general_asa']:.1f}/{r['round_robin_general_asa']:.1f} s, 金融・保険 "
            f"{r['policy_金融・保険_asa']:.1f}/{r['round_robin_金融・保険_asa']:.1f} s, 越境取引 "
            f"{r['policy_越境取引_asa']:.1f}/{r['round_robin_越境取引_asa']:.1f} s"
        )


if __name__ == "__main__":
    main()
