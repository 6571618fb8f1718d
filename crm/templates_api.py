"""Canned responses of a center: list (filled for a ticket), add, delete (see crm/templates.py)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from crm.deps import CurrentUser, SessionDep, SupervisorUser
from crm.http_errors import MAX_ID, Id
from crm.templates import TemplateCreate, TemplatePublic, create_template, delete_template, list_templates

router = APIRouter(prefix="/api", tags=["templates"])


@router.get("/templates", response_model=list[TemplatePublic])
def get_templates(
    session: SessionDep,
    user: CurrentUser,
    ticket_id: int | None = Query(default=None, ge=1, le=MAX_ID, description="fill the variables for it"),
) -> list[TemplatePublic]:
    """Your center's canned responses; with ``ticket_id``, each also ``filled`` for that ticket."""
    return list_templates(session, user=user, ticket_id=ticket_id)


@router.post("/templates", response_model=TemplatePublic, status_code=201)
def post_template(body: TemplateCreate, session: SessionDep, user: SupervisorUser) -> TemplatePublic:
    """Add a template to your center (supervisors; admins name ``center_id``)."""
    row = create_template(session, user=user, body=body)
    return TemplatePublic.model_validate(row, from_attributes=True)


@router.delete("/templates/{template_id}", status_code=204)
def remove_template(template_id: Id, session: SessionDep, user: SupervisorUser) -> Response:
    delete_template(session, user=user, template_id=template_id)
    return Response(status_code=204)
