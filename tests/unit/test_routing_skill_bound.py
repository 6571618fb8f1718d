"""The exact optimum under a skill constraint (routing.skill_bound) against Erlang C and the simulator."""

from __future__ import annotations

import random

import pytest

from routing.erlang import erlang_c_metrics
from routing.sim import AgentGroup, Scenario, compare
from routing.skill_bound import optimal_asa

GENERAL, RARE = 18.0, 5.0  # per hour; 3 counselors at AHT 300 s: 64 % occupied


def test_without_a_skill_constraint_the_optimum_is_the_pooled_erlang_c_figure() -> None:
    bound = optimal_asa(0, 3, GENERAL, RARE, 300, max_queue=60)
    pooled = erlang_c_metrics((GENERAL + RARE) / 3600, 300, 3, 60).asa
    assert bound.lower_asa <= bound.upper_asa
    assert bound.lower_asa == pytest.approx(pooled, rel=0.005)


def test_the_skill_constraint_costs_what_the_simulated_policy_pays() -> None:
    # 2 general-only + 1 versatile counselor: the rare work can go to one counselor only.
    bound = optimal_asa(2, 1, GENERAL, RARE, 300, max_queue=60)
    pooled = erlang_c_metrics((GENERAL + RARE) / 3600, 300, 3, 60).asa
    assert bound.lower_asa > 1.3 * pooled  # no policy gets near the pooled figure here
    scenario = Scenario(
        arrivals_per_hour={"general": GENERAL, "越境取引": RARE},
        staffing=[AgentGroup(2, frozenset({"general"})), AgentGroup(1, frozenset({"general", "越境取引"}))],
        aht_seconds=300,
        hours=3000,  # ~69,000 contacts: the rare queue at one counselor is slow to average out
        warmup_hours=2,
    )
    runs = compare(scenario, random.Random(5), pooled=True)
    # the real policy comes within sampling noise of the optimum; round robin does not beat it
    assert runs["policy"].overall.asa == pytest.approx(bound.lower_asa, rel=0.06)
    assert runs["round_robin"].overall.asa > 0.97 * bound.lower_asa
    assert runs["pooled"].overall.asa == pytest.approx(pooled, rel=0.08)


@pytest.mark.parametrize(
    "args",
    [(-1, 1, 1.0, 1.0, 300.0), (1, 0, 1.0, 1.0, 300.0), (1, 1, 0.0, 0.0, 300.0), (1, 1, 1.0, 1.0, 0.0)],
)
def test_nonsense_staffing_is_refused(args: tuple[int, int, float, float, float]) -> None:
    with pytest.raises(ValueError):
        optimal_asa(*args)
