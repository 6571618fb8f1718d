"""GET /api/contacts/{contact_id}: the consumer sidebar of the console (see crm/contacts.py)."""

from __future__ import annotations

from fastapi import APIRouter

from crm.contacts import ContactDetail, read_contact
from crm.deps import CurrentUser, SessionDep
from crm.http_errors import Id

router = APIRouter(prefix="/api", tags=["contacts"])


@router.get("/contacts/{contact_id}", response_model=ContactDetail)
def get_contact(contact_id: Id, session: SessionDep, user: CurrentUser) -> ContactDetail:
    """Identities per channel, consent and past consultations, for the center handling the consumer."""
    return read_contact(session, contact_id=contact_id, user=user)
