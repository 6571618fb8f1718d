"""What crm's privacy jobs ask of the knowledge package, handed in by the composition root.

knowledge imports crm, never the reverse; retention and erasure still need knowledge's PII masker
and the case documents it indexed from a ticket. ``bootstrap.build_runtime`` plugs in
:class:`knowledge.privacy.KnowledgePrivacy`. Without it, these calls raise rather than purge with an
unmasked text or leave an indexed copy behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlmodel import Session


class KnowledgeForPrivacy(Protocol):
    def mask(self, text: str) -> str:
        """The text with every personal-data span replaced by a placeholder."""
        ...

    def case_document_texts(self, session: Session, ticket_id: int) -> list[str]:
        """Titles and bodies of the knowledge documents indexed from the ticket."""
        ...

    def scrub_case_documents(self, session: Session, ticket_id: int, scrub: Callable[[str], str]) -> None:
        """Replace the ticket's indexed documents by their scrubbed text and reindex them."""
        ...


_port: KnowledgeForPrivacy | None = None


def set_knowledge_port(port: KnowledgeForPrivacy | None) -> None:
    """Called by the composition root."""
    global _port
    _port = port


def knowledge_port() -> KnowledgeForPrivacy:
    if _port is None:
        raise RuntimeError("crm.knowledge_port is not wired: build the runtime with bootstrap.build_runtime")
    return _port
