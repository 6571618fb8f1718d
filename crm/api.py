"""HTTP routes for auth, centers and tickets. Each route: typed deps, one service call, a *Public."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.security import OAuth2PasswordRequestForm

from crm import queries, services
from crm.accounts import authenticate
from crm.deps import SESSION_COOKIE, CurrentUser, RuntimeDep, SessionDep, SupervisorUser
from crm.export import export_cases_csv
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


@router.post("/auth/token", response_model=Token, tags=["auth"])
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
) -> Token:
    """Exchange username + password for a bearer token (also set as the console's session cookie)."""
    user = authenticate(session, form.username, form.password)
    settings = runtime.settings
    token = create_access_token(
        user_id=user.id, secret_key=settings.secret_key, minutes=settings.access_token_minutes
    )  # type: ignore[arg-type]
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=not settings.is_dev,
        max_age=settings.access_token_minutes * 60,
    )
    return Token(access_token=token)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(response: Response) -> Response:
    """Forget the console's session cookie (bearer tokens simply expire)."""
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", response_model=UserPublic, tags=["auth"])
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.get("/centers", response_model=list[CenterPublic], tags=["centers"])
def list_centers(session: SessionDep, _user: CurrentUser) -> list[CenterPublic]:
    return [CenterPublic.model_validate(c) for c in queries.list_centers(session)]


@router.get("/exports/cases.csv", tags=["exports"], response_class=Response)
def export_cases(session: SessionDep, user: SupervisorUser, date_from: date, date_to: date) -> Response:
    """PIO-NET-style CSV of the cases received in the period: no identifying data, text PII-masked."""
    body, _rows = export_cases_csv(session, user=user, date_from=date_from, date_to=date_to)
    filename = f"madoguchi-cases-{date_from}-{date_to}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/tickets", response_model=Page[TicketPublic], tags=["tickets"])
def list_tickets(
    session: SessionDep,
    user: CurrentUser,
    status: TicketStatus | None = None,
    channel: str | None = Query(default=None, max_length=16),
    center_id: int | None = None,
    assignee_id: int | None = None,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=200),
) -> Page[TicketPublic]:
    flt = queries.TicketFilter(status=status, channel=channel, center_id=center_id, assignee_id=assignee_id)
    rows, total = queries.list_tickets(session, user, flt, offset=offset, limit=limit)
    return Page(items=[TicketPublic.model_validate(t) for t in rows], total=total, offset=offset, limit=limit)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
def get_ticket(ticket_id: int, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """The ticket with its timeline; every read is written to the audit log."""
    return services.read_ticket(session, ticket_id=ticket_id, user=user)


@router.patch("/tickets/{ticket_id}", response_model=TicketPublic, tags=["tickets"])
def patch_ticket(ticket_id: int, body: TicketUpdate, session: SessionDep, user: CurrentUser) -> TicketPublic:
    ticket = queries.access_ticket(session, ticket_id, user)
    changes = body.model_dump(exclude_unset=True)
    return TicketPublic.model_validate(
        services.update_ticket(session, ticket=ticket, actor=user, changes=changes)
    )


@router.post("/tickets/{ticket_id}/reply", response_model=MessagePublic, status_code=202, tags=["tickets"])
def reply(ticket_id: int, body: ReplyCreate, session: SessionDep, user: CurrentUser) -> MessagePublic:
    """Queue a reply to the consumer; it is sent by a job (status queued → sent | failed)."""
    ticket = queries.access_ticket(session, ticket_id, user)
    return MessagePublic.model_validate(
        services.post_reply(session, ticket=ticket, author=user, body=body.body)
    )


@router.post("/tickets/{ticket_id}/notes", response_model=NotePublic, status_code=201, tags=["tickets"])
def add_note(ticket_id: int, body: NoteCreate, session: SessionDep, user: CurrentUser) -> NotePublic:
    ticket = queries.access_ticket(session, ticket_id, user)
    return NotePublic.model_validate(
        services.add_note(session, ticket=ticket, author_id=user.id, body=body.body)
    )
