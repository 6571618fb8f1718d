"""The knowledge API as counselors and supervisors use it (SQLite or PostgreSQL, from the env)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from config.runtime import Runtime
from crm.models import Role, Ticket, TicketStatus
from tests.api.conftest import login
from tests.clock import Instant
from tests.factories import make_center, make_user, receive

DOCS = [
    {
        "id": "faq-teiki",
        "kind": "faq",
        "title": "定期購入の解約",
        "body": "お試しのつもりで注文したら定期購入だった。解約の条件を確認し、事業者に解約を申し出る。",
        "tags": ["定期購入"],
    },
    {
        "id": "law-co",
        "kind": "law",
        "title": "消費者安全法施行規則 第一条",
        "body": "中毒の原因となる物質は、一酸化炭素とする。",
    },
    {
        "id": "adv-roof",
        "kind": "advice",
        "title": "屋根の無料点検",
        "body": "点検商法：屋根が壊れていると言われ工事を契約。訪問販売はクーリング・オフができる。",
    },
]


def _setup(db: Session) -> dict:
    tokyo = make_center(db, "TKY")
    osaka = make_center(db, "OSK", prefecture="大阪府")
    make_user(db, tokyo, "sato")
    make_user(db, osaka, "kimura")
    make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    return {"tokyo": tokyo, "osaka": osaka}


def test_supervisor_uploads_and_counselor_finds_with_highlight(client: TestClient, db: Session) -> None:
    c = _setup(db)
    boss, sato = login(client, "boss"), login(client, "sato")
    own = [{**d, "center_id": c["tokyo"].id} for d in DOCS]  # shared documents are an admin's
    res = client.post("/api/knowledge/documents", json=own, headers=boss)
    assert res.status_code == 200, res.text
    assert res.json() == {"upserted": 3}
    hits = client.get(
        "/api/knowledge/search", params={"q": "サブスクをキャンセルしたい"}, headers=sato
    ).json()
    assert hits[0]["id"] == "faq-teiki"
    assert "<mark>" in hits[0]["snippet"] and "定期購入" in hits[0]["matched_terms"]
    kinds = client.get(
        "/api/knowledge/search", params={"q": "一酸化炭素", "kind": "faq"}, headers=sato
    ).json()
    assert kinds == []
    assert client.delete("/api/knowledge/documents/faq-teiki", headers=boss).status_code == 204
    assert client.delete("/api/knowledge/documents/faq-teiki", headers=boss).status_code == 404
    assert client.get("/api/knowledge/search", params={"q": "定期購入"}, headers=sato).json() == []


def test_bad_uploads_are_refused_with_clear_messages(client: TestClient, db: Session) -> None:
    _setup(db)
    boss, sato = login(client, "boss"), login(client, "sato")
    assert client.post("/api/knowledge/documents", json=DOCS, headers=sato).status_code == 403
    post = lambda body, **kw: client.post("/api/knowledge/documents", headers={**boss, **kw}, content=body)  # noqa: E731
    res = post(b"\xff\xfe not json")
    assert res.status_code == 422 and "UTF-8 JSON" in res.json()["detail"]
    assert post(b"{}").status_code == 422
    res = client.post("/api/knowledge/documents", json=[{**DOCS[0], "kind": "gossip"}], headers=boss)
    assert res.status_code == 422 and "kind" in res.json()["detail"]
    res = client.post("/api/knowledge/documents", json=[{**DOCS[0], "id": "../etc"}], headers=boss)
    assert res.status_code == 422
    res = client.post("/api/knowledge/documents", json=[DOCS[0]] * 501, headers=boss)
    assert res.status_code == 413
    res = client.post("/api/knowledge/documents", json=[{**DOCS[0], "body": "あ" * 60_000}], headers=boss)
    assert res.status_code == 422
    assert client.get("/api/knowledge/search", params={"q": ""}, headers=sato).status_code == 422
    assert client.get("/api/knowledge/search", params={"q": "x", "k": 0}, headers=sato).status_code == 422
    client.cookies.clear()  # login() also set the console's session cookie
    assert client.get("/api/knowledge/search", params={"q": "解約"}).status_code == 401


def test_resolved_ticket_becomes_a_masked_similar_case_for_other_centers(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    c = _setup(db)
    sato, kimura = login(client, "sato"), login(client, "kimura")
    old = receive(
        db,
        c["tokyo"],
        "山田花子です。お試しのサプリが定期購入になっていて解約できない。090-1234-5678",
        sender="U1",
    )
    res = client.patch(
        f"/api/tickets/{old.ticket_id}",
        json={
            "status": "resolved",
            "summary": "山田花子さん(090-1234-5678)。お試しのサプリが定期購入で解約できない。",
            "sales_method": "通信販売",
            "product_category": "健康食品",
        },
        headers=sato,
    )
    assert res.status_code == 200, res.text
    app_runtime.jobs.drain()
    new = receive(db, c["osaka"], "サプリのお試しを頼んだら定期購入で、解約したい", sender="U2")
    res = client.get(f"/api/tickets/{new.ticket_id}/similar", headers=kimura)
    assert res.status_code == 200, res.text
    hits = res.json()
    assert hits and hits[0]["id"] == f"ticket-{old.ticket_id}"
    shown = hits[0]["title"] + hits[0]["snippet"]
    assert "山田" not in shown and "090" not in shown and "1234" not in shown
    assert hits[0]["labels"]["product_category"] == "健康食品"
    sug = client.get(f"/api/tickets/{new.ticket_id}/suggestions", headers=kimura).json()
    assert sug["categories"]["product_category"][0]["label"] == "健康食品"
    assert sug["categories"]["sales_method"][0]["label"] == "通信販売"
    assert sug["cooling_off"]["applicable"] is False
    assert client.get(f"/api/tickets/{old.ticket_id}/similar", headers=kimura).status_code == 403


def test_feedback_is_learned_from(client: TestClient, app_runtime: Runtime, db: Session) -> None:
    c = _setup(db)
    sato = login(client, "sato")
    t = receive(db, c["tokyo"], "ウォーターサーバーの契約をやめたい", sender="U3")
    before = client.get(f"/api/tickets/{t.ticket_id}/suggestions", headers=sato).json()["categories"]
    assert all(s["label"] != "他の商品" for s in before["product_category"])
    res = client.post(
        f"/api/tickets/{t.ticket_id}/suggestions/feedback",
        headers=sato,
        json={"product_category": "他の商品", "suggested": {"product_category": None}},
    )
    assert res.status_code == 204, res.text
    t2 = receive(db, c["tokyo"], "ウォーターサーバーを解約したい", sender="U4")
    after = client.get(f"/api/tickets/{t2.ticket_id}/suggestions", headers=sato).json()["categories"]
    assert after["product_category"][0]["label"] == "他の商品"
    assert "counselor corrections" in after["product_category"][0]["sources"]
    bad = client.post(f"/api/tickets/{t.ticket_id}/suggestions/feedback", headers=sato, json={"nope": 1})
    assert bad.status_code == 422


def test_suggestions_flag_serious_accidents_and_cooling_off(client: TestClient, db: Session) -> None:
    c = _setup(db)
    sato = login(client, "sato")
    t = receive(db, c["tokyo"], "訪問販売で買ったストーブから出火して、父が全治２か月のやけど", sender="U5")
    ticket = db.get(Ticket, t.ticket_id)
    assert ticket is not None and ticket.status != TicketStatus.RESOLVED
    db.commit()  # SQLite: release the write lock before calling the API
    res = client.get(
        f"/api/tickets/{t.ticket_id}/suggestions", params={"document_received": "2024-05-01"}, headers=sato
    )
    body = res.json()
    assert any("火災" in r for r in body["serious_accident_reasons"])
    assert any("30日" in r for r in body["serious_accident_reasons"])
    assert body["cooling_off"]["last_day"] == "2024-05-08"
    res = client.get("/api/knowledge/cooling-off", params={"sales_type": "bogus"}, headers=sato)
    assert res.status_code == 422 and "unknown sales type" in res.json()["detail"]


def test_cooling_off_reads_the_stated_document_day_in_jst(
    jst_clock: Instant, client: TestClient, db: Session
) -> None:
    center = make_center(db, "TKY")
    make_user(db, center, "sato")
    got = receive(db, center, "訪問販売で浄水器を契約しました。契約書は昨日もらいました。", sender="U7")
    ticket = db.get(Ticket, got.ticket_id)
    assert ticket is not None
    ticket.sales_method = "訪問販売"
    db.add(ticket)
    db.commit()
    res = client.get(f"/api/tickets/{got.ticket_id}/suggestions", headers=login(client, "sato"))
    assert res.status_code == 200, res.text
    cooling = res.json()["cooling_off"]
    yesterday = jst_clock.day - timedelta(days=1)  # the JST day before the message, at every hour
    assert cooling["start_day"] == yesterday.isoformat()
    assert cooling["last_day"] == (yesterday + timedelta(days=7)).isoformat() and cooling["days_left"] == 6
    assert "stated in the consumer's message" in cooling["notes"][0]


def test_a_possible_accident_asks_the_counselor_to_confirm_and_a_draft_flags_it(
    client: TestClient, db: Session
) -> None:
    """要確認: a near miss is not flagged (no queue jump, no alert) but shown with its reasons; preparing
    the notification draft is the counselor's confirmation and flags the ticket."""
    c = _setup(db)
    sato = login(client, "sato")
    t = receive(
        db, c["tokyo"], "ドライヤーから煙が出て焦げ臭かった。もう少しで火事になるところでした", sender="U6"
    )
    minor = receive(db, c["tokyo"], "子どもが転んで膝をすりむいた", sender="U7")
    db.commit()
    body = client.get(f"/api/tickets/{t.ticket_id}/suggestions", headers=sato).json()
    assert body["serious_accident_reasons"] == []
    assert any("near miss" in r and "火事" in r for r in body["possible_accident_reasons"])
    assert client.get(f"/api/tickets/{t.ticket_id}", headers=sato).json()["serious_accident"] is False
    plain = client.get(f"/api/tickets/{minor.ticket_id}/suggestions", headers=sato).json()
    assert plain["possible_accident_reasons"] == [] and plain["serious_accident_reasons"] == []
    draft = client.post(f"/api/tickets/{t.ticket_id}/accident-reports", headers=sato)
    assert draft.status_code in (200, 201), draft.text
    assert client.get(f"/api/tickets/{t.ticket_id}", headers=sato).json()["serious_accident"] is True


def test_an_accident_told_only_in_a_counselor_note_shows_its_reasons(client: TestClient, db: Session) -> None:
    """The call was about a refund; the 重大事故等 is only in the note typed after it."""
    c = _setup(db)
    sato = login(client, "sato")
    t = receive(db, c["tokyo"], "通販で買った電気ケトルを返品したいです", sender="U8")
    db.commit()
    before = client.get(f"/api/tickets/{t.ticket_id}/suggestions", headers=sato).json()
    assert before["serious_accident_reasons"] == []
    note = {"body": "聴取: ケトルの底から出火し、台所の壁まで燃えた。消防が来たとのこと。"}
    assert client.post(f"/api/tickets/{t.ticket_id}/notes", headers=sato, json=note).status_code in (200, 201)
    body = client.get(f"/api/tickets/{t.ticket_id}/suggestions", headers=sato).json()
    assert any("[rule fire]" in r for r in body["serious_accident_reasons"]), body
    assert body["possible_accident_reasons"] == []
    assert client.get(f"/api/tickets/{t.ticket_id}", headers=sato).json()["serious_accident"] is True
