"""Intake turns inbound messages into tickets: idempotent, one ticket per open consultation."""

from __future__ import annotations

from sqlmodel import Session, func, select

from channels.base import ChannelKind
from config.runtime import Runtime
from crm.intake import record_inbound
from crm.models import Contact, ContactIdentity, Message, Ticket, TicketStatus
from tests.conftest import wait_for
from tests.factories import inbound, make_center, receive


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_first_message_opens_a_ticket_and_the_next_one_appends(session: Session) -> None:
    center = make_center(session)
    first = receive(session, center, "スマホの定期購入を解約したい", sender="Uabc")
    second = receive(session, center, "追加で質問です", sender="Uabc")
    assert first.created_ticket and not second.created_ticket
    assert first.ticket_id == second.ticket_id
    assert first.contact_id == second.contact_id
    ticket = session.get(Ticket, first.ticket_id)
    # Open; routing's job may already have queued it.
    assert ticket is not None and ticket.status in (TicketStatus.NEW, TicketStatus.QUEUED)
    assert ticket.subject == "スマホの定期購入を解約したい"


def test_duplicate_delivery_stores_nothing_twice(session: Session) -> None:
    center = make_center(session)
    msg = inbound("同じメッセージ", external_id="line-msg-1")
    a = record_inbound(session, msg, center_id=center.id)  # type: ignore[arg-type]
    session.commit()
    b = record_inbound(session, msg, center_id=center.id)  # type: ignore[arg-type]
    session.commit()
    assert b.duplicate and b.message_id == a.message_id
    assert count(session, Message) == 1 and count(session, Ticket) == 1 and count(session, Contact) == 1


def test_same_external_id_on_another_channel_is_a_different_message(session: Session) -> None:
    center = make_center(session)
    receive(session, center, "a", external_id="X1", channel=ChannelKind.LINE)
    receive(session, center, "b", external_id="X1", channel=ChannelKind.EMAIL, sender="a@example.jp")
    assert count(session, Message) == 2
    assert count(session, ContactIdentity) == 2


def test_a_resolved_ticket_is_not_reopened_by_a_new_message(session: Session) -> None:
    center = make_center(session)
    first = receive(session, center, "最初の相談")
    ticket = session.get(Ticket, first.ticket_id)
    assert ticket is not None
    ticket.status = TicketStatus.RESOLVED
    session.add(ticket)
    session.commit()
    again = receive(session, center, "別の相談です")
    assert again.created_ticket and again.ticket_id != first.ticket_id


def test_message_received_event_is_published_after_commit_only(runtime: Runtime, session: Session) -> None:
    seen: list[dict] = []
    runtime.live.subscribe(seen.append)
    center = make_center(session)
    record_inbound(session, inbound("ロールバックされる"), center_id=center.id)  # type: ignore[arg-type]
    session.rollback()
    assert not [e for e in seen if e["event"] == "MessageReceived"]
    receive(session, center, "コミットされる")
    assert wait_for(lambda: any(e["event"] == "MessageReceived" for e in seen))
    received = [e for e in seen if e["event"] == "MessageReceived"]
    assert len(received) == 1 and received[0]["ticket_created"] is True


def test_automatic_reply_goes_through_the_outbox_and_is_delivered(runtime: Runtime, session: Session) -> None:
    from crm.models import MessageStatus, OutboxItem
    from crm.services import post_automatic_reply

    center = make_center(session)
    msg = inbound("夜分にすみません", sender="U-night")
    result = record_inbound(session, msg, center_id=center.id)  # type: ignore[arg-type]
    session.commit()
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    auto = post_automatic_reply(session, ticket=ticket, body="受付時間外です。明日9時以降にご連絡します。")
    assert auto is not None and auto.author_id is None and auto.kind == "auto"
    outbox = session.exec(select(OutboxItem).where(OutboxItem.message_id == auto.id)).one()
    assert outbox.recipient == "U-night" and outbox.channel_account_id == ticket.channel_account_id
    session.commit()  # release the SQLite write lock before the jobs run
    runtime.jobs.drain()
    session.expire_all()
    assert session.get(Message, auto.id).status == MessageStatus.SENT  # type: ignore[union-attr]
