"""Warm (consultative) transfers, 転送相談, played through the API and the signed Twilio webhooks.

A 188 call is queued, answered and connected; then the counselor consults a colleague. Twilio's REST
side (Participants create / update hold / delete) is the local fake server the official SDK is
pointed at. Each test asserts what people notice: who hears what (the caller held and unheld, the
consult leg rung and removed), who owns the ticket, its timeline, and the queue log behind the ACD
figures.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from config.settings import Settings
from crm.models import Message, Note, Role, Ticket, TicketStatus, User
from routing import presence
from routing.models import Offer, OfferStatus, Presence, PresenceStatus, QueueEvent
from tests.api.conftest import clean_client, login
from tests.factories import make_center, make_ticket, make_user
from tests.fakes.twilio_server import ACCOUNT_SID, FakeTwilioServer, join_softphone, sign
from tests.voice_support import (
    NUMBER,
    PUBLIC,
    add_188_number,
    form,
    rt_of,
    step,
    tokyo_centers,
    twilio_settings,
)

LEG = "CA" + "e" * 32  # the counselor's softphone leg in the conference


@pytest.fixture
def twilio() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer() as server:
        yield server


@pytest.fixture
def voice(migrated: Settings, twilio: FakeTwilioServer) -> Iterator[TestClient]:
    settings = twilio_settings(migrated, twilio)
    with clean_client(settings) as c:
        with Session(rt_of(c).engine, expire_on_commit=False) as s:
            tokyo, setagaya = tokyo_centers(s)
            make_center(s, "osaka", level="prefectural", prefecture="大阪府", postal_prefixes=["530"])
            counselor = make_user(s, setagaya, "setagaya-counselor")
            make_user(s, setagaya, "setagaya-second", display_name="佐藤")
            make_user(s, setagaya, "setagaya-offline")
            make_user(s, setagaya, "setagaya-lead", role=Role.SUPERVISOR)
            make_user(s, tokyo, "tokyo-counselor", display_name="鈴木")
            presence.set_presence(s, user=counselor, status=PresenceStatus.AVAILABLE, settings=settings)
            c.public_id = add_188_number(s, settings)  # type: ignore[attr-defined]
        c.headers_of = {}  # type: ignore[attr-defined]
        yield c


def as_(client: TestClient, username: str) -> dict[str, str]:
    cache: dict[str, dict[str, str]] = client.headers_of  # type: ignore[attr-defined]
    if username not in cache:
        cache[username] = login(client, username)
    return cache[username]


def uid(client: TestClient, username: str) -> int:
    with Session(rt_of(client).engine) as s:
        return int(s.exec(select(User.id).where(User.username == username)).one())  # type: ignore[arg-type]


def available(client: TestClient, *usernames: str) -> None:
    rt = rt_of(client)
    with Session(rt.engine) as s:
        for name in usernames:
            user = s.exec(select(User).where(User.username == name)).one()
            presence.set_presence(s, user=user, status=PresenceStatus.AVAILABLE, settings=rt.settings)


def status_of(client: TestClient, username: str) -> PresenceStatus:
    with Session(rt_of(client).engine) as s:
        found = s.get(Presence, uid(client, username))
        assert found is not None
        return found.status


def post(client: TestClient, path: str, form: dict[str, str]) -> ET.Element:
    res = client.post(path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC + path, form)})
    assert res.status_code == 200, res.text
    return ET.fromstring(res.text)


def connected_call(client: TestClient, twilio: FakeTwilioServer, sid: str) -> int:
    """A 188 call queued at 世田谷, accepted by setagaya-counselor, connected, their softphone joined."""
    twilio.live_call(sid)
    post(client, "/channels/twilio/voice", form(sid))
    post(client, step(client, "menu"), form(sid, Digits="1"))
    post(client, step(client, "postal", "attempt=1"), form(sid, Digits="1540001"))
    rt_of(client).jobs.drain()
    headers = as_(client, "setagaya-counselor")
    offers = client.get("/api/offers", headers=headers).json()
    assert len(offers) == 1, offers
    assert client.post(f"/api/offers/{offers[0]['id']}/accept", headers=headers).status_code == 200
    rt_of(client).jobs.drain()
    with Session(rt_of(client).engine) as s:
        ticket_id = int(s.exec(select(Message.ticket_id).where(Message.external_id == sid)).one())
    agent = uid(client, "setagaya-counselor")
    post(client, step(client, "connect", f"ticket={ticket_id}&agent={agent}"), form(sid))
    res = join_softphone(client, public=PUBLIC, leg=LEG, user_id=agent, ticket_id=ticket_id)
    assert res.status_code == 200 and "ticket-" in res.text
    twilio.live_conference(f"ticket-{ticket_id}", sid, LEG)
    return ticket_id


def rest_calls(twilio: FakeTwilioServer, fragment: str, method: str = "POST") -> list[dict[str, str]]:
    return [r.form for r in twilio.state.requests if fragment in r.path and r.method == method]


def consult_leg_of(twilio: FakeTwilioServer, caller: str) -> str:
    """The CallSid of the leg our app dialed into the caller's conference."""
    for conf in twilio.state.conferences.values():
        if caller in conf["participants"]:
            return next(c for c in conf["participants"] if c not in (caller, LEG))
    raise AssertionError("no consult leg")


def created_legs(twilio: FakeTwilioServer) -> list[dict[str, str]]:
    return [
        r.form for r in twilio.state.requests if r.path.endswith("/Participants.json") and r.status == 201
    ]


def leg_status(client: TestClient, ticket_id: int, leg: str, status: str) -> None:
    post(client, step(client, "consult", f"ticket={ticket_id}"), form(leg, CallStatus=status, To="client:x"))


def notes(client: TestClient, ticket_id: int) -> list[str]:
    with Session(rt_of(client).engine) as s:
        rows = s.exec(select(Note).where(Note.ticket_id == ticket_id).order_by(col(Note.id))).all()
        return [n.body for n in rows]


def log_events(client: TestClient, sid: str) -> list[tuple[str, str, str]]:
    with Session(rt_of(client).engine) as s:
        rows = s.exec(select(QueueEvent).where(QueueEvent.call_id == sid).order_by(col(QueueEvent.id))).all()
        return [(r.event, r.queue, r.agent) for r in rows]


def the_ticket(client: TestClient, ticket_id: int) -> Ticket:
    with Session(rt_of(client).engine) as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def call_view(client: TestClient, ticket_id: int, username: str = "setagaya-counselor") -> dict[str, Any]:
    res = client.get(f"/api/voice/calls/{ticket_id}", headers=as_(client, username))
    assert res.status_code == 200, res.text
    return res.json()  # type: ignore[no-any-return]


def consult(
    client: TestClient, ticket_id: int, action: str = "", user: str = "setagaya-counselor", **body: Any
) -> Any:
    path = f"/api/voice/calls/{ticket_id}/consult" + (f"/{action}" if action else "")
    return client.post(path, json=body if not action else None, headers=as_(client, user))


def test_a_warm_transfer_to_a_colleague_hands_over_the_caller_and_the_ticket(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "1" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "setagaya-second")
    second = uid(voice, "setagaya-second")

    res = consult(voice, ticket_id, to_user_id=second, reason="契約書の読み方を相談")
    assert res.status_code == 200, res.text
    assert res.json() | {} == {
        "ticket_id": ticket_id,
        "state": "ringing",
        "to_user_id": second,
        "to_name": "佐藤",
        "to_center_code": "tokyo-setagaya",
        "caller_on_hold": True,
    }
    (created,) = created_legs(twilio)
    assert created["To"] == f"client:user-{second}" and created["From"] == NUMBER
    assert created["EndConferenceOnExit"] == "false"
    assert created["StatusCallback"] == PUBLIC + step(voice, "consult", f"ticket={ticket_id}")
    assert any(
        r.path.endswith(f"/Conferences/ticket-{ticket_id}/Participants.json") for r in twilio.state.requests
    )
    caller = twilio.participant(f"ticket-{ticket_id}", sid)
    assert caller is not None and caller["hold"] is True and caller["holdurl"] == PUBLIC + step(voice, "hold")
    assert call_view(voice, ticket_id)["consult"]["state"] == "ringing"
    assert status_of(voice, "setagaya-second") == PresenceStatus.BUSY  # routing offers them nothing meanwhile

    # what the caller hears on hold: our own TwiML, looping, nothing from a CDN
    hold = post(voice, step(voice, "hold"), form(sid))
    assert "お待ちください" in (hold.findtext("Say") or "") and hold.find("Play") is None
    assert hold.findtext("Redirect") == PUBLIC + step(voice, "hold")

    again = consult(voice, ticket_id, to_user_id=second)  # a double click
    assert again.status_code == 409 and "already in progress" in again.json()["detail"]
    early = consult(voice, ticket_id, "complete")
    assert early.status_code == 409 and "not answered yet" in early.json()["detail"]
    assert len(created_legs(twilio)) == 1

    consult_leg = consult_leg_of(twilio, sid)
    leg_status(voice, ticket_id, consult_leg, "ringing")
    leg_status(voice, ticket_id, consult_leg, "in-progress")
    assert call_view(voice, ticket_id)["consult"]["state"] == "talking"
    assert consult(voice, ticket_id, "complete", user="setagaya-second").status_code == 403

    done = consult(voice, ticket_id, "complete")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "completed" and done.json()["caller_on_hold"] is False
    caller = twilio.participant(f"ticket-{ticket_id}", sid)
    assert caller is not None and caller["hold"] is False  # the caller talks to 佐藤 now
    assert twilio.participant(f"ticket-{ticket_id}", LEG) is None  # the counselor left the conference
    rt_of(voice).jobs.drain()
    redirects = rest_calls(twilio, f"/Calls/{sid}.json")
    assert len(redirects) == 1 and "agent=" + str(uid(voice, "setagaya-counselor")) in redirects[0]["Url"]
    # (the answer's redirect only: the warm transfer never re-queues nor redirects the caller)

    ticket = the_ticket(voice, ticket_id)
    assert ticket.assignee_id == second and ticket.status == TicketStatus.ASSIGNED
    assert (
        status_of(voice, "setagaya-second") == PresenceStatus.AVAILABLE
    )  # the call's capacity holds them now
    timeline = notes(voice, ticket_id)
    assert any(n.startswith("転送相談開始") and "佐藤" in n for n in timeline)
    assert any("Warm transfer to 佐藤: 契約書の読み方を相談" in n for n in timeline)
    assert any(n.startswith("転送相談完了") for n in timeline)
    agent = str(uid(voice, "setagaya-counselor"))
    assert log_events(voice, sid) == [
        ("ENTERQUEUE", "tokyo-setagaya", ""),
        ("CONNECT", "tokyo-setagaya", agent),
        ("TRANSFER", "tokyo-setagaya", ""),
        ("ENTERQUEUE", "tokyo-setagaya", ""),
        ("CONNECT", "tokyo-setagaya", str(second)),
    ]
    with Session(rt_of(voice).engine) as s:
        assert s.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).all() == []
    # the colleague owns the call now: whisper coaches their leg, and they can end it
    view = call_view(voice, ticket_id, "setagaya-second")
    assert view["mine"] is True and view["counselor_call_sid"] == consult_leg and view["consult"] is None
    assert call_view(voice, ticket_id)["mine"] is False
    ended = voice.post(f"/api/voice/calls/{ticket_id}/hangup", headers=as_(voice, "setagaya-second"))
    assert ended.status_code == 200 and ended.json() == {"ended": True}
    assert log_events(voice, sid)[-1] == ("COMPLETEAGENT", "tokyo-setagaya", str(second))
    figures = voice.get("/api/voice/stats", headers=as_(voice, "setagaya-lead")).json()["figures"]
    assert (figures["abandoned"], figures["transferred"]) == (0, 1)


def test_a_cancelled_consult_with_another_center_leaves_the_call_with_the_counselor(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "2" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "tokyo-counselor")
    res = consult(voice, ticket_id, to_center="tokyo")
    assert res.status_code == 200, res.text
    assert res.json()["to_name"] == "鈴木" and res.json()["to_center_code"] == "tokyo"
    (created,) = created_legs(twilio)
    assert created["To"] == f"client:user-{uid(voice, 'tokyo-counselor')}"
    consult_leg = consult_leg_of(twilio, sid)
    leg_status(voice, ticket_id, consult_leg, "in-progress")

    res = consult(voice, ticket_id, "cancel")
    assert res.status_code == 200 and res.json()["state"] == "cancelled"
    assert rest_calls(twilio, f"/Participants/{consult_leg}.json", "DELETE") == [{}]
    assert twilio.participant(f"ticket-{ticket_id}", sid)["hold"] is False  # type: ignore[index]
    assert twilio.participant(f"ticket-{ticket_id}", LEG) is not None  # the counselor stays
    rt_of(voice).jobs.drain()
    ticket = the_ticket(voice, ticket_id)
    with Session(rt_of(voice).engine) as s:
        setagaya_id = s.exec(select(Ticket.center_id).where(Ticket.id == ticket_id)).one()
    assert ticket.assignee_id == uid(voice, "setagaya-counselor") and ticket.center_id == setagaya_id
    assert [e for e, _, _ in log_events(voice, sid)] == ["ENTERQUEUE", "CONNECT"]
    assert any(
        n.startswith("転送相談取消") and "cancelled by the counselor" in n for n in notes(voice, ticket_id)
    )
    view = call_view(voice, ticket_id)
    assert view["consult"] is None and "cancelled" in view["consult_outcome"]["text"]
    # the late "completed" of the removed leg changes nothing; a new consult may start
    leg_status(voice, ticket_id, consult_leg, "completed")
    assert sum(n.startswith("転送相談取消") for n in notes(voice, ticket_id)) == 1
    assert consult(voice, ticket_id, to_center="tokyo").status_code == 200


def test_a_warm_transfer_to_another_center_moves_the_ticket_to_its_queue(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "3" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "tokyo-counselor")
    assert consult(voice, ticket_id, to_center="tokyo", reason="都の専門相談").status_code == 200
    consult_leg = consult_leg_of(twilio, sid)
    leg_status(voice, ticket_id, consult_leg, "in-progress")
    assert consult(voice, ticket_id, "complete").status_code == 200
    rt_of(voice).jobs.drain()
    ticket = the_ticket(voice, ticket_id)
    with Session(rt_of(voice).engine) as s:
        tokyo_id = s.exec(select(Ticket.center_id).where(Ticket.id == ticket_id)).one()
    assert ticket.assignee_id == uid(voice, "tokyo-counselor") and ticket.center_id == tokyo_id
    assert [(e, q) for e, q, _ in log_events(voice, sid)][-3:] == [
        ("TRANSFER", "tokyo-setagaya"),
        ("ENTERQUEUE", "tokyo"),
        ("CONNECT", "tokyo"),
    ]
    assert any("Routed to" in n and "都の専門相談" in n for n in notes(voice, ticket_id))
    assert len(rest_calls(twilio, f"/Calls/{sid}.json")) == 1  # the answer's redirect only


@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled"])
def test_when_the_colleague_does_not_answer_the_caller_comes_back_and_the_counselor_is_told(
    voice: TestClient, twilio: FakeTwilioServer, status: str
) -> None:
    sid = "CA" + "4" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "setagaya-second")
    assert consult(voice, ticket_id, to_user_id=uid(voice, "setagaya-second")).status_code == 200
    assert status_of(voice, "setagaya-second") == PresenceStatus.BUSY
    consult_leg = consult_leg_of(twilio, sid)
    for _ in range(2):  # Twilio may deliver the callback twice
        leg_status(voice, ticket_id, consult_leg, status)
    assert status_of(voice, "setagaya-second") == PresenceStatus.AVAILABLE
    assert twilio.participant(f"ticket-{ticket_id}", sid)["hold"] is False  # type: ignore[index]
    view = call_view(voice, ticket_id)
    assert view["consult"] is None and "佐藤" in view["consult_outcome"]["text"]
    assert sum(n.startswith("転送相談取消") for n in notes(voice, ticket_id)) == 1
    assert the_ticket(voice, ticket_id).assignee_id == uid(voice, "setagaya-counselor")
    assert consult(voice, ticket_id, "complete").status_code == 409


def test_a_caller_who_hangs_up_during_the_consult_ends_it(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "5" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "setagaya-second")
    assert consult(voice, ticket_id, to_user_id=uid(voice, "setagaya-second")).status_code == 200
    consult_leg = consult_leg_of(twilio, sid)
    post(voice, step(voice, "status"), form(sid, CallStatus="completed", CallDuration="95"))
    assert rest_calls(twilio, f"/Participants/{consult_leg}.json", "DELETE") == [{}]
    assert any("相談者が終話" in n for n in notes(voice, ticket_id))
    assert call_view(voice, ticket_id)["consult"] is None
    assert [e for e, _, _ in log_events(voice, sid)] == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]
    res = consult(voice, ticket_id, to_user_id=uid(voice, "setagaya-second"))
    assert res.status_code == 409 and "done" in res.json()["detail"]


def test_bad_requests_get_a_clear_error_and_change_nothing(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "6" * 32
    ticket_id = connected_call(voice, twilio, sid)
    second = uid(voice, "setagaya-second")  # not available yet
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("setagaya-counselor", {"to_user_id": second}, 409, "not available"),
        ("setagaya-counselor", {"to_user_id": uid(voice, "setagaya-offline")}, 409, "not available"),
        ("setagaya-counselor", {"to_user_id": uid(voice, "setagaya-counselor")}, 400, "already on this call"),
        ("setagaya-counselor", {"to_user_id": 999_999}, 404, "999999"),
        ("setagaya-counselor", {"to_center": "osaka"}, 409, "no counselor free"),
        ("setagaya-counselor", {"to_center": "nowhere"}, 404, "nowhere"),
        ("setagaya-counselor", {"to_center": "tokyo-setagaya"}, 400, "already at that center"),
        ("setagaya-counselor", {}, 400, "exactly one target"),
        ("setagaya-counselor", {"to_user_id": second, "to_center": "tokyo"}, 400, "exactly one target"),
        ("setagaya-second", {"to_user_id": second}, 403, "assigned"),
        ("setagaya-lead", {"to_user_id": second}, 403, "assigned"),
        ("tokyo-counselor", {"to_user_id": second}, 403, ""),
    ]
    for user, body, status, words in cases:
        res = consult(voice, ticket_id, user=user, **body)
        assert res.status_code == status, (body, res.text)
        assert words in res.json()["detail"], (body, res.text)
    headers = as_(voice, "setagaya-counselor")
    for garbage in (
        {"to_user_id": "abc"},
        {"to_user_id": -1},
        {"to_center": "../x"},
        {"to_user_id": 2, "x": 1},
    ):
        res = voice.post(f"/api/voice/calls/{ticket_id}/consult", json=garbage, headers=headers)
        assert res.status_code == 422, (garbage, res.text)
    res = voice.post(
        f"/api/voice/calls/{ticket_id}/consult",
        content=b"\xff\xfe{",
        headers={**headers, "content-type": "application/json"},
    )
    assert res.status_code in (400, 422) and res.json()["detail"], res.text
    assert consult(voice, 999_999, to_user_id=second).status_code == 404
    for action in ("complete", "cancel"):
        res = consult(voice, ticket_id, action)
        assert res.status_code == 409 and "no warm transfer" in res.json()["detail"]
    with Session(rt_of(voice).engine, expire_on_commit=False) as s:
        setagaya = s.exec(select(User).where(User.username == "setagaya-counselor")).one()
        chat = make_ticket(s, _center(s, setagaya.center_id))
        chat.assignee_id = setagaya.id
        s.add(chat)
        s.commit()
    res = consult(voice, chat.id or 0, to_user_id=second)
    assert res.status_code == 404 and "no phone call" in res.json()["detail"]

    # Twilio unavailable: 503, nothing stored, and the next click works
    available(voice, "setagaya-second")
    twilio.fail_next(503)
    res = consult(voice, ticket_id, to_user_id=second)
    assert res.status_code == 503 and "try again" in res.json()["detail"]
    assert call_view(voice, ticket_id)["consult"] is None
    assert not any(n.startswith("転送相談") for n in notes(voice, ticket_id))
    assert consult(voice, ticket_id, to_user_id=second).status_code == 200
    assert len(created_legs(twilio)) == 1
    assert twilio.participant(f"ticket-{ticket_id}", sid)["hold"] is True  # type: ignore[index]


def _center(session: Session, center_id: int | None) -> Any:
    from crm.models import Center

    return session.get(Center, center_id)


def test_a_call_not_yet_connected_cannot_be_warm_transferred(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "7" * 32
    twilio.live_call(sid)
    post(voice, "/channels/twilio/voice", form(sid))
    post(voice, step(voice, "menu"), form(sid, Digits="1"))
    post(voice, step(voice, "postal", "attempt=1"), form(sid, Digits="1540001"))
    rt_of(voice).jobs.drain()
    headers = as_(voice, "setagaya-counselor")
    offer = voice.get("/api/offers", headers=headers).json()[0]
    assert voice.post(f"/api/offers/{offer['id']}/accept", headers=headers).status_code == 200
    available(voice, "setagaya-second")
    res = consult(voice, int(offer["ticket_id"]), to_user_id=uid(voice, "setagaya-second"))
    assert res.status_code == 409 and "this call is waiting" in res.json()["detail"], res.text
    assert created_legs(twilio) == []


def test_two_simultaneous_clicks_start_one_consult(voice: TestClient, twilio: FakeTwilioServer) -> None:
    from channels.voice.consult import start_consult
    from crm.errors import Conflict

    sid = "CA" + "8" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "setagaya-second")
    counselor, second = uid(voice, "setagaya-counselor"), uid(voice, "setagaya-second")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        barrier.wait()
        try:
            start_consult(
                rt_of(voice),
                ticket_id=ticket_id,
                user_id=counselor,
                to_user_id=second,
                to_center=None,
                reason="",
            )
            outcomes.append("started")
        except Conflict as exc:
            outcomes.append(f"409 {exc}")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.split(" ")[0] for o in outcomes) == ["409", "started"], outcomes
    assert len(created_legs(twilio)) == 1
    assert sum(n.startswith("転送相談開始") for n in notes(voice, ticket_id)) == 1


def test_when_twilio_refuses_the_hold_the_colleague_stops_ringing_and_nothing_is_kept(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "9" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "setagaya-second")
    twilio.fail_next_to("POST", f"/Participants/{sid}.json", 503)  # the caller's hold
    res = consult(voice, ticket_id, to_user_id=uid(voice, "setagaya-second"))
    assert res.status_code == 503, res.text
    (created,) = created_legs(twilio)
    leg = [r for r in twilio.state.requests if r.method == "DELETE"]
    assert len(leg) == 1 and leg[0].status == 204  # the ringing consult leg was taken back
    assert twilio.participant(f"ticket-{ticket_id}", sid)["hold"] is False  # type: ignore[index]
    assert call_view(voice, ticket_id)["consult"] is None
    assert not any(n.startswith("転送相談") for n in notes(voice, ticket_id))
    assert created["To"].startswith("client:user-")


def test_hold_music_is_signed_twiml_and_refused_unsigned(voice: TestClient) -> None:
    path = step(voice, "hold")
    bare = {"AccountSid": ACCOUNT_SID}  # whatever Twilio sends when it fetches a holdUrl
    music = post(voice, path, bare)
    assert music.find("Say") is not None and music.find("Pause") is not None
    assert voice.post(path, data=bare).status_code == 403
    forged = voice.post(path, data=bare, headers={"X-Twilio-Signature": sign(PUBLIC + path, {"x": "1"})})
    assert forged.status_code == 403


def test_a_colleague_who_goes_on_break_during_the_consult_stays_on_break_after_it(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "6" * 32
    ticket_id = connected_call(voice, twilio, sid)
    available(voice, "setagaya-second")
    assert consult(voice, ticket_id, to_user_id=uid(voice, "setagaya-second")).status_code == 200
    rt = rt_of(voice)
    with Session(rt.engine) as s:
        user = s.exec(select(User).where(User.username == "setagaya-second")).one()
        presence.set_presence(s, user=user, status=PresenceStatus.BREAK, settings=rt.settings)
    assert consult(voice, ticket_id, "cancel").status_code == 200
    assert status_of(voice, "setagaya-second") == PresenceStatus.BREAK
