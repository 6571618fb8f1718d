"""Accident-notification endpoints: prefilled draft, validation, access control."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from config.runtime import Runtime
from crm.models import AccidentReport
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def test_accident_report_flow_over_http(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "sato")
    mine = receive(db, tokyo, "ガスファンヒーターで一酸化炭素中毒になり救急搬送されました", sender="U1")
    theirs = receive(db, osaka, "石油ストーブから出火しました", sender="U2")
    db.commit()
    h = login(client, "sato")
    res = client.post(f"/api/tickets/{mine.ticket_id}/accident-reports", headers=h)
    assert res.status_code == 201
    report = res.json()
    assert report["report_no"] == 1 and report["status"] == "draft" and report["detection_reasons"]
    url = f"/api/accident-reports/{report['id']}"
    assert client.patch(url, json={"status": "notified"}, headers=h).status_code == 422  # not editable
    res = client.post(url + "/notified", json={"method": "電話"}, headers=h)
    assert res.status_code == 400 and "発生日時" in res.json()["detail"]
    res = client.patch(
        url,
        json={"occurred_at": "11月20日 朝", "occurred_place": "自宅 居室", "product": "ガスファンヒーター"},
        headers=h,
    )
    assert res.status_code == 200
    res = client.post(url + "/notified", json={"method": "電話"}, headers=h)
    assert res.status_code == 200 and res.json()["status"] == "notified" and res.json()["delay_seconds"] >= 0
    assert client.post(url + "/notified", json={"method": "電話"}, headers=h).status_code == 409
    assert client.post(f"/api/tickets/{theirs.ticket_id}/accident-reports", headers=h).status_code == 403
    assert (
        client.post("/api/accident-reports/9999/notified", json={"method": "FAX"}, headers=h).status_code
        == 404
    )
    assert client.post(url + "/notified", json={}, headers=h).status_code == 422
    assert db.exec(select(func.count()).select_from(AccidentReport)).one() == 1
