"""Whole 188 calls played through the signed Twilio webhooks in order, against the real app, database
and job runner; Twilio's REST side is a local server the official SDK is pointed at.

Each test asserts what a consumer, a counselor or a supervisor would notice: the TwiML the caller
hears, the ticket (center, channel, identity, timeline), the REST calls Twilio received, and the
ACD figures from the queue log.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from config.clock import JST
from config.settings import Settings
from crm.channel_accounts import create_account
from crm.models import Center, ContactIdentity, InboundEvent, Message, Note, Role, Ticket, TicketStatus
from routing import presence
from routing.models import Offer, PresenceStatus, QueueEvent
from tests.api.conftest import clean_client, login
from tests.factories import make_center, make_user
from tests.fakes.twilio_server import AUTH_TOKEN, FakeTwilioServer, sign
from tests.voice_support import (
    CALLER,
    NUMBER,
    PUBLIC,
    add_188_number,
    form,
    rt_of,
    step,
    tokyo_centers,
    twilio_settings,
)


@pytest.fixture
def twilio() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer() as server:
        yield server


@pytest.fixture
def voice(migrated: Settings, twilio: FakeTwilioServer) -> Iterator[TestClient]:
    settings = twilio_settings(migrated, twilio, voice_short_abandon_seconds=10)
    with clean_client(settings) as c:
        with Session(rt_of(c).engine, expire_on_commit=False) as s:
            tokyo, setagaya = tokyo_centers(s)
            counselor = make_user(s, setagaya, "setagaya-counselor")
            make_user(s, setagaya, "setagaya-lead", role=Role.SUPERVISOR)
            for user in (counselor, make_user(s, tokyo, "tokyo-counselor")):
                presence.set_presence(s, user=user, status=PresenceStatus.AVAILABLE, settings=settings)
            c.public_id = add_188_number(s, settings)  # type: ignore[attr-defined]
        yield c


def post(client: TestClient, path: str, form: dict[str, str], *, signature: str | None = None) -> Any:
    """POST ``form`` to ``path`` signed as Twilio signs it (over the public URL)."""
    sig = sign(PUBLIC + path, form) if signature is None else signature
    headers = {"X-Twilio-Signature": sig} if sig else {}
    return client.post(path, data=form, headers=headers)


def xml(res: Any) -> ET.Element:
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/xml")
    return ET.fromstring(res.text)


def queue_to_setagaya(client: TestClient, sid: str, caller: str = CALLER) -> ET.Element:
    menu = xml(post(client, "/channels/twilio/voice", form(sid, From=caller)))
    menu_url = menu.find("Gather").get("action")  # type: ignore[union-attr]
    assert menu_url == PUBLIC + step(client, "menu")
    ask = xml(post(client, step(client, "menu"), form(sid, From=caller, Digits="1")))
    assert ask.find("Gather").get("numDigits") == "7"  # type: ignore[union-attr]
    return xml(post(client, step(client, "postal", "attempt=1"), form(sid, From=caller, Digits="1540001")))


def count(client: TestClient, model: Any) -> int:
    with Session(rt_of(client).engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def log_events(client: TestClient, sid: str) -> list[str]:
    with Session(rt_of(client).engine) as s:
        rows = s.exec(select(QueueEvent).where(QueueEvent.call_id == sid).order_by(col(QueueEvent.id))).all()
        return [r.event for r in rows]


def ticket_of(client: TestClient, sid: str) -> tuple[Ticket, list[str]]:
    with Session(rt_of(client).engine) as s:
        message = s.exec(select(Message).where(Message.external_id == sid)).one()
        ticket = s.get(Ticket, message.ticket_id)
        notes = [
            n.body
            for n in s.exec(select(Note).where(Note.ticket_id == message.ticket_id).order_by(col(Note.id)))
        ]
        assert ticket is not None
        return ticket, notes


def accept_offer(client: TestClient, username: str) -> int:
    headers = login(client, username)
    offers = client.get("/api/offers", headers=headers).json()
    assert len(offers) == 1, offers
    res = client.post(f"/api/offers/{offers[0]['id']}/accept", headers=headers)
    assert res.status_code == 200, res.text
    return int(offers[0]["user_id"])


def stats(client: TestClient) -> dict[str, Any]:
    res = client.get("/api/voice/stats", headers=login(client, "setagaya-lead"))
    assert res.status_code == 200, res.text
    return res.json()["figures"]  # type: ignore[no-any-return]


def test_a_188_call_with_a_postal_code_is_answered_by_a_counselor_of_its_center(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "1" * 32
    twilio.live_call(sid)
    enqueue = queue_to_setagaya(voice, sid)
    assert enqueue.find("Enqueue").text == "tokyo-setagaya"  # type: ignore[union-attr]
    assert "テスト消費生活センター" in (enqueue.findtext("Say") or "")  # the center is named
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    with Session(rt_of(voice).engine) as s:
        center_code = s.exec(select(Ticket.center_id).where(Ticket.id == ticket.id)).one()
        identity = s.exec(
            select(ContactIdentity).where(ContactIdentity.contact_id == ticket.contact_id)
        ).one()
        assert s.exec(select(func.count()).select_from(Offer)).one() == 1
    assert ticket.channel == "voice" and identity.external_id == CALLER and identity.channel == "voice"
    assert center_code == ticket.center_id
    wait = xml(post(voice, step(voice, "wait", "queue=tokyo-setagaya"), form(sid, QueuePosition="1")))
    assert "1番目" in (wait.find("Gather").findtext("Say") or "")  # type: ignore[union-attr]

    agent = accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    redirect = [r for r in twilio.state.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert len(redirect) == 1
    assert redirect[0].form["Url"] == PUBLIC + step(voice, "connect", f"ticket={ticket.id}&agent={agent}")

    conf = xml(post(voice, step(voice, "connect", f"ticket={ticket.id}&agent={agent}"), form(sid)))
    assert conf.find("Dial/Conference").text == f"ticket-{ticket.id}"  # type: ignore[union-attr]
    xml(post(voice, step(voice, "status"), form(sid, CallStatus="completed", CallDuration="185")))
    rt_of(voice).jobs.drain()
    ticket, notes = ticket_of(voice, sid)
    assert ticket.assignee_id == agent
    assert any("connected to a counselor" in n for n in notes)
    assert any("call ended" in n and "185 s" in n for n in notes)
    assert log_events(voice, sid) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]
    figures = stats(voice)
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (1, 1, 0)


def test_hanging_up_while_queued_is_an_abandon_counted_once(voice: TestClient) -> None:
    sid = "CA" + "2" * 32
    queue_to_setagaya(voice, sid)
    xml(
        post(
            voice, step(voice, "exit", "queue=tokyo-setagaya"), form(sid, QueueResult="hangup", QueueTime="3")
        )
    )
    # Twilio's status callback arrives too, and may be delivered twice: still one ABANDON
    for _ in range(2):
        xml(post(voice, step(voice, "status"), form(sid, CallStatus="completed", CallDuration="20")))
    rt_of(voice).jobs.drain()
    assert log_events(voice, sid) == ["ENTERQUEUE", "ABANDON"]
    _, notes = ticket_of(voice, sid)
    assert sum("hung up while waiting" in n for n in notes) == 1
    assert any("short abandon" in n for n in notes)
    figures = stats(voice)
    assert (figures["offered"], figures["abandoned"], figures["short_abandoned"], figures["answered"]) == (
        1,
        1,
        1,
        0,
    )
    # Nobody is offered the dead line, and a call back within the resume window keeps the place.
    ticket, _ = ticket_of(voice, sid)
    assert ticket.status == TicketStatus.RESOLVED
    assert voice.get("/api/offers", headers=login(voice, "setagaya-counselor")).json() == []
    again = "CA" + "3" * 32
    queue_to_setagaya(voice, again)
    rt_of(voice).jobs.drain()
    resumed, _ = ticket_of(voice, again)
    assert resumed.id != ticket.id and resumed.queued_at == ticket.queued_at


def test_star_asks_for_a_callback_that_keeps_its_place_and_is_dialed_back_on_click(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "3" * 32
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    left = xml(post(voice, step(voice, "keys", "queue=tokyo-setagaya"), form(sid, Digits="*")))
    assert left.find("Leave") is not None and "折り返し" in (left.findtext("Say") or "")
    bye = xml(post(voice, step(voice, "exit", "queue=tokyo-setagaya"), form(sid, QueueResult="leave")))
    assert bye.find("Hangup") is not None
    xml(post(voice, step(voice, "status"), form(sid, CallStatus="completed", CallDuration="30")))
    rt_of(voice).jobs.drain()
    assert log_events(voice, sid) == ["ENTERQUEUE", "CALLBACK"]  # not an abandon
    ticket, notes = ticket_of(voice, sid)
    assert any("call back requested" in n for n in notes)

    # a second caller arrives after: the callback is still ahead of them
    later = "CA" + "4" * 32
    queue_to_setagaya(voice, later, caller="+819033334444")
    wait = xml(post(voice, step(voice, "wait", "queue=tokyo-setagaya"), form(later, From="+819033334444")))
    assert "2番目" in (wait.find("Gather").findtext("Say") or "")  # type: ignore[union-attr]

    agent = accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    dials = [r for r in twilio.state.requests if r.path.endswith("/Calls.json")]
    assert dials == []  # accepting does not ring the consumer: the counselor clicks 折り返し
    headers = login(voice, "setagaya-counselor")
    res = voice.post(f"/api/voice/calls/{ticket.id}/callback", headers=headers)
    assert res.status_code == 200, res.text
    assert res.json() == {"dialed": CALLER}
    again = voice.post(f"/api/voice/calls/{ticket.id}/callback", headers=headers)  # a double click
    assert again.status_code == 409 and "wait 60 s" in again.json()["detail"], again.text
    dials = [r for r in twilio.state.requests if r.path.endswith("/Calls.json")]
    assert len(dials) == 1 and dials[0].form["To"] == CALLER and dials[0].form["From"] == NUMBER
    assert f"call={sid}" in dials[0].form["Url"]
    leg = "CA" + "5" * 32
    query = dials[0].form["Url"].split("?", 1)[1]
    conf = xml(post(voice, step(voice, "connect", query), form(leg, From=NUMBER, To=CALLER)))
    assert conf.find("Dial/Conference").text == f"ticket-{ticket.id}"  # type: ignore[union-attr]
    assert "折り返し" in (conf.findtext("Say") or "")
    assert log_events(voice, sid) == ["ENTERQUEUE", "CALLBACK", "CONNECT"]
    figures = stats(voice)
    assert figures["callbacks"] == 1 and figures["abandoned"] == 0 and figures["answered"] == 1
    assert agent


def test_unsigned_forged_and_tampered_requests_are_refused_and_store_nothing(voice: TestClient) -> None:
    sid = "CA" + "6" * 32
    good = form(sid, Digits="1540001")
    path = step(voice, "postal", "attempt=1")
    cases = [
        ("", 403),  # no header
        ("bm90IGEgc2lnbmF0dXJl", 403),  # garbage
        (sign(PUBLIC + path, {**good, "Digits": "1000001"}), 403),  # signed for other digits
        (sign("https://other.example" + path, good), 403),  # signed for another URL
        (sign(PUBLIC + path, good, token="another-accounts-token"), 403),
    ]
    for signature, status in cases:
        res = voice.post(path, data=good, headers={"X-Twilio-Signature": signature} if signature else {})
        assert res.status_code == status, res.text
        assert "signature" in res.json()["detail"]
    assert count(voice, InboundEvent) == 0 and count(voice, QueueEvent) == 0


def test_garbage_oversized_and_mis_encoded_bodies_get_a_clear_error(voice: TestClient) -> None:
    path = step(voice, "postal")
    res = voice.post(path, content=b'{"CallSid": "CA1"}', headers={"content-type": "application/json"})
    assert res.status_code == 415 and "x-www-form-urlencoded" in res.json()["detail"]
    big = b"CallSid=CA1&Digits=" + b"1" * 70_000
    res = voice.post(path, content=big, headers={"content-type": "application/x-www-form-urlencoded"})
    assert res.status_code == 413
    res = voice.post(
        path, content=b"CallSid=CA%FF%FE", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert res.status_code == 400 and "UTF-8" in res.json()["detail"]
    res = post(voice, step(voice, "wait"), {"From": CALLER})  # signed, but no CallSid
    assert res.status_code == 400 and "CallSid" in res.json()["detail"]
    res = post(voice, "/channels/twilio/nope/voice/wait", form("CA1"))
    assert res.status_code == 404
    res = post(voice, step(voice, "dance"), form("CA1"))
    assert res.status_code == 422
    assert count(voice, InboundEvent) == 0 and count(voice, QueueEvent) == 0


def test_a_redelivered_webhook_queues_and_records_the_call_once(voice: TestClient) -> None:
    sid = "CA" + "7" * 32
    for _ in range(3):
        queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    assert log_events(voice, sid) == ["ENTERQUEUE"]
    with Session(rt_of(voice).engine) as s:
        assert s.exec(select(func.count()).select_from(Message).where(Message.external_id == sid)).one() == 1
        assert s.exec(select(func.count()).select_from(Ticket)).one() == 1


def test_a_bad_postal_code_is_asked_again_once_then_the_prefectural_center(voice: TestClient) -> None:
    sid = "CA" + "8" * 32
    again = xml(post(voice, step(voice, "postal", "attempt=1"), form(sid, Digits="0000000")))
    gather = again.find("Gather")
    assert gather is not None and gather.get("action") == PUBLIC + step(voice, "postal", "attempt=2")
    assert "もう一度" in (gather.findtext("Say") or "")
    final = xml(post(voice, step(voice, "postal", "attempt=2"), form(sid, Digits="12")))
    assert final.find("Enqueue").text == "tokyo"  # type: ignore[union-attr]


def test_no_input_goes_to_the_numbers_default_center(voice: TestClient) -> None:
    sid = "CA" + "9" * 32
    res = xml(post(voice, step(voice, "default"), form(sid)))
    assert res.find("Enqueue").text == "tokyo"  # type: ignore[union-attr]


def test_a_withheld_number_is_one_contact_per_call_and_is_not_offered_a_callback(voice: TestClient) -> None:
    sid = "CA" + "a" * 32
    queue_to_setagaya(voice, sid, caller="anonymous")
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    with Session(rt_of(voice).engine) as s:
        identity = s.exec(
            select(ContactIdentity).where(ContactIdentity.contact_id == ticket.contact_id)
        ).one()
    assert identity.external_id == f"withheld:{sid}"
    wait = xml(post(voice, step(voice, "wait", "queue=tokyo-setagaya"), form(sid, From="anonymous")))
    assert "アスタリスク" not in (wait.find("Gather").findtext("Say") or "")  # type: ignore[union-attr]
    refused = xml(
        post(voice, step(voice, "keys", "queue=tokyo-setagaya"), form(sid, From="anonymous", Digits="*"))
    )
    assert refused.find("Leave") is None and "非通知" in (refused.findtext("Say") or "")
    assert log_events(voice, sid) == ["ENTERQUEUE"]


def test_a_voicemail_puts_its_recording_url_on_a_ticket(voice: TestClient) -> None:
    sid = "CA" + "b" * 32
    queue_to_setagaya(voice, sid)
    left = xml(post(voice, step(voice, "keys", "queue=tokyo-setagaya"), form(sid, Digits="9")))
    assert left.find("Leave") is not None
    record = xml(post(voice, step(voice, "exit", "queue=tokyo-setagaya"), form(sid, QueueResult="leave")))
    action = record.find("Record").get("action")  # type: ignore[union-attr]
    assert action == PUBLIC + step(voice, "recording", "center=tokyo-setagaya")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
    done = xml(
        post(
            voice,
            step(voice, "recording", "center=tokyo-setagaya"),
            form(sid, RecordingUrl=url, RecordingDuration="14"),
        )
    )
    assert "承りました" in (done.findtext("Say") or "")
    rt_of(voice).jobs.drain()
    with Session(rt_of(voice).engine) as s:
        vm = s.exec(select(Message).where(Message.external_id == f"{sid}:voicemail")).one()
        call = s.exec(select(Message).where(Message.external_id == sid)).one()
    assert vm.meta["recording_url"] == url and vm.kind == "voicemail" and vm.ticket_id == call.ticket_id
    assert log_events(voice, sid) == ["ENTERQUEUE", "VOICEMAIL"]


def _weekday_only_setagaya(client: TestClient) -> None:
    rt = rt_of(client)
    with Session(rt.engine, expire_on_commit=False) as s:
        setagaya = s.exec(select(Center).where(Center.code == "tokyo-setagaya")).one()
        setagaya.hours = {d: [["09:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        setagaya.closed_dates = ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]
        setagaya.backup_rules = {"holiday": "kokusen", "closed": "kokusen"}
        s.add(setagaya)
        s.commit()
        kokusen = make_center(
            s,
            "kokusen",
            level="national",
            prefecture="全国",
            hours={"holiday": [["10:00", "16:00"]], "sat": [["10:00", "16:00"]], "sun": [["10:00", "16:00"]]},
            closed_dates=["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"],
        )
        user = make_user(s, kokusen, "kokusen-counselor")
        presence.set_presence(s, user=user, status=PresenceStatus.AVAILABLE, settings=rt.settings)


def test_the_same_call_on_a_holiday_goes_to_the_backup_center(voice: TestClient) -> None:
    _weekday_only_setagaya(voice)
    sid = "CA" + "c" * 32
    with time_machine.travel(datetime(2026, 5, 4, 11, 0, tzinfo=JST), tick=True):  # みどりの日
        enqueue = queue_to_setagaya(voice, sid)
        assert enqueue.find("Enqueue").text == "kokusen"  # type: ignore[union-attr]
        rt_of(voice).jobs.drain()
        ticket, _ = ticket_of(voice, sid)
    with Session(rt_of(voice).engine) as s:
        assert s.get(Center, ticket.center_id).code == "kokusen"  # type: ignore[union-attr]
    assert log_events(voice, sid) == ["ENTERQUEUE"]


def test_at_year_end_the_caller_hears_the_next_opening_and_can_leave_a_voicemail(voice: TestClient) -> None:
    _weekday_only_setagaya(voice)
    sid = "CA" + "d" * 32
    with time_machine.travel(datetime(2026, 12, 30, 11, 0, tzinfo=JST), tick=True):  # 年末年始
        res = queue_to_setagaya(voice, sid)
    assert res.find("Enqueue") is None and res.find("Record") is not None
    assert "1月4日 09:00" in (res.findtext("Say") or "")
    assert log_events(voice, sid) == [] and count(voice, InboundEvent) == 0


def test_the_prefecture_menu_reaches_the_chosen_prefectural_center(voice: TestClient) -> None:
    sid = "CA" + "e" * 32
    menu = xml(post(voice, step(voice, "menu"), form(sid, Digits="2")))
    gather = menu.find("Gather")
    assert gather is not None and "東京都は1を" in (gather.findtext("Say") or "")
    res = xml(post(voice, step(voice, "prefecture"), form(sid, Digits="1")))
    assert res.find("Enqueue").text == "tokyo"  # type: ignore[union-attr]


def test_a_centers_own_number_skips_the_menu(voice: TestClient) -> None:
    rt = rt_of(voice)
    with Session(rt.engine, expire_on_commit=False) as s:
        setagaya = s.exec(select(Center).where(Center.code == "tokyo-setagaya")).one()
        info, _ = create_account(
            s,
            kind="voice",
            center_id=setagaya.id,
            name="世田谷 direct",
            address="+81354321111",
            secrets={"auth_token": AUTH_TOKEN},
            keys=rt.settings.encryption_keys,
        )
    sid = "CA" + "0" * 31 + "f"
    greeting = xml(post(voice, "/channels/twilio/voice", form(sid, To="+81354321111")))
    assert greeting.find("Gather") is None and "個人情報" in (greeting.findtext("Say") or "")
    assert "消費者ホットライン" not in (greeting.findtext("Say") or "")  # the center's own name instead
    nxt = greeting.findtext("Redirect") or ""
    assert nxt == f"{PUBLIC}/channels/twilio/{info.public_id}/voice/default"
    res = xml(post(voice, nxt.removeprefix(PUBLIC), form(sid, To="+81354321111")))
    assert res.find("Enqueue").text == "tokyo-setagaya"  # type: ignore[union-attr]


def test_a_cold_transfer_to_another_center_puts_the_caller_on_hold_there_until_answered(
    voice: TestClient, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "0" * 30 + "aa"
    twilio.live_call(sid)
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    agent = accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    xml(post(voice, step(voice, "connect", f"ticket={ticket.id}&agent={agent}"), form(sid)))
    with Session(rt_of(voice).engine) as s:
        tokyo_id = s.exec(select(Center.id).where(Center.code == "tokyo")).one()
    res = voice.post(
        f"/api/tickets/{ticket.id}/transfer",
        json={"reason": "都の専門相談へ (specialist at the prefecture)", "to_center_id": tokyo_id},
        headers=login(voice, "setagaya-counselor"),
    )
    assert res.status_code == 200, res.text
    rt_of(voice).jobs.drain()
    redirects = [r.form["Url"] for r in twilio.state.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert redirects[-1] == PUBLIC + step(voice, "requeue", "queue=tokyo")
    hold = xml(post(voice, step(voice, "requeue", "queue=tokyo"), form(sid)))
    assert hold.find("Enqueue").text == "tokyo"  # type: ignore[union-attr]
    assert log_events(voice, sid) == ["ENTERQUEUE", "CONNECT", "TRANSFER", "ENTERQUEUE"]

    tokyo_agent = accept_offer(voice, "tokyo-counselor")
    rt_of(voice).jobs.drain()
    redirects = [r.form["Url"] for r in twilio.state.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert redirects[-1] == PUBLIC + step(voice, "connect", f"ticket={ticket.id}&agent={tokyo_agent}")
    xml(post(voice, step(voice, "connect", f"ticket={ticket.id}&agent={tokyo_agent}"), form(sid)))
    assert log_events(voice, sid) == ["ENTERQUEUE", "CONNECT", "TRANSFER", "ENTERQUEUE", "CONNECT"]


def test_the_counselor_ends_the_call_from_the_console(voice: TestClient, twilio: FakeTwilioServer) -> None:
    sid = "CA" + "0" * 30 + "bb"
    twilio.live_call(sid)
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    agent = accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    xml(post(voice, step(voice, "connect", f"ticket={ticket.id}&agent={agent}"), form(sid)))
    other = voice.post(f"/api/voice/calls/{ticket.id}/hangup", headers=login(voice, "tokyo-counselor"))
    assert other.status_code == 403
    res = voice.post(f"/api/voice/calls/{ticket.id}/hangup", headers=login(voice, "setagaya-counselor"))
    assert res.status_code == 200 and res.json() == {"ended": True}
    ended = [r.form for r in twilio.state.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert ended[-1] == {"Status": "completed"}
    xml(post(voice, step(voice, "status"), form(sid, CallStatus="completed", CallDuration="60")))
    again = voice.post(f"/api/voice/calls/{ticket.id}/hangup", headers=login(voice, "setagaya-counselor"))
    assert again.json() == {"ended": False}
    assert log_events(voice, sid) == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]


def test_a_refused_redirect_is_retried_after_a_backoff(voice: TestClient, twilio: FakeTwilioServer) -> None:
    sid = "CA" + "0" * 30 + "cc"
    twilio.live_call(sid)
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    twilio.fail_next(503)  # Twilio briefly unavailable
    accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    calls = [r for r in twilio.state.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert [r.status for r in calls] == [503]
    rt_of(voice).jobs.run_delayed_now()
    rt_of(voice).jobs.drain()
    calls = [r for r in twilio.state.requests if r.path.endswith(f"/Calls/{sid}.json")]
    assert [r.status for r in calls] == [503, 200] and "/voice/connect?" in calls[-1].form["Url"]


def test_a_lapsed_offer_of_a_waiting_call_is_a_ring_no_answer(voice: TestClient) -> None:
    from channels.voice.jobs import follow_call

    sid = "CA" + "0" * 30 + "dd"
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    event = {"kind": "timed_out", "ticket_id": ticket.id, "user_id": 5, "detail": {"offer_id": 77}}
    assert follow_call(event) == "ring no answer"
    assert follow_call(event) == "ring no answer"  # the same event again: still one row
    assert log_events(voice, sid) == ["ENTERQUEUE", "RINGNOANSWER"]
    assert stats(voice)["offered"] == 1  # not a queue exit: the caller is still waiting
