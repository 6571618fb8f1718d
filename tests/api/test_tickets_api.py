"""The ticket API as a counselor uses it: login, list, open, update, reply, note."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from config.runtime import Runtime
from crm.models import AuditLog, Message, MessageStatus, OutboxItem, OutboxStatus, Role, Ticket
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def _setup(session: Session) -> dict:
    tokyo = make_center(session, "TKY")
    osaka = make_center(session, "OSK", prefecture="大阪府")
    make_user(session, tokyo, "sato")
    make_user(session, osaka, "kimura")
    make_user(session, None, "root", role=Role.ADMIN)
    return {"tokyo": tokyo, "osaka": osaka}


def test_login_with_wrong_password_is_refused(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    session = db
    _setup(session)
    res = client.post("/api/auth/token", data={"username": "sato", "password": "wrong-password"})
    assert res.status_code == 401
    assert res.json()["detail"] == "wrong username or password"
    assert client.post("/api/auth/token", data={"username": "nobody", "password": "x"}).status_code == 401


def test_requests_without_or_with_forged_token_are_refused(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    session = db
    _setup(session)
    assert client.get("/api/tickets").status_code == 401
    res = client.get("/api/tickets", headers={"Authorization": "Bearer not.a.token"})
    assert res.status_code == 401 and "log in again" in res.json()["detail"]


def test_counselor_sees_only_their_centers_tickets(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    session = db
    centers = _setup(session)
    mine = receive(session, centers["tokyo"], "東京の相談", sender="U1")
    theirs = receive(session, centers["osaka"], "大阪の相談", sender="U2")
    headers = login(client, "sato")
    listed = client.get("/api/tickets", headers=headers).json()
    assert [t["id"] for t in listed["items"]] == [mine.ticket_id] and listed["total"] == 1
    res = client.get(f"/api/tickets/{theirs.ticket_id}", headers=headers)
    assert res.status_code == 403 and "another center" in res.json()["detail"]
    assert client.get("/api/tickets/999999", headers=headers).status_code == 404
    admin = login(client, "root")
    assert client.get("/api/tickets", headers=admin).json()["total"] == 2


def test_list_filters_and_pagination(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    session = db
    centers = _setup(session)
    for i in range(5):
        receive(session, centers["tokyo"], f"相談{i}", sender=f"U{i}")
    headers = login(client, "sato")
    page = client.get("/api/tickets?limit=2&offset=2", headers=headers).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert client.get("/api/tickets?status=closed", headers=headers).json()["total"] == 0
    assert client.get("/api/tickets?status=bogus", headers=headers).status_code == 422
    assert client.get("/api/tickets?limit=100000", headers=headers).status_code == 422


def test_reading_a_ticket_shows_the_timeline_and_is_audited(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    session = db
    centers = _setup(session)
    r = receive(session, centers["tokyo"], "絵文字も😀𠮷", sender="U9")
    headers = login(client, "sato")
    detail = client.get(f"/api/tickets/{r.ticket_id}", headers=headers).json()
    assert detail["messages"][0]["body"] == "絵文字も😀𠮷"
    audits = session.exec(select(AuditLog).where(AuditLog.action == "ticket.read")).all()
    assert [(a.object_id, a.object_type) for a in audits] == [(str(r.ticket_id), "ticket")]


def test_patch_rejects_unknown_fields_and_bad_transitions(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    session = db
    centers = _setup(session)
    r = receive(session, centers["tokyo"], "相談")
    headers = login(client, "sato")
    url = f"/api/tickets/{r.ticket_id}"
    res = client.patch(url, json={"colour": "red"}, headers=headers)
    assert res.status_code == 422 and "colour: unknown field" in res.json()["detail"]
    res = client.patch(url, json={"contract_amount": "lots"}, headers=headers)
    assert res.status_code == 422
    res = client.patch(url, json={"status": "waiting_on_consumer"}, headers=headers)
    assert res.status_code == 409 and "cannot change status" in res.json()["detail"]
    res = client.patch(url, json={"product_category": "健康食品", "contract_amount": 9800}, headers=headers)
    assert res.status_code == 200 and res.json()["contract_amount"] == 9800
    session.expire_all()
    ticket = session.get(Ticket, r.ticket_id)
    assert ticket is not None and ticket.product_category == "健康食品"


def test_reply_is_queued_then_delivered_by_a_job(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    session = db
    centers = _setup(session)
    r = receive(session, centers["tokyo"], "解約方法を教えてください", sender="Ureply")
    headers = login(client, "sato")
    res = client.post(
        f"/api/tickets/{r.ticket_id}/reply",
        json={"body": "クーリング・オフの期間は8日間です。"},
        headers=headers,
    )
    assert res.status_code == 202 and res.json()["status"] == "queued"
    app_runtime.jobs.drain()
    session.expire_all()
    msg = session.get(Message, res.json()["id"])
    assert msg is not None and msg.status == MessageStatus.SENT
    outbox = session.exec(select(OutboxItem)).one()
    assert outbox.status == OutboxStatus.SENT and outbox.recipient == "Ureply"
    sent = app_runtime.adapters["line"].sent()  # the session's sandbox file: other tests' sends too
    assert [s["text"] for s in sent if s["recipient"] == "Ureply"] == ["クーリング・オフの期間は8日間です。"]


def test_reply_and_note_validation(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    session = db
    centers = _setup(session)
    r = receive(session, centers["tokyo"], "相談")
    other = receive(session, centers["osaka"], "相談", sender="U-osaka")
    headers = login(client, "sato")
    assert (
        client.post(f"/api/tickets/{r.ticket_id}/reply", json={"body": ""}, headers=headers).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/tickets/{r.ticket_id}/reply", json={"body": "x" * 20_001}, headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/tickets/{r.ticket_id}/reply", content=b"\xff\xfe garbage", headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post(f"/api/tickets/{other.ticket_id}/notes", json={"body": "x"}, headers=headers).status_code
        == 403
    )
    res = client.post(f"/api/tickets/{r.ticket_id}/notes", json={"body": "事業者に連絡済み"}, headers=headers)
    assert res.status_code == 201
    assert (
        session.exec(select(func.count()).select_from(Message)).one() == 2
    )  # nothing from the refused requests


def test_healthz_and_centers(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    session = db
    _setup(session)
    assert client.get("/healthz").json()["status"] == "ok"  # liveness only
    ready = client.get("/readyz").json()  # readiness: what a request needs
    assert ready["checks"]["database"] == "ok"
    if app_runtime.redis is not None:
        assert ready["checks"]["redis"] == "ok"
    centers = client.get("/api/centers", headers=login(client, "sato")).json()
    assert {c["code"] for c in centers} == {"TKY", "OSK"}
