"""The /madoguchi Slack slash command: signed by Slack (slack-sdk's own signer), no personal data."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlmodel import Session

from config.runtime import get_runtime
from config.settings import Settings
from routing.models import Presence, PresenceStatus
from tests.api.conftest import clean_client
from tests.factories import make_center, make_user, receive

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/integrations/slack/commands"
_triggers = itertools.count()


@pytest.fixture
def slack(migrated: Settings) -> Iterator[TestClient]:
    with clean_client(migrated.model_copy(update={"slack_signing_secret": SECRET})) as c:
        yield c


def form(text: str = "", command: str = "/madoguchi") -> bytes:
    fields = {
        "token": "legacy-token-ignored",
        "team_id": "T0001",
        "team_domain": "center",
        "channel_id": "C2147483705",
        "user_id": "U2147483697",
        "user_name": "supervisor",
        "command": command,
        "text": text,
        "response_url": "https://hooks.slack.com/commands/1234/5678",
        "trigger_id": f"13345224609.738474920.{next(_triggers)}",  # unique per command, as Slack's
    }
    return urlencode(fields).encode()


def signed(body: bytes, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    """Headers as Slack sends them, signed with slack-sdk's own signer."""
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    res = client.post(URL, content=body, headers=headers)
    return res.status_code, res.json()


def test_status_and_who_answer_with_counts_and_no_personal_data(slack: TestClient) -> None:
    with Session(get_runtime().engine, expire_on_commit=False) as db:
        tokyo, osaka = make_center(db, "TKY", name="東京都消費生活センター"), make_center(db, "OSK")
        sato = make_user(db, tokyo, "sato_hanako")
        suzuki = make_user(db, tokyo, "suzuki_taro")
        make_user(db, osaka, "osaka_one")
        db.add(Presence(user_id=sato.id, status=PresenceStatus.AVAILABLE))
        db.add(Presence(user_id=suzuki.id, status=PresenceStatus.BREAK))
        db.commit()
        receive(db, tokyo, "山田太郎です。電話090-1234-5678、解約できません", sender="U-consumer-secret-id")
        from crm.models import Ticket, TicketStatus

        ticket = db.get(Ticket, 1)
        assert ticket is not None
        ticket.status, ticket.queued_at = TicketStatus.QUEUED, ticket.created_at
        db.add(ticket)
        db.commit()
        sato_id, suzuki_id = sato.id, suzuki.id

    body = form("")
    status, out = post(slack, body, signed(body))
    assert status == 200 and out["response_type"] == "ephemeral"
    tokyo_line = next(line for line in out["text"].splitlines() if "TKY" in line)
    assert "waiting 1" in tokyo_line and "受付可 available 1" in tokyo_line and "休憩 break 1" in tokyo_line
    assert "JST" in out["text"]

    body = form("who TKY")
    status, out = post(slack, body, signed(body))
    assert status == 200
    assert f"#{sato_id}" in out["text"] and f"#{suzuki_id}" not in out["text"] and "OSK" not in out["text"]

    for body in (form(""), form("who"), form("status tky")):
        text = post(slack, body, signed(body))[1]["text"]
        for personal in ("山田", "090-1234-5678", "U-consumer-secret-id", "解約", "sato_hanako", "suzuki"):
            assert personal not in text


def test_unknown_center_and_subcommand_explain_the_usage(slack: TestClient) -> None:
    with Session(get_runtime().engine) as db:
        make_center(db, "TKY")
    for text, expected in (
        ("status ZZZ", "No center with the code ZZZ"),
        ("dance now", "Unknown subcommand"),
        ("dance", "No center with the code dance"),
    ):
        body = form(text)
        status, out = post(slack, body, signed(body))
        assert status == 200 and expected in out["text"] and "Usage:" in out["text"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Slack-Request-Timestamp": "1700000000"},  # no signature
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},  # garbage
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},  # forged
    ],
)
def test_unsigned_garbage_and_forged_requests_are_refused(slack: TestClient, headers: dict[str, str]) -> None:
    status, out = post(slack, form(), headers)
    assert status == 401 and "Slack signature" in out["detail"]


def test_other_secret_and_tampered_body_are_refused(slack: TestClient) -> None:
    body = form("status")
    assert post(slack, body, signed(body, secret="another-apps-signing-secret"))[0] == 401
    assert post(slack, form("who"), signed(body))[0] == 401  # signature of another body


def test_requests_older_than_five_minutes_and_replays_are_refused(slack: TestClient) -> None:
    body = form("status")
    status, out = post(slack, body, signed(body, at=time.time() - 6 * 60))
    assert status == 401 and "older than 5 minutes" in out["detail"]
    assert post(slack, body, signed(body, at=time.time() + 6 * 60))[0] == 401  # from the future
    headers = signed(body, at=time.time() - 60)  # inside the window: answered once
    assert post(slack, body, headers)[0] == 200
    status, out = post(slack, body, headers)
    assert status == 401 and "replayed" in out["detail"]


def test_oversized_and_misencoded_bodies_get_a_clear_error(slack: TestClient) -> None:
    big = form("x" * 10_000)
    status, out = post(slack, big, signed(big))
    assert status == 413 and "at most" in out["detail"]
    latin = b"command=%2Fmadoguchi&text=" + "東京".encode("shift_jis")
    headers = signed(b"command=%2Fmadoguchi&text=")  # slack-sdk signs UTF-8 only; the bytes decide first
    status, out = post(slack, latin, headers)
    assert status == 400 and "UTF-8" in out["detail"]
    no_command = b"text=status"
    status, out = post(slack, no_command, signed(no_command))
    assert status == 400 and "'command'" in out["detail"]


def test_without_a_signing_secret_the_command_says_how_to_configure_it(client: TestClient) -> None:
    body = form()
    status, out = post(client, body, signed(body))
    assert status == 503 and "MADOGUCHI_SLACK_SIGNING_SECRET" in out["detail"]
