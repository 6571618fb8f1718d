"""Routing API through the real app: presence, offers, transfers, queues, staffing, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from config.runtime import Runtime
from crm.models import Contact, Role, Ticket, TicketStatus
from routing import service
from routing.hammer import ALWAYS_OPEN
from tests.api.conftest import login
from tests.factories import make_center, make_user


def _queued_ticket(db: Session, center_id: int) -> int:
    contact = Contact()
    db.add(contact)
    db.flush()
    ticket = Ticket(
        center_id=center_id,
        contact_id=contact.id,
        channel="line",
        status=TicketStatus.QUEUED,  # type: ignore[arg-type]
        queued_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    db.add(ticket)
    db.commit()
    return ticket.id  # type: ignore[return-value]


def _route(db: Session, rt: Runtime, ticket_id: int) -> int:
    offer = service.route_ticket(db, ticket_id=ticket_id, settings=rt.settings)
    db.commit()
    assert offer is not None
    return offer.id  # type: ignore[return-value]


def test_presence_offer_accept_flow_and_errors(client: TestClient, db: Session, app_runtime: Runtime) -> None:
    center = make_center(db, hours=ALWAYS_OPEN)
    make_user(db, center, "aoki")
    make_user(db, center, "baba")
    db.commit()
    a, b = login(client, "aoki"), login(client, "baba")
    res = client.put("/api/me/presence", json={"status": "available", "capacity": {"line": 2}}, headers=a)
    assert res.status_code == 200 and res.json()["status"] == "available"
    assert client.post("/api/me/heartbeat", headers=a).status_code == 200
    app_runtime.jobs.drain()
    ticket_id = _queued_ticket(db, center.id)  # type: ignore[arg-type]
    offer_id = _route(db, app_runtime, ticket_id)
    mine = client.get("/api/offers", headers=a).json()
    assert [o["id"] for o in mine] == [offer_id] and client.get("/api/offers", headers=b).json() == []
    assert client.post("/api/offers/999999/accept", headers=a).status_code == 404
    assert client.post(f"/api/offers/{offer_id}/accept", headers=b).status_code == 403
    res = client.post(f"/api/offers/{offer_id}/accept", headers=a)
    assert res.status_code == 200 and res.json()["status"] == "assigned"
    again = client.post(f"/api/offers/{offer_id}/accept", headers=a)
    assert again.status_code == 409 and "accepted" in again.json()["detail"]
    assert client.post(f"/api/offers/{offer_id}/decline", headers=a).status_code == 409


def test_bad_presence_input_is_refused(client: TestClient, db: Session) -> None:
    center = make_center(db)
    make_user(db, center, "aoki")
    h = login(client, "aoki")
    cases = [
        {"status": "sleeping"},
        {"status": "available", "capacity": {"fax": 1}},
        {"status": "available", "capacity": {"line": -1}},
        {"status": "available", "capacity": {"line": "lots"}},
        {"status": "available", "extra": 1},
        {},
    ]
    for body in cases:
        res = client.put("/api/me/presence", json=body, headers=h)
        assert res.status_code in (400, 422), (body, res.text)
    assert (
        client.put(
            "/api/me/presence", content=b"\xff\xfe", headers={**h, "content-type": "application/json"}
        ).status_code
        == 422
    )
    client.cookies.clear()  # login also set the console's session cookie
    assert client.put("/api/me/presence", json={"status": "available"}).status_code == 401


def test_decline_reoffers_and_transfer_to_supervisor(
    client: TestClient, db: Session, app_runtime: Runtime
) -> None:
    center = make_center(db, hours=ALWAYS_OPEN)
    make_user(db, center, "aoki")
    make_user(db, center, "baba")
    make_user(db, center, "sv", role=Role.SUPERVISOR)
    a, b, sv = login(client, "aoki"), login(client, "baba"), login(client, "sv")
    for h in (a, b):
        client.put("/api/me/presence", json={"status": "available"}, headers=h)
    app_runtime.jobs.drain()
    ticket_id = _queued_ticket(db, center.id)  # type: ignore[arg-type]
    offer_id = _route(db, app_runtime, ticket_id)
    first = a if client.get("/api/offers", headers=a).json() else b
    second = b if first is a else a
    res = client.post(f"/api/offers/{offer_id}/decline", json={"reason": "対応中の案件あり"}, headers=first)
    assert res.status_code == 200 and res.json() is not None
    nxt = client.get("/api/offers", headers=second).json()
    assert len(nxt) == 1
    client.post(f"/api/offers/{nxt[0]['id']}/accept", headers=second)
    bad = client.post(f"/api/tickets/{ticket_id}/transfer", json={"reason": ""}, headers=second)
    assert bad.status_code == 422
    two = client.post(
        f"/api/tickets/{ticket_id}/transfer",
        json={"reason": "x", "to_supervisor": True, "to_center_id": 1},
        headers=second,
    )
    assert two.status_code == 400
    assert (
        client.post(
            "/api/tickets/999999/transfer", json={"reason": "x", "to_supervisor": True}, headers=second
        ).status_code
        == 404
    )
    res = client.post(
        f"/api/tickets/{ticket_id}/transfer",
        json={"reason": "重大事故の疑い", "to_supervisor": True},
        headers=second,
    )
    assert res.status_code == 200
    queues = client.get("/api/queues", headers=sv)
    assert queues.status_code == 200 and queues.json()[0]["counselors"] == {"available": 2}
    assert client.get("/api/queues", headers=a).status_code == 403


def test_staffing_endpoint(client: TestClient, db: Session) -> None:
    make_user(db, make_center(db), "aoki")
    h = login(client, "aoki")
    res = client.get("/api/staffing", params={"arrivals_per_hour": 100, "aht_seconds": 300}, headers=h)
    assert res.status_code == 200 and res.json()["required_agents"] == 11
    res = client.get(
        "/api/staffing",
        params={"arrivals_per_hour": 100, "aht_seconds": 300, "patience_seconds": 120},
        headers=h,
    )
    assert res.status_code == 200 and res.json()["required_agents"] <= 11
    for bad in (
        {"arrivals_per_hour": -1, "aht_seconds": 300},
        {"arrivals_per_hour": 100, "aht_seconds": "x"},
        {"arrivals_per_hour": 100, "aht_seconds": 300, "target": 1.5},
        {"aht_seconds": 300},
    ):
        assert client.get("/api/staffing", params=bad, headers=h).status_code == 422
