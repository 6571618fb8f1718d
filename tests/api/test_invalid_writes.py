"""Writes never commit a value the reads cannot show (issue 10, finding 3)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from crm.models import AuditLog, Ticket
from tests.api.conftest import login
from tests.factories import make_center, make_ticket, make_user


def test_null_for_a_not_null_field_is_refused_and_nothing_commits(client: TestClient, db: Session) -> None:
    """Issue 10, finding 3: {"content_keywords": null} answered 500, committed, and broke the list."""
    center = make_center(db)
    make_user(db, center, "null-patcher")
    ticket = make_ticket(db, center)
    db.commit()  # SQLite: release the write lock the read took
    h = login(client, "null-patcher")
    for field in (
        "content_keywords",
        "required_skills",
        "subject",
        "summary",
        "status",
        "priority",
        "serious_accident",
    ):
        res = client.patch(f"/api/tickets/{ticket.id}", json={field: None}, headers=h)
        assert res.status_code == 422, (field, res.text)
        assert field in res.json()["detail"]
    db.expire_all()
    stored = db.get(Ticket, ticket.id)
    assert stored is not None and stored.content_keywords == []
    assert stored.subject and stored.summary is not None and stored.required_skills is not None
    updates = db.exec(select(AuditLog).where(AuditLog.action == "ticket.update")).all()
    assert updates == []  # nothing was written
    db.commit()
    assert client.get("/api/tickets", headers=h).status_code == 200
    assert client.get(f"/api/tickets/{ticket.id}", headers=h).status_code == 200


def test_a_bad_stored_value_does_not_break_the_list_for_everyone(client: TestClient, db: Session) -> None:
    center = make_center(db)
    make_user(db, center, "reader")
    ticket = make_ticket(db, center)
    db.execute(text("UPDATE ticket SET content_keywords = 'null' WHERE id = :id"), {"id": ticket.id})
    db.commit()
    h = login(client, "reader")
    res = client.get("/api/tickets", headers=h)
    assert res.status_code == 200 and res.json()["items"][0]["content_keywords"] == []
    assert client.get(f"/api/tickets/{ticket.id}", headers=h).status_code == 200
