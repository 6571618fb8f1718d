"""Possible 重大事故等 (the screener's 要確認 tier) that a counselor must confirm or rule out (issue 15).

The screener's flag misses a few serious cases on text it has not seen (bench/accident_quality.py: 0.95–1.00
recall on each new blind set), while its 要確認 tier has held every serious message of every blind set. So a
要確認 result is not a hint in a side panel: it opens an :class:`AccidentCheck` that a counselor closes as
``serious`` (the ticket is flagged, jumps the queue and supervisors are alerted, as for a flag) or
``not_serious`` with a reason. A ticket with a pending check cannot be resolved or closed, and a check still
pending after ``Settings.accident_check_within_minutes`` goes to supervisors once (console and Slack).
crm does not import knowledge: the composition root plugs the detector in (:func:`set_possible_detector`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from config.clock import now_utc
from crm.audit import write_audit
from crm.errors import Conflict, Unprocessable
from crm.events import AccidentCheckOverdue, PossibleAccidentNoticed, SeriousAccidentSuspected, record_event
from crm.models import (
    OPEN_STATUSES,
    AccidentCheck,
    AccidentCheckStatus,
    Note,
    Ticket,
    User,
)

log = logging.getLogger(__name__)
MAX_REASONS = 20  # a long thread adds reasons to one check; the first ones say enough
DECISIONS = (AccidentCheckStatus.SERIOUS, AccidentCheckStatus.NOT_SERIOUS)

PossibleDetector = Callable[[str], Sequence[str]]
_detector: PossibleDetector | None = None


def set_possible_detector(detector: PossibleDetector | None) -> None:
    """The composition root plugs in knowledge.accident.detect_possible_accident."""
    global _detector
    _detector = detector


def pending_check(session: Session, ticket_id: int) -> AccidentCheck | None:
    """The ticket's open check, if any."""
    return session.exec(
        select(AccidentCheck).where(
            AccidentCheck.ticket_id == ticket_id, AccidentCheck.status == AccidentCheckStatus.PENDING
        )
    ).first()


def open_check_if_possible(session: Session, ticket: Ticket, text: str) -> AccidentCheck | None:
    """Screen ``text`` (a consumer's message or a counselor's note) for a possible 重大事故等.

    Called when the flag tier found nothing. A ticket already flagged needs no check; a ticket with a
    pending check gets the new reasons added to it. Returns the check that is open, or None.
    """
    if ticket.serious_accident or _detector is None or not text.strip():
        return None
    reasons = list(_detector(text))
    if not reasons:
        return None
    check = pending_check(session, ticket.id)  # type: ignore[arg-type]
    if check is not None:
        merged = list(dict.fromkeys([*check.reasons, *reasons]))[:MAX_REASONS]
        if merged != check.reasons:
            check.reasons = merged
            session.add(check)
        return check
    check = AccidentCheck(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        center_id=ticket.center_id,
        reasons=reasons[:MAX_REASONS],
    )
    session.add(check)
    session.flush()
    record_event(
        session,
        PossibleAccidentNoticed(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            center_id=ticket.center_id,
            check_id=check.id,  # type: ignore[arg-type]
            reasons=tuple(check.reasons),
        ),
    )
    return check


def settle_on_flag(session: Session, ticket: Ticket) -> None:
    """The ticket was just flagged 重大事故等 (a later message or note): its pending check is answered."""
    check = pending_check(session, ticket.id)  # type: ignore[arg-type]
    if check is not None:
        check.status = AccidentCheckStatus.SERIOUS
        check.decided_at = now_utc()
        check.decision_note = "flagged by the screener (a later message or note)"
        session.add(check)


def decide(session: Session, *, check: AccidentCheck, user: User, decision: str, note: str) -> AccidentCheck:
    """Close ``check`` as serious or not serious (in the caller's transaction; the caller commits).

    ``not_serious`` needs the counselor's reason (it is what an audit of a missed report would read);
    ``serious`` flags the ticket like the screener's flag does.
    """
    if check.status != AccidentCheckStatus.PENDING:
        raise Conflict(f"accident check {check.id} was already decided: {check.status.value}")
    try:
        status = AccidentCheckStatus(decision)
    except ValueError:
        status = None
    if status not in DECISIONS:
        raise Unprocessable("decision: must be 'serious' (重大事故等) or 'not_serious' (該当しない)")
    if status == AccidentCheckStatus.NOT_SERIOUS and not note.strip():
        raise Unprocessable(
            "note: say why this is not a 重大事故等 (e.g. 全治1週間, no fire, property damage only)"
        )
    claimed = session.execute(  # compare-and-set: two counselors deciding at once, one wins
        update(AccidentCheck)
        .where(col(AccidentCheck.id) == check.id, col(AccidentCheck.status) == AccidentCheckStatus.PENDING)
        .values(status=status, decided_by=user.id, decided_at=now_utc(), decision_note=note.strip())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"accident check {check.id} was decided by someone else just now")
    session.refresh(check)
    write_audit(
        session,
        actor_id=user.id,
        action=f"accident_check.{status.value}",
        object_type="ticket",
        object_id=check.ticket_id,
        detail={"check_id": check.id},
    )
    ticket = session.get(Ticket, check.ticket_id)
    if status == AccidentCheckStatus.SERIOUS and ticket is not None and not ticket.serious_accident:
        ticket.serious_accident = True
        ticket.version += 1
        session.add(ticket)
        record_event(
            session,
            SeriousAccidentSuspected(
                ticket_id=check.ticket_id,
                center_id=check.center_id,
                reasons=("相談員が重大事故等と確認 (confirmed by a counselor)", *check.reasons),
            ),
        )
    return check


def refuse_close_while_pending(session: Session, ticket: Ticket) -> None:
    """A ticket with a possible 重大事故等 nobody judged cannot be resolved or closed."""
    if ticket.serious_accident:  # flagged by hand meanwhile: the notification flow takes it from here
        settle_on_flag(session, ticket)
        return
    check = pending_check(session, ticket.id)  # type: ignore[arg-type]
    if check is not None:
        raise Conflict(
            f"ticket {ticket.id} has a possible 重大事故等 to confirm (要確認, check {check.id}): "
            f"decide it with POST /api/accident-checks/{check.id}/decision before resolving"
        )


def escalate_stale_checks(session: Session, *, within: timedelta, now: datetime | None = None) -> list[int]:
    """Send every check pending longer than ``within`` on an open ticket to supervisors, once each."""
    now = now or now_utc()
    due = session.exec(
        select(AccidentCheck, Ticket)
        .join(Ticket, col(Ticket.id) == AccidentCheck.ticket_id)
        .where(
            AccidentCheck.status == AccidentCheckStatus.PENDING,
            col(AccidentCheck.escalated_at).is_(None),
            col(AccidentCheck.created_at) <= now - within,
            col(Ticket.status).in_(OPEN_STATUSES),
        )
        .order_by(col(AccidentCheck.created_at))
    ).all()
    escalated: list[int] = []
    for check, ticket in due:
        claimed = session.execute(
            update(AccidentCheck)
            .where(col(AccidentCheck.id) == check.id, col(AccidentCheck.escalated_at).is_(None))
            .values(escalated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another process escalated it first
        minutes = int((now - check.created_at).total_seconds()) // 60
        session.add(
            Note(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                kind="system",  # not "escalation": that marks a flagged ticket's undrafted escalation
                body=(
                    f"重大事故等の要確認が未判断 (possible serious accident not judged): check {check.id}, "
                    f"{minutes // 60}時間{minutes % 60}分. Confirm or rule it out now."
                ),
            )
        )
        write_audit(
            session,
            actor_id=None,
            action="accident_check.escalated",
            object_type="ticket",
            object_id=ticket.id or 0,
            detail={"check_id": check.id, "pending_seconds": minutes * 60},
        )
        record_event(
            session,
            AccidentCheckOverdue(
                ticket_id=ticket.id,  # type: ignore[arg-type]
                center_id=ticket.center_id,
                check_id=check.id,  # type: ignore[arg-type]
                pending_seconds=minutes * 60,
            ),
        )
        escalated.append(check.id)  # type: ignore[arg-type]
    session.commit()
    return escalated


def run_check_escalation(engine: Engine, *, within: timedelta, now: datetime | None = None) -> list[int]:
    """One sweep in its own session."""
    with Session(engine, expire_on_commit=False) as session:
        return escalate_stale_checks(session, within=within, now=now)


def escalate_stale_checks_job() -> None:
    """Periodic job (bootstrap.PERIODIC): escalate possible accidents nobody judged in time."""
    from config.runtime import get_runtime

    runtime = get_runtime()
    within = timedelta(minutes=runtime.settings.accident_check_within_minutes)
    ids = run_check_escalation(runtime.engine, within=within)
    if ids:
        log.warning("possible 重大事故等 not judged in time: escalated checks %s", ids)
