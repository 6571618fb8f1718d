"""The simulator drives the real policy and agrees with queueing theory."""

from __future__ import annotations

import random

import pytest

from routing.erlang import erlang_a_metrics, erlang_c_metrics
from routing.sim import AgentGroup, Scenario, compare, simulate, single_skill


def test_single_skill_matches_erlang_c() -> None:
    # M/M/10 at 80% occupancy, ~100,000 calls after warm-up (fixed seed: deterministic).
    scenario = single_skill(96, 300, 10, hours=1100, warmup_hours=5)
    sim = simulate(scenario, random.Random(7))
    theory = erlang_c_metrics(96 / 3600, 300, 10, 60)
    assert sim.overall.arrivals > 100_000
    assert sim.overall.service_level == pytest.approx(theory.service_level, abs=0.02)
    assert sim.overall.asa == pytest.approx(theory.asa, rel=0.06)
    assert sim.occupancy == pytest.approx(theory.occupancy, abs=0.01)


def test_single_skill_with_abandonment_matches_erlang_a() -> None:
    scenario = single_skill(96, 300, 8, hours=400, warmup_hours=5, patience_seconds=120)
    sim = simulate(scenario, random.Random(11))
    theory = erlang_a_metrics(96 / 3600, 300, 8, 60, patience=120)
    assert sim.overall.abandonment == pytest.approx(theory.p_abandon, abs=0.01)
    assert sim.overall.service_level == pytest.approx(theory.service_level, abs=0.02)
    assert sim.overall.asa == pytest.approx(theory.asa, rel=0.06)


def test_multi_skill_policy_beats_round_robin_on_the_same_stream() -> None:
    scenario = Scenario(
        arrivals_per_hour={"general": 60, "金融・保険": 12, "越境取引": 6},
        staffing=[
            AgentGroup(5, frozenset({"general"})),
            AgentGroup(3, frozenset({"general", "金融・保険", "越境取引"})),
        ],
        aht_seconds=300,
        hours=300,
        warmup_hours=2,
    )
    result = compare(scenario, random.Random(3))
    policy, rr = result["policy"], result["round_robin"]
    assert policy.overall.arrivals == rr.overall.arrivals
    assert policy.overall.asa < rr.overall.asa
    # the rare skill is not starved: versatile counselors serve it first (per-skill priority)
    assert policy.per_skill["越境取引"].asa < 0.8 * rr.per_skill["越境取引"].asa
    assert policy.per_skill["金融・保険"].asa < 0.8 * rr.per_skill["金融・保険"].asa
    # work-conserving: nobody waits while a counselor qualified for them is idle
    assert policy.idle_while_waiting == rr.idle_while_waiting == 0


def test_pooled_replay_serves_the_same_arrivals_with_every_counselor_holding_every_skill() -> None:
    scenario = Scenario(
        arrivals_per_hour={"general": 60, "越境取引": 18},
        staffing=[AgentGroup(5, frozenset({"general"})), AgentGroup(3, frozenset({"general", "越境取引"}))],
        aht_seconds=300,
        hours=400,
        warmup_hours=2,
    )
    runs = compare(scenario, random.Random(4), pooled=True)
    pooled, policy = runs["pooled"], runs["policy"]
    assert pooled.overall.arrivals == policy.overall.arrivals
    theory = erlang_c_metrics(78 / 3600, 300, 8, 60)
    assert pooled.overall.asa == pytest.approx(theory.asa, rel=0.12)
    assert pooled.overall.asa < 0.95 * policy.overall.asa  # the skill constraint costs waiting time
    # pooled, the rare skill waits no longer than general work (same queue discipline for all)
    assert pooled.per_skill["越境取引"].asa == pytest.approx(pooled.per_skill["general"].asa, rel=0.15)


def test_same_seed_same_result_and_lognormal_runs() -> None:
    sc = single_skill(30, 240, 3, hours=50, warmup_hours=1, service="lognormal", service_cv=0.8)
    a = simulate(sc, random.Random(5)).to_dict()
    b = simulate(sc, random.Random(5)).to_dict()
    assert a == b and a["answered"] > 0


def test_unknown_strategy_is_refused() -> None:
    from routing.sim import _Run, draw_contacts

    sc = single_skill(10, 100, 1, hours=1, warmup_hours=0)
    with pytest.raises(ValueError):
        _Run(sc, draw_contacts(sc, random.Random(1)), "random").run()
