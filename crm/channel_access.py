"""Who may see which channel account: admins all, supervisors their own center's, counselors none."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from crm.channel_accounts import ChannelAccountInfo, get_account_by_id, list_accounts
from crm.errors import Forbidden, NotFound
from crm.models import Role, User


def visible_accounts(
    session: Session,
    user: User,
    *,
    keys: Sequence[str],
    kind: str | None = None,
    center_id: int | None = None,
) -> list[ChannelAccountInfo]:
    """The accounts ``user`` may read, optionally filtered."""
    if user.role == Role.ADMIN:
        return list_accounts(session, kind=kind, center_id=center_id, keys=keys)
    _require_supervisor(user)
    if center_id is not None and center_id != user.center_id:
        raise Forbidden("you can only list your own center's channel accounts")
    if user.center_id is None:
        return []
    return list_accounts(session, kind=kind, center_id=user.center_id, keys=keys)


def access_account(
    session: Session, user: User, *, account_id: int, keys: Sequence[str]
) -> ChannelAccountInfo:
    """The account if ``user`` may read it; NotFound or Forbidden otherwise."""
    if user.role != Role.ADMIN:
        _require_supervisor(user)
    info = get_account_by_id(session, account_id=account_id, keys=keys)
    if info is None:
        raise NotFound(f"no channel account {account_id}; see GET /api/channels")
    if user.role != Role.ADMIN and info.center_id != user.center_id:
        raise Forbidden(f"channel account {account_id} belongs to another center")
    return info


def _require_supervisor(user: User) -> None:
    if user.role != Role.SUPERVISOR:
        raise Forbidden(f"channel accounts are for supervisors and admins (you are {user.role.value})")
