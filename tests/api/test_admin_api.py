"""/api/centers and /api/users administration: admins only, validated naming the field, audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from crm.models import AuditLog, Center, Role, User
from tests.api.conftest import login
from tests.factories import PASSWORD, make_center, make_user

WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def people(client: TestClient, db: Session) -> dict[str, object]:
    a = make_center(db, "CA")
    make_center(db, "NAT", level="national")
    make_user(db, None, "root", role=Role.ADMIN)
    make_user(db, a, "sv-a", role=Role.SUPERVISOR)
    make_user(db, a, "counselor-a")
    out = {
        "a": a.id,
        "admin": login(client, "root"),
        "sv": login(client, "sv-a"),
        "counselor": login(client, "counselor-a"),
    }
    db.commit()
    return out


def _center_body(**extra: object) -> dict[str, object]:
    return {
        "code": "kanagawa",
        "name": "神奈川県消費生活課",
        "prefecture": "神奈川県",
        "level": "prefectural",
        "parent_code": "NAT",
        "hours": WEEKDAYS,
        "closed_dates": ["12-29", "2026-05-07"],
        "backup_rules": {"sat": "NAT", "busy_wait_seconds": 180},
        "postal_prefixes": ["231", "220"],
        **extra,
    }


def test_admin_creates_and_updates_a_center(client: TestClient, people: dict, db: Session) -> None:
    admin = people["admin"]
    res = client.post("/api/centers", json=_center_body(), headers=admin)
    assert res.status_code == 201, res.text
    center = res.json()
    assert center["postal_prefixes"] == ["220", "231"] and center["closed_dates"] == ["12-29", "2026-05-07"]
    assert center["backup_rules"] == {"sat": "NAT", "busy_wait_seconds": 180}
    res = client.patch(
        f"/api/centers/{center['id']}", json={"hours": {"sat": [["10:00", "12:00"]]}}, headers=admin
    )
    assert res.status_code == 200 and res.json()["hours"] == {"sat": [["10:00", "12:00"]]}
    assert client.get(f"/api/centers/{center['id']}", headers=admin).json()["timezone"] == "Asia/Tokyo"
    codes = [c["code"] for c in client.get("/api/centers", headers=people["counselor"]).json()]
    assert "kanagawa" in codes  # the console's list stays open to every logged-in user
    assert client.post("/api/centers", json=_center_body(), headers=admin).status_code == 409
    db.expire_all()
    audit = db.exec(select(AuditLog).where(AuditLog.object_type == "center")).all()
    assert [a.action for a in audit] == ["center.create", "center.update"]
    assert audit[1].detail["before"]["hours"] == WEEKDAYS
    db.commit()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "hours"),
        ({"hours": {"monday": [["09:00", "17:00"]]}}, "hours"),
        ({"hours": {"mon": [["9時", "17:00"]]}}, "hours"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates[0]"),
        ({"closed_dates": ["12/29"]}, "closed_dates[0]"),
        ({"backup_rules": {"sat": "nowhere"}}, "backup_rules.sat"),
        ({"backup_rules": {"saturday": "NAT"}}, "backup_rules.saturday"),
        ({"backup_rules": {"busy_wait_seconds": -1}}, "backup_rules.busy_wait_seconds"),
        ({"postal_prefixes": ["100-0001"]}, "postal_prefixes[0]"),
        ({"parent_code": "nowhere"}, "parent_code"),
        ({"level": "village"}, "level"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"code": "renamed"}, "code"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_center_values_are_422_naming_the_field(
    client: TestClient, people: dict, db: Session, change: dict, field: str
) -> None:
    res = client.patch(f"/api/centers/{people['a']}", json=change, headers=people["admin"])
    assert res.status_code == 422, res.text
    assert res.json()["detail"].removeprefix("invalid request: ").startswith(f"{field}: "), res.json()[
        "detail"
    ]
    db.expire_all()
    center = db.get(Center, people["a"])
    assert center is not None and center.level == "municipal" and center.backup_rules == {}
    assert db.exec(select(AuditLog).where(AuditLog.object_type == "center")).all() == []
    db.commit()


def test_centers_and_users_admin_only(client: TestClient, people: dict) -> None:
    for who in ("sv", "counselor"):
        h = people[who]
        assert client.post("/api/centers", json=_center_body(), headers=h).status_code == 403
        assert client.patch(f"/api/centers/{people['a']}", json={"name": "x"}, headers=h).status_code == 403
        assert client.get("/api/users", headers=h).status_code == 403
        assert (
            client.post("/api/users", json={"username": "x", "password": "p" * 10}, headers=h).status_code
            == 403
        )
    client.cookies.clear()
    assert client.get("/api/users").status_code == 401
    assert client.post("/api/centers", json=_center_body()).status_code == 401


def test_admin_manages_users(client: TestClient, people: dict, db: Session) -> None:
    admin = people["admin"]
    body = {
        "username": "suzuki",
        "password": "long-enough-pw",
        "center_id": people["a"],
        "skills": ["多重債務", "情報通信"],
        "languages": ["ja", "en"],
        "qualifications": ["消費生活相談員"],
    }
    res = client.post("/api/users", json=body, headers=admin)
    assert res.status_code == 201, res.text
    user = res.json()
    assert "password" not in res.text and "password_hash" not in res.text and user["role"] == "counselor"
    assert login(client, "suzuki", "long-enough-pw")
    res = client.patch(
        f"/api/users/{user['id']}",
        json={"role": "supervisor", "skills": ["高齢者対応"], "is_active": False},
        headers=admin,
    )
    assert res.status_code == 200 and res.json()["role"] == "supervisor" and not res.json()["is_active"]
    assert (
        client.post("/api/auth/token", data={"username": "suzuki", "password": "long-enough-pw"}).status_code
        == 401
    )
    listed = client.get("/api/users?active=false", headers=admin).json()
    assert [u["username"] for u in listed] == ["suzuki"]
    res = client.patch(
        f"/api/users/{user['id']}", json={"password": "another-long-pw", "is_active": True}, headers=admin
    )
    assert res.status_code == 200 and login(client, "suzuki", "another-long-pw")
    db.expire_all()
    audit = [
        a
        for a in db.exec(select(AuditLog).where(AuditLog.object_type == "user"))
        if a.action.startswith("user.")
    ]
    assert [a.action for a in audit] == ["user.create", "user.update", "user.update"]
    assert all("another-long-pw" not in str(a.detail) for a in audit) and audit[2].detail["password_changed"]
    db.commit()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "bad name", "password": "long-enough-pw"}, "username"),
        ({"username": "ok", "password": "short"}, "password"),
        ({"username": "ok", "password": "long-enough-pw", "role": "boss"}, "role"),
        ({"username": "ok", "password": "long-enough-pw", "center_id": None}, "center_id"),
        ({"username": "ok", "password": "long-enough-pw", "center_id": 99999}, "center_id"),
        ({"username": "ok", "password": "long-enough-pw", "languages": ["japanese!"]}, "languages[0]"),
        ({"username": "ok", "password": "long-enough-pw", "skills": [""]}, "skills[0]"),
        ({"username": "ok", "password": "long-enough-pw", "capacity": {"fax": 1}}, "capacity.fax"),
        ({"username": "ok", "password": "long-enough-pw", "capacity": {"line": 99}}, "capacity.line"),
        ({"username": "ok", "password": "long-enough-pw", "is_admin": True}, "is_admin"),
    ],
)
def test_bad_user_values_are_422_naming_the_field(
    client: TestClient, people: dict, db: Session, body: dict, field: str
) -> None:
    body = {"center_id": people["a"], **body}
    res = client.post("/api/users", json=body, headers=people["admin"])
    assert res.status_code == 422, res.text
    assert res.json()["detail"].removeprefix("invalid request: ").startswith(f"{field}: "), res.json()[
        "detail"
    ]
    db.expire_all()
    assert db.exec(select(User).where(User.username == "ok")).first() is None
    db.commit()


def test_last_admin_cannot_lock_everyone_out(client: TestClient, people: dict, db: Session) -> None:
    root = db.exec(select(User).where(User.username == "root")).one()
    db.commit()
    admin = people["admin"]
    res = client.patch(f"/api/users/{root.id}", json={"is_active": False}, headers=admin)
    assert res.status_code == 409 and "last active admin" in res.json()["detail"]
    res = client.patch(
        f"/api/users/{root.id}", json={"role": "counselor", "center_id": people["a"]}, headers=admin
    )
    assert res.status_code == 409
    assert login(client, "root", PASSWORD)
