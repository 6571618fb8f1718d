"""HTTP routes for auth, centers and tickets. Each route: typed deps, one service call, a *Public."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from crm import queries, services
from crm.accounts import log_in
from crm.audit import audit_read
from crm.csrf import check_origin
from crm.deps import (
    BearerToken,
    CurrentUser,
    RuntimeDep,
    SessionDep,
    clear_session_cookies,
    revoke_request_token,
    set_session_cookies,
)
from crm.http_errors import MAX_ID, Id
from crm.http_security import client_ip
from crm.login_throttle import throttle_for
from crm.models import TicketStatus
from crm.schemas import (
    CenterPublic,
    MessagePublic,
    NoteCreate,
    NotePublic,
    Page,
    ReplyCreate,
    TicketDetail,
    TicketPublic,
    TicketUpdate,
    Token,
    UserPublic,
)
from crm.security import create_access_token

router = APIRouter(prefix="/api")


@router.post("/auth/token", response_model=Token, tags=["auth"], responses={429: {"description": "locked"}})
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> Token:
    """Exchange username + password for a bearer token (also set as the console's session cookie).
    Repeated failures are throttled (429 with Retry-After): see crm/login_throttle.py."""
    settings = runtime.settings
    check_origin(request, settings)  # no other site may log a visitor in (login CSRF)
    user = log_in(
        session,
        throttle_for(settings, runtime.redis),
        username=form.username,
        password=form.password,
        ip=client_ip(request.scope, settings.trusted_proxies),
    )
    token = create_access_token(
        user_id=user.id,  # type: ignore[arg-type]
        secret_key=settings.secret_key,
        minutes=settings.access_token_minutes,
    )
    set_session_cookies(response, settings, token)
    return Token(access_token=token)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(
    request: Request, session: SessionDep, runtime: RuntimeDep, bearer: BearerToken, response: Response
) -> Response:
    """Revoke the token (bearer or session cookie) until it expires and forget the console's cookies."""
    revoke_request_token(request, runtime, session, bearer)
    clear_session_cookies(response)
    response.status_code = 204
    return response


@router.get("/me", response_model=UserPublic, tags=["auth"])
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.get("/centers", response_model=list[CenterPublic], tags=["centers"])
def list_centers(session: SessionDep, _user: CurrentUser) -> list[CenterPublic]:
    return [CenterPublic.model_validate(c) for c in queries.list_centers(session)]


@router.get("/tickets", response_model=Page[TicketPublic], tags=["tickets"])
def list_tickets(
    session: SessionDep,
    user: CurrentUser,
    status: TicketStatus | None = None,
    channel: str | None = Query(default=None, max_length=16),
    center_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    assignee_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    unassigned: bool = False,
    serious: bool = Query(default=False, description="only suspected serious accidents (重大事故等)"),
    open_only: bool = Query(default=False, alias="open", description="only tickets not resolved or closed"),
    q: str | None = Query(default=None, max_length=100, description="words in the subject or summary"),
    sort: Literal["newest", "oldest", "waiting", "updated"] = "newest",
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[TicketPublic]:
    """One page of the tickets you may see, filtered and sorted (``total`` counts every match)."""
    flt = queries.TicketFilter(
        status=status, channel=channel, center_id=center_id, assignee_id=assignee_id,
        unassigned=unassigned, serious=serious, open_only=open_only, text=q, sort=sort,
    )  # fmt: skip
    rows, total = queries.list_tickets(session, user, flt, offset=offset, limit=limit)
    audit_read(session, actor_id=user.id, action="ticket.list", object_type="ticket", object_id="list",
               detail={"ticket_ids": [t.id for t in rows], "center_id": center_id, "offset": offset})  # fmt: skip
    return Page(items=[TicketPublic.model_validate(t) for t in rows], total=total, offset=offset, limit=limit)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
def get_ticket(ticket_id: Id, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """The ticket with its timeline; every read is written to the audit log."""
    return services.read_ticket(session, ticket_id=ticket_id, user=user)


@router.patch("/tickets/{ticket_id}", response_model=TicketPublic, tags=["tickets"])
def patch_ticket(ticket_id: Id, body: TicketUpdate, session: SessionDep, user: CurrentUser) -> TicketPublic:
    ticket = queries.access_ticket(session, ticket_id, user)
    changes = body.model_dump(exclude_unset=True)
    return TicketPublic.model_validate(
        services.update_ticket(session, ticket=ticket, actor=user, changes=changes)
    )


@router.post("/tickets/{ticket_id}/reply", response_model=MessagePublic, status_code=202, tags=["tickets"])
def reply(ticket_id: Id, body: ReplyCreate, session: SessionDep, user: CurrentUser) -> MessagePublic:
    """Queue a reply to the consumer; it is sent by a job (status queued → sent | failed)."""
    ticket = queries.access_ticket(session, ticket_id, user)
    return MessagePublic.model_validate(
        services.post_reply(session, ticket=ticket, author=user, body=body.body)
    )


@router.post("/tickets/{ticket_id}/notes", response_model=NotePublic, status_code=201, tags=["tickets"])
def add_note(ticket_id: Id, body: NoteCreate, session: SessionDep, user: CurrentUser) -> NotePublic:
    ticket = queries.access_ticket(session, ticket_id, user)
    return NotePublic.model_validate(
        services.add_note(session, ticket=ticket, author_id=user.id, body=body.body)
    )
