"""Routing HTTP API: presence, heartbeats, offers, transfers, queues and staffing. Thin routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.deps import CurrentUser, RuntimeDep, SessionDep, StreamingUser, SupervisorUser
from crm.http_errors import MAX_ID, Id
from crm.schemas import Omittable
from routing import offers, presence, queues
from routing.erlang import LIMITS, Range
from routing.models import OfferStatus, PresenceStatus
from routing.wallboard import ticket_subjects

router = APIRouter(prefix="/api", tags=["routing"])


def _bounded(r: Range) -> Any:
    """A query parameter limited to a documented staffing range (finite numbers only)."""
    return Query(ge=r.low, le=r.high, allow_inf_nan=False, description=f"{r.low:g}..{r.high:g} {r.unit}")


class PresenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: PresenceStatus
    capacity: dict[str, int] = Omittable()  # left out: unchanged; never null (the column is NOT NULL)


class PresencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: int
    status: PresenceStatus
    since: datetime
    last_heartbeat: datetime
    missed_offers: int
    capacity: dict[str, Any]


class OfferPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    ticket_id: int
    user_id: int
    center_id: int
    channel: str
    status: OfferStatus
    created_at: datetime
    expires_at: datetime
    reason: str
    subject: str = ""  # the ticket's subject, so the counselor knows what they accept


class DeclineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=300)


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    to_user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    to_center_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    to_supervisor: bool = False


class TicketRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    center_id: int
    status: str
    assignee_id: int | None


@router.put("/me/presence", response_model=PresencePublic)
def put_presence(
    body: PresenceUpdate, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> PresencePublic:
    """Go available / busy / after-call work / break / offline, optionally with per-channel capacity."""
    p = presence.set_presence(
        session, user=user, status=body.status, capacity=body.capacity, settings=runtime.settings
    )
    return PresencePublic.model_validate(p)


@router.get("/me/presence", response_model=PresencePublic)
def get_my_presence(session: SessionDep, user: CurrentUser) -> PresencePublic:
    """Your presence as routing sees it (offline until you choose otherwise: no offers arrive)."""
    return PresencePublic.model_validate(presence.read_presence(session, user=user))


@router.post("/me/heartbeat", response_model=PresencePublic)
def post_heartbeat(session: SessionDep, user: CurrentUser) -> PresencePublic:
    """The console is open; without this for a while the counselor goes offline."""
    return PresencePublic.model_validate(presence.heartbeat(session, user=user))


@router.get("/offers", response_model=list[OfferPublic])
def my_offers(session: SessionDep, user: CurrentUser) -> list[OfferPublic]:
    mine = offers.list_my_offers(session, user=user)
    subjects = ticket_subjects(session, [o.ticket_id for o in mine])
    return [
        OfferPublic.model_validate(o).model_copy(update={"subject": subjects.get(o.ticket_id, "")})
        for o in mine
    ]


@router.post("/offers/{offer_id}/accept", response_model=TicketRef)
def accept(offer_id: Id, session: SessionDep, user: CurrentUser) -> TicketRef:
    return TicketRef.model_validate(offers.accept_offer(session, offer_id=offer_id, user=user))


@router.post("/offers/{offer_id}/decline", response_model=OfferPublic | None)
def decline(
    offer_id: Id,
    session: SessionDep,
    user: CurrentUser,
    runtime: RuntimeDep,
    body: DeclineBody | None = None,
) -> OfferPublic | None:
    """Decline; the response is the offer made to the next counselor, if any (its details are theirs)."""
    reason = body.reason if body else ""
    nxt = offers.decline_offer(
        session, offer_id=offer_id, user=user, reason=reason, settings=runtime.settings
    )
    return OfferPublic.model_validate(nxt) if nxt is not None else None


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketRef)
def transfer(
    ticket_id: Id, body: TransferCreate, session: SessionDep, user: CurrentUser, runtime: RuntimeDep
) -> TicketRef:
    ticket = offers.transfer_ticket(
        session,
        settings=runtime.settings,
        ticket_id=ticket_id,
        actor=user,
        reason=body.reason,
        to_user_id=body.to_user_id,
        to_center_id=body.to_center_id,
        to_supervisor=body.to_supervisor,
    )
    return TicketRef.model_validate(ticket)


@router.get("/queues")
def get_queues(session: SessionDep, user: SupervisorUser) -> list[dict[str, Any]]:
    """Per center: queue sizes, waiting times, counselors by status (supervisors)."""
    return queues.queue_overview(session, user=user)


@router.get("/staffing")
def get_staffing(
    _user: StreamingUser,  # its session is closed before the computation: no database is held
    arrivals_per_hour: Annotated[float, _bounded(LIMITS.arrivals_per_hour)],
    aht_seconds: Annotated[float, _bounded(LIMITS.aht_seconds)],
    target: Annotated[float, _bounded(LIMITS.target)] = 0.8,
    within_seconds: Annotated[float, _bounded(LIMITS.within_seconds)] = 60,
    patience_seconds: Annotated[float | None, _bounded(LIMITS.patience_seconds)] = None,
    agents: Annotated[int | None, _bounded(LIMITS.agents)] = None,
) -> dict[str, Any]:
    """How many counselors for ``target`` answered within ``within_seconds`` (Erlang C / Erlang A).

    Inputs are bounded (see each parameter); a combination too large to compute in about a second
    answers 422 naming what to lower.
    """
    return queues.staffing(
        arrivals_per_hour=arrivals_per_hour,
        aht_seconds=aht_seconds,
        target=target,
        within_seconds=within_seconds,
        patience_seconds=patience_seconds,
        agents=agents,
    )
