"""A consumer's disclosure (開示請求) and erasure (利用停止・消去) requests over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import (
    AccidentReport,
    AccidentReportStatus,
    Attachment,
    AuditLog,
    Center,
    Contact,
    Role,
    Ticket,
    TicketStatus,
)
from tests.api.conftest import login
from tests.factories import make_center, make_user
from tests.privacy_support import EMAIL, LINE_USER, NAME, PHONE, database_dump, leaked, plant_consumer

CLOSED = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)


def _setup(db: Session, runtime: Runtime, *, closed: bool = True) -> tuple[int, int]:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "sup_tokyo", role=Role.SUPERVISOR)
    make_user(db, tokyo, "counselor_tokyo")
    make_user(db, osaka, "sup_osaka", role=Role.SUPERVISOR)
    make_user(db, None, "admin", role=Role.ADMIN)
    planted = plant_consumer(db, tokyo, runtime.settings.data_dir, closed_at=CLOSED if closed else None)
    return planted.contact_id, planted.ticket_id


def test_disclosure_returns_everything_held_and_is_audited(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    contact_id, ticket_id = _setup(db, app_runtime)
    h = login(client, "sup_tokyo")

    res = client.get(f"/api/contacts/{contact_id}/disclosure", headers=h)

    assert res.status_code == 200, res.text
    assert res.headers["cache-control"] == "no-store"
    body = res.json()
    assert body["personal_data"]["full_name"] == NAME and body["personal_data"]["phone"] == PHONE
    assert body["personal_data"]["email"] == EMAIL
    assert [i["external_id"] for i in body["identities"]] == [LINE_USER]
    (ticket,) = body["tickets"]
    assert ticket["id"] == ticket_id and ticket["product_category"] == "浄水器"
    assert any("浄水器" in m["body"] for m in ticket["messages"]) and len(ticket["messages"]) == 2
    assert ticket["notes"] and ticket["attachments"][0]["filename"] == "yamada-contract.jpg"
    assert ticket["accident_reports"][0]["occurred_place"].startswith("東京都新宿区")
    assert "contact.disclosure" in [a["action"] for a in body["audit"]]
    db.expire_all()
    audit = db.exec(select(AuditLog).where(AuditLog.action == "contact.disclosure")).one()
    assert (audit.object_type, audit.object_id) == ("contact", str(contact_id))
    db.commit()

    download = client.get(f"/api/contacts/{contact_id}/disclosure?download=true", headers=h)
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="madoguchi-disclosure-contact-'
    )
    assert (
        client.get(f"/api/contacts/{contact_id}/disclosure", headers=login(client, "admin")).status_code
        == 200
    )


def test_disclosure_access_rules(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    contact_id, _ = _setup(db, app_runtime)
    url = f"/api/contacts/{contact_id}/disclosure"

    client.cookies.clear()
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login(client, "counselor_tokyo")).status_code == 403
    other = client.get(url, headers=login(client, "sup_osaka"))
    assert other.status_code == 403 and "handling center" in other.json()["detail"]
    assert NAME not in other.text
    missing = client.get("/api/contacts/999999/disclosure", headers=login(client, "admin"))
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    for bad in ("abc", "0", "-1", str(2**63)):
        assert (
            client.get(f"/api/contacts/{bad}/disclosure", headers=login(client, "admin")).status_code == 422
        )


def test_erasure_anonymizes_and_is_idempotent(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    contact_id, ticket_id = _setup(db, app_runtime)
    h = login(client, "sup_tokyo")
    url = f"/api/contacts/{contact_id}/erasure"

    first = client.post(url, json={"reason": f"本人（{NAME}）からの消去請求"}, headers=h)

    assert first.status_code == 200, first.text
    assert first.json()["already_erased"] is False and first.json()["counts"]["identities"] == 1
    assert first.json()["files_deleted"] == 1
    second = client.post(url, json={"reason": "重複した請求"}, headers=h)
    assert second.status_code == 200 and second.json()["already_erased"] is True
    assert second.json()["erased_at"] == first.json()["erased_at"]
    assert leaked(database_dump(app_runtime.engine)) == []
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    contact = db.get(Contact, contact_id)
    assert ticket is not None and contact is not None
    assert (ticket.product_category, ticket.contract_amount, contact.region) == ("浄水器", 398_000, "東京都")
    erasures = db.exec(select(AuditLog).where(AuditLog.action == "contact.erasure")).all()
    assert len(erasures) == 2 and "[氏名]" in erasures[0].detail["reason"]
    db.commit()
    after = client.get(f"/api/contacts/{contact_id}/disclosure", headers=h).json()
    assert after["personal_data"] is None and after["identities"] == []
    assert {p["cause"] for p in after["purges"]} == {"erasure"}


def test_erasure_refused_while_a_ticket_is_open(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    contact_id, _ = _setup(db, app_runtime, closed=False)

    res = client.post(
        f"/api/contacts/{contact_id}/erasure", json={"reason": "請求"}, headers=login(client, "admin")
    )

    assert res.status_code == 409 and "open consultation" in res.json()["detail"]
    assert leaked(database_dump(app_runtime.engine)), "nothing was erased"


def test_erasure_refused_while_an_accident_report_is_not_notified(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    contact_id, ticket_id = _setup(db, app_runtime)
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None
    ticket.serious_accident = True
    db.add(ticket)
    db.add(AccidentReport(ticket_id=ticket_id, report_no=2, status=AccidentReportStatus.DRAFT))
    db.commit()
    url = f"/api/contacts/{contact_id}/erasure"

    res = client.post(url, json={"reason": "請求"}, headers=login(client, "admin"))

    assert (
        res.status_code == 409 and "重大事故等" in res.json()["detail"] and "第12条" in res.json()["detail"]
    )
    for report in db.exec(select(AccidentReport).where(AccidentReport.ticket_id == ticket_id)).all():
        report.status = AccidentReportStatus.NOTIFIED
        db.add(report)
    db.commit()
    assert client.post(url, json={"reason": "請求"}, headers=login(client, "admin")).status_code == 200


def test_erasure_access_and_bad_input(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    contact_id, ticket_id = _setup(db, app_runtime)
    url = f"/api/contacts/{contact_id}/erasure"
    sup = login(client, "sup_tokyo")

    client.cookies.clear()  # anonymous: no session cookie from the logins above
    assert client.post(url, json={"reason": "x"}).status_code == 401
    assert client.post(url, json={"reason": "x"}, headers=login(client, "counselor_tokyo")).status_code == 403
    assert client.post(url, json={"reason": "x"}, headers=login(client, "sup_osaka")).status_code == 403
    assert client.post("/api/contacts/424242/erasure", json={"reason": "x"}, headers=sup).status_code == 404
    for body in (
        {},
        {"reason": ""},
        {"reason": "x" * 1001},
        {"reason": 5},
        {"reason": "x", "extra": 1},
        [],
        "x",
    ):
        res = client.post(url, json=body, headers=sup)
        assert res.status_code == 422, (body, res.text)
    garbage = client.post(
        url, content=b"\xff\xfe{not json", headers={**sup, "Content-Type": "application/json"}
    )
    assert (
        garbage.status_code in (400, 422) and garbage.json()["detail"]
    )  # mis-encoded: refused, never stored
    assert leaked(database_dump(app_runtime.engine)), "refused requests erase nothing"
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.status == TicketStatus.CLOSED
    db.commit()


def test_a_supervisor_cannot_erase_a_consumer_another_center_also_holds(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    contact_id, _ = _setup(db, app_runtime)
    other = db.exec(select(Center).where(Center.code == "OSK")).one()
    db.add(Ticket(center_id=other.id or 0, contact_id=contact_id, channel="line", status=TicketStatus.CLOSED))
    db.commit()

    res = client.post(
        f"/api/contacts/{contact_id}/erasure", json={"reason": "請求"}, headers=login(client, "sup_tokyo")
    )

    assert res.status_code == 403 and "admin" in res.json()["detail"]
    mine = client.get(f"/api/contacts/{contact_id}/disclosure", headers=login(client, "sup_tokyo")).json()
    assert len(mine["tickets"]) == 1, "a supervisor's disclosure covers their center's tickets"
    assert (
        len(
            client.get(f"/api/contacts/{contact_id}/disclosure", headers=login(client, "admin")).json()[
                "tickets"
            ]
        )
        == 2
    )


def test_erasure_waits_for_an_attachment_still_downloading(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    contact_id, _ = _setup(db, app_runtime)
    attachment = db.exec(select(Attachment)).one()
    attachment.status = "pending"  # the LINE content job has not fetched it yet
    db.add(attachment)
    db.commit()

    res = client.post(
        f"/api/contacts/{contact_id}/erasure", json={"reason": "請求"}, headers=login(client, "admin")
    )

    assert res.status_code == 409 and "still being downloaded" in res.json()["detail"]
