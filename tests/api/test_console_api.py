"""The console's API additions: worklist filters, contact sidebar, canned responses, claim, wallboard."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from channels.base import ChannelKind
from config.runtime import Runtime
from crm.models import ContactPersonalData, Role, Ticket, TicketStatus, utcnow
from routing.hammer import ALWAYS_OPEN
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive


def _ids(res: object) -> list[int]:
    return [t["id"] for t in res.json()["items"]]  # type: ignore[attr-defined]


def test_worklist_filters_search_sort_and_paging(client: TestClient, db: Session) -> None:
    center = make_center(db)
    sato = make_user(db, center, "sato")
    r1 = receive(db, center, "エステの解約ができない", sender="U1").ticket_id
    r2 = receive(db, center, "電気ストーブから出火しました", sender="U2").ticket_id
    r3 = receive(db, center, "通販の返品", sender="U3").ticket_id
    t1 = db.get(Ticket, r1)
    t1.assignee_id, t1.status = sato.id, TicketStatus.ASSIGNED  # type: ignore[union-attr]
    t3 = db.get(Ticket, r3)
    t3.status = TicketStatus.RESOLVED  # type: ignore[union-attr]
    db.commit()
    h = login(client, "sato")
    assert _ids(client.get("/api/tickets?q=解約", headers=h)) == [r1]
    assert _ids(client.get("/api/tickets?q=エステ%20解約", headers=h)) == [r1]  # every word must appear
    assert _ids(client.get("/api/tickets?q=100%25", headers=h)) == []  # % is a character, not a wildcard
    assert set(_ids(client.get("/api/tickets?unassigned=true", headers=h))) == {r2, r3}
    assert set(_ids(client.get("/api/tickets?open=true", headers=h))) == {r1, r2}
    serious = client.get("/api/tickets?serious=true", headers=h).json()["items"]
    assert [t["id"] for t in serious] == [r2] and serious[0]["serious_accident"]
    assert _ids(client.get("/api/tickets?sort=oldest", headers=h)) == [r1, r2, r3]
    page = client.get("/api/tickets?sort=oldest&limit=2&offset=2", headers=h).json()
    assert (page["total"], [t["id"] for t in page["items"]]) == (3, [r3])
    waiting = client.get("/api/tickets?sort=waiting&open=true", headers=h).json()["items"]
    assert waiting[0]["queued_at"] is None or waiting[0]["id"] in (r1, r2)
    for bad in ("sort=random", "q=" + "x" * 101, "offset=-1", "unassigned=perhaps"):
        res = client.get(f"/api/tickets?{bad}", headers=h)
        assert res.status_code == 422 and res.json()["detail"], bad


def test_contact_sidebar_only_for_the_handling_center(client: TestClient, db: Session) -> None:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK")
    make_user(db, tokyo, "sato")
    make_user(db, osaka, "kato")
    first = receive(db, tokyo, "定期購入の解約", sender="U-same").ticket_id
    ticket = db.get(Ticket, first)
    contact_id = ticket.contact_id  # type: ignore[union-attr]
    ticket.status = TicketStatus.RESOLVED  # type: ignore[union-attr]
    db.add(ContactPersonalData(contact_id=contact_id, full_name="山田花子", consent_to_share=True))
    db.commit()
    second = receive(db, tokyo, "また相談です", sender="U-same").ticket_id
    receive(db, tokyo, "メールでの相談", sender="hanako@example.jp", channel=ChannelKind.EMAIL)
    db.commit()
    res = client.get(f"/api/contacts/{contact_id}", headers=login(client, "sato"))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["display_name"] == "山田花子" and body["consent_to_share"] is True
    assert [i["address"] for i in body["identities"]] == ["U-same"]
    assert {c["id"] for c in body["consultations"]} == {first, second}
    other = client.get(f"/api/contacts/{contact_id}", headers=login(client, "kato"))
    assert other.status_code == 403 and "no consultation at your center" in other.json()["detail"]
    assert client.get("/api/contacts/999999", headers=login(client, "sato")).status_code == 404
    assert client.get("/api/contacts/abc", headers=login(client, "sato")).status_code == 422


def test_canned_responses_fill_variables_and_refuse_unknown_ones(client: TestClient, db: Session) -> None:
    center = make_center(db, name="杉並区消費者センター")
    make_user(db, center, "sato", display_name="佐藤")
    make_user(db, center, "boss", role=Role.SUPERVISOR)
    ticket_id = receive(db, center, "相談です", sender="U-tpl").ticket_id
    db.commit()
    c, s = login(client, "sato"), login(client, "boss")
    built_in = client.get(f"/api/templates?ticket_id={ticket_id}", headers=c).json()
    assert (
        built_in and built_in[0]["id"] is None and "杉並区消費者センターの佐藤です" in built_in[0]["filled"]
    )
    body = {"title": "受付", "body": "{consumer_name}様、受付番号は{ticket_id}です（{today}）。"}
    assert client.post("/api/templates", json=body, headers=c).status_code == 403  # counselors cannot add
    created = client.post("/api/templates", json=body, headers=s)
    assert created.status_code == 201, created.text
    assert client.post("/api/templates", json=body, headers=s).status_code == 409  # nothing stored twice
    typo = client.post("/api/templates", json={"title": "誤り", "body": "{consumer_nmae}様"}, headers=s)
    assert typo.status_code == 400 and "{consumer_name}" in typo.json()["detail"]
    for bad in ({"title": "", "body": "x"}, {"title": "x", "body": ""}, {"title": "x", "body": "y" * 5001},
                {"title": "x", "body": "y", "extra": 1}):  # fmt: skip
        assert client.post("/api/templates", json=bad, headers=s).status_code == 422, bad
    mine = client.get(f"/api/templates?ticket_id={ticket_id}", headers=c).json()
    assert [t["title"] for t in mine] == ["受付"]
    assert (
        mine[0]["filled"].startswith(f"相談者様、受付番号は{ticket_id}です（") and "年" in mine[0]["filled"]
    )
    assert client.delete(f"/api/templates/{created.json()['id']}", headers=s).status_code == 204
    assert client.delete(f"/api/templates/{created.json()['id']}", headers=s).status_code == 404


def test_assign_to_me_takes_a_waiting_ticket_once(
    client: TestClient, db: Session, app_runtime: Runtime
) -> None:
    center = make_center(db, hours=ALWAYS_OPEN)
    aoki_id = make_user(db, center, "aoki").id
    make_user(db, center, "baba")
    ticket_id = receive(db, center, "助けてください", sender="U-claim2").ticket_id
    db.commit()
    app_runtime.jobs.drain()
    a, b = login(client, "aoki"), login(client, "baba")
    res = client.post(f"/api/tickets/{ticket_id}/claim", headers=a)
    assert res.status_code == 200 and (res.json()["assignee_id"], res.json()["status"]) == (
        aoki_id,
        "assigned",
    )
    assert client.post(f"/api/tickets/{ticket_id}/claim", headers=a).status_code == 200  # idempotent
    taken = client.post(f"/api/tickets/{ticket_id}/claim", headers=b)
    assert taken.status_code == 409 and "assigned" in taken.json()["detail"]
    names = {c["username"] for c in client.get("/api/me/colleagues", headers=a).json()}
    assert names == {"aoki", "baba"}


def test_wallboard_figures_for_today(client: TestClient, db: Session) -> None:
    center = make_center(db, hours=ALWAYS_OPEN)
    sato = make_user(db, center, "sato")
    make_user(db, center, "boss", role=Role.SUPERVISOR)
    now = utcnow()
    answered = receive(db, center, "エステ", sender="W1").ticket_id
    waiting = receive(db, center, "電気ストーブから出火", sender="W2").ticket_id
    t = db.get(Ticket, answered)
    t.queued_at, t.assigned_at, t.resolved_at = now - timedelta(minutes=9), now - timedelta(minutes=8), now  # type: ignore[union-attr]
    t.assignee_id, t.status = sato.id, TicketStatus.RESOLVED  # type: ignore[union-attr]
    w = db.get(Ticket, waiting)
    w.status, w.queued_at = TicketStatus.QUEUED, now - timedelta(seconds=125)  # type: ignore[union-attr]
    db.commit()
    counselor = login(client, "sato")
    assert client.get("/api/wallboard", headers=counselor).status_code == 403
    board = client.get("/api/wallboard", headers=login(client, "boss")).json()
    (line,) = [q for q in board["queues"] if q["channel"] == "line"]
    assert (line["waiting"], line["offered"], line["answered"]) == (1, 2, 1)
    assert 120 <= line["longest_wait_seconds"] <= 200 and line["oldest_waiting_since"]
    assert line["aht_seconds"] == 480 and line["aht_p90_seconds"] == 480 and line["service_level"] == 1.0
    assert sum(h["arrivals"] for h in board["arrivals_by_hour"]) == 2 and len(board["arrivals_by_hour"]) == 24
    assert any(h["need"] >= 1 for h in board["arrivals_by_hour"])
    (me,) = [c for c in board["counselors"] if c["name"] == "sato"]
    assert (me["state"], me["handled_today"]) == ("offline", 1)
    assert board["alerts"][0]["ticket_id"] == waiting and board["alerts"][0]["kind"] == "serious_accident"


def test_supervisor_changes_a_counselors_state_in_their_center_only(client: TestClient, db: Session) -> None:
    tokyo, osaka = make_center(db, "TKY", hours=ALWAYS_OPEN), make_center(db, "OSK")
    sato_id = make_user(db, tokyo, "sato").id
    kato_id = make_user(db, osaka, "kato").id
    make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    db.commit()
    s = login(client, "boss")
    res = client.put(f"/api/users/{sato_id}/presence", json={"status": "break"}, headers=s)
    assert res.status_code == 200 and res.json()["status"] == "break"
    assert client.get("/api/me/presence", headers=login(client, "sato")).json()["status"] == "break"
    other = client.put(f"/api/users/{kato_id}/presence", json={"status": "offline"}, headers=s)
    assert other.status_code == 403 and "another center" in other.json()["detail"]
    for bad in ({"status": "asleep"}, {}, {"status": "break", "x": 1}):
        assert client.put(f"/api/users/{sato_id}/presence", json=bad, headers=s).status_code == 422
    assert client.put("/api/users/999999/presence", json={"status": "break"}, headers=s).status_code == 404
