"""LINE webhook events through storage and the per-sender job, on the real database and job runner."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from channels.jobs import sweep
from config.runtime import Runtime
from config.settings import Settings
from crm.auto_answers import format_hours
from crm.inbound import RETRACTED_BODY
from crm.models import (
    AuditLog,
    ContactIdentity,
    ContactPersonalData,
    InboundEvent,
    InboundEventStatus,
    Message,
    MessageStatus,
    Note,
    Ticket,
    utcnow,
)
from tests.conftest import clean_runtime
from tests.factories import ALWAYS_OPEN, make_center
from tests.fakes.line_server import FakeLineServer, fixture_event, line_settings
from tests.line_accounts import accept_events, line_account

USER = "U4af4980629a0f0d1b2c3d4e5f6a7b8c9"


@pytest.fixture
def rt(migrated: Settings, line: FakeLineServer) -> Iterator[Runtime]:
    with clean_runtime(line_settings(migrated, line, line_center_code="LINE01")) as runtime:
        yield runtime


@pytest.fixture
def db(rt: Runtime) -> Iterator[Session]:
    with Session(rt.engine, expire_on_commit=False) as s:
        make_center(s, code="OTHER")
        make_center(s, code="LINE01", name="みなと市消費生活センター")
        s.commit()
        _OPEN.append(s)
        yield s
        _OPEN.remove(s)


def now_ms(offset_s: float = 0) -> int:
    return int((time.time() + offset_s) * 1000)


def ev(name: str, **overrides: Any) -> dict[str, Any]:
    return fixture_event(name, **{"timestamp": now_ms(), **overrides})


_OPEN: list[Session] = []


def receive(rt: Runtime, *events: dict[str, Any]) -> None:
    for s in _OPEN:  # SQLite: a test's read transaction holds the write lock; release it first
        s.commit()
    accept_events(rt, list(events))
    rt.jobs.drain()


def fresh(db: Session) -> Session:
    db.expire_all()
    db.commit()  # SQLite: end the read transaction so the jobs can write
    return db


def messages(db: Session) -> list[Message]:
    return list(fresh(db).exec(select(Message).order_by(col(Message.sent_at), col(Message.id))).all())


def events_by_status(db: Session) -> dict[str, str]:
    rows = fresh(db).exec(select(InboundEvent)).all()
    return {r.provider_event_id: r.status.value for r in rows}


# -- messages ------------------------------------------------------------------------------------


def test_text_message_opens_a_ticket_in_the_line_center(
    rt: Runtime, db: Session, line: FakeLineServer
) -> None:
    line.add_profile(USER, "山田 花子", "ja")
    receive(rt, ev("text"))
    (msg,) = messages(db)
    ticket = db.get(Ticket, msg.ticket_id)
    assert ticket is not None and ticket.channel == "line"
    assert ticket.center_id == db.exec(select(Ticket.center_id)).one()
    assert db.exec(select(Ticket)).one().center_id == _center_id(db, "LINE01")
    assert msg.body.startswith("定期購入の解約ができません😢") and "𠮷野家" in msg.body
    assert msg.meta["emojis"] and msg.meta["mention"]
    # profile kept on the identity, fetched once; the loading animation shown while waiting
    identity = db.exec(select(ContactIdentity)).one()
    assert (identity.display_name, identity.language) == ("山田 花子", "ja")
    assert identity.profile_fetched_at is not None
    receive(
        rt,
        ev("text", webhookEventId="01HTEXT2", message={**ev("text")["message"], "id": "m2", "text": "続き"}),
    )
    assert len(line.requests_to("/v2/bot/profile/")) == 1
    loading = line.requests_to("/v2/bot/chat/loading/start")
    assert loading and loading[0].body["chatId"] == USER
    assert len(messages(db)) == 2 and len({m.ticket_id for m in messages(db)}) == 1
    assert set(events_by_status(db).values()) == {"processed"}


def test_redelivered_and_repeated_events_create_nothing_new(rt: Runtime, db: Session) -> None:
    event = ev("text")
    receive(rt, event)
    receive(rt, {**event, "deliveryContext": {"isRedelivery": True}})
    receive(rt, event, event)
    assert len(messages(db)) == 1
    assert db.exec(select(InboundEvent)).all().__len__() == 1


def test_out_of_order_events_are_processed_by_timestamp(rt: Runtime, db: Session) -> None:
    base = ev("text")
    older = {
        **base,
        "webhookEventId": "01OLD",
        "timestamp": now_ms(-30),
        "message": {**base["message"], "id": "old", "text": "最初のメッセージ"},
    }
    newer = {
        **base,
        "webhookEventId": "01NEW",
        "timestamp": now_ms(),
        "message": {**base["message"], "id": "new", "text": "二番目のメッセージ"},
    }
    receive(rt, newer, older)  # one body, newest first
    assert [m.external_id for m in messages(db)] == ["old", "new"]
    assert [m.id for m in messages(db)] == sorted(m.id for m in messages(db))  # processed oldest first
    late = {
        **base,
        "webhookEventId": "01LATE",
        "timestamp": now_ms(-60),
        "message": {**base["message"], "id": "late", "text": "遅れて届いた"},
    }
    receive(rt, late)  # arrives after newer ones were processed: still stored, placed by its time
    assert [m.external_id for m in messages(db)] == ["late", "old", "new"]


@pytest.mark.parametrize("name", ["image", "video", "audio", "location", "sticker", "file"])
def test_every_message_kind_is_recorded(rt: Runtime, db: Session, line: FakeLineServer, name: str) -> None:
    event = ev(name)
    line.add_content(event["message"]["id"], b"\x89PNG fake bytes", "image/png")
    receive(rt, event)
    (msg,) = messages(db)
    assert msg.kind == name and msg.body.startswith("[")


# -- follow / unfollow / postback -----------------------------------------------------------------


def test_follow_creates_the_contact_and_greets_by_reply(
    rt: Runtime, db: Session, line: FakeLineServer
) -> None:
    receive(rt, ev("follow"))
    identity = fresh(db).exec(select(ContactIdentity)).one()
    assert identity.external_id == USER and identity.reachable
    (reply,) = line.replies()
    assert reply.body["replyToken"] == "rt-follow"
    greeting = reply.body["messages"][0]["text"]
    assert "みなと市消費生活センター" in greeting and "個人情報" in greeting
    assert format_hours(ALWAYS_OPEN) in greeting  # the center's opening hours (factory: around the clock)
    assert line.pushes() == []


def test_late_follow_greets_by_push_because_the_reply_token_expired(
    rt: Runtime, db: Session, line: FakeLineServer
) -> None:
    receive(rt, ev("follow", timestamp=now_ms(-600)))
    assert line.replies() == []
    assert "個人情報" in line.pushed_texts(USER)[0]


def test_unfollow_marks_unreachable_and_notes_open_tickets(rt: Runtime, db: Session) -> None:
    receive(rt, ev("text"))
    receive(rt, ev("unfollow"))
    assert fresh(db).exec(select(ContactIdentity)).one().reachable is False
    note = db.exec(select(Note)).one()
    assert note.kind == "system" and "unfollow" in note.body


def test_consent_postback_is_recorded_with_the_contact(
    rt: Runtime, db: Session, line: FakeLineServer
) -> None:
    receive(rt, ev("text"))
    receive(rt, ev("postback_consent"))
    identity = fresh(db).exec(select(ContactIdentity)).one()
    personal = db.get(ContactPersonalData, identity.contact_id)
    assert personal is not None and personal.consent_to_share and personal.consent_recorded_at
    assert "同意" in line.replies()[-1].body["messages"][0]["text"]
    receive(rt, ev("postback_consent", webhookEventId="01PB-NO", postback={"data": "consent=no"}))
    assert fresh(db).get(ContactPersonalData, identity.contact_id).consent_to_share is False  # type: ignore[union-attr]


def test_rating_postback_becomes_a_note(rt: Runtime, db: Session) -> None:
    receive(rt, ev("text"))
    receive(rt, ev("postback_rating"))
    assert "4/5" in fresh(db).exec(select(Note)).one().body
    receive(rt, ev("postback_rating", webhookEventId="01PB-X", postback={"data": "rating=11"}))
    assert events_by_status(db)["01PB-X"] == "ignored"


# -- unsend / edit --------------------------------------------------------------------------------


def test_unsend_retracts_the_message_and_keeps_an_audit_trail(rt: Runtime, db: Session) -> None:
    receive(rt, ev("text"))
    original = messages(db)[0].body
    receive(rt, ev("unsend"))
    (msg,) = messages(db)
    assert msg.status == MessageStatus.RETRACTED and msg.body == RETRACTED_BODY
    audit = db.exec(select(AuditLog).where(AuditLog.action == "message.retracted")).one()
    assert audit.detail["body"] == original


def test_unsend_that_overtakes_its_message_still_retracts_it(rt: Runtime, db: Session) -> None:
    receive(rt, ev("unsend"))
    receive(rt, ev("text", timestamp=now_ms(-5)))
    (msg,) = messages(db)
    assert msg.status == MessageStatus.RETRACTED and msg.body == RETRACTED_BODY


def test_edited_message_updates_the_body_and_audits_the_previous_text(rt: Runtime, db: Session) -> None:
    receive(rt, ev("text"))
    receive(rt, ev("message_edited"))
    (msg,) = messages(db)
    assert "訂正" in msg.body
    audit = db.exec(select(AuditLog).where(AuditLog.action == "message.edited_by_consumer")).one()
    assert audit.detail["previous_body"].startswith("定期購入の解約ができません😢")


# -- groups and the rest ----------------------------------------------------------------------------


def test_group_join_is_refused_politely_and_left(rt: Runtime, db: Session, line: FakeLineServer) -> None:
    receive(rt, ev("join"), ev("group_message"), ev("leave"))
    (reply,) = line.replies()
    assert "1対1" in reply.body["messages"][0]["text"]
    assert line.requests_to("/v2/bot/group/")[0].path.endswith("/leave")
    assert messages(db) == [] and db.exec(select(Ticket)).all() == []
    status = events_by_status(db)
    assert status["01HJOIN00000000000000000001"] == "processed"
    assert status["01HGROUPMSG000000000000001"] == "ignored"
    assert status["01HLEAVE0000000000000000001"] == "ignored"


def test_unknown_event_types_are_ignored_with_a_reason(rt: Runtime, db: Session) -> None:
    receive(rt, ev("unknown"), ev("member_joined"))
    rows = fresh(db).exec(select(InboundEvent)).all()
    assert {r.status for r in rows} == {InboundEventStatus.IGNORED}
    assert all(r.error for r in rows)


def test_sweep_picks_up_events_whose_job_was_lost(rt: Runtime, db: Session) -> None:
    from channels.base import RawEvent
    from crm.inbound_events import store_raw

    event = ev("text")  # stored, but the job never ran (e.g. Redis restarted)
    raw = RawEvent(event["webhookEventId"], USER, event["timestamp"], __import__("json").dumps(event))
    store_raw(rt.engine, channel="line", account_id=line_account(rt).id, events=[raw])
    with rt.engine.begin() as conn:
        conn.execute(update(InboundEvent).values(received_at=utcnow() - _seconds(60)))
    assert sweep() == 1
    rt.jobs.drain()
    assert len(messages(db)) == 1


def _seconds(n: int) -> Any:
    from datetime import timedelta

    return timedelta(seconds=n)


def _center_id(db: Session, code: str) -> int:
    from crm.models import Center

    return db.exec(select(Center.id).where(Center.code == code)).one()  # type: ignore[return-value]


def test_text_with_nul_is_stored_and_processed(rt: Runtime, db: Session) -> None:
    """PostgreSQL text cannot hold U+0000: such an event used to fail forever (issue 10)."""
    event = ev("text")
    event["message"] = {**event["message"], "text": "返金\x00してほしい"}
    receive(rt, event)
    (msg,) = messages(db)
    assert msg.body == "返金\ufffdしてほしい"
    assert set(events_by_status(db).values()) == {"processed"}


def test_two_long_event_ids_sharing_a_prefix_are_both_stored(rt: Runtime, db: Session) -> None:
    """Ids were cut to 128 characters: the second of two such events was dropped as a duplicate."""
    base = ev("text")
    first = {**base, "webhookEventId": "X" * 130 + "1", "message": {**base["message"], "id": "long-1"}}
    second = {**base, "webhookEventId": "X" * 130 + "2", "message": {**base["message"], "id": "long-2"}}
    receive(rt, first, second)
    assert len(events_by_status(db)) == 2 and len(messages(db)) == 2
