"""The queue log on the real database: each event stored once, waits and talk times computed from the
call's own rows, transfers re-entering a queue, places in line that callbacks keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from routing import queue_log as ql
from routing.models import QueueEvent

T0 = datetime(2026, 4, 6, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def events(session: Session, call: str) -> list[tuple[str, str, float | None, float | None]]:
    rows = session.exec(
        select(QueueEvent).where(QueueEvent.call_id == call).order_by(col(QueueEvent.id))
    ).all()
    return [(r.event, r.queue, r.wait_seconds, r.talk_seconds) for r in rows]


def test_a_call_answered_then_transferred_within_its_center_is_logged_leg_by_leg(session: Session) -> None:
    assert ql.enter(session, call_id="CA1", queue="q", at=at(0)) == 1
    assert ql.enter(session, call_id="CA1", queue="q", at=at(1)) == 1  # redelivered: same place, no row
    assert ql.leave(session, call_id="CA1", event=ql.CONNECT, at=at(12), agent="7")
    assert not ql.leave(session, call_id="CA1", event=ql.CONNECT, at=at(13))  # already connected
    assert ql.move(session, call_id="CA1", to_queue="q", at=at(100), event=ql.TRANSFER, data="to user 9")
    assert ql.leave(session, call_id="CA1", event=ql.CONNECT, at=at(130), agent="9")
    assert ql.hang_up(session, call_id="CA1", at=at(400)) == ql.COMPLETECALLER
    assert ql.hang_up(session, call_id="CA1", at=at(401)) is None  # the status callback, again
    session.commit()
    assert events(session, "CA1") == [
        ("ENTERQUEUE", "q", None, None),
        ("CONNECT", "q", 12.0, None),
        ("TRANSFER", "q", None, 88.0),
        ("ENTERQUEUE", "q", None, None),
        ("CONNECT", "q", 30.0, None),
        ("COMPLETECALLER", "q", None, 270.0),
    ]


def test_callbacks_keep_their_place_and_abandons_leave_the_line(session: Session) -> None:
    for i, call in enumerate(("A", "B", "C")):
        ql.enter(session, call_id=call, queue="q", at=at(i))
    ql.leave(session, call_id="A", event=ql.CALLBACK, at=at(5))
    assert ql.hang_up(session, call_id="A", at=at(6)) is None  # hung up after asking: not an abandon
    assert ql.hang_up(session, call_id="B", at=at(7)) == ql.ABANDON
    session.commit()
    assert [c for c, _ in ql.waiting_calls(session, queue="q")] == ["A", "C"]
    assert ql.position(session, call_id="C") == 2 and ql.position(session, call_id="B") == 0
    assert ql.enter(session, call_id="D", queue="q", at=at(8)) == 3


def test_only_known_events_are_written(session: Session) -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown queue event"):
        ql.append(session, call_id="X", queue="q", event="HANGUP", at=at(0))
    with pytest.raises(ValueError, match="does not end a wait"):
        ql.leave(session, call_id="X", event=ql.ENTERQUEUE, at=at(0))
    session.rollback()
    assert events(session, "X") == []
