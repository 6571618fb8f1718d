"""knowledge's side of crm's privacy jobs (retention, erasure): the masker and the case documents
indexed from a ticket. Plugged into :mod:`crm.knowledge_port` by the composition root."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from knowledge.models import KnowledgeDocument, KnowledgeEmbedding
from knowledge.pii import mask
from knowledge.service import reindex_document


class KnowledgePrivacy:
    """Implements ``crm.knowledge_port.KnowledgeForPrivacy``."""

    def mask(self, text: str) -> str:
        return mask(text)

    def case_document_texts(self, session: Session, ticket_id: int) -> list[str]:
        texts: list[str] = []
        for doc in _case_documents(session, ticket_id):
            texts += [doc.title, doc.body]
        return texts

    def scrub_case_documents(self, session: Session, ticket_id: int, scrub: Callable[[str], str]) -> None:
        for doc in _case_documents(session, ticket_id):
            title, body = scrub(doc.title)[:300], scrub(doc.body)
            if (title, body) == (doc.title, doc.body):
                continue
            doc.title, doc.body = title, body
            session.add(doc)
            embedding = session.get(KnowledgeEmbedding, doc.id)
            if embedding is not None:
                session.delete(embedding)  # built from the old text; rebuilt by `madoguchi knowledge reindex`
            reindex_document(session, doc)


def _case_documents(session: Session, ticket_id: int) -> list[KnowledgeDocument]:
    return list(
        session.exec(select(KnowledgeDocument).where(KnowledgeDocument.source_ticket_id == ticket_id)).all()
    )
