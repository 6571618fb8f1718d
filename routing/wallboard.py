"""The supervisor wallboard's figures: per queue (center × channel) and per counselor, for today in JST.

Everything is read from tickets, offers and presence in a handful of grouped queries (no per-row
queries), so a page for 3,000 counselors stays one request:

* queue: waiting now, the oldest waiting since (the console ticks it), arrivals ("offered") and
  answered today, service level today (answered within the channel's threshold, of those that are
  answered or waited past it), abandoned (closed before any counselor took it), handle time average
  and p90 (assigned → resolved, tickets resolved today);
* arrivals by JST hour against the counselors the staffing calculator (Erlang C) says each hour
  needs, at today's average handle time;
* counselors: state, since when, load per channel (held tickets + pending offers), handled today;
* alerts: open suspected serious accidents (重大事故等) and escalations, serious first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.clock import JST, jst_day_bounds, today_jst
from config.settings import Settings
from crm.models import (
    AccidentCheck,
    AccidentCheckStatus,
    Center,
    Note,
    Role,
    Ticket,
    TicketStatus,
    User,
    utcnow,
)
from crm.queries import visible_center_ids
from routing.erlang import agents_for_service_level
from routing.models import Offer, OfferStatus, Presence, PresenceStatus

WAITING = (TicketStatus.NEW, TicketStatus.QUEUED, TicketStatus.OFFERED)
HELD = (TicketStatus.ASSIGNED, TicketStatus.WAITING_ON_CONSUMER)
CLOSED = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
MESSAGE_SL_SECONDS = 1800  # LINE / email: answered (taken by a counselor) within 30 minutes
SL_TARGET = 0.8
DEFAULT_AHT_SECONDS = 600.0  # the staffing line before any ticket was handled today
MAX_ALERTS = 50


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def ticket_subjects(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    """Subjects of the given tickets (for the offers panel), one query."""
    if not ticket_ids:
        return {}
    rows = session.exec(select(Ticket.id, Ticket.subject).where(col(Ticket.id).in_(ticket_ids))).all()
    return {int(i): s for i, s in rows if i is not None}


def sl_threshold(settings: Settings, channel: str) -> int:
    return settings.voice_service_level_seconds if channel == "voice" else MESSAGE_SL_SECONDS


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def wallboard(
    session: Session,
    *,
    user: User,
    settings: Settings,
    center_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The figures above for the centers ``user`` may see (or the one ``center_id``)."""
    now = _aware(now) or utcnow()
    centers = _centers(session, user, center_id)
    ids = [c.id for c in centers if c.id is not None]  # loaded rows: every id is set
    start, end = jst_day_bounds(today_jst())
    queues, hours, handle = _queues(session, ids, settings, now, start, end)
    aht = sum(handle) / len(handle) if handle else None
    return {
        "now": now.isoformat(),
        "centers": [{"id": c.id, "code": c.code, "name": c.name} for c in centers],
        "sl_target": SL_TARGET,
        "queues": queues,
        "arrivals_by_hour": _hourly(hours, aht or DEFAULT_AHT_SECONDS),
        "counselors": _counselors(session, ids, start, end),
        "alerts": _alerts(session, ids),
    }


def _centers(session: Session, user: User, center_id: int | None) -> list[Center]:
    allowed = visible_center_ids(user)
    stmt = select(Center).order_by(col(Center.code))
    if center_id is not None:
        stmt = stmt.where(Center.id == center_id)
    if allowed is not None:
        stmt = stmt.where(col(Center.id).in_(allowed))
    return list(session.exec(stmt).all())


def _queues(
    session: Session, ids: list[int], settings: Settings, now: datetime, start: datetime, end: datetime
) -> tuple[list[dict[str, Any]], list[int], list[float]]:
    """Per (center, channel) figures; arrivals per JST hour; today's handle times (seconds)."""
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel's select() stubs stop at 4 columns
            Ticket.center_id,
            Ticket.channel,
            Ticket.status,
            Ticket.created_at,
            Ticket.queued_at,
            Ticket.assigned_at,
            Ticket.resolved_at,
        ).where(  # fmt: skip
            col(Ticket.center_id).in_(ids),
            (col(Ticket.status).in_(WAITING))
            | (col(Ticket.created_at) >= start)
            | (col(Ticket.resolved_at) >= start),
        )
    ).all()
    stats: dict[tuple[int, str], dict[str, Any]] = defaultdict(_empty_queue)
    hours = [0] * 24
    handle: list[float] = []
    for center, channel, status, created, queued, assigned, resolved in rows:
        q = stats[(center, channel)]
        created, queued, assigned, resolved = map(_aware, (created, queued, assigned, resolved))
        since = queued or created
        if status in WAITING and since is not None:
            q["waiting"] += 1
            q["_oldest"] = min(q["_oldest"] or since, since)
        if created is not None and start <= created < end:
            _count_arrival(q, settings, channel, status, since, assigned, now)
            hours[created.astimezone(JST).hour] += 1
        if resolved is not None and assigned is not None and start <= resolved < end:
            q["_handle"].append((resolved - assigned).total_seconds())
            handle.append((resolved - assigned).total_seconds())
    return [_finish_queue(cid, ch, q, now) for (cid, ch), q in sorted(stats.items())], hours, handle


def _empty_queue() -> dict[str, Any]:
    return {"waiting": 0, "offered": 0, "answered": 0, "abandoned": 0, "_in_sl": 0, "_sl_base": 0,
            "_oldest": None, "_handle": [], "threshold": 0}  # fmt: skip


def _count_arrival(
    q: dict[str, Any], settings: Settings, channel: str, status: str, since: datetime | None,
    assigned: datetime | None, now: datetime,
) -> None:  # fmt: skip
    threshold = sl_threshold(settings, channel)
    q["threshold"] = threshold
    q["offered"] += 1
    if assigned is not None:
        q["answered"] += 1
        q["_sl_base"] += 1
        q["_in_sl"] += int(since is not None and (assigned - since).total_seconds() <= threshold)
    elif status in CLOSED:
        q["abandoned"] += 1
        q["_sl_base"] += 1
    elif since is not None and (now - since).total_seconds() > threshold:
        q["_sl_base"] += 1  # still waiting, already past the threshold: a miss


def _finish_queue(center_id: int, channel: str, q: dict[str, Any], now: datetime) -> dict[str, Any]:
    oldest: datetime | None = q.pop("_oldest")
    handle: list[float] = q.pop("_handle")
    in_sl, base = q.pop("_in_sl"), q.pop("_sl_base")
    return {
        "center_id": center_id,
        "channel": channel,
        **q,
        "oldest_waiting_since": oldest.isoformat() if oldest else None,
        "longest_wait_seconds": round((now - oldest).total_seconds()) if oldest else 0,
        "service_level": round(in_sl / base, 3) if base else None,
        "abandonment_rate": round(q["abandoned"] / q["offered"], 3) if q["offered"] else None,
        "aht_seconds": round(sum(handle) / len(handle)) if handle else None,
        "aht_p90_seconds": round(p90(handle) or 0) if handle else None,
    }


def _hourly(hours: list[int], aht: float) -> list[dict[str, int]]:
    out = []
    for hour, arrivals in enumerate(hours):
        need = 0
        if arrivals:
            need = agents_for_service_level(arrivals / 3600.0, aht, SL_TARGET, 60.0).agents
        out.append({"hour": hour, "arrivals": arrivals, "need": need})
    return out


def _counselors(session: Session, ids: list[int], start: datetime, end: datetime) -> list[dict[str, Any]]:
    # Columns, not entities: no JSON columns decoded for 3,000 rows.
    people = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel's select() stubs stop at 4 columns
            User.id,
            User.display_name,
            User.username,
            User.role,
            User.center_id,
            Presence.status,
            Presence.since,
        )
        .join(Presence, col(Presence.user_id) == col(User.id), isouter=True)
        .where(col(User.center_id).in_(ids), col(User.is_active).is_(True), User.role != Role.ADMIN)
        .order_by(col(User.center_id), col(User.id))
    ).all()
    load: dict[int, dict[str, int]] = defaultdict(dict)
    for uid, channel, n in session.exec(
        select(Ticket.assignee_id, Ticket.channel, func.count())
        .where(col(Ticket.center_id).in_(ids), col(Ticket.status).in_(HELD))
        .group_by(col(Ticket.assignee_id), col(Ticket.channel))
    ).all():
        if uid is not None:
            load[uid][channel] = load[uid].get(channel, 0) + int(n)
    for uid, channel, n in session.exec(
        select(Offer.user_id, Offer.channel, func.count())
        .where(col(Offer.center_id).in_(ids), Offer.status == OfferStatus.PENDING)
        .group_by(col(Offer.user_id), col(Offer.channel))
    ).all():
        load[uid][channel] = load[uid].get(channel, 0) + int(n)
    handled = dict(
        session.exec(
            select(Ticket.assignee_id, func.count())
            .where(
                col(Ticket.center_id).in_(ids),
                col(Ticket.resolved_at) >= start,
                col(Ticket.resolved_at) < end,
            )
            .group_by(col(Ticket.assignee_id))
        ).all()
    )
    return [
        {
            "id": uid,
            "name": display or username,
            "role": Role(role).value,
            "center_id": center_id,
            "state": PresenceStatus(status or PresenceStatus.OFFLINE).value,
            "since": _aware(since).isoformat() if since else None,  # type: ignore[union-attr]
            "load": load.get(uid or 0, {}),
            "handled_today": int(handled.get(uid, 0)),
        }
        for uid, display, username, role, center_id, status, since in people
    ]


def _alerts(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    escalated = select(Note.ticket_id).where(Note.kind == "escalation")
    to_check = set(
        session.exec(
            select(AccidentCheck.ticket_id).where(
                col(AccidentCheck.center_id).in_(ids), AccidentCheck.status == AccidentCheckStatus.PENDING
            )
        ).all()
    )
    rows = session.exec(
        select(Ticket)
        .where(
            col(Ticket.center_id).in_(ids),
            col(Ticket.status).not_in(CLOSED),
            col(Ticket.serious_accident).is_(True)
            | col(Ticket.id).in_(escalated)
            | col(Ticket.id).in_(to_check),
        )
        .order_by(col(Ticket.serious_accident).desc(), col(Ticket.created_at))
        .limit(MAX_ALERTS)
    ).all()
    return [
        {
            "ticket_id": t.id,
            "center_id": t.center_id,
            "kind": "serious_accident"
            if t.serious_accident
            else "accident_check"  # a possible 重大事故等 (要確認) nobody has judged yet
            if t.id in to_check
            else "escalation",
            "subject": t.subject,
            "status": t.status.value,
            "assignee_id": t.assignee_id,
            "since": _aware(t.created_at).isoformat(),  # type: ignore[union-attr]
        }
        for t in rows
    ]
