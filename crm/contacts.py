"""The consumer behind a ticket, as the handling center sees them (the console's contact sidebar).

Identities (LINE id, email address, phone number) are personal data: only a center that handles
one of the consumer's consultations sees them, and only that center's past consultations are
listed; another center gets 403 even when it can name the contact id. Every read is audited.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from crm.audit import audit_read
from crm.errors import Forbidden, NotFound
from crm.models import Contact, ContactIdentity, ContactPersonalData, Ticket, User
from crm.queries import visible_center_ids

MAX_CONSULTATIONS = 50


class IdentityPublic(BaseModel):
    channel: str
    address: str
    display_name: str | None
    reachable: bool


class ConsultationRef(BaseModel):
    id: int
    center_id: int
    channel: str
    status: str
    subject: str
    created_at: datetime


class ContactDetail(BaseModel):
    id: int
    display_name: str | None
    age_band: str | None
    region: str | None
    special_consideration: bool
    consent_to_share: bool
    consent_recorded_at: datetime | None
    identities: list[IdentityPublic]
    consultations: list[ConsultationRef]


def read_contact(session: Session, *, contact_id: int, user: User) -> ContactDetail:
    """The contact with identities and past consultations, if ``user``'s center handles one of them."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    allowed = visible_center_ids(user)
    stmt = select(Ticket).where(Ticket.contact_id == contact_id)
    if allowed is not None:
        stmt = stmt.where(col(Ticket.center_id).in_(allowed))
    tickets = session.exec(stmt.order_by(col(Ticket.created_at).desc()).limit(MAX_CONSULTATIONS)).all()
    if allowed is not None and not tickets:
        raise Forbidden(f"contact {contact_id} has no consultation at your center; you cannot see them")
    identities = session.exec(
        select(ContactIdentity)
        .where(ContactIdentity.contact_id == contact_id)
        .order_by(col(ContactIdentity.id))
    ).all()
    personal = session.get(ContactPersonalData, contact_id)
    named = next((i.display_name for i in identities if i.display_name), None)
    detail = ContactDetail(
        id=contact_id,
        display_name=(personal.full_name if personal and personal.full_name else None) or named,
        age_band=contact.age_band,
        region=contact.region,
        special_consideration=contact.special_consideration,
        consent_to_share=bool(personal and personal.consent_to_share),
        consent_recorded_at=personal.consent_recorded_at if personal else None,
        identities=[
            IdentityPublic(
                channel=i.channel, address=i.external_id, display_name=i.display_name, reachable=i.reachable
            )
            for i in identities
        ],
        consultations=[ConsultationRef.model_validate(t, from_attributes=True) for t in tickets],
    )
    audit_read(session, actor_id=user.id, action="contact.read", object_type="contact", object_id=contact_id)
    return detail
