"""A generated 10,000-call day replayed through the voice queue log vs the simulator's own accounting.

    .venv/bin/python bench/voice_day.py [--calls 10000] [--database-url postgresql+psycopg://...]

routing.sim (the real routing policy, Poisson arrivals, exponential handling and patience) runs the
day; every arrival, answer, abandon and hang-up is also written to the queue log through
routing.queue_log (waits and talk times computed by the log from its own rows, not copied from the
simulator). The wait a caller would be announced on arrival (place x recent mean handle time /
counselors, as the wait URL says it) is compared with the wait they then had, next to Erlang A's ASA (same patience)
and the simulator's. The ACD figures computed from the log (routing.acd_stats) are then compared with the
simulator's counters: the discrepancy must be 0. Timing: the same day simulated without the log is
the baseline of the same run; the ratio (with log / without) is reported.

Prints the figures and writes bench/results/voice_day.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine
from sqlmodel import Session

from routing import queue_log
from routing.acd_stats import compute, estimated_wait_seconds
from routing.erlang import erlang_a_metrics
from routing.models import QueueEvent
from routing.sim import BASE, Contact, _Run, draw_contacts, single_skill

QUEUE = "bench-188"
THRESHOLD = 20.0
SHORT_ABANDON = 10.0


class LoggedRun(_Run):
    """The simulator, also writing each queue event to the log (same decisions, same stream)."""

    session: Session
    serving: dict[int, int]
    handled: list[float]  # handling times of calls answered so far (the "recent handle times")
    estimates: dict[int, float]  # announced wait of callers who had to queue
    actual: dict[int, float]  # their real wait, when answered

    def _at(self, t: float) -> Any:
        return BASE + timedelta(seconds=t)

    def _on_arrive(self, t: float, cid: int) -> None:
        queue_log.append(
            self.session, call_id=f"c{cid}", queue=QUEUE, event=queue_log.ENTERQUEUE, at=self._at(t)
        )
        # the caller's announced wait, as the wait URL computes it: place x recent mean handle / counselors
        ahead = sum(1 for q in self.waiting.values() for w in q if self.state.get(w) == "waiting")
        if ahead and self.handled:
            recent = self.handled[-200:]
            self.estimates[cid] = estimated_wait_seconds(ahead + 1, recent, len(self.skills_of)) or 0.0
        super()._on_arrive(t, cid)

    def _start(self, agent_id: int, c: Contact, t: float) -> None:
        self.serving[agent_id] = c.id
        self.handled.append(c.service)
        if c.id in self.estimates:
            self.actual[c.id] = t - c.at
        queue_log.leave(
            self.session, call_id=f"c{c.id}", event=queue_log.CONNECT, at=self._at(t), agent=str(agent_id)
        )
        super()._start(agent_id, c, t)

    def _on_done(self, t: float, agent_id: int) -> None:
        cid = self.serving.pop(agent_id, None)
        if cid is not None:
            queue_log.hang_up(
                self.session, call_id=f"c{cid}", at=self._at(t), by_agent=True, agent=str(agent_id)
            )
        super()._on_done(t, agent_id)

    def _on_abandon(self, t: float, cid: int) -> None:
        if self.state.get(cid) == "waiting":
            queue_log.hang_up(self.session, call_id=f"c{cid}", at=self._at(t))
        super()._on_abandon(t, cid)


def run(calls: int, database_url: str, seed: int) -> dict[str, Any]:
    hours = 10.0
    agents = int(calls / hours * 300 / 3600) + 2
    scenario = single_skill(
        calls / hours, 300.0, agents, patience_seconds=120.0,
        threshold_seconds=THRESHOLD, hours=hours, warmup_hours=0.0,
    )  # fmt: skip
    contacts = draw_contacts(scenario, random.Random(seed))

    t0 = time.perf_counter()
    baseline = _Run(scenario, contacts, "policy").run()
    baseline_s = time.perf_counter() - t0

    engine = create_engine(database_url)
    QueueEvent.__table__.drop(engine, checkfirst=True)  # type: ignore[attr-defined]
    QueueEvent.__table__.create(engine)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    with Session(engine) as session:
        logged_run = LoggedRun(scenario, contacts, "policy")
        logged_run.session, logged_run.serving = session, {}
        logged_run.handled, logged_run.estimates, logged_run.actual = [], {}, {}
        report = logged_run.run()
        session.commit()
    logged_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    with Session(engine) as session:
        rows = queue_log.events_between(session, start=BASE, end=BASE + timedelta(days=2), queue=QUEUE)
        figures = compute(rows, threshold=THRESHOLD, short_abandon=SHORT_ABANDON)
    compute_s = time.perf_counter() - t0
    engine.dispose()

    sim = report.overall
    pairs = {
        "offered": (figures.offered, sim.arrivals),
        "answered": (figures.answered, sim.answered),
        "abandoned": (figures.abandoned, sim.abandoned),
        "answered_within_T": (figures.answered_within, sim.answered_in_threshold),
    }
    discrepancy = sum(abs(a - b) for a, b in pairs.values())
    asa_log = figures.wait.mean or 0.0
    sl_log = figures.service_level["answered_and_abandoned"]
    assert baseline.overall.answered == sim.answered, "logging changed the simulation"
    pairs_est = [(logged_run.estimates[c], w) for c, w in logged_run.actual.items()]
    rate = scenario.arrivals_per_hour["general"] / 3600
    erlang = erlang_a_metrics(rate, 300.0, agents, THRESHOLD, 120.0)
    n = len(pairs_est) or 1
    estimate = {
        "callers_announced": len(pairs_est),
        "mean_announced_seconds": sum(e for e, _ in pairs_est) / n,
        "mean_actual_seconds": sum(w for _, w in pairs_est) / n,
        "mean_abs_error_seconds": sum(abs(e - w) for e, w in pairs_est) / n,
        "erlang_a_asa_seconds": erlang.asa,
        "sim_asa_seconds": sim.asa,
    }
    return {
        "calls": len(contacts),
        "database": engine.dialect.name,
        "log_rows": len(rows),
        "log_vs_sim": {k: {"log": a, "sim": b} for k, (a, b) in pairs.items()},
        "count_discrepancy": discrepancy,
        "asa_seconds": {"log": asa_log, "sim": sim.asa, "abs_diff": abs(asa_log - sim.asa)},
        "service_level": {"log": sl_log, "sim": sim.service_level},
        "all_service_levels_from_log": figures.service_level,
        "short_abandons_from_log": figures.short_abandoned,
        "wait_p50_p90": [figures.wait.p50, figures.wait.p90],
        "handle_mean_p50_p90": [figures.handle.mean, figures.handle.p50, figures.handle.p90],
        "announced_wait_vs_actual": estimate,
        "seconds": {"sim_baseline": baseline_s, "sim_with_log": logged_s, "figures_from_log": compute_s},
        "ratio_with_log_vs_baseline": logged_s / baseline_s if baseline_s else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=188)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    scratch = None
    if args.database_url.startswith("postgresql"):
        from crm.db import create_scratch_database

        scratch = url = create_scratch_database(args.database_url, "bench_voice")  # never the shared db
    else:
        url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='voice-day-')}/log.db"
    try:
        result = run(args.calls, url, args.seed)
    finally:
        if scratch:
            from crm.db import drop_database

            drop_database(scratch)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    suffix = "" if result["database"] == "sqlite" else f"_{result['database']}"
    out = Path(__file__).resolve().parent / "results" / f"voice_day{suffix}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"count discrepancy log vs simulator: {result['count_discrepancy']}  → {out}")
    if result["count_discrepancy"] != 0:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
