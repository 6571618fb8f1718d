"""Builders for test data. Each commits, so the rows are visible to jobs and other sessions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from channels.base import ChannelKind, InboundMessage
from crm.intake import IntakeResult, record_inbound
from crm.models import Center, Role, Ticket, User
from crm.security import hash_password

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)
_PASSWORD_HASH: str | None = None
ALWAYS_OPEN = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")}


def make_center(session: Session, code: str | None = None, **fields: Any) -> Center:
    n = next(_seq)
    center = Center(
        code=code or f"C{n:03d}",
        name=fields.pop("name", f"テスト消費生活センター{n}"),
        prefecture=fields.pop("prefecture", "東京都"),
        # Open around the clock unless a test is about hours, so results never depend on the day.
        hours=fields.pop("hours", ALWAYS_OPEN),
        **fields,
    )
    session.add(center)
    session.commit()
    return center


def make_user(
    session: Session,
    center: Center | None,
    username: str | None = None,
    role: Role = Role.COUNSELOR,
    **fields: Any,
) -> User:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    user = User(
        username=username or f"user{next(_seq)}",
        password_hash=_PASSWORD_HASH,
        role=role,
        center_id=center.id if center else None,
        capacity=fields.pop("capacity", {"voice": 1, "line": 3, "email": 5}),
        **fields,
    )
    session.add(user)
    session.commit()
    return user


def inbound(
    text: str = "定期購入の解約ができません",
    *,
    sender: str = "U0001",
    external_id: str | None = None,
    channel: ChannelKind = ChannelKind.LINE,
    at: datetime | None = None,
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        external_id=external_id or f"m{next(_seq)}",
        sender=sender,
        text=text,
        at=at or datetime.now(UTC),
    )


def make_ticket(
    session: Session, center: Center, text: str = "定期購入の解約ができません", **kw: Any
) -> Ticket:
    """A ticket opened the way production opens one: through intake."""
    result = receive(session, center, text, **kw)
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    return ticket


def receive(
    session: Session, center: Center, text: str = "定期購入の解約ができません", **kw: Any
) -> IntakeResult:
    result = record_inbound(session, inbound(text, **kw), center_id=center.id)  # type: ignore[arg-type]
    session.commit()
    return result
