"""要確認 (a possible 重大事故等) opens a check a counselor must close: list, decide, refuse to resolve."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from config.runtime import Runtime
from crm.models import AccidentCheck, Ticket
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive

SMOKE = "充電器から煙が出て、火が出そうになった"  # 要確認: smoke and a near miss, no fire stated
FIRE = "ストーブから火が出て母がやけどで入院しました"  # flagged outright


def test_a_possible_accident_must_be_judged_before_the_ticket_is_resolved(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "sato")
    make_user(db, osaka, "kimura")
    mine = receive(db, tokyo, SMOKE, sender="U1")
    plain = receive(db, tokyo, "定期購入の解約ができません", sender="U2")
    h, other = login(client, "sato"), login(client, "kimura")

    listed = client.get("/api/accident-checks", headers=h).json()
    assert [c["ticket_id"] for c in listed] == [mine.ticket_id]  # the contract question opens none
    check = listed[0]
    assert check["status"] == "pending" and any("smoke_scorch" in r for r in check["reasons"])
    assert client.get("/api/accident-checks", headers=other).json() == []  # another center's: not shown

    res = client.patch(f"/api/tickets/{mine.ticket_id}", json={"status": "resolved"}, headers=h)
    assert res.status_code == 409 and f"/api/accident-checks/{check['id']}/decision" in res.json()["detail"]
    url = f"/api/accident-checks/{check['id']}/decision"
    res = client.post(url, json={"decision": "not_serious"}, headers=h)
    assert res.status_code == 422 and "why" in res.json()["detail"]  # a ruling-out needs its reason
    oversized = {"decision": "not_serious", "note": "火" * 2001}
    for garbage in ({"decision": "maybe", "note": "x"}, {"decision": "serious", "extra": 1}, {}, oversized):
        assert client.post(url, json=garbage, headers=h).status_code == 422
    assert client.get("/api/accident-checks", headers=h).json()[0]["status"] == "pending"  # nothing changed
    assert client.post(url, json={"decision": "serious"}, headers=other).status_code == 403
    assert (
        client.post(
            "/api/accident-checks/99999/decision", json={"decision": "serious"}, headers=h
        ).status_code
        == 404
    )

    res = client.post(
        url, json={"decision": "not_serious", "note": "煙だけで火は出ていない、けがなし"}, headers=h
    )
    assert res.status_code == 200 and res.json()["status"] == "not_serious" and res.json()["decided_by"]
    assert client.post(url, json={"decision": "serious"}, headers=h).status_code == 409  # decided once
    assert client.get("/api/accident-checks", headers=h).json() == []
    assert (
        client.patch(f"/api/tickets/{mine.ticket_id}", json={"status": "resolved"}, headers=h).status_code
        == 200
    )
    assert (
        client.patch(f"/api/tickets/{plain.ticket_id}", json={"status": "resolved"}, headers=h).status_code
        == 200
    )
    assert not client.get(f"/api/tickets/{mine.ticket_id}", headers=h).json()["serious_accident"]


def test_confirming_a_check_flags_the_ticket_and_a_later_flag_settles_it(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    center = make_center(db, "KWS")
    make_user(db, center, "kato")
    h = login(client, "kato")
    first = receive(db, center, SMOKE, sender="U7")
    again = receive(db, center, "ドライヤーから火花が出て髪が少し焦げました", sender="U7")
    assert again.ticket_id == first.ticket_id
    checks = client.get(f"/api/tickets/{first.ticket_id}/accident-checks", headers=h).json()
    assert len(checks) == 1 and len(checks[0]["reasons"]) >= 3  # one check; the second message added to it
    res = client.post(
        f"/api/accident-checks/{checks[0]['id']}/decision", json={"decision": "serious"}, headers=h
    )
    assert res.status_code == 200 and res.json()["status"] == "serious"
    assert client.get(f"/api/tickets/{first.ticket_id}", headers=h).json()["serious_accident"] is True
    assert client.post(f"/api/tickets/{first.ticket_id}/accident-reports", headers=h).status_code == 201

    later = receive(db, center, SMOKE, sender="U8")
    receive(db, center, FIRE, sender="U8")  # the next message is a 重大事故等 outright
    check = db.exec(select(AccidentCheck).where(AccidentCheck.ticket_id == later.ticket_id)).one()
    assert check.status == "serious" and "screener" in check.decision_note
    db.rollback()  # end the read (SQLite: the app's write would wait for it)
    assert (
        client.patch(f"/api/tickets/{later.ticket_id}", json={"status": "resolved"}, headers=h).status_code
        == 200
    )
    flagged = receive(db, center, FIRE, sender="U9")
    receive(db, center, SMOKE, sender="U9")  # a flagged ticket needs no 要確認 on top
    assert (
        db.exec(
            select(func.count())
            .select_from(AccidentCheck)
            .where(AccidentCheck.ticket_id == flagged.ticket_id)
        ).one()
        == 0
    )
    assert db.get(Ticket, flagged.ticket_id).serious_accident  # type: ignore[union-attr]


def test_a_counselor_note_with_a_possible_accident_opens_a_check(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    center = make_center(db, "SGY")
    make_user(db, center, "ito")
    h = login(client, "ito")
    call = receive(db, center, "電話のご相談です", sender="U3")
    note = "相談者宅で電気毛布から焦げた臭いと煙、火は出ず。けがなし。"
    assert (
        client.post(f"/api/tickets/{call.ticket_id}/notes", json={"body": note}, headers=h).status_code == 201
    )
    checks = client.get(f"/api/tickets/{call.ticket_id}/accident-checks", headers=h).json()
    assert len(checks) == 1 and checks[0]["status"] == "pending"
