"""The supervisor wallboard: live figures, and changing a counselor's state (supervisors, admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from crm.deps import RuntimeDep, SessionDep, SupervisorUser
from crm.errors import Forbidden, NotFound
from crm.http_errors import MAX_ID, Id
from crm.models import Role, User
from routing import presence
from routing.api import PresencePublic
from routing.models import PresenceStatus
from routing.wallboard import wallboard

router = APIRouter(prefix="/api", tags=["routing"])


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: PresenceStatus


@router.get("/wallboard")
def get_wallboard(
    session: SessionDep,
    user: SupervisorUser,
    runtime: RuntimeDep,
    center_id: int | None = Query(default=None, ge=1, le=MAX_ID, description="one center only"),
) -> dict[str, Any]:
    """Queues per center and channel, arrivals by hour vs need, every counselor, alerts (today, JST)."""
    return wallboard(session, user=user, settings=runtime.settings, center_id=center_id)


@router.put("/users/{user_id}/presence", response_model=PresencePublic)
def put_user_presence(
    user_id: Id, body: StateChange, session: SessionDep, user: SupervisorUser, runtime: RuntimeDep
) -> PresencePublic:
    """A supervisor sets a counselor of their center to a state (e.g. offline after they left)."""
    target = session.get(User, user_id)
    if target is None or not target.is_active:
        raise NotFound(f"user {user_id} does not exist")
    if user.role != Role.ADMIN and target.center_id != user.center_id:
        raise Forbidden(
            f"user {user_id} works at another center; you can change only your center's counselors"
        )
    p = presence.set_presence(session, user=target, status=body.status, settings=runtime.settings)
    return PresencePublic.model_validate(p)
