"""Accepting an offer, however the caller's session stands: fresh (on PostgreSQL the accept is one
autocommitted statement), holding earlier work of its own, or losing the race to another device.
What a counselor and a supervisor see afterwards is the same on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from config.runtime import Runtime
from crm.errors import Conflict, Forbidden
from crm.models import Contact, Note, Ticket, TicketStatus, User
from routing import offers, service
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from tests.conftest import wait_for
from tests.factories import make_center, make_user

NOW = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)


def _offered(runtime: Runtime, session: Session) -> tuple[Offer, User, User]:
    """One LINE ticket offered to one available counselor (a second counselor stands by)."""
    center = make_center(session)
    aoki = make_user(session, center, "aoki", capacity={"line": 3})
    baba = make_user(session, center, "baba", capacity={"line": 3})
    session.add(Presence(user_id=aoki.id, status=PresenceStatus.AVAILABLE, missed_offers=2))  # type: ignore[arg-type]
    contact = Contact()
    session.add(contact)
    session.flush()
    ticket = Ticket(center_id=center.id, contact_id=contact.id, channel="line")  # type: ignore[arg-type]
    session.add(ticket)
    session.commit()
    service.enqueue_ticket(session, ticket_id=ticket.id or 0, now=NOW)
    offer = service.route_ticket(session, ticket_id=ticket.id or 0, now=NOW, settings=runtime.settings)
    session.commit()
    assert offer is not None and offer.user_id == aoki.id
    return offer, aoki, baba


def _state(runtime: Runtime, offer_id: int) -> dict[str, Any]:
    """What another process reads once the accept returned (a fresh session, committed data only)."""
    with Session(runtime.engine) as other:
        offer = other.get(Offer, offer_id)
        assert offer is not None
        ticket = other.get(Ticket, offer.ticket_id)
        presence = other.get(Presence, offer.user_id)
        assert ticket is not None and presence is not None
        notes = list(other.exec(select(Note.body).where(Note.ticket_id == ticket.id).order_by(col(Note.id))))
        return {
            "offer": offer.status,
            "ticket": (ticket.status, ticket.assignee_id, ticket.assigned_at),
            "presence": (presence.missed_offers, presence.last_assigned_at),
            "notes": notes,
        }


def test_accept_in_a_fresh_session_is_committed_and_announced_once(
    runtime: Runtime, session: Session
) -> None:
    offer, aoki, _ = _offered(runtime, session)
    seen: list[dict[str, Any]] = []
    runtime.live.subscribe(seen.append)
    at = NOW + timedelta(seconds=5)
    with Session(runtime.engine, expire_on_commit=False) as fresh:  # nothing in flight: one round trip on PG
        assigned = offers.accept_offer(fresh, offer_id=offer.id or 0, user=aoki, now=at)
    assert (assigned.status, assigned.assignee_id) == (TicketStatus.ASSIGNED, aoki.id)
    state = _state(runtime, offer.id or 0)
    assert state["offer"] == OfferStatus.ACCEPTED
    assert state["ticket"] == (TicketStatus.ASSIGNED, aoki.id, at)
    assert state["presence"] == (0, at)  # missed offers reset, least-recently-assigned clock moved
    assert wait_for(lambda: any(e.get("kind") == "assigned" for e in seen))
    assigned_events = [e for e in seen if e.get("kind") == "assigned"]
    assert len(assigned_events) == 1 and assigned_events[0]["ticket_id"] == offer.ticket_id


def test_accept_commits_together_with_work_already_sent_in_its_session(
    runtime: Runtime, session: Session
) -> None:
    """A caller that already wrote in the session's transaction: the accept joins it (no autocommit,
    which PostgreSQL could not switch to mid-transaction) and both are committed by the accept."""
    offer, aoki, _ = _offered(runtime, session)
    with Session(runtime.engine, expire_on_commit=False) as busy:
        busy.add(Note(ticket_id=offer.ticket_id, author_id=aoki.id, body="受付前のメモ"))  # type: ignore[arg-type]
        busy.flush()  # sent: the transaction is open
        offers.accept_offer(busy, offer_id=offer.id or 0, user=aoki, now=NOW)
    state = _state(runtime, offer.id or 0)
    assert state["ticket"][:2] == (TicketStatus.ASSIGNED, aoki.id)
    assert "受付前のメモ" in state["notes"]


def test_pending_work_is_committed_with_the_accept_and_dropped_with_a_refusal(
    runtime: Runtime, session: Session
) -> None:
    offer, aoki, baba = _offered(runtime, session)
    with Session(runtime.engine, expire_on_commit=False) as other_device:
        other_device.add(Note(ticket_id=offer.ticket_id, author_id=baba.id, body="横取りのメモ"))  # type: ignore[arg-type]
        with pytest.raises(Forbidden, match="another counselor"):
            offers.accept_offer(other_device, offer_id=offer.id or 0, user=baba, now=NOW)
    with Session(runtime.engine, expire_on_commit=False) as console:
        console.add(Note(ticket_id=offer.ticket_id, author_id=aoki.id, body="受付時のメモ"))  # type: ignore[arg-type]
        offers.accept_offer(console, offer_id=offer.id or 0, user=aoki, now=NOW)
    state = _state(runtime, offer.id or 0)
    assert state["ticket"][:2] == (TicketStatus.ASSIGNED, aoki.id)
    assert state["notes"] == ["受付時のメモ"]  # the refused accept committed nothing


def test_second_device_loses_the_race_with_the_reason(runtime: Runtime, session: Session) -> None:
    offer, aoki, _ = _offered(runtime, session)
    with Session(runtime.engine, expire_on_commit=False) as phone:
        offers.accept_offer(phone, offer_id=offer.id or 0, user=aoki, now=NOW)
    laptop = Session(runtime.engine, expire_on_commit=False)
    with laptop, pytest.raises(Conflict, match=f"offer {offer.id} is already accepted"):
        offers.accept_offer(laptop, offer_id=offer.id or 0, user=aoki, now=NOW)
    late = _offered_again(runtime, session, aoki)
    with Session(runtime.engine, expire_on_commit=False) as slow:
        expired_at = late.expires_at.astimezone(UTC).isoformat()
        with pytest.raises(Conflict, match=re.escape(f"expired at {expired_at}")):
            offers.accept_offer(slow, offer_id=late.id or 0, user=aoki, now=late.expires_at)
    assert (
        _state(runtime, late.id or 0)["offer"] == OfferStatus.PENDING
    )  # the sweep times it out, not the accept


def _offered_again(runtime: Runtime, session: Session, user: User) -> Offer:
    contact = Contact()
    session.add(contact)
    session.flush()
    ticket = Ticket(center_id=user.center_id, contact_id=contact.id, channel="line")  # type: ignore[arg-type]
    session.add(ticket)
    session.commit()
    service.enqueue_ticket(session, ticket_id=ticket.id or 0, now=NOW)
    offer = service.route_ticket(session, ticket_id=ticket.id or 0, now=NOW, settings=runtime.settings)
    session.commit()
    assert offer is not None
    return offer
