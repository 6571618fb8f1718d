"""The append-only voice queue log: one row per queue event, named after Asterisk's ``queue_log``.

A call's life in the log (each arrow is one row)::

    ENTERQUEUE ─┬─► CONNECT ──► COMPLETECALLER | COMPLETEAGENT      answered, then hung up by ...
                ├─► ABANDON                                         hung up while waiting
                ├─► EXITWITHTIMEOUT                                 sent on (backup center) after a limit
                ├─► VOICEMAIL                                       left a message instead of waiting
                ├─► TRANSFER                                        moved to another queue
                └─► CALLBACK ──► CONNECT (data="callback") ──► ...  keeps its place; dialed back later
    RINGNOANSWER                                                    an offer to a counselor lapsed

Rows are inserted with ``INSERT … ON CONFLICT DO NOTHING`` on a key derived from the call, the
event and the queue, so a redelivered webhook never writes a second row; nothing is ever updated.
Waits and talk times are computed here, from the call's own earlier rows, at the moment of the
event. Figures are computed from the rows by :mod:`routing.acd_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from routing.models import QueueEvent

ENTERQUEUE = "ENTERQUEUE"
CONNECT = "CONNECT"
ABANDON = "ABANDON"
EXITWITHTIMEOUT = "EXITWITHTIMEOUT"
CALLBACK = "CALLBACK"
VOICEMAIL = "VOICEMAIL"
TRANSFER = "TRANSFER"
COMPLETECALLER = "COMPLETECALLER"
COMPLETEAGENT = "COMPLETEAGENT"
RINGNOANSWER = "RINGNOANSWER"
EVENTS = (
    ENTERQUEUE,
    CONNECT,
    ABANDON,
    EXITWITHTIMEOUT,
    CALLBACK,
    VOICEMAIL,
    TRANSFER,
    COMPLETECALLER,
    COMPLETEAGENT,
    RINGNOANSWER,
)
# Events that end a wait in the queue (a CALLBACK ends the call's wait but keeps its place in line).
LEAVES = (CONNECT, ABANDON, EXITWITHTIMEOUT, VOICEMAIL, TRANSFER, CALLBACK)
COMPLETES = (COMPLETECALLER, COMPLETEAGENT)


@dataclass(frozen=True)
class CallState:
    """Where one call stands, from its rows: ``waiting`` | ``callback`` | ``connected`` | ``done`` | ``gone``."""

    state: str
    queue: str | None
    entered_at: datetime | None
    connected_at: datetime | None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def append(
    session: Session,
    *,
    call_id: str,
    queue: str,
    event: str,
    at: datetime,
    agent: str = "",
    wait_seconds: float | None = None,
    talk_seconds: float | None = None,
    position: int | None = None,
    data: str = "",
    key: str | None = None,
) -> bool:
    """Append one row (in the caller's transaction); False when the same event was logged before."""
    if event not in EVENTS:
        raise ValueError(f"unknown queue event {event!r}; one of {', '.join(EVENTS)}")
    values = {
        "key": (key or f"{call_id}:{event}:{queue}")[:200],
        "at": _aware(at),
        "call_id": call_id[:64],
        "queue": queue[:32],
        "agent": agent[:32],
        "event": event,
        "wait_seconds": wait_seconds,
        "talk_seconds": talk_seconds,
        "position": position,
        "data": data[:200],
    }
    table = QueueEvent.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def call_rows(session: Session, call_id: str) -> list[QueueEvent]:
    """The call's rows, oldest first."""
    return list(
        session.exec(
            select(QueueEvent)
            .where(QueueEvent.call_id == call_id)
            .order_by(col(QueueEvent.at), col(QueueEvent.id))
        ).all()
    )


def state_of(rows: Sequence[QueueEvent]) -> CallState:
    """Replay one call's rows into its current state (pure)."""
    state, queue, entered, connected = "gone", None, None, None
    for row in rows:
        if row.event == ENTERQUEUE:
            state, queue, entered, connected = "waiting", row.queue, _aware(row.at), None
        elif row.event == CALLBACK:
            state = "callback"
        elif row.event == CONNECT:
            state, connected = "connected", _aware(row.at)
        elif row.event in (ABANDON, EXITWITHTIMEOUT, VOICEMAIL, TRANSFER):
            state = "gone"
        elif row.event in COMPLETES:
            state = "done"
    return CallState(state, queue, entered, connected)


def enter(session: Session, *, call_id: str, queue: str, at: datetime) -> int:
    """Log ENTERQUEUE (once per call and queue); returns the caller's place in line (1 = next)."""
    rows = call_rows(session, call_id)
    current = state_of(rows)
    if current.state in ("waiting", "callback") and current.queue == queue:
        return position(session, call_id=call_id)
    place = len(waiting_calls(session, queue=queue)) + 1
    append(session, call_id=call_id, queue=queue, event=ENTERQUEUE, at=at, position=place)
    return place


def leave(
    session: Session, *, call_id: str, event: str, at: datetime, agent: str = "", data: str = ""
) -> bool:
    """Log how a waiting call left the queue (CONNECT, ABANDON, CALLBACK, ...) with its wait.

    A no-op (False) when the call is not waiting: a late or repeated webhook changes nothing. A
    CONNECT of a call waiting for its callback is the callback being placed (``data="callback"``).
    """
    if event not in LEAVES:
        raise ValueError(f"{event} does not end a wait; one of {', '.join(LEAVES)}")
    rows = call_rows(session, call_id)
    current = state_of(rows)
    entries = sum(r.event == ENTERQUEUE for r in rows)  # a transferred call leaves each queue entry once
    if current.entered_at is None or current.queue is None:
        return False
    if current.state == "callback" and event == CONNECT:
        data = data or "callback"
    elif current.state != "waiting":
        return False
    wait = max(0.0, (_aware(at) - current.entered_at).total_seconds())
    return append(
        session,
        call_id=call_id,
        queue=current.queue,
        event=event,
        at=at,
        agent=agent,
        wait_seconds=wait,
        data=data,
        key=f"{call_id}:{event}:{current.queue}:{entries}",
    )


def hang_up(
    session: Session, *, call_id: str, at: datetime, by_agent: bool = False, agent: str = ""
) -> str | None:
    """The call ended: ABANDON if it was waiting, COMPLETE* if it was connected; returns what was logged."""
    rows = call_rows(session, call_id)
    current = state_of(rows)
    entries = sum(r.event == ENTERQUEUE for r in rows)
    if current.state == "waiting":
        return ABANDON if leave(session, call_id=call_id, event=ABANDON, at=at) else None
    if current.state == "connected" and current.connected_at is not None and current.queue is not None:
        event = COMPLETEAGENT if by_agent else COMPLETECALLER
        talk = max(0.0, (_aware(at) - current.connected_at).total_seconds())
        stored = append(
            session,
            call_id=call_id,
            queue=current.queue,
            event=event,
            at=at,
            agent=agent,
            talk_seconds=talk,
            key=f"{call_id}:COMPLETE:{current.queue}:{entries}",
        )
        return event if stored else None
    return None


def move(session: Session, *, call_id: str, to_queue: str, at: datetime, event: str, data: str = "") -> bool:
    """The call moves to ``to_queue``: TRANSFER (or EXITWITHTIMEOUT for an overflow) at its queue, then
    ENTERQUEUE at the new one. A connected call's TRANSFER carries its talk time so far (Asterisk's
    TRANSFER ends a connected call); a call in no queue state changes nothing (False)."""
    if event not in (TRANSFER, EXITWITHTIMEOUT):
        raise ValueError(f"{event} does not move a call; use TRANSFER or EXITWITHTIMEOUT")
    rows = call_rows(session, call_id)
    current = state_of(rows)
    if current.queue is None or current.state not in ("waiting", "connected"):
        return False
    if current.state == "waiting":
        if not leave(session, call_id=call_id, event=event, at=at, data=data):
            return False
    else:
        talk = max(0.0, (_aware(at) - (current.connected_at or _aware(at))).total_seconds())
        append(
            session,
            call_id=call_id,
            queue=current.queue,
            event=TRANSFER,
            at=at,
            talk_seconds=talk,
            data=data,
            key=f"{call_id}:TRANSFER:{current.queue}:{len(rows)}",
        )
    place = len(waiting_calls(session, queue=to_queue)) + 1
    append(
        session,
        call_id=call_id,
        queue=to_queue,
        event=ENTERQUEUE,
        at=at,
        position=place,
        key=f"{call_id}:ENTERQUEUE:{to_queue}:{len(rows) + 1}",
    )
    return True


def waiting_calls(session: Session, *, queue: str) -> list[tuple[str, datetime]]:
    """(call id, entered at) of the calls in line at ``queue`` now, callbacks included, oldest first."""
    rows = session.exec(
        select(QueueEvent)
        .where(QueueEvent.queue == queue, col(QueueEvent.event).in_((ENTERQUEUE, *LEAVES, *COMPLETES)))
        .order_by(col(QueueEvent.at), col(QueueEvent.id))
    ).all()
    by_call: dict[str, list[QueueEvent]] = {}
    for row in rows:
        by_call.setdefault(row.call_id, []).append(row)
    out = []
    for call_id, own in by_call.items():
        st = state_of(own)
        if st.state in ("waiting", "callback") and st.queue == queue and st.entered_at is not None:
            out.append((call_id, st.entered_at))
    return sorted(out, key=lambda item: item[1])


def position(session: Session, *, call_id: str) -> int:
    """The call's place in line now (1 = next), 0 when it is not waiting."""
    current = state_of(call_rows(session, call_id))
    if current.state not in ("waiting", "callback") or current.queue is None:
        return 0
    ids = [c for c, _ in waiting_calls(session, queue=current.queue)]
    return ids.index(call_id) + 1 if call_id in ids else 0


def events_between(
    session: Session, *, start: datetime, end: datetime, queue: str | None = None
) -> list[QueueEvent]:
    """Rows with ``start <= at < end`` (one queue or all), oldest first."""
    stmt = select(QueueEvent).where(col(QueueEvent.at) >= _aware(start), col(QueueEvent.at) < _aware(end))
    if queue:
        stmt = stmt.where(QueueEvent.queue == queue)
    return list(session.exec(stmt.order_by(col(QueueEvent.at), col(QueueEvent.id))).all())


def counselors_on_duty(session: Session, *, center_id: int) -> int:
    """Counselors of the center signed in for work now (available, on a call, or in wrap-up)."""
    from sqlalchemy import func

    from crm.models import User
    from routing.models import Presence, PresenceStatus

    on_duty = (PresenceStatus.AVAILABLE, PresenceStatus.BUSY, PresenceStatus.AFTER_CALL_WORK)

    count = session.exec(
        select(func.count())
        .select_from(Presence)
        .join(User, col(User.id) == Presence.user_id)
        .where(User.center_id == center_id, col(User.is_active).is_(True), col(Presence.status).in_(on_duty))
    ).one()
    return int(count)


def recent_handle_times(session: Session, *, queue: str, since: datetime, limit: int = 200) -> list[float]:
    """Talk times of the queue's calls completed since ``since`` (newest first, at most ``limit``)."""
    rows = session.exec(
        select(QueueEvent.talk_seconds)
        .where(
            QueueEvent.queue == queue,
            col(QueueEvent.event).in_(COMPLETES),
            col(QueueEvent.at) >= _aware(since),
        )
        .order_by(col(QueueEvent.at).desc())
        .limit(limit)
    ).all()
    return [float(t) for t in rows if t is not None]


def day_figures(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    queue: str | None,
    threshold: float,
    short_abandon: float,
    now: datetime,
) -> dict[str, object]:
    """The ACD figures of the calls that entered ``[start, end)`` (one queue or all) as a dict."""
    from routing.acd_stats import compute

    entered = {
        r.call_id for r in events_between(session, start=start, end=end, queue=queue) if r.event == ENTERQUEUE
    }
    rows = [
        r
        for call_id in sorted(entered)
        for r in call_rows(session, call_id)
        if queue is None or r.queue == queue
    ]
    return compute(rows, threshold=threshold, short_abandon=short_abandon, now=now).as_dict()
