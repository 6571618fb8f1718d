"""The dispatch round's snapshot reads (on PostgreSQL constant SQL texts, :mod:`routing.pg_dispatch`;
on SQLite SQLAlchemy statements) against an oracle built from plain ORM reads: the same counselors
with the same skills, capacity and load, the same queued tickets in the same order, the same
counselors kept away from a ticket. Runs on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import Contact, Ticket, TicketStatus
from routing import service, store
from routing.models import Offer, OfferStatus, Presence, PresenceStatus
from routing.policy import AgentView
from tests.factories import make_center, make_user

NOW = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)


def _ticket(session: Session, center_id: int, status: TicketStatus, **fields: object) -> Ticket:
    contact = Contact()
    session.add(contact)
    session.flush()
    ticket = Ticket(center_id=center_id, contact_id=contact.id, channel="line", status=status, **fields)  # type: ignore[arg-type]
    session.add(ticket)
    session.flush()
    return ticket


def _offer(session: Session, **fields: Any) -> None:
    session.add(Offer(channel="line", **fields))


def test_dispatch_snapshot_matches_the_records(runtime: Runtime, session: Session) -> None:
    center = make_center(session, "reads")
    other = make_center(session, "elsewhere")
    cid = center.id or 0
    aoki = make_user(session, center, "aoki", skills=["金融・保険"], languages=["ja", "en"])
    baba = make_user(session, center, "baba", qualifications=["消費生活相談員"], capacity={"line": 2})
    chiba = make_user(session, center, "chiba")
    busy = make_user(session, center, "busy")
    gone = make_user(session, center, "gone", is_active=False)
    away = make_user(session, other, "away")
    for u, status in [
        (aoki, PresenceStatus.AVAILABLE),
        (baba, PresenceStatus.AVAILABLE),
        (chiba, PresenceStatus.AVAILABLE),
        (busy, PresenceStatus.BREAK),
        (gone, PresenceStatus.AVAILABLE),
        (away, PresenceStatus.AVAILABLE),
    ]:
        session.add(Presence(user_id=u.id, status=status, missed_offers=1 if u is chiba else 0))  # type: ignore[arg-type]
    session.flush()
    chiba_presence = session.get(Presence, chiba.id)
    assert chiba_presence is not None
    chiba_presence.capacity = {"line": 4}  # today's override beats the configured capacity
    chiba_presence.last_assigned_at = NOW - timedelta(minutes=7)
    held = _ticket(
        session, cid, TicketStatus.ASSIGNED, assignee_id=aoki.id, queued_at=NOW - timedelta(hours=1)
    )
    offered = _ticket(session, cid, TicketStatus.OFFERED, queued_at=NOW - timedelta(minutes=50))
    _offer(
        session,
        ticket_id=offered.id,
        active_ticket_id=offered.id,
        user_id=baba.id,
        center_id=cid,
        expires_at=NOW + timedelta(minutes=5),
    )
    queued = [
        _ticket(session, cid, TicketStatus.QUEUED, queued_at=NOW - timedelta(minutes=m), required_skills=s)
        for m, s in [(3, []), (30, ["金融・保険"]), (12, []), (45, [])]
    ]
    _ticket(session, other.id or 0, TicketStatus.QUEUED, queued_at=NOW - timedelta(hours=2))
    declined_at = NOW - timedelta(seconds=30)
    for uid, decision, at in [
        (chiba.id, OfferStatus.DECLINED, declined_at),
        (aoki.id, OfferStatus.TIMED_OUT, NOW - timedelta(hours=1)),
    ]:
        _offer(
            session,
            ticket_id=queued[1].id,
            user_id=uid,
            center_id=cid,
            status=decision,
            expires_at=at,
            decided_at=at,
        )
    session.commit()
    assert held.id and offered.id

    views = store.agent_views(session, cid)
    assert [v.id for v in views] == [aoki.id, baba.id, chiba.id]  # not on a break, inactive, elsewhere
    by_id: dict[int | None, AgentView] = {v.id: v for v in views}
    assert by_id[aoki.id].skills == frozenset({"金融・保険"})
    assert by_id[aoki.id].languages == frozenset({"ja", "en"})
    assert by_id[baba.id].qualifications == frozenset({"消費生活相談員"})
    assert by_id[baba.id].capacity == {"line": 2}
    assert by_id[chiba.id].capacity == {"line": 4}
    assert all(v.status == "available" for v in views)
    assert by_id[aoki.id].load == {"line": 1}  # the held ticket
    assert by_id[baba.id].load == {"line": 1}  # the pending offer
    assert by_id[chiba.id].load == {}
    assert by_id[chiba.id].consecutive_missed == 1
    idle = by_id[chiba.id].idle_since
    assert idle == NOW - timedelta(minutes=7) and idle is not None and idle.utcoffset() == timedelta(0)

    waiting = store.queued_views_if_locked(session, cid, limit=3)
    assert [t.id for t in waiting] == [queued[3].id, queued[1].id, queued[2].id]  # oldest first, this center
    assert waiting[1].required_skills == frozenset({"金融・保険"})
    assert waiting[0].waiting_since == NOW - timedelta(minutes=45)
    assert waiting[0].waiting_since.utcoffset() == timedelta(0)

    passed, blocked = store.pass_sets(
        session, [t.id for t in waiting], blocked_since=NOW - timedelta(minutes=1)
    )
    assert passed == {queued[1].id: frozenset({chiba.id, aoki.id})}  # never offered it again first
    assert blocked == {queued[1].id: frozenset({chiba.id})}  # declined a moment ago: not re-offered yet
    session.rollback()


def test_dispatch_offers_within_capacity_and_skips_who_passed(runtime: Runtime, session: Session) -> None:
    center = make_center(session, "dispatch-reads")
    cid = center.id or 0
    aoki = make_user(session, center, "aoki", capacity={"line": 1})
    baba = make_user(session, center, "baba", capacity={"line": 1})
    for u in (aoki, baba):
        session.add(Presence(user_id=u.id, status=PresenceStatus.AVAILABLE))  # type: ignore[arg-type]
    first = _ticket(session, cid, TicketStatus.QUEUED, queued_at=NOW - timedelta(minutes=9))
    second = _ticket(session, cid, TicketStatus.QUEUED, queued_at=NOW - timedelta(minutes=5))
    _ticket(session, cid, TicketStatus.QUEUED, queued_at=NOW - timedelta(minutes=1))
    _offer(
        session,
        ticket_id=first.id,
        user_id=aoki.id,
        center_id=cid,
        status=OfferStatus.DECLINED,
        expires_at=NOW,
        decided_at=NOW - timedelta(hours=1),
    )
    session.commit()

    made = service.dispatch_center(session, center_id=cid, now=NOW, settings=runtime.settings)
    session.commit()
    assert {(o.ticket_id, o.user_id) for o in made} == {(first.id, baba.id), (second.id, aoki.id)}
    statuses = session.exec(select(Ticket.status).where(Ticket.center_id == cid)).all()
    assert sorted(statuses) == [
        TicketStatus.OFFERED,
        TicketStatus.OFFERED,
        TicketStatus.QUEUED,
    ]  # 1 seat each
    assert service.dispatch_center(session, center_id=cid, now=NOW, settings=runtime.settings) == []  # full
