"""ACD behaviour around the offers: wrap-up (after-call work) and keeping an abandoned caller's place.

* Wrap-up: when a ticket is resolved its counselor spends ``wrap_up_seconds[channel]`` in after-call
  work (no offers), never more than ``wrap_up_max`` (also the cap on after-call work a counselor
  chooses from the console); :func:`end_due_wrap_ups` (periodic) makes them available again.
* Abandoned-resume (FreeSWITCH mod_callcenter's ``abandoned-resume-allowed``): a queued ticket whose
  consumer hung up is marked with :func:`mark_abandoned`; if the same contact comes back on the same
  channel within ``abandoned_resume_seconds``, :func:`resumed_place` gives the new ticket the old
  ``queued_at``, so it is served in the place it had.

The re-offer delay (a counselor who declined or missed a ticket is not offered it again before
``reoffer_delay``) is a guard of the policy (``blocked`` in :func:`routing.policy.choose_counselor`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from config.settings import Settings
from crm.models import Ticket, User
from routing import store
from routing.models import Presence, PresenceStatus, RoutingLog
from routing.service import emit, emit_presence

ABANDONED = store.ABANDONED


def wrap_up_for(settings: Settings, channel: str) -> timedelta:
    """The after-call work that follows a ticket on ``channel`` (capped by ``wrap_up_max``)."""
    return timedelta(seconds=max(0, min(settings.wrap_up_seconds.get(channel, 0), settings.wrap_up_max)))


def start_wrap_up(
    session: Session, *, user_id: int, channel: str, now: datetime, settings: Settings
) -> datetime | None:
    """Put an available counselor into after-call work for ``channel``'s wrap-up; when it ends, or
    None if the channel has none or the counselor is not available (caller commits). Their pending
    offers are re-routed, as when they leave ``available`` from the console."""
    length = wrap_up_for(settings, channel)
    if not length:
        return None
    presence = store.lock_presence(session, user_id)
    if presence is None or presence.status not in (PresenceStatus.AVAILABLE, PresenceStatus.AFTER_CALL_WORK):
        return None
    until = now + length
    if presence.status == PresenceStatus.AFTER_CALL_WORK and presence.wrap_up_until:
        until = max(until, presence.wrap_up_until)
    else:
        from routing.presence import _release_offers  # presence builds on this module's neighbours

        _release_offers(session, user_id, now, reason="after-call work", settings=settings)
        presence.status = PresenceStatus.AFTER_CALL_WORK
        presence.since = now
    presence.wrap_up_until = until
    presence.version += 1
    session.add(presence)
    emit_presence(
        session, user_id, {"status": "after_call_work", "until": until.isoformat(), "channel": channel}
    )
    return until


def end_due_wrap_ups(session: Session, *, now: datetime) -> list[int]:
    """Counselors whose after-call work has run out are available again; the center ids to
    dispatch (caller commits). Rows another process holds are skipped until the next run."""
    due = session.exec(
        select(Presence.user_id)
        .where(Presence.status == PresenceStatus.AFTER_CALL_WORK, col(Presence.wrap_up_until) <= now)
        .order_by(col(Presence.user_id))
        .limit(500)
    ).all()
    centers: list[int] = []
    for user_id in due:
        presence = store.lock_presence(session, user_id, skip_locked=True)
        if presence is None or presence.status != PresenceStatus.AFTER_CALL_WORK:
            continue
        if presence.wrap_up_until is None or presence.wrap_up_until > now:
            continue
        presence.status = PresenceStatus.AVAILABLE
        presence.since = now
        presence.wrap_up_until = None
        presence.version += 1
        session.add(presence)
        user = session.get(User, user_id)
        center = user.center_id if user else None
        emit(session, "presence", user_id=user_id, center_id=center, detail={"status": "available"})
        if center is not None and center not in centers:
            centers.append(center)
    return centers


def mark_abandoned(session: Session, *, ticket: Ticket, now: datetime) -> None:
    """The consumer hung up while ``ticket`` was queued or offered: remember its place for
    :func:`resumed_place` (caller commits; what happens to the ticket itself is crm's business)."""
    place = ticket.queued_at.isoformat() if ticket.queued_at else ""
    emit(session, ABANDONED, ticket=ticket, detail={"queued_at": place}, logged=False)
    session.add(
        RoutingLog(at=now, kind=ABANDONED, ticket_id=ticket.id, center_id=ticket.center_id, detail=place)
    )


def resumed_place(session: Session, *, ticket: Ticket, now: datetime, settings: Settings) -> datetime | None:
    """The ``queued_at`` of this contact's ticket on the same channel abandoned within
    ``abandoned_resume_seconds`` (the place to resume), or None."""
    return store.abandoned_place(session, ticket, now, timedelta(seconds=settings.abandoned_resume_seconds))
