"""ACD behaviour against the real database: re-offer delay, wrap-up (after-call work) with a
maximum, abandoned-resume, voice-only and chat-only counselors. Time is passed explicitly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from config.runtime import Runtime, get_runtime
from crm.lifecycle import transition
from crm.models import Center, Contact, Ticket, TicketStatus, User, utcnow
from routing import acd, jobs, offers, presence, service
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from tests.factories import make_center, make_user

NOW = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)  # Wednesday 10:00 JST


def new_ticket(session: Session, center: Center, contact: Contact | None = None, **fields: Any) -> Ticket:
    if contact is None:
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
    get_runtime().jobs.drain()


def dispatch(session: Session, center: Center, at: datetime) -> list[Any]:
    made = service.dispatch_center(session, center_id=center.id, now=at, settings=get_runtime().settings)  # type: ignore[arg-type]
    session.commit()
    return made


def pending(session: Session) -> list[tuple[int, int]]:
    session.expire_all()
    rows = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING).order_by(Offer.id)).all()  # type: ignore[arg-type]
    return [(o.ticket_id, o.user_id) for o in rows]


@pytest.fixture
def city(runtime: Runtime, session: Session) -> Center:
    return make_center(session, "acd-city")


def test_declined_ticket_waits_the_reoffer_delay_before_the_same_counselor(
    session: Session, city: Center
) -> None:
    settings = get_runtime().settings
    a = make_user(session, city, "aoki")
    online(session, a)
    ticket = new_ticket(session, city)
    service.enqueue_ticket(session, ticket_id=ticket.id, now=NOW)  # type: ignore[arg-type]
    first = service.route_ticket(session, ticket_id=ticket.id, now=NOW, settings=settings)  # type: ignore[arg-type]
    session.commit()
    assert first is not None and first.user_id == a.id
    again = offers.decline_offer(
        session, offer_id=first.id, user=a, reason="busy", now=NOW, settings=settings
    )  # type: ignore[arg-type]
    assert again is None  # the only counselor just declined: not offered to them again at once
    assert dispatch(session, city, NOW + timedelta(seconds=settings.reoffer_delay - 1)) == []
    later = dispatch(session, city, NOW + timedelta(seconds=settings.reoffer_delay))
    assert [o.user_id for o in later] == [a.id]  # after the delay, a new round may reach them


def test_declined_ticket_goes_to_someone_else_meanwhile(session: Session, city: Center) -> None:
    settings = get_runtime().settings
    a, b = make_user(session, city, "aoki"), make_user(session, city, "baba")
    online(session, a)
    ticket = new_ticket(session, city)
    service.enqueue_ticket(session, ticket_id=ticket.id, now=NOW)  # type: ignore[arg-type]
    first = service.route_ticket(session, ticket_id=ticket.id, now=NOW, settings=settings)  # type: ignore[arg-type]
    session.commit()
    assert first is not None and first.user_id == a.id
    assert offers.decline_offer(session, offer_id=first.id, user=a, now=NOW, settings=settings) is None  # type: ignore[arg-type]
    online(session, b, at=NOW + timedelta(seconds=5))  # becoming available dispatches the center
    dispatch(session, city, NOW + timedelta(seconds=5))
    pending = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).all()
    assert [o.user_id for o in pending] == [b.id]


def _assign(session: Session, city: Center, user: User, channel: str) -> Ticket:
    ticket = new_ticket(session, city, channel=channel)
    service.enqueue_ticket(session, ticket_id=ticket.id)  # type: ignore[arg-type]
    offer = service.route_ticket(session, ticket_id=ticket.id, settings=get_runtime().settings)  # type: ignore[arg-type]
    session.commit()
    assert offer is not None and offer.user_id == user.id
    offers.accept_offer(session, offer_id=offer.id, user=user)  # type: ignore[arg-type]
    return ticket


def _resolve(session: Session, ticket: Ticket) -> None:
    session.refresh(ticket)
    transition(session, ticket, TicketStatus.RESOLVED, reason="test", actor="system")
    session.commit()
    jobs.release_on_resolve({"ticket_id": ticket.id, "center_id": ticket.center_id})


def test_resolved_call_means_wrap_up_then_available_again(session: Session, city: Center) -> None:
    settings = get_runtime().settings
    a = make_user(session, city, "aoki", capacity={"voice": 1, "line": 3})
    online(session, a, at=utcnow())
    call = _assign(session, city, a, "voice")
    _resolve(session, call)
    session.expire_all()
    p = session.get(Presence, a.id)
    assert p is not None and p.status == PresenceStatus.AFTER_CALL_WORK
    assert p.wrap_up_until is not None
    length = (p.wrap_up_until - p.since).total_seconds()
    assert length == settings.wrap_up_seconds["voice"]
    chat = new_ticket(session, city)
    service.enqueue_ticket(session, ticket_id=chat.id)  # type: ignore[arg-type]
    session.commit()
    assert dispatch(session, city, utcnow()) == []  # no offers during after-call work
    assert acd.end_due_wrap_ups(session, now=p.wrap_up_until - timedelta(seconds=1)) == []
    assert acd.end_due_wrap_ups(session, now=p.wrap_up_until) == [city.id]
    session.commit()
    get_runtime().jobs.drain()  # available again: the presence event dispatches the center
    dispatch(session, city, utcnow())
    pending = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).all()
    assert [(o.ticket_id, o.user_id) for o in pending] == [(chat.id, a.id)]


def test_resolved_chat_has_no_wrap_up_by_default(session: Session, city: Center) -> None:
    a = make_user(session, city, "aoki", capacity={"line": 3})
    online(session, a, at=utcnow())
    _resolve(session, _assign(session, city, a, "line"))
    session.expire_all()
    assert session.get(Presence, a.id).status == PresenceStatus.AVAILABLE  # type: ignore[union-attr]


def test_chosen_after_call_work_ends_at_the_maximum(session: Session, city: Center) -> None:
    settings = get_runtime().settings
    a = make_user(session, city, "aoki")
    presence.set_presence(session, user=a, status=PresenceStatus.AFTER_CALL_WORK, now=NOW, settings=settings)
    limit = NOW + timedelta(seconds=settings.wrap_up_max)
    assert acd.end_due_wrap_ups(session, now=limit - timedelta(seconds=1)) == []
    assert acd.end_due_wrap_ups(session, now=limit) == [city.id]
    session.commit()
    session.expire_all()
    assert session.get(Presence, a.id).status == PresenceStatus.AVAILABLE  # type: ignore[union-attr]


def _abandon_and_call_back(session: Session, city: Center, back_after: int) -> tuple[Ticket, Ticket, Ticket]:
    settings = get_runtime().settings
    caller = Contact()
    session.add(caller)
    session.flush()
    first = new_ticket(session, city, caller, channel="voice")
    service.enqueue_ticket(session, ticket_id=first.id, now=NOW - timedelta(seconds=300), settings=settings)  # type: ignore[arg-type]
    other = new_ticket(session, city, channel="voice")
    service.enqueue_ticket(session, ticket_id=other.id, now=NOW - timedelta(seconds=100), settings=settings)  # type: ignore[arg-type]
    session.commit()
    acd.mark_abandoned(session, ticket=first, now=NOW)
    transition(session, first, TicketStatus.CLOSED, reason="caller hung up", actor="system")
    session.commit()
    back = new_ticket(session, city, caller, channel="voice")
    at = NOW + timedelta(seconds=back_after)
    service.enqueue_ticket(session, ticket_id=back.id, now=at, settings=settings)  # type: ignore[arg-type]
    session.commit()
    return first, other, back


def test_caller_who_calls_back_within_the_window_keeps_the_place(session: Session, city: Center) -> None:
    first, other, back = _abandon_and_call_back(session, city, back_after=30)
    assert back.queued_at == first.queued_at
    a = make_user(session, city, "aoki", capacity={"voice": 1})
    online(session, a, at=NOW + timedelta(seconds=31))  # becoming available dispatches the center
    assert pending(session) == [(back.id, a.id)]  # ahead of the call that came after theirs


def test_caller_who_calls_back_too_late_starts_again(session: Session, city: Center) -> None:
    window = get_runtime().settings.abandoned_resume_seconds
    _first, other, back = _abandon_and_call_back(session, city, back_after=window + 1)
    assert back.queued_at == NOW + timedelta(seconds=window + 1)
    a = make_user(session, city, "aoki", capacity={"voice": 1})
    online(session, a, at=NOW + timedelta(seconds=window + 2))
    assert pending(session) == [(other.id, a.id)]


def test_voice_only_and_chat_only_counselors_get_only_their_channel(session: Session, city: Center) -> None:
    phone = make_user(session, city, "denwa")
    chat = make_user(session, city, "chat")
    online(session, phone, capacity={"voice": 1})  # voice-only
    online(session, chat, capacity={"line": 3, "email": 5})  # chat-only
    for channel in ("line", "voice", "line"):
        t = new_ticket(session, city, channel=channel)
        service.enqueue_ticket(session, ticket_id=t.id, now=NOW)  # type: ignore[arg-type]
    session.commit()
    made = dispatch(session, city, NOW)
    got = {(o.channel, o.user_id) for o in made}
    assert got == {("line", chat.id), ("voice", phone.id)} and len(made) == 3
    pending = session.exec(select(Offer).where(Offer.status == OfferStatus.PENDING)).all()
    assert all(o.user_id == (phone.id if o.channel == "voice" else chat.id) for o in pending)
