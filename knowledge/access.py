"""Who may write which knowledge document (the document API; the indexer is not subject to it).

* An admin may write and delete any document.
* A supervisor writes and deletes only documents of their own center: the document's current
  center (if it exists) and its new center must both be theirs.
* Shared documents (``center_id`` empty: references, FAQs and laws shown to every center as is) are
  written and deleted by admins only, since every center reads them unmasked.
* A case record written by the indexer from a resolved ticket (``source_ticket_id`` set) is never
  overwritten through the API (409: change the ticket; the indexer rewrites the record); its own
  center's supervisor or an admin may delete it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from crm.errors import Conflict, Forbidden, NotFound
from crm.models import Role, User
from knowledge.models import KnowledgeDocument


def _check_center(actor: User, doc_id: str, center_id: int | None, *, current: bool) -> None:
    if actor.role == Role.ADMIN:
        return
    if center_id is None:
        raise Forbidden(
            f"document {doc_id!r} is shared with every center: only an admin writes shared documents; "
            f"give center_id {actor.center_id} to keep it for your center"
        )
    if center_id != actor.center_id:
        which = "belongs to another center" if current else "would belong to another center"
        raise Forbidden(f"document {doc_id!r} {which}: you can only write your center's documents")


def authorize_upsert(session: Session, actor: User, docs: Iterable[tuple[str, int | None]]) -> set[str]:
    """Check each (id, new center_id) against the rules above; returns the ids that already exist."""
    existing: set[str] = set()
    for doc_id, center_id in docs:
        _check_center(actor, doc_id, center_id, current=False)
        row = session.get(KnowledgeDocument, doc_id)
        if row is None:
            continue
        existing.add(doc_id)
        _check_center(actor, doc_id, row.center_id, current=True)
        if row.source_ticket_id is not None:
            raise Conflict(
                f"document {doc_id!r} is the case record of ticket {row.source_ticket_id}, written when the "
                "ticket was resolved: change the ticket instead (the record is rewritten from it)"
            )
    return existing


def authorize_delete(session: Session, actor: User, doc_id: str) -> KnowledgeDocument:
    """The document ``actor`` may delete (NotFound / Forbidden otherwise)."""
    row = session.get(KnowledgeDocument, doc_id)
    if row is None:
        raise NotFound(f"knowledge document {doc_id!r} does not exist")
    _check_center(actor, doc_id, row.center_id, current=True)
    return row
