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
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def pg_throughput(
    base_url: str, processes: int = 4, counselors: int = 400, capacity: int = 5
) -> dict[str, object]:
    from sqlalchemy import text
    from sqlmodel import Session

    from crm.db import create_scratch_database, drop_database, make_engine
    from crm.schema import load_models
    from routing.hammer import check_invariants, seed_world, worker

    db_url = create_scratch_database(base_url, "madoguchi_bench_routing")
    engine = make_engine(db_url)
    try:
        load_models().metadata.create_all(engine)
        results = {}
        for mode in ("batch", "mixed"):
            with Session(engine) as s:
                s.execute(
                    text(
                        'TRUNCATE routinglog, offer, presence, note, ticket, contact, "user", center RESTART IDENTITY CASCADE'
                    )
                )
                s.commit()
                center_id = seed_world(
                    s, counselors=counselors, tickets=counselors * capacity, capacity=capacity
                )
            ctx = mp.get_context("spawn")
            out = ctx.Queue()
            procs = [
                ctx.Process(target=worker, args=(db_url, center_id, seed, 60.0, mode, out))
                for seed in range(processes)
            ]
            for p in procs:
                p.start()
            stats = [out.get(timeout=180) for _ in procs]
            for p in procs:
                p.join()
            span = max(s["ended"] for s in stats) - min(s["started"] for s in stats)
            accepted = sum(s.get("accepted", 0) for s in stats)
            with Session(engine) as s:
                inv = check_invariants(s)
            client = sum(s.get("client_cpu_s", 0.0) for s in stats)
            server = sum(s.get("server_cpu_s", 0.0) for s in stats)
            results[mode] = {
                "client_cpu_ms_per_assignment": 1e3 * client / max(accepted, 1),
                "server_cpu_ms_per_assignment": 1e3 * server / max(accepted, 1),
                # what the same work would reach with the machine's cores to itself
                "cpu_bound_ceiling_per_second": (os.cpu_count() or 1) * accepted / max(client + server, 1e-9),
                "processes": processes,
                "assignments": accepted,
                "seconds": span,
                "assignments_per_second": accepted / span,
                "offers": sum(s.get("offers", 0) for s in stats),
                "lost_accept_races": sum(s.get("lost_races", 0) for s in stats),
                **inv,
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
    multi_sc = Scenario(
        arrivals_per_hour={"general": 60, "金融・保険": 12, "越境取引": 6},
        staffing=[
            AgentGroup(5, frozenset({"general"})),
            AgentGroup(3, frozenset({"general", "金融・保険", "越境取引"})),
        ],
        aht_seconds=300,
        hours=300,
        warmup_hours=2,
    )
    runs = compare(multi_sc, random.Random(3))
    pooled = erlang_c_metrics(78 / 3600, 300, 8, 60)  # every counselor could take every contact
    multi = {
        "scenario": "5 general-only + 3 all-skill counselors; 60/12/6 per hour",
        "pooled_erlang_c_asa": pooled.asa,
        "pooled_erlang_c_sl": pooled.service_level,
        **{
            f"{k}_{m}": v
            for k, r in runs.items()
            for m, v in (
                ("asa", r.overall.asa),
                ("sl", r.overall.service_level),
                ("越境取引_asa", r.per_skill["越境取引"].asa),
            )
        },
    }
    return {"single_skill": single, "multi_skill": multi}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {"decision_latency": [decision_latency(30), decision_latency(1)]}
    for row in out["decision_latency"]:  # type: ignore[union-attr]
        print(
            f"decision latency, {row['counselors']} counselors in {row['centers']} center(s), "  # type: ignore[index]
            f"{row['tickets_waiting']} waiting: p50 {row['p50_ms']:.3f} ms, p99 {row['p99_ms']:.3f} ms "
            f"(reference scan p99 {row['reference_scan_p99_ms']:.3f} ms)"
        )  # type: ignore[index]
    if not args.skip_pg:
        out["postgres"] = pg_throughput(args.pg)
        for mode, r in out["postgres"].items():  # type: ignore[union-attr]
            print(
                f"PostgreSQL {mode}: {r['assignments']} assignments by {r['processes']} processes in {r['seconds']:.2f} s "
                f"= {r['assignments_per_second']:.0f}/s; double assignments {r['double_assignments']}, "
                f"capacity violations {r['capacity_violations']}; CPU per assignment: client "
                f"{r['client_cpu_ms_per_assignment']:.2f} ms + PostgreSQL {r['server_cpu_ms_per_assignment']:.2f} ms "
                f"(ceiling with {os.cpu_count()} idle cores: {r['cpu_bound_ceiling_per_second']:.0f}/s)"
            )
    out["simulation"] = simulation()
    s, m = out["simulation"]["single_skill"], out["simulation"]["multi_skill"]  # type: ignore[index]
    print(
        f"sim vs Erlang C (M/M/10): ASA {s['sim_asa']:.1f} s vs {s['erlang_c_asa']:.1f} s "
        f"({s['asa_rel_error']:+.1%}), SL {s['sim_sl']:.3f} vs {s['erlang_c_sl']:.3f}"
    )
    print(
        f"multi-skill: policy ASA {m['policy_asa']:.1f} s, round-robin {m['round_robin_asa']:.1f} s, "
        f"pooled Erlang C bound {m['pooled_erlang_c_asa']:.1f} s; 越境取引 ASA policy {m['policy_越境取引_asa']:.1f} s "
        f"vs round-robin {m['round_robin_越境取引_asa']:.1f} s"
    )
    path = Path(__file__).parent / "results" / "routing.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
