"""The demo data's knowledge side: index the closed demo cases and the references (``madoguchi demo``)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlmodel import Session, select

from crm.demo import read_demo_file
from crm.models import Ticket, TicketStatus
from knowledge.cli import to_document
from knowledge.models import KnowledgeDocument
from knowledge.service import case_doc_id, index_resolved_ticket, upsert_documents


def index_demo_knowledge(session: Session) -> int:
    """Index the closed demo cases (PII-masked, as resolution would) and the references; idempotent."""
    indexed = {d.id for d in session.exec(select(KnowledgeDocument)).all()}
    closed = session.exec(select(Ticket.id).where(Ticket.status == TicketStatus.CLOSED)).all()
    count = 0
    for ticket_id in closed:
        if case_doc_id(ticket_id) not in indexed:  # type: ignore[arg-type]
            count += index_resolved_ticket(session, ticket_id)  # type: ignore[arg-type]
    references = read_demo_file("references.jsonl") + _law_articles()
    docs = [to_document(rec, n) for n, rec in enumerate(references, start=1) if rec["id"] not in indexed]
    if docs:
        count += upsert_documents(session, docs)
    return count


def _law_articles() -> list[dict[str, Any]]:
    text = (
        resources.files("knowledge")
        .joinpath("data", "law_consumer_safety_regulation.jsonl")
        .read_text(encoding="utf-8")
    )
    return [json.loads(line) for line in text.splitlines() if line.strip()]
