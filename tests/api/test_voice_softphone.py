"""The browser softphone: its short-lived access token, the TwiML App joining a call's conference
(assignee talks; a supervisor listens, whispers or barges), and who may see the voice figures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from config.settings import Settings
from crm.models import Role
from tests.api.conftest import clean_client, login
from tests.factories import make_center, make_ticket, make_user
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, sign

PUBLIC = "https://madoguchi.example.jp"
API_SECRET = "test-api-key-secret-0123456789abcdef"


@pytest.fixture
def phone(migrated: Settings) -> Iterator[TestClient]:
    settings = migrated.model_copy(
        update={
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_api_key": "SK" + "0" * 32,
            "twilio_api_secret": API_SECRET,
            "twilio_twiml_app_sid": "AP" + "0" * 32,
            "twilio_token_ttl_seconds": 600,
            "public_base_url": PUBLIC,
        }
    )
    with clean_client(settings) as c:
        with Session(c.app.state.runtime.engine, expire_on_commit=False) as s:  # type: ignore[attr-defined]
            a, b = make_center(s, "A1"), make_center(s, "B1")
            counselor = make_user(s, a, "a-counselor")
            make_user(s, a, "a-other")
            make_user(s, a, "a-lead", role=Role.SUPERVISOR)
            make_user(s, b, "b-lead", role=Role.SUPERVISOR)
            ticket = make_ticket(s, a)
            ticket.assignee_id = counselor.id
            s.add(ticket)
            s.commit()
            c.ticket_id = ticket.id  # type: ignore[attr-defined]
            c.user_ids = {counselor.username: counselor.id}  # type: ignore[attr-defined]
        yield c


def test_the_token_carries_a_voice_grant_for_this_user_and_expires_soon(phone: TestClient) -> None:
    res = phone.get("/api/voice/token", headers=login(phone, "a-counselor"))
    assert res.status_code == 200, res.text
    body = res.json()
    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == body["identity"] == f"user-{phone.user_ids['a-counselor']}"  # type: ignore[attr-defined]
    assert claims["grants"]["voice"]["outgoing"]["application_sid"] == "AP" + "0" * 32
    assert claims["exp"] - claims["nbf"] <= 600 + 1 and body["ttl_seconds"] == 600
    assert claims["iss"] == "SK" + "0" * 32 and claims["sub"] == ACCOUNT_SID


def test_without_the_api_key_the_token_is_refused_with_what_to_set(migrated: Settings) -> None:
    with clean_client(migrated) as c:
        with Session(c.app.state.runtime.engine) as s:  # type: ignore[attr-defined]
            make_user(s, make_center(s, "T1"), "t-counselor")
        res = c.get("/api/voice/token", headers=login(c, "t-counselor"))
    assert res.status_code == 503 and "MADOGUCHI_TWILIO_API_KEY" in res.json()["detail"]


def softphone(client: TestClient, **form: str) -> ET.Element:
    data = {"CallSid": "CA" + "f" * 32, "AccountSid": ACCOUNT_SID, **form}
    res = client.post(
        "/channels/twilio/client",
        data=data,
        headers={"X-Twilio-Signature": sign(PUBLIC + "/channels/twilio/client", data)},
    )
    assert res.status_code == 200, res.text
    return ET.fromstring(res.text)


def user_id(client: TestClient, username: str) -> int:
    return int(client.get("/api/me", headers=login(client, username)).json()["id"])


def test_the_assignee_talks_and_a_supervisor_of_the_center_listens_or_whispers(phone: TestClient) -> None:
    ticket = str(phone.ticket_id)  # type: ignore[attr-defined]
    talk = softphone(phone, From=f"client:user-{user_id(phone, 'a-counselor')}", ticket=ticket).find(
        "Dial/Conference"
    )
    assert talk is not None and talk.text == f"ticket-{ticket}" and talk.get("muted") is None
    lead = f"client:user-{user_id(phone, 'a-lead')}"
    listen = softphone(phone, From=lead, ticket=ticket, mode="listen").find("Dial/Conference")
    assert (
        listen is not None and listen.get("muted") == "true" and listen.get("endConferenceOnExit") == "false"
    )
    whisper = softphone(phone, From=lead, ticket=ticket, mode="whisper", coach_call="CA123").find(
        "Dial/Conference"
    )
    assert whisper is not None and whisper.get("coach") == "CA123" and whisper.get("muted") is None
    barge = softphone(phone, From=lead, ticket=ticket, mode="barge").find("Dial/Conference")
    assert barge is not None and barge.get("muted") is None and barge.get("coach") is None


@pytest.mark.parametrize("who", ["a-other", "b-lead"])
def test_anyone_else_is_told_no_and_never_joins(phone: TestClient, who: str) -> None:
    root = softphone(phone, From=f"client:user-{user_id(phone, who)}", ticket=str(phone.ticket_id))  # type: ignore[attr-defined]
    assert root.find("Dial") is None and "権限" in (root.findtext("Say") or "")


def test_an_unsigned_softphone_request_is_refused(phone: TestClient) -> None:
    res = phone.post(
        "/channels/twilio/client", data={"CallSid": "CA1", "From": "client:user-1", "ticket": "1"}
    )
    assert res.status_code == 403


def test_a_supervisor_sees_their_own_centers_figures_only(phone: TestClient) -> None:
    own = phone.get("/api/voice/stats", headers=login(phone, "a-lead"))
    assert own.status_code == 200 and own.json()["center_code"] == "A1"
    assert set(own.json()["service_level_definitions"]) == set(own.json()["figures"]["service_level"])
    other = phone.get("/api/voice/stats", params={"center": "A1"}, headers=login(phone, "b-lead"))
    assert other.status_code == 403
    missing = phone.get("/api/voice/stats", params={"center": "NOPE"}, headers=login(phone, "a-lead"))
    assert missing.status_code == 404
    assert phone.get("/api/voice/stats", headers=login(phone, "a-counselor")).status_code == 403
