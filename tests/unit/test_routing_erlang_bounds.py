"""Staffing inputs are bounded and every computation is bounded in time (issue 10, finding 2)."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.errors import DomainError
from routing import erlang
from routing.erlang import LIMITS, StaffingInputError, agents_for_service_level, erlang_a_metrics
from routing.queues import staffing

arrivals = st.floats(LIMITS.arrivals_per_hour.low, 2_000, allow_nan=False)
ahts = st.floats(LIMITS.aht_seconds.low, 1_800, allow_nan=False)
targets = st.floats(LIMITS.target.low, LIMITS.target.high, allow_nan=False)
withins = st.floats(0, LIMITS.within_seconds.high, allow_nan=False)
patiences = st.none() | st.floats(LIMITS.patience_seconds.low, LIMITS.patience_seconds.high, allow_nan=False)
FAST = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _staff(**kw: float | None) -> dict:
    base = {"arrivals_per_hour": 100.0, "aht_seconds": 300.0, "target": 0.8, "within_seconds": 60.0}
    return staffing(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("arrivals_per_hour", 5e-324),
        ("arrivals_per_hour", math.inf),
        ("arrivals_per_hour", math.nan),
        ("arrivals_per_hour", 1e308),
        ("aht_seconds", 1e-300),
        ("aht_seconds", 1e9),
        ("within_seconds", -1.0),
        ("within_seconds", 1e12),
        ("patience_seconds", 5e-324),
        ("patience_seconds", math.inf),
        ("target", 0.9999999),
        ("agents", 10**6),
    ],
)
def test_out_of_range_inputs_are_refused_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(DomainError) as info:
        _staff(**{field: value})
    assert info.value.status_code == 422 and field in info.value.message


def test_a_load_no_staff_can_serve_is_refused_quickly() -> None:
    t0 = time.perf_counter()
    with pytest.raises(DomainError) as info:
        _staff(arrivals_per_hour=100_000, aht_seconds=14_400)
    assert info.value.status_code == 422 and "arrivals_per_hour" in info.value.message
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize(
    "kw",
    [
        {
            "arrivals_per_hour": 5000,
            "aht_seconds": 600,
            "target": 0.95,
            "within_seconds": 3600,
            "patience_seconds": 3600,
        },
        {
            "arrivals_per_hour": 100_000,
            "aht_seconds": 300,
            "target": 0.999,
            "within_seconds": 3600,
            "patience_seconds": 86_400,
        },
        {
            "arrivals_per_hour": 100_000,
            "aht_seconds": 1,
            "target": 0.999,
            "within_seconds": 0.001,
            "patience_seconds": 1,
        },
        {
            "arrivals_per_hour": 0.01,
            "aht_seconds": 14_400,
            "target": 0.999,
            "within_seconds": 3600,
            "patience_seconds": 1,
            "agents": 10_000,
        },
        {
            "arrivals_per_hour": 100_000,
            "aht_seconds": 1,
            "target": 0.5,
            "within_seconds": 1,
            "patience_seconds": 30,
            "agents": 1,
        },
    ],
)
def test_worst_cases_answer_within_two_seconds(kw: dict) -> None:
    t0 = time.perf_counter()
    try:
        out = staffing(**kw)
        assert 0.0 <= out["metrics"]["service_level"] <= 1.0
    except DomainError as exc:  # a refusal is fine, as long as it is quick and says what to change
        assert exc.status_code == 422 and "_seconds" in exc.message
    assert time.perf_counter() - t0 < 2.0


@FAST
@given(arrivals, ahts, targets, withins, patiences)
def test_never_raises_and_service_level_is_a_probability(
    a: float, aht: float, target: float, within: float, patience: float | None
) -> None:
    t0 = time.perf_counter()
    out = _staff(
        arrivals_per_hour=a, aht_seconds=aht, target=target, within_seconds=within, patience_seconds=patience
    )
    assert time.perf_counter() - t0 < 2.0
    assert out["metrics"]["service_level"] >= target - 1e-9
    for row in [out["metrics"], *out["table"]]:
        for key in ("service_level", "p_wait", "p_abandon", "occupancy"):
            assert 0.0 <= row[key] <= 1.0, (key, row)


@FAST
@given(arrivals, st.floats(1.01, 1.5), ahts, targets, withins, patiences)
def test_required_counselors_never_fall_when_arrivals_rise(
    a: float, factor: float, aht: float, target: float, within: float, patience: float | None
) -> None:
    rate = a / 3600
    low = agents_for_service_level(rate, aht, target, within, patience).agents
    high = agents_for_service_level(rate * factor, aht, target, within, patience).agents
    assert high >= low


@FAST
@given(st.integers(1, 60), st.floats(0.1, 50), ahts, withins, st.floats(1, 3600))
def test_erlang_a_service_level_falls_as_arrivals_rise(
    agents: int, per_hour_scale: float, aht: float, within: float, patience: float
) -> None:
    rate = per_hour_scale / aht  # load 0.1..50 erlangs
    sl1 = erlang_a_metrics(rate, aht, agents, within, patience).service_level
    sl2 = erlang_a_metrics(rate * 1.2, aht, agents, within, patience).service_level
    assert 0.0 <= sl2 <= sl1 + 1e-9 <= 1.0 + 1e-9


def test_limits_are_documented_in_one_place() -> None:
    assert LIMITS.agents.high == erlang.MAX_AGENTS == 10_000
    with pytest.raises(StaffingInputError, match="patience_seconds"):
        LIMITS.check(
            arrivals_per_hour=1, aht_seconds=300, target=0.8, within_seconds=60, patience_seconds=0.0
        )


@pytest.mark.parametrize("value", ["1e308", "5e-324", "inf"])
def test_the_cli_refuses_out_of_range_inputs_with_the_field(value: str) -> None:
    from typer.testing import CliRunner

    from routing.cli import app

    res = CliRunner().invoke(app, ["--arrivals-per-hour", value, "--aht-seconds", "300"])
    assert res.exit_code == 2
    assert "arrivals" in res.output
