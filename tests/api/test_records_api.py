"""The consultation record end to end (issue #16): a LINE consultation is prefilled, the counselor
accepts field by field, a wrong amount is caught, the supervisor approves from the queue, and the
export counts only approved records."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from config.clock import jst_date, now_utc, today_jst
from crm.models import (
    AccidentReport,
    AccidentReportStatus,
    AuditLog,
    CaseRecordChange,
    RecordFieldFeedback,
    Role,
    Ticket,
)
from knowledge.models import LabelFeedback
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive

LINE = (
    "先月の15日に家に業者が来て、屋根の点検しますって言われて、そのまま工事の契約しちゃいました",
    "金額は85万円で、手付金として10万円はもう払ってます。会社は株式会社ミライホームです",
    "契約書はその日にもらいました。70代です、年金ぐらしです",
)
COMPLETE = {
    "summary": "自宅に来た業者に屋根の点検を勧められ工事を契約。クーリング・オフの方法を助言。",
    "content_keywords": ["点検商法", "クーリングオフ"],
    "outcome": "助言(自主交渉)",
    "product_category": "屋根工事",
    "sales_method": "訪問販売",
    "contract_date": "2026-10-15",
    "contract_amount": 850_000,
}


def world(db: Session) -> dict[str, Any]:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK", prefecture="大阪府")
    make_user(db, tokyo, "sato")
    make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    make_user(db, osaka, "kimura")
    return {"tokyo": tokyo, "osaka": osaka}


def line_consultation(db: Session, center: Any, sender: str = "Urecord1") -> tuple[int, date]:
    at = now_utc() - timedelta(days=20)
    ids = {
        receive(db, center, text, sender=sender, at=at + timedelta(minutes=i)).ticket_id
        for i, text in enumerate(LINE)
    }
    assert len(ids) == 1  # one consultation, one ticket
    return ids.pop(), jst_date(at)


def last_month_15(day: date) -> str:
    first = day.replace(day=1) - timedelta(days=1)
    return first.replace(day=15).isoformat()


def export_ids(client: TestClient, headers: dict[str, str]) -> set[str]:
    res = client.get(
        f"/api/exports/cases.csv?date_from=2020-01-01&date_to={today_jst() + timedelta(days=2)}",
        headers=headers,
    )
    assert res.status_code == 200, res.text
    return {r["受付番号"] for r in csv.DictReader(io.StringIO(res.text.lstrip("\ufeff")))}


def submit_complete(client: TestClient, ticket_id: int, headers: dict[str, str], **extra: Any) -> None:
    res = client.patch(
        f"/api/tickets/{ticket_id}/record", json={"values": {**COMPLETE, **extra}}, headers=headers
    )
    assert res.status_code == 200, res.text
    res = client.post(f"/api/tickets/{ticket_id}/record/submit", json={}, headers=headers)
    assert res.status_code == 200, res.text


def test_line_consultation_is_prefilled_checked_approved_and_exported(
    client: TestClient, db: Session
) -> None:
    w = world(db)
    ticket_id, day = line_consultation(db, w["tokyo"])
    other = receive(db, w["tokyo"], "別の相談です", sender="Uother").ticket_id  # never approved
    sato, boss = login(client, "sato"), login(client, "boss")

    res = client.get(f"/api/tickets/{ticket_id}/record/prefill", headers=sato)
    assert res.status_code == 200, res.text
    got = {s["field"]: s for s in res.json()["suggestions"]}
    assert got["contract_amount"]["value"] == 850_000 and got["paid_amount"]["value"] == 100_000
    assert got["contract_date"]["value"] == last_month_15(day)  # 先月 of the message's JST day
    assert got["document_date"]["value"] == last_month_15(day) and got["sales_method"]["value"] == "訪問販売"
    assert got["business_name"]["value"] == "株式会社ミライホーム" and got["age_band"]["value"] == "70歳以上"
    assert "85万円" in got["contract_amount"]["source"] and got["contract_amount"]["label"] == "契約購入金額"
    # nothing is a fact before the counselor accepts it
    assert (
        "contract_amount" not in client.get(f"/api/tickets/{ticket_id}/record", headers=sato).json()["values"]
    )

    choices = [{"field": f, "choice": "accept", "suggested": s["value"], "confidence": s["confidence"],
                "source": s["source"]} for f, s in got.items() if f != "paid_amount"]  # fmt: skip
    choices.append(
        {"field": "paid_amount", "choice": "edit", "suggested": 100_000, "value": 1_000_000}
    )  # mistyped
    res = client.post(f"/api/tickets/{ticket_id}/record/choices", json={"choices": choices}, headers=sato)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["values"]["contract_amount"] == 850_000 and body["values"]["paid_amount"] == 1_000_000
    caught = [v for v in body["violations"] if v["rule"] == "paid_le_contract"]
    assert caught and caught[0]["field"] == "paid_amount" and "既支払額" in caught[0]["message"]

    res = client.post(f"/api/tickets/{ticket_id}/record/submit", json={}, headers=sato)
    assert (
        res.status_code == 422 and "既支払額" in res.json()["detail"] and "相談概要" in res.json()["detail"]
    )

    fix = {"paid_amount": 100_000, **{k: COMPLETE[k] for k in ("summary", "content_keywords", "outcome")}}
    res = client.patch(
        f"/api/tickets/{ticket_id}/record", json={"values": fix, "version": body["version"]}, headers=sato
    )
    assert res.status_code == 200, res.text
    assert [v for v in res.json()["violations"] if v["severity"] == "error"] == []
    res = client.post(f"/api/tickets/{ticket_id}/record/submit", json={}, headers=sato)
    assert res.status_code == 200 and res.json()["status"] == "submitted"
    assert client.post(f"/api/tickets/{ticket_id}/record/submit", json={}, headers=sato).status_code == 409

    assert client.post(f"/api/tickets/{ticket_id}/record/approve", headers=sato).status_code == 403
    queue = client.get("/api/records/queue", headers=boss).json()
    assert [q["ticket_id"] for q in queue] == [ticket_id]
    assert export_ids(client, boss) == set()  # submitted is not approved

    res = client.post(f"/api/tickets/{ticket_id}/record/approve", headers=boss)
    assert res.status_code == 200 and res.json()["status"] == "approved"
    assert client.get("/api/records/queue", headers=boss).json() == []
    ticket = client.get(f"/api/tickets/{ticket_id}", headers=sato).json()
    assert ticket["contract_amount"] == 850_000 and ticket["paid_amount"] == 100_000
    assert ticket["sales_method"] == "訪問販売"
    assert export_ids(client, boss) == {str(ticket_id)} and str(other) not in export_ids(client, boss)

    res = client.patch(f"/api/tickets/{ticket_id}/record", json={"values": {"paid_amount": 0}}, headers=boss)
    assert res.status_code == 409  # approved is locked
    reopen = f"/api/tickets/{ticket_id}/record/reopen"
    assert client.post(reopen, json={"reason": "金額の補正"}, headers=sato).status_code == 403
    assert client.post(reopen, json={"reason": ""}, headers=boss).status_code == 422
    res = client.post(reopen, json={"reason": "契約書で金額を確認して補正"}, headers=boss)
    assert res.status_code == 200 and res.json()["status"] == "submitted"
    assert export_ids(client, boss) == set()  # no longer approved: no longer counted
    assert client.post(reopen, json={"reason": "again"}, headers=boss).status_code == 409
    res = client.patch(
        f"/api/tickets/{ticket_id}/record", json={"values": {"paid_amount": 120_000}}, headers=boss
    )
    assert res.status_code == 200
    assert (
        client.post(f"/api/tickets/{ticket_id}/record/approve", headers=boss).json()["status"] == "approved"
    )
    assert client.get(f"/api/tickets/{ticket_id}", headers=sato).json()["paid_amount"] == 120_000
    assert export_ids(client, boss) == {str(ticket_id)}

    history = client.get(f"/api/tickets/{ticket_id}/record/history", headers=sato).json()
    edits = [h for h in history if h["action"] == "edit" and h["field"] == "paid_amount"]
    assert [(h["old"], h["new"]) for h in edits] == [
        (None, 1_000_000),
        (1_000_000, 100_000),
        (100_000, 120_000),
    ]
    assert [h["action"] for h in history if h["action"] != "edit"] == [
        "submit",
        "approve",
        "reopen",
        "approve",
    ]
    db.commit()
    actions = {a.action for a in db.exec(select(AuditLog).where(AuditLog.object_type == "case_record"))}
    assert {"record.edit", "record.submit", "record.approve"} <= actions
    feedback = db.exec(select(RecordFieldFeedback).where(RecordFieldFeedback.ticket_id == ticket_id)).all()
    assert {(f.field, f.choice) for f in feedback} >= {("contract_amount", "accept"), ("paid_amount", "edit")}


def test_queue_is_serious_first_then_oldest_and_returns_show_the_diff(
    client: TestClient, db: Session
) -> None:
    w = world(db)
    sato, boss = login(client, "sato"), login(client, "boss")
    old = receive(db, w["tokyo"], "屋根工事の相談", sender="U1").ticket_id
    new = receive(db, w["tokyo"], "布団の相談", sender="U2").ticket_id
    serious = receive(db, w["tokyo"], "ヒーターから発火した", sender="U3").ticket_id
    draft = receive(db, w["tokyo"], "まだ下書き", sender="U4").ticket_id
    foreign = receive(db, w["osaka"], "大阪の相談", sender="U5").ticket_id
    db.add(AccidentReport(ticket_id=serious, status=AccidentReportStatus.NOTIFIED, notified_at=now_utc()))
    db.commit()
    submit_complete(client, old, sato)
    submit_complete(client, new, sato)
    submit_complete(client, serious, sato, serious_accident=True)
    assert [q["ticket_id"] for q in client.get("/api/records/queue", headers=boss).json()] == [
        serious,
        old,
        new,
    ]

    res = client.post(f"/api/tickets/{old}/record/return", json={"comments": {"contract_amount": "契約書の金額を確認", "outcome": " "}}, headers=boss)  # fmt: skip
    assert res.status_code == 200 and res.json()["status"] == "returned"
    assert res.json()["comments"] == {"contract_amount": "契約書の金額を確認"}  # blank comments dropped
    assert (
        client.post(
            f"/api/tickets/{old}/record/return", json={"comments": {"nope": "x"}}, headers=boss
        ).status_code
        == 422
    )
    res = client.patch(
        f"/api/tickets/{old}/record", json={"values": {"contract_amount": 800_000}}, headers=sato
    )
    assert res.status_code == 200
    assert (
        client.post(f"/api/tickets/{old}/record/submit", json={}, headers=sato).json()["status"]
        == "submitted"
    )
    queue = {q["ticket_id"]: q for q in client.get("/api/records/queue", headers=boss).json()}
    assert queue[old]["diff_since_review"] == [{"field": "contract_amount", "old": 850_000, "new": 800_000}]

    res = client.post(
        "/api/records/approve", json={"ticket_ids": [old, new, draft, foreign, old]}, headers=boss
    )
    assert res.status_code == 200, res.text
    assert res.json()["approved"] == [old, new]
    assert set(res.json()["skipped"]) == {str(draft), str(foreign)}
    assert "another center" in res.json()["skipped"][str(foreign)]
    assert [q["ticket_id"] for q in client.get("/api/records/queue", headers=boss).json()] == [serious]


def test_a_serious_accident_without_notification_cannot_be_submitted(client: TestClient, db: Session) -> None:
    w = world(db)
    sato = login(client, "sato")
    ticket = receive(db, w["tokyo"], "ストーブから火が出た", sender="U9").ticket_id
    client.patch(
        f"/api/tickets/{ticket}/record", json={"values": {**COMPLETE, "serious_accident": True}}, headers=sato
    )
    res = client.post(f"/api/tickets/{ticket}/record/submit", json={}, headers=sato)
    assert res.status_code == 422 and "消費者庁" in res.json()["detail"]


def test_garbage_duplicates_and_stale_writes_store_nothing(client: TestClient, db: Session) -> None:
    w = world(db)
    sato, kimura = login(client, "sato"), login(client, "kimura")
    ticket = receive(db, w["tokyo"], "定期購入の解約", sender="U7").ticket_id
    url = f"/api/tickets/{ticket}/record"
    bad = [
        {"values": {"nickname": "x"}},
        {"values": {"sales_method": "押し売り"}},
        {"values": {"contract_amount": "12万円"}},
        {"values": {"contract_date": "2026-02-30"}},
        {"values": {f"f{i}": 1 for i in range(41)}},
        {"values": {"summary": "a" * 5000}},
        {"values": {"summary": {"nested": ["x"]}}},
        {"values": {}, "extra": 1},
    ]
    for body in bad:
        res = client.patch(url, json=body, headers=sato)
        assert res.status_code == 422, (body, res.text)
        assert res.json()["detail"]
    assert "販売購入形態" in client.patch(url, json=bad[1], headers=sato).json()["detail"]
    for raw in (b'{"values": {"summary": "\\ud800"}}', b"\xff\xfe not json", b"[1, 2"):
        res = client.patch(url, content=raw, headers={**sato, "Content-Type": "application/json"})
        assert res.status_code in (400, 422) and res.json()["detail"], raw
    db.commit()
    assert db.exec(select(CaseRecordChange)).all() == []  # nothing invalid was stored
    db.commit()  # SQLite: end the read before the API writes

    assert client.patch(url, json={"values": {"contract_amount": 5000}}, headers=sato).status_code == 200
    assert (
        client.patch(url, json={"values": {"contract_amount": 6000}, "version": 0}, headers=sato).status_code
        == 409
    )
    assert (
        client.patch(url, json={"values": {"contract_amount": 5000}}, headers=sato).json()["version"] == 1
    )  # same value: no new version
    assert client.get(url, headers=kimura).status_code == 403

    accept = {"choices": [{"field": "sales_method", "choice": "accept", "suggested": "通信販売"}]}
    for _ in range(2):
        assert client.post(f"{url}/choices", json=accept, headers=sato).status_code == 200
    db.commit()
    rows = db.exec(select(RecordFieldFeedback).where(RecordFieldFeedback.ticket_id == ticket)).all()
    assert [(r.field, r.choice) for r in rows] == [("sales_method", "accept")]  # stored once
    learned = db.exec(select(LabelFeedback).where(LabelFeedback.ticket_id == ticket)).all()
    assert [(r.field, r.chosen) for r in learned] == [("sales_method", "通信販売")]  # the suggesters learn it
    db.commit()
    for body in (
        {"choices": [{"field": "outcome", "choice": "accept"}]},  # nothing suggested to accept
        {"choices": [{"field": "outcome", "choice": "edit", "value": "勝手な値"}]},
        {"choices": [{"field": "outcome", "choice": "reject"}, {"field": "outcome", "choice": "reject"}]},
        {"choices": [{"field": "outcome", "choice": "maybe"}]},
        {"choices": []},
    ):
        assert client.post(f"{url}/choices", json=body, headers=sato).status_code == 422, body
    db.commit()
    assert len(db.exec(select(RecordFieldFeedback).where(RecordFieldFeedback.ticket_id == ticket)).all()) == 1
    db.commit()
    res = client.post(f"{url}/choices", json={"choices": [{"field": "outcome", "choice": "reject", "suggested": "他機関紹介"}]}, headers=sato)  # fmt: skip
    assert res.status_code == 200 and "outcome" not in res.json()["values"]  # a reject stores no value
    res = client.post(
        f"{url}/validate", json={"values": {"paid_amount": 9000, "contract_amount": 100}}, headers=sato
    )
    assert any(v["rule"] == "paid_le_contract" for v in res.json())
    db.commit()
    assert db.get(Ticket, ticket).paid_amount is None  # type: ignore[union-attr]  # validate stores nothing


def test_a_phone_memo_typed_after_the_call_prefills_the_record(client: TestClient, db: Session) -> None:
    w = world(db)
    sato = login(client, "sato")
    ticket = receive(db, w["tokyo"], "電話相談", sender="Uphone").ticket_id
    memo = "60代女性、主婦。11/8、展示会で羽毛布団を勧められ契約。代金498,000円、頭金5万円は当日払った。書面は当日受領。事業者：有限会社ハッピーライフ。→クーリングオフ可、通知書の書き方を助言。"
    assert client.post(f"/api/tickets/{ticket}/notes", json={"body": memo}, headers=sato).status_code == 201
    got = {s["field"]: s["value"] for s in client.get(f"/api/tickets/{ticket}/record/prefill", headers=sato).json()["suggestions"]}  # fmt: skip
    assert got["contract_amount"] == 498_000 and got["paid_amount"] == 50_000
    assert got["contract_date"].endswith("-11-08") and got["payment_date"] == got["contract_date"]
    assert got["document_date"] == got["contract_date"] and got["business_name"] == "有限会社ハッピーライフ"
    assert (
        got["age_band"] == "60歳代"
        and got["occupation"] == "家事従事者"
        and got["outcome"] == "助言(自主交渉)"
    )


def test_a_submitted_record_is_corrected_only_by_a_supervisor_and_versioned(
    client: TestClient, db: Session
) -> None:
    w = world(db)
    sato, boss = login(client, "sato"), login(client, "boss")
    ticket = receive(db, w["tokyo"], "屋根工事の相談", sender="Ufix").ticket_id
    submit_complete(client, ticket, sato)
    url = f"/api/tickets/{ticket}/record"
    assert client.patch(url, json={"values": {"contract_amount": 1}}, headers=sato).status_code == 409
    res = client.patch(url, json={"values": {"business_name": "株式会社ミライホーム"}}, headers=boss)
    assert res.status_code == 200 and res.json()["status"] == "submitted"  # データ補正 keeps it in review
    history = client.get(f"{url}/history", headers=sato).json()
    last = history[-1]
    assert (last["action"], last["field"], last["old"], last["new"]) == (
        "edit",
        "business_name",
        None,
        "株式会社ミライホーム",
    )
    assert last["actor_id"] != history[0]["actor_id"]  # who: the supervisor, not the counselor


def test_a_submitted_record_is_not_bypassed_by_a_direct_ticket_edit(client: TestClient, db: Session) -> None:
    """The ticket's PIO-NET columns are what exports count once approved: after submission they change
    only through the (versioned, reviewed) record, never by PATCH /api/tickets/{id}."""
    w = world(db)
    ticket_id, _ = line_consultation(db, w["tokyo"], sender="Ubypass")
    sato, boss = login(client, "sato"), login(client, "boss")
    res = client.patch(f"/api/tickets/{ticket_id}", json={"contract_amount": 900_000}, headers=sato)
    assert res.status_code == 200, res.text  # a draft: the ticket field is still the counselor's to type
    submit_complete(client, ticket_id, sato)
    res = client.patch(f"/api/tickets/{ticket_id}", json={"contract_amount": 1}, headers=sato)
    assert res.status_code == 409 and "contract_amount" in res.json()["detail"], res.text
    assert client.post(f"/api/tickets/{ticket_id}/record/approve", json={}, headers=boss).status_code == 200
    res = client.patch(f"/api/tickets/{ticket_id}", json={"paid_amount": 5, "priority": 1}, headers=boss)
    assert res.status_code == 409 and "reopen" in res.json()["detail"], res.text
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.contract_amount == 850_000 and ticket.paid_amount is None
