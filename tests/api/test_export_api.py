"""The case export carries no identifying data and only the supervisor's own center."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.clock import jst_date
from config.runtime import Runtime
from crm.models import AuditLog, Role, Ticket
from tests.api.conftest import login
from tests.clock import Instant
from tests.factories import make_center, make_user, receive
from tests.record_support import mark_approved

PERSONAL = "山田太郎です。電話は090-1234-5678、メールはtaro.yamada@example.jp です。"


def test_export_masks_personal_data_and_stays_in_the_center(
    jst_midnight: Instant, client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    make_user(db, tokyo, "sato")
    mine = receive(db, tokyo, "健康食品の定期購入", sender="U1")
    receive(db, osaka, "大阪の相談", sender="U2")
    receive(db, tokyo, "まだ決裁されていない相談", sender="U3")  # not approved: not exported
    ticket = db.get(Ticket, mine.ticket_id)
    assert ticket is not None
    ticket.summary = PERSONAL + "株式会社ミライ健康のサプリを定期購入。"
    ticket.contract_amount = 9800
    db.add(ticket)
    db.commit()
    mark_approved(db, mine.ticket_id)
    today = jst_date(ticket.created_at).isoformat()  # the export's days are JST days
    res = client.get(
        f"/api/exports/cases.csv?date_from=2020-01-01&date_to={today}", headers=login(client, "boss")
    )
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert res.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(res.text.lstrip("\ufeff"))))
    assert [r["受付番号"] for r in rows] == [str(mine.ticket_id)]
    summary = rows[0]["相談概要"]
    for secret in ("山田", "090-1234-5678", "taro.yamada@example.jp", "U1"):
        assert secret not in res.text
    assert "株式会社ミライ健康" in summary and rows[0]["契約購入金額"] == "9800"
    db.commit()
    assert db.exec(select(AuditLog).where(AuditLog.action == "cases.export")).first() is not None


def test_export_refuses_counselors_and_bad_ranges(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    tokyo = make_center(db, "TKY")
    make_user(db, tokyo, "sato")
    make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    assert (
        client.get(
            "/api/exports/cases.csv?date_from=2026-01-01&date_to=2026-01-31", headers=login(client, "sato")
        ).status_code
        == 403
    )
    boss = login(client, "boss")
    assert (
        client.get("/api/exports/cases.csv?date_from=2026-02-01&date_to=2026-01-01", headers=boss).status_code
        == 400
    )
    assert (
        client.get("/api/exports/cases.csv?date_from=yesterday&date_to=2026-01-01", headers=boss).status_code
        == 422
    )
    assert client.get("/api/exports/cases.csv", headers=boss).status_code == 422
