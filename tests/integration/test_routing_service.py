"""Routing service against the real database: enqueue, offer, accept/decline, timeouts, presence,
holidays and overflow, transfers. Time is passed explicitly (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from config.runtime import Runtime, get_runtime
from crm.errors import Conflict, Forbidden, NotFound
from crm.models import Center, Contact, Note, Role, Ticket, TicketStatus, User
from routing import jobs, offers, presence, service
from routing.calendar import YEAR_END_CLOSURE
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from tests.factories import ALWAYS_OPEN, make_center, make_ticket, make_user

NOW = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)  # Wednesday 10:00 JST
WEEK = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def new_ticket(session: Session, center: Center, **fields: Any) -> Ticket:
    contact = Contact()
    session.add(contact)
    session.flush()
    ticket = Ticket(
        center_id=center.id, contact_id=contact.id, channel=fields.pop("channel", "line"), **fields
    )  # type: ignore[arg-type]
    session.add(ticket)
    session.commit()
    return ticket


def online(session: Session, user: User, at: datetime = NOW, **kw: Any) -> None:
    presence.set_presence(
        session, settings=get_runtime().settings, user=user, status=PresenceStatus.AVAILABLE, now=at, **kw
    )
    get_runtime().jobs.drain()  # the "became available" dispatch job runs now, not in the middle of a test


def queue_and_route(session: Session, rt: Runtime, ticket: Ticket, at: datetime = NOW) -> Offer | None:
    service.enqueue_ticket(session, ticket_id=ticket.id, now=at)  # type: ignore[arg-type]
    offer = service.route_ticket(session, ticket_id=ticket.id, now=at, settings=rt.settings)  # type: ignore[arg-type]
    session.commit()
    return offer


@pytest.fixture
def world(runtime: Runtime, session: Session) -> dict[str, Any]:
    national = make_center(
        session,
        "kokusen",
        level="national",
        hours={
            **WEEK,
            "sat": [["10:00", "16:00"]],
            "sun": [["10:00", "16:00"]],
            "holiday": [["10:00", "16:00"]],
        },
        closed_dates=list(YEAR_END_CLOSURE),
    )
    city = make_center(
        session,
        "city",
        hours=WEEK,
        closed_dates=list(YEAR_END_CLOSURE),
        parent_code="kokusen",
        backup_rules={"holiday": "kokusen", "sun": "kokusen", "busy": "kokusen", "busy_wait_seconds": 180},
    )
    a = make_user(session, city, "aoki", skills=["金融・保険"], qualifications=["消費生活相談員"])
    b = make_user(session, city, "baba", skills=["金融・保険", "不動産", "越境取引"])
    n = make_user(session, national, "kokusen1")
    sv = make_user(session, city, "sv", role=Role.SUPERVISOR)
    return {"rt": runtime, "national": national, "city": city, "a": a, "b": b, "n": n, "sv": sv}


def test_offer_goes_to_best_fit_and_accept_assigns(world: dict[str, Any], session: Session) -> None:
    online(session, world["a"])
    online(session, world["b"])
    ticket = new_ticket(session, world["city"], required_skills=["金融・保険"])
    offer = queue_and_route(session, world["rt"], ticket)
    assert offer is not None and offer.user_id == world["a"].id  # the specialist, not the generalist
    assert offer.expires_at == NOW + timedelta(seconds=world["rt"].settings.offer_timeout_message)
    offers.accept_offer(session, offer_id=offer.id, user=world["a"], now=NOW + timedelta(seconds=5))  # type: ignore[arg-type]
    session.refresh(ticket)
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.ASSIGNED, world["a"].id)
    with pytest.raises(Conflict):
        offers.accept_offer(session, offer_id=offer.id, user=world["a"], now=NOW)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        offers.accept_offer(session, offer_id=offer.id, user=world["b"], now=NOW)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        offers.accept_offer(session, offer_id=999_999, user=world["a"], now=NOW)


def test_voice_offer_uses_the_call_timeout_and_call_blocks_chats(
    world: dict[str, Any], session: Session
) -> None:
    online(session, world["a"])
    call = new_ticket(session, world["city"], channel="voice")
    offer = queue_and_route(session, world["rt"], call)
    assert offer is not None and offer.expires_at == NOW + timedelta(
        seconds=world["rt"].settings.offer_timeout_voice
    )
    offers.accept_offer(session, offer_id=offer.id, user=world["a"], now=NOW)  # type: ignore[arg-type]
    chat = new_ticket(session, world["city"])
    assert queue_and_route(session, world["rt"], chat) is None  # on a call: no chats
    session.refresh(chat)
    assert chat.status == TicketStatus.QUEUED


def test_decline_moves_to_next_counselor(world: dict[str, Any], session: Session) -> None:
    online(session, world["a"])
    online(session, world["b"])
    ticket = new_ticket(session, world["city"])
    first = queue_and_route(session, world["rt"], ticket)
    assert first is not None
    nxt = offers.decline_offer(
        session,
        offer_id=first.id,
        user=session.get(User, first.user_id),  # type: ignore[arg-type]
        reason="on another case",
        now=NOW,
        settings=world["rt"].settings,
    )
    assert nxt is not None and nxt.user_id != first.user_id


def test_timeout_reroutes_and_repeated_misses_mean_break(world: dict[str, Any], session: Session) -> None:
    rt = world["rt"]
    online(session, world["a"])
    online(session, world["b"])
    user_ids = set()
    at = NOW
    for _ in range(rt.settings.max_missed_offers):
        ticket = new_ticket(session, world["city"], required_skills=["金融・保険"])
        offer = queue_and_route(session, rt, ticket, at)
        assert offer is not None and offer.user_id == world["a"].id
        at = offer.expires_at
        assert offers.due_offer_ids(session, at - timedelta(seconds=1)) == []
        nxt = offers.expire_offer(session, offer_id=offer.id, now=at, settings=rt.settings)  # type: ignore[arg-type]
        session.commit()
        assert nxt is not None and nxt.user_id == world["b"].id  # re-routed to the next counselor
        user_ids.add(nxt.user_id)
        offers.accept_offer(session, offer_id=nxt.id, user=world["b"], now=at)  # type: ignore[arg-type]
    assert session.get(Presence, world["a"].id).status == PresenceStatus.BREAK  # type: ignore[union-attr]
    timed_out = session.exec(select(Offer).where(Offer.status == OfferStatus.TIMED_OUT)).all()
    assert len(timed_out) == rt.settings.max_missed_offers


def test_missed_heartbeat_sets_offline_and_reroutes(world: dict[str, Any], session: Session) -> None:
    rt = world["rt"]
    online(session, world["a"])
    online(session, world["b"], at=NOW + timedelta(seconds=80))
    ticket = new_ticket(session, world["city"], required_skills=["金融・保険"])
    offer = queue_and_route(session, rt, ticket, NOW + timedelta(seconds=85))
    assert offer is not None and offer.user_id == world["a"].id
    later = NOW + timedelta(seconds=rt.settings.presence_heartbeat_timeout + 1)
    assert presence.stale_presence_ids(session, later, rt.settings.presence_heartbeat_timeout) == [
        world["a"].id
    ]
    assert presence.mark_offline_if_stale(session, user_id=world["a"].id, now=later, settings=rt.settings)
    session.commit()
    assert session.get(Presence, world["a"].id).status == PresenceStatus.OFFLINE  # type: ignore[union-attr]
    pending = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).all()
    assert [o.user_id for o in pending] == [world["b"].id]


def test_holiday_sends_work_to_the_backup_center(world: dict[str, Any], session: Session) -> None:
    holiday = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 勤労感謝の日 11:00 JST
    online(session, world["a"], at=holiday)
    online(session, world["n"], at=holiday)
    ticket = new_ticket(session, world["city"])
    result = service.enqueue_ticket(session, ticket_id=ticket.id, now=holiday)  # type: ignore[arg-type]
    offer = service.route_ticket(session, ticket_id=ticket.id, now=holiday, settings=world["rt"].settings)  # type: ignore[arg-type]
    session.commit()
    assert result.moved_from == world["city"].id and result.center_id == world["national"].id
    assert offer is not None and offer.user_id == world["n"].id
    note = session.exec(select(Note).where(Note.ticket_id == ticket.id)).one()
    assert note.kind == "transfer" and "kokusen" in note.body


def test_year_end_gives_after_hours_answer(world: dict[str, Any], session: Session) -> None:
    ticket = new_ticket(session, world["city"])
    result = service.enqueue_ticket(
        session, ticket_id=ticket.id, now=datetime(2026, 12, 30, 2, 0, tzinfo=UTC)
    )  # type: ignore[arg-type]
    session.commit()
    assert result.after_hours_text and "受付" in result.after_hours_text
    assert result.center_id == world["city"].id and result.queued


def test_overflow_after_wait_threshold(world: dict[str, Any], session: Session) -> None:
    ticket = new_ticket(session, world["city"])
    service.enqueue_ticket(session, ticket_id=ticket.id, now=NOW)  # type: ignore[arg-type]
    session.commit()
    assert jobs.overflow_candidates(session, NOW + timedelta(seconds=100)) == []
    later = NOW + timedelta(seconds=200)
    assert jobs.overflow_candidates(session, later) == [ticket.id]
    assert jobs.overflow_ticket(session, ticket_id=ticket.id, now=later)  # type: ignore[arg-type]
    session.commit()
    session.refresh(ticket)
    assert ticket.center_id == world["national"].id and ticket.status == TicketStatus.QUEUED


def test_dispatch_respects_capacity(world: dict[str, Any], session: Session) -> None:
    online(session, world["a"], capacity={"line": 2})
    tickets = [new_ticket(session, world["city"]) for _ in range(4)]
    for t in tickets:
        service.enqueue_ticket(session, ticket_id=t.id, now=NOW)  # type: ignore[arg-type]
    session.commit()
    made = service.dispatch_center(
        session, center_id=world["city"].id, now=NOW, settings=world["rt"].settings
    )  # type: ignore[arg-type]
    session.commit()
    world["rt"].jobs.drain()
    pending = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).all()
    assert len(made) == 2 and len(pending) == 2 and {o.user_id for o in pending} == {world["a"].id}


def test_transfer_to_counselor_center_and_supervisor(world: dict[str, Any], session: Session) -> None:
    rt = world["rt"]
    online(session, world["a"])
    ticket = new_ticket(session, world["city"], required_skills=["金融・保険"])
    offer = queue_and_route(session, rt, ticket)
    offers.accept_offer(session, offer_id=offer.id, user=world["a"], now=NOW)  # type: ignore[union-attr,arg-type]
    with pytest.raises(Conflict):  # baba is offline
        offers.transfer_ticket(
            session,
            settings=get_runtime().settings,
            ticket_id=ticket.id,
            actor=world["a"],
            reason="不動産の論点",
            to_user_id=world["b"].id,
            now=NOW,
        )  # type: ignore[arg-type]
    session.rollback()
    online(session, world["b"])
    offers.transfer_ticket(
        session,
        settings=get_runtime().settings,
        ticket_id=ticket.id,
        actor=world["a"],
        reason="不動産の論点",
        to_user_id=world["b"].id,
        now=NOW,
    )  # type: ignore[arg-type]
    pending = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).one()
    assert pending.user_id == world["b"].id
    offers.transfer_ticket(
        session,
        settings=get_runtime().settings,
        ticket_id=ticket.id,
        actor=world["sv"],
        reason="重大事故の疑い",
        to_supervisor=True,
        now=NOW,
    )  # type: ignore[arg-type]
    session.refresh(ticket)
    assert ticket.assignee_id == world["sv"].id and ticket.status == TicketStatus.ASSIGNED
    offers.transfer_ticket(
        session,
        settings=get_runtime().settings,
        ticket_id=ticket.id,
        actor=world["sv"],
        reason="越境取引",
        to_center_id=world["national"].id,
        now=NOW,
    )  # type: ignore[arg-type]
    session.refresh(ticket)
    assert ticket.center_id == world["national"].id and ticket.assignee_id is None
    kinds = [n.kind for n in session.exec(select(Note).where(Note.ticket_id == ticket.id)).all()]
    assert kinds == ["transfer", "escalation", "transfer"]
    with pytest.raises(Forbidden):
        offers.transfer_ticket(
            session,
            settings=get_runtime().settings,
            ticket_id=ticket.id,
            actor=world["b"],
            reason="x",
            to_supervisor=True,
            now=NOW,
        )  # type: ignore[arg-type]


def test_message_received_event_routes_through_jobs(world: dict[str, Any], session: Session) -> None:
    rt = world["rt"]
    presence.set_presence(
        session, settings=get_runtime().settings, user=world["a"], status=PresenceStatus.AVAILABLE
    )
    rt.jobs.drain()
    center = session.get(Center, world["city"].id)
    center.hours, center.closed_dates = ALWAYS_OPEN, []  # type: ignore[union-attr]
    session.add(center)
    session.commit()
    ticket = make_ticket(session, world["city"])
    session.commit()  # SQLite: release the write lock so the job can write
    rt.jobs.drain()
    session.expire_all()
    got = session.get(Ticket, ticket.id)
    assert got.status == TicketStatus.OFFERED  # type: ignore[union-attr]
    offer = session.exec(select(Offer).where(Offer.ticket_id == ticket.id)).one()
    assert offer.user_id == world["a"].id
