"""Issue 13's console bugs at the API: each test fails on the code before its fix."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import Ticket, TicketStatus
from routing import service
from routing.hammer import ALWAYS_OPEN
from routing.models import Offer, OfferStatus
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def _ticket(db: Session, ticket_id: int) -> Ticket:
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None
    db.commit()
    return ticket


def test_replying_to_an_offered_ticket_takes_it_from_the_queue(
    client: TestClient, db: Session, app_runtime: Runtime
) -> None:
    """Bug 1: aoki answers a ticket offered to baba; baba's offer goes and nobody else is offered it."""
    center = make_center(db, hours=ALWAYS_OPEN)
    make_user(db, center, "aoki")
    make_user(db, center, "baba")
    db.commit()
    a, b = login(client, "aoki"), login(client, "baba")
    assert client.put("/api/me/presence", json={"status": "available"}, headers=b).status_code == 200
    app_runtime.jobs.drain()
    ticket_id = receive(db, center, "解約したいです", sender="U-claim").ticket_id
    app_runtime.jobs.drain()  # routing offers it to baba, the only available counselor
    offers = client.get("/api/offers", headers=b).json()
    assert [o["ticket_id"] for o in offers] == [ticket_id]
    db.commit()

    res = client.post(f"/api/tickets/{ticket_id}/reply", json={"body": "担当の青木です。"}, headers=a)
    assert res.status_code == 202, res.text
    ticket = _ticket(db, ticket_id)
    assert ticket.assignee_id is not None and ticket.status == TicketStatus.WAITING_ON_CONSUMER
    assert client.get("/api/me", headers=a).json()["id"] == ticket.assignee_id
    assert client.get("/api/offers", headers=b).json() == []
    late = client.post(f"/api/offers/{offers[0]['id']}/accept", headers=b)
    assert late.status_code == 409 and "cancelled" in late.json()["detail"]
    assert service.route_ticket(db, ticket_id=ticket_id, settings=app_runtime.settings) is None
    db.commit()
    pending = db.exec(select(Offer).where(Offer.ticket_id == ticket_id, Offer.status == OfferStatus.PENDING))
    assert pending.all() == []
    db.commit()
    assert _ticket(db, ticket_id).assignee_id == ticket.assignee_id


def test_replying_to_a_queued_ticket_nobody_was_offered_assigns_it(
    client: TestClient, db: Session, app_runtime: Runtime
) -> None:
    center = make_center(db, hours=ALWAYS_OPEN)
    aoki_id = make_user(db, center, "aoki").id
    db.commit()
    a = login(client, "aoki")
    ticket_id = receive(db, center, "返金されません", sender="U-queued").ticket_id
    app_runtime.jobs.drain()  # nobody is available: it waits in the queue
    assert _ticket(db, ticket_id).status in (TicketStatus.NEW, TicketStatus.QUEUED)
    empty = client.post(f"/api/tickets/{ticket_id}/reply", json={"body": "  "}, headers=a)
    assert empty.status_code == 400 and _ticket(db, ticket_id).assignee_id is None  # refused: not taken
    res = client.post(f"/api/tickets/{ticket_id}/reply", json={"body": "お電話します"}, headers=a)
    assert res.status_code == 202, res.text
    ticket = _ticket(db, ticket_id)
    assert (ticket.assignee_id, ticket.status) == (aoki_id, TicketStatus.WAITING_ON_CONSUMER)
    timeline = client.get(f"/api/tickets/{ticket_id}", headers=a).json()
    assert [m["body"] for m in timeline["messages"] if m["direction"] == "outbound"] == ["お電話します"]


def test_own_presence_reads_back_what_the_server_has(client: TestClient, db: Session) -> None:
    """Bug 2: after login the console shows the server's presence (offline), not 受付可."""
    center = make_center(db, hours=ALWAYS_OPEN)
    make_user(db, center, "aoki")
    db.commit()
    a = login(client, "aoki")
    first = client.get("/api/me/presence", headers=a)
    assert first.status_code == 200 and first.json()["status"] == "offline"
    assert client.put("/api/me/presence", json={"status": "break"}, headers=a).status_code == 200
    again = client.get("/api/me/presence", headers=a).json()
    assert again["status"] == "break" and again["since"]
