"""折り返し: the counselor clicks "call back" and Twilio (the local stand-in, through the official SDK)
places the outbound call into the ticket's conference; refusals say why, and nothing dials twice."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from crm.models import Center, Message, User
from tests.api import test_voice_call
from tests.api.conftest import login
from tests.api.test_voice_call import accept_offer, log_events, post, queue_to_setagaya, ticket_of, xml
from tests.factories import make_user
from tests.fakes.twilio_server import FakeTwilioServer
from tests.voice_support import CALLER, form, rt_of, step

twilio = test_voice_call.twilio  # the fixtures: a local Twilio stand-in and the app with a 188 number
voice = test_voice_call.voice


def _callback_ticket(client: Any, sid: str, caller: str = CALLER) -> int:
    """A caller queued at 世田谷, pressed * and hung up; the offer accepted by setagaya-counselor."""
    queue_to_setagaya(client, sid, caller=caller)
    rt_of(client).jobs.drain()
    xml(post(client, step(client, "keys", "queue=tokyo-setagaya"), form(sid, From=caller, Digits="*")))
    xml(
        post(
            client, step(client, "exit", "queue=tokyo-setagaya"), form(sid, From=caller, QueueResult="leave")
        )
    )
    rt_of(client).jobs.drain()
    accept_offer(client, "setagaya-counselor")
    rt_of(client).jobs.drain()
    ticket, _ = ticket_of(client, sid)
    return ticket.id or 0


def _dials(twilio: FakeTwilioServer) -> list[Any]:
    return [r for r in twilio.state.requests if r.path.endswith("/Calls.json")]


def test_only_the_assignee_may_dial_and_others_are_told_why(voice: Any, twilio: FakeTwilioServer) -> None:
    ticket_id = _callback_ticket(voice, "CA" + "a" * 32)
    with Session(rt_of(voice).engine) as s:
        setagaya = s.exec(select(Center).where(Center.code == "tokyo-setagaya")).one()
        make_user(s, setagaya, "setagaya-other")
    other = voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=login(voice, "setagaya-other"))
    assert other.status_code == 403 and "assigned" in other.json()["detail"], other.text
    lead = voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=login(voice, "setagaya-lead"))
    assert lead.status_code == 403, lead.text
    tokyo = voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=login(voice, "tokyo-counselor"))
    assert tokyo.status_code in (403, 404), tokyo.text  # another center's ticket
    assert _dials(twilio) == []
    assert (
        voice.post(
            "/api/voice/calls/not-a-number/callback", headers=login(voice, "setagaya-counselor")
        ).status_code
        == 422
    )
    assert (
        voice.post(
            "/api/voice/calls/99999999/callback", headers=login(voice, "setagaya-counselor")
        ).status_code
        == 404
    )
    voice.cookies.clear()  # no session, no token
    assert voice.post(f"/api/voice/calls/{ticket_id}/callback").status_code == 401


def test_a_call_that_asked_for_no_callback_is_not_dialed(voice: Any, twilio: FakeTwilioServer) -> None:
    sid = "CA" + "b" * 32
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    res = voice.post(f"/api/voice/calls/{ticket.id}/callback", headers=login(voice, "setagaya-counselor"))
    assert res.status_code == 409 and "did not ask for a call back" in res.json()["detail"], res.text
    assert _dials(twilio) == []


def test_twilio_down_releases_the_click_so_the_counselor_can_try_again(
    voice: Any, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "c" * 32
    ticket_id = _callback_ticket(voice, sid)
    headers = login(voice, "setagaya-counselor")
    twilio.fail_next(503)
    down = voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=headers)
    assert down.status_code == 503 and "try again" in down.json()["detail"], down.text
    _, notes = ticket_of(voice, sid)
    assert any("could not be placed" in n for n in notes)
    retry = voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=headers)
    assert retry.status_code == 200, retry.text
    _, notes = ticket_of(voice, sid)
    assert sum("dialed by the counselor" in n for n in notes) == 2  # tried, refused, tried again
    assert len(_dials(twilio)) == 2  # the refused one and the placed one
    assert log_events(voice, sid) == ["ENTERQUEUE", "CALLBACK"]  # CONNECT comes when the consumer answers


def test_a_connected_callback_is_not_dialed_again(voice: Any, twilio: FakeTwilioServer) -> None:
    sid = "CA" + "d" * 32
    ticket_id = _callback_ticket(voice, sid)
    headers = login(voice, "setagaya-counselor")
    assert voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=headers).status_code == 200
    query = _dials(twilio)[0].form["Url"].split("?", 1)[1]
    xml(post(voice, step(voice, "connect", query), form("CA" + "e" * 32, To=CALLER)))  # answered
    with Session(rt_of(voice).engine) as s:  # a minute later, a stray click
        msg = s.exec(select(Message).where(Message.external_id == sid)).one()
        msg.meta = {**msg.meta, "callback_dialed_at": "2000-01-01T00:00:00+00:00"}
        s.add(msg)
        s.commit()
    res = voice.post(f"/api/voice/calls/{ticket_id}/callback", headers=headers)
    assert res.status_code == 409 and "connected" in res.json()["detail"], res.text
    assert len(_dials(twilio)) == 1


def test_the_counselors_leg_is_shown_to_the_supervisor_whose_whisper_coaches_it(
    voice: Any, twilio: FakeTwilioServer
) -> None:
    sid = "CA" + "f" * 32
    twilio.live_call(sid)
    queue_to_setagaya(voice, sid)
    rt_of(voice).jobs.drain()
    agent = accept_offer(voice, "setagaya-counselor")
    rt_of(voice).jobs.drain()
    ticket, _ = ticket_of(voice, sid)
    leg = "CA" + "9" * 32
    joined = xml(
        post(
            voice,
            "/channels/twilio/client",
            {"CallSid": leg, "From": f"client:user-{agent}", "ticket": str(ticket.id)},
        )
    )
    assert joined.find("Dial/Conference").text == f"ticket-{ticket.id}"  # type: ignore[union-attr]
    seen = voice.get(f"/api/voice/calls/{ticket.id}", headers=login(voice, "setagaya-lead")).json()
    assert (seen["counselor_call_sid"], seen["may_supervise"], seen["mine"], seen["state"]) == (
        leg,
        True,
        False,
        "connected",
    )
    mine = voice.get(f"/api/voice/calls/{ticket.id}", headers=login(voice, "setagaya-counselor")).json()
    assert mine["mine"] is True and mine["callback_requested"] is False
    with Session(rt_of(voice).engine) as s:
        lead_id = s.exec(select(User.id).where(User.username == "setagaya-lead")).one()
    whisper = xml(
        post(
            voice,
            "/channels/twilio/client",
            {
                "CallSid": "CA" + "8" * 32,
                "From": f"client:user-{lead_id}",
                "ticket": str(ticket.id),
                "mode": "whisper",
                "coach_call": seen["counselor_call_sid"],
            },
        )
    ).find("Dial/Conference")
    assert whisper is not None and whisper.get("coach") == leg
    assert voice.get(
        f"/api/voice/calls/{ticket.id}", headers=login(voice, "tokyo-counselor")
    ).status_code in (403, 404)
