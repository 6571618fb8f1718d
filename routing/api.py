"""Routing HTTP API: presence, heartbeats, offers, transfers, queues and staffing. Thin routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from crm.deps import CurrentUser, SessionDep, SupervisorUser
from routing import offers, presence, queues
from routing.models import OfferStatus, PresenceStatus

router = APIRouter(prefix="/api", tags=["routing"])


class PresenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: PresenceStatus
    capacity: dict[str, int] | None = None


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


class DeclineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=300)


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)
    to_user_id: int | None = None
    to_center_id: int | None = None
    to_supervisor: bool = False


class TicketRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    center_id: int
    status: str
    assignee_id: int | None


@router.put("/me/presence", response_model=PresencePublic)
def put_presence(body: PresenceUpdate, session: SessionDep, user: CurrentUser) -> PresencePublic:
    """Go available / busy / after-call work / break / offline, optionally with per-channel capacity."""
    p = presence.set_presence(session, user=user, status=body.status, capacity=body.capacity)
    return PresencePublic.model_validate(p)


@router.post("/me/heartbeat", response_model=PresencePublic)
def post_heartbeat(session: SessionDep, user: CurrentUser) -> PresencePublic:
    """The console is open; without this for a while the counselor goes offline."""
    return PresencePublic.model_validate(presence.heartbeat(session, user=user))


@router.get("/offers", response_model=list[OfferPublic])
def my_offers(session: SessionDep, user: CurrentUser) -> list[OfferPublic]:
    return [OfferPublic.model_validate(o) for o in offers.list_my_offers(session, user=user)]


@router.post("/offers/{offer_id}/accept", response_model=TicketRef)
def accept(offer_id: int, session: SessionDep, user: CurrentUser) -> TicketRef:
    return TicketRef.model_validate(offers.accept_offer(session, offer_id=offer_id, user=user))


@router.post("/offers/{offer_id}/decline", response_model=OfferPublic | None)
def decline(
    offer_id: int, session: SessionDep, user: CurrentUser, body: DeclineBody | None = None
) -> OfferPublic | None:
    """Decline; the response is the offer made to the next counselor, if any (its details are theirs)."""
    nxt = offers.decline_offer(session, offer_id=offer_id, user=user, reason=body.reason if body else "")
    return OfferPublic.model_validate(nxt) if nxt is not None else None


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketRef)
def transfer(ticket_id: int, body: TransferCreate, session: SessionDep, user: CurrentUser) -> TicketRef:
    ticket = offers.transfer_ticket(
        session,
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
    _user: CurrentUser,
    arrivals_per_hour: Annotated[float, Query(gt=0, le=1_000_000)],
    aht_seconds: Annotated[float, Query(gt=0, le=86_400)],
    target: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    within_seconds: Annotated[float, Query(ge=0, le=86_400)] = 60,
    patience_seconds: Annotated[float | None, Query(gt=0, le=86_400)] = None,
    agents: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> dict[str, Any]:
    """How many counselors for ``target`` answered within ``within_seconds`` (Erlang C / Erlang A)."""
    return queues.staffing(
        arrivals_per_hour=arrivals_per_hour,
        aht_seconds=aht_seconds,
        target=target,
        within_seconds=within_seconds,
        patience_seconds=patience_seconds,
        agents=agents,
    )
