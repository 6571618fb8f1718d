"""Erlang C / Erlang A against textbook values and against each other."""

from __future__ import annotations

import math

import pytest

from routing.erlang import (
    agents_for_service_level,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
)


@pytest.mark.parametrize(
    ("agents", "load", "expected"),
    [(1, 0.5, 0.5), (2, 1.0, 1 / 3), (10, 8.0, 0.40918)],  # M/M/1: rho; M/M/2 a=1: 1/3
)
def test_erlang_c_known_values(agents: int, load: float, expected: float) -> None:
    assert erlang_c(agents, load) == pytest.approx(expected, abs=1e-4)


def test_erlang_b_small() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)


def test_mm1_asa_is_textbook() -> None:
    m = erlang_c_metrics(arrival_rate=1 / 600, aht=300, agents=1, threshold=0)
    assert m.asa == pytest.approx(300.0)  # rho/(mu - lam) = 0.5/(1/300 - 1/600)
    assert m.service_level == pytest.approx(0.5)


def test_overload_is_reported_not_crashed() -> None:
    m = erlang_c_metrics(arrival_rate=1.0, aht=300, agents=10, threshold=60)
    assert m.p_wait == 1.0 and math.isinf(m.asa) and m.service_level == 0.0


def test_staffing_for_80_in_60() -> None:
    m = agents_for_service_level(1000 / 3600, 300, 0.8, 60)
    assert m.agents == 88 and m.service_level >= 0.8
    assert erlang_c_metrics(1000 / 3600, 300, 87, 60).service_level < 0.8


def test_erlang_a_tends_to_erlang_c_with_endless_patience() -> None:
    c = erlang_c_metrics(1000 / 3600, 300, 88, 60)
    a = erlang_a_metrics(1000 / 3600, 300, 88, 60, patience=1e7)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-3)
    assert a.asa == pytest.approx(c.asa, rel=1e-2)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-3)


def test_abandonment_needs_fewer_counselors_and_is_stable_when_overloaded() -> None:
    a = agents_for_service_level(1000 / 3600, 300, 0.8, 60, patience=120)
    assert a.agents < 88 and a.p_abandon > 0
    over = erlang_a_metrics(1.0, 300, 10, 60, patience=120)
    assert 0.9 < over.p_abandon < 1.0 and over.service_level < 0.01


@pytest.mark.parametrize("bad", [{"aht": 0}, {"arrival_rate": -1}, {"threshold": -5}, {"aht": math.nan}])
def test_rejects_garbage(bad: dict[str, float]) -> None:
    args = {"arrival_rate": 0.1, "aht": 300.0, "threshold": 60.0} | bad
    with pytest.raises(ValueError):
        erlang_c_metrics(args["arrival_rate"], args["aht"], 5, args["threshold"])


def test_target_out_of_range() -> None:
    with pytest.raises(ValueError):
        agents_for_service_level(0.1, 300, 1.5, 60)
