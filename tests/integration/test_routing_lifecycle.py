"""Nothing lost and nobody left unanswered: tickets whose MessageReceived event never ran are routed
by the periodic sweep, and a contact that arrives while every center is closed gets exactly one
after-hours answer per closed period, through the outbox and the channel adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from config.runtime import Runtime, get_runtime
from crm.models import Center, Contact, Message, Ticket, TicketStatus, utcnow
from routing import jobs, presence, service
from routing.models import Offer, PresenceStatus, RoutingLog
from tests.factories import ALWAYS_OPEN, make_center, make_user, receive

WEEK = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def lost_ticket(session: Session, center: Center, *, age: timedelta, **fields: Any) -> Ticket:
    """A ticket committed without its MessageReceived job (as `madoguchi demo` or a crash leaves it)."""
    contact = Contact()
    session.add(contact)
    session.flush()
    ticket = Ticket(
        center_id=center.id, contact_id=contact.id, channel="line", created_at=utcnow() - age, **fields
    )  # type: ignore[arg-type]
    session.add(ticket)
    session.commit()
    return ticket


def test_sweep_routes_tickets_whose_event_was_lost(runtime: Runtime, session: Session) -> None:
    center = make_center(session, "open24", hours=ALWAYS_OPEN, closed_dates=[])
    counselor = make_user(session, center, "yamada")
    presence.set_presence(
        session, settings=get_runtime().settings, user=counselor, status=PresenceStatus.AVAILABLE
    )
    runtime.jobs.drain()
    stale = lost_ticket(session, center, age=timedelta(seconds=60))
    fresh = lost_ticket(session, center, age=timedelta(seconds=1))  # its event may still be on the way
    assert jobs.stale_new_ticket_ids(session, utcnow()) == [stale.id]
    session.commit()  # SQLite: release the write lock before the job runs
    assert jobs.sweep_new_tickets() == 1
    session.expire_all()
    assert session.get(Ticket, stale.id).status == TicketStatus.OFFERED  # type: ignore[union-attr]
    assert session.get(Ticket, fresh.id).status == TicketStatus.NEW  # type: ignore[union-attr]
    offer = session.exec(select(Offer).where(Offer.ticket_id == stale.id)).one()
    assert offer.user_id == counselor.id
    session.commit()
    assert jobs.sweep_new_tickets() == 0  # routed tickets are not picked up again
    assert jobs.sweep_new_tickets in [p.func for p in runtime.periodic]


def test_sweep_queues_lost_tickets_even_when_nobody_is_online(runtime: Runtime, session: Session) -> None:
    center = make_center(session, "open24b", hours=ALWAYS_OPEN, closed_dates=[])
    stale = lost_ticket(session, center, age=timedelta(minutes=5))
    jobs.sweep_new_tickets()
    session.expire_all()
    got = session.get(Ticket, stale.id)
    assert got is not None and got.status == TicketStatus.QUEUED and got.queued_at is not None


def test_one_after_hours_answer_however_many_messages_arrive(runtime: Runtime, session: Session) -> None:
    night = make_center(session, "never-open", name="夜間テストセンター", hours={}, closed_dates=[])
    first = receive(session, night, "解約したいです", sender="Unight")
    runtime.jobs.drain()
    receive(session, night, "至急お願いします", sender="Unight")
    receive(session, night, "まだですか", sender="Unight")
    runtime.jobs.drain()
    sent = [s for s in runtime.adapters["line"].sent() if s["recipient"] == "Unight"]
    assert len(sent) == 1, sent
    assert "夜間テストセンター" in sent[0]["text"] and "受付時間外" in sent[0]["text"]
    session.expire_all()
    ticket = session.get(Ticket, first.ticket_id)
    assert ticket is not None and ticket.status == TicketStatus.QUEUED  # still waits for a counselor
    auto = session.exec(select(Message).where(Message.ticket_id == ticket.id, Message.kind == "auto")).all()
    assert len(auto) == 1 and auto[0].author_id is None


def test_after_hours_answer_again_in_the_next_closed_period(runtime: Runtime, session: Session) -> None:
    city = make_center(session, "weekdays", hours=WEEK, closed_dates=[])
    ticket = lost_ticket(session, city, age=timedelta(0))  # no event: only the calls below route it
    friday_night = datetime(2026, 4, 10, 11, 0, tzinfo=UTC)  # 20:00 JST, closed until Monday 09:00
    saturday = friday_night + timedelta(hours=12)
    monday_night = datetime(2026, 4, 13, 11, 0, tzinfo=UTC)
    answered = []
    for at in (friday_night, saturday, monday_night, monday_night + timedelta(hours=1)):
        r = service.enqueue_ticket(session, ticket_id=ticket.id, now=at)  # type: ignore[arg-type]
        session.commit()
        assert r.after_hours_text
        logs = session.exec(
            select(RoutingLog).where(
                RoutingLog.ticket_id == ticket.id, RoutingLog.kind == service.AFTER_HOURS_ANSWER
            )
        ).all()
        answered.append(len(logs))
    assert answered == [1, 1, 2, 2]  # Friday night + weekend is one closed period, Monday night another


def test_a_voicemail_at_a_closed_center_gets_no_text_answer(runtime: Runtime, session: Session) -> None:
    """A call carries no text: the after-hours notice is spoken by the IVR, never queued as a message
    that the voice adapter would refuse (it used to end as a failed outbox row on the timeline)."""
    from crm.models import ContactIdentity, OutboxItem

    night = make_center(session, "never-open-voice", hours={}, closed_dates=[])
    call = lost_ticket(session, night, age=timedelta(0))
    call.channel = "voice"
    session.add(ContactIdentity(contact_id=call.contact_id, channel="voice", external_id="+819012345678"))
    chat = lost_ticket(session, night, age=timedelta(0))
    session.add(ContactIdentity(contact_id=chat.contact_id, channel="line", external_id="Uchat-night"))
    session.commit()
    for ticket in (call, chat):
        service.enqueue_ticket(session, ticket_id=ticket.id, now=utcnow())  # type: ignore[arg-type]
        session.commit()
    auto = {m.ticket_id for m in session.exec(select(Message).where(Message.kind == "auto")).all()}
    assert auto == {chat.id}  # the chat is answered; the call is not
    assert session.exec(select(OutboxItem).where(OutboxItem.recipient == "+819012345678")).first() is None
