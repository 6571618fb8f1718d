"""GET /api/staffing: bounded inputs (422 naming the field), bounded time, no database held (finding 2)."""

from __future__ import annotations

import time

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session

from crm.deps import get_session
from routing.api import router
from tests.api.conftest import login
from tests.factories import make_center, make_user

OK = {"arrivals_per_hour": 100, "aht_seconds": 300}


@pytest.fixture
def h(client: TestClient, db: Session) -> dict[str, str]:
    make_user(db, make_center(db), "aoki")
    return login(client, "aoki")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("arrivals_per_hour", "5e-324"),
        ("arrivals_per_hour", "1e308"),
        ("arrivals_per_hour", "nan"),
        ("arrivals_per_hour", "inf"),
        ("aht_seconds", "1e-300"),
        ("aht_seconds", "-inf"),
        ("within_seconds", "1e9"),
        ("patience_seconds", "5e-324"),
        ("patience_seconds", "NaN"),
        ("target", "0.99999"),
        ("agents", str(2**63)),
    ],
)
def test_out_of_range_is_422_naming_the_field(client: TestClient, h: dict, field: str, value: str) -> None:
    res = client.get("/api/staffing", params=OK | {field: value}, headers=h)
    assert res.status_code == 422, res.text
    assert field in res.json()["detail"]


def test_an_unservable_load_is_refused_at_once(client: TestClient, h: dict) -> None:
    t0 = time.perf_counter()
    res = client.get("/api/staffing", params={"arrivals_per_hour": 100_000, "aht_seconds": 14_400}, headers=h)
    assert res.status_code == 422 and "arrivals_per_hour" in res.json()["detail"]
    assert time.perf_counter() - t0 < 2.0


def test_the_largest_documented_inputs_answer_in_seconds(client: TestClient, h: dict) -> None:
    """Before the fix this ran for 12 s (and minutes for larger inputs) holding the SQLite write lock."""
    params = {
        "arrivals_per_hour": 5000,
        "aht_seconds": 600,
        "target": 0.95,
        "within_seconds": 3600,
        "patience_seconds": 3600,
    }
    t0 = time.perf_counter()
    res = client.get("/api/staffing", params=params, headers=h)
    assert res.status_code in (200, 422), res.text
    assert time.perf_counter() - t0 < 3.0


def test_staffing_holds_no_database_session_while_it_computes() -> None:
    route = next(r for r in router.routes if isinstance(r, APIRoute) and r.path == "/api/staffing")

    def calls(dep) -> list:  # type: ignore[no-untyped-def]
        return [dep.call] + [c for d in dep.dependencies for c in calls(d)]

    assert get_session not in calls(route.dependant)
