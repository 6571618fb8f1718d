"""Knowledge-base operations: upsert/delete documents, search, similar cases, index a resolved ticket.

Each function takes the caller's session; the caller (route, job, CLI) commits. Documents are
written to ``knowledge_document`` and to the search store in the same transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, col, select

from crm.errors import NotFound
from crm.models import Direction, Message, Ticket, utcnow
from knowledge import semantic, sharing
from knowledge.index import Hit, IndexDoc, SearchFilters, store_for
from knowledge.models import KnowledgeDocument
from knowledge.snippet import highlight
from knowledge.text import get_analyzer, normalize

log = logging.getLogger(__name__)
DENSE_BUDGET_MS = 150.0  # hybrid answers within this, else BM25 only (bench/knowledge_scale.py --hybrid)
LABEL_FIELDS = ("product_category", "product_category_top", "sales_method", "content_keywords")
TICKET_TEXT_LIMIT = 4000


@dataclass(frozen=True)
class DocumentIn:
    id: str
    kind: str
    title: str
    body: str
    tags: list[str] = field(default_factory=list)
    center_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    source_ticket_id: int | None = None


@dataclass(frozen=True)
class SearchResult:
    id: str
    kind: str
    title: str
    snippet: str
    score: float
    matched_terms: tuple[str, ...]
    center_id: int | None
    masked: bool
    fields: dict[str, Any]


def document_terms(
    title: str, body: str, tags: Sequence[str] = (), fields: dict[str, Any] | None = None
) -> list[str]:
    """Index terms of a document: title (counted twice), body, tags and PIO-NET labels."""
    analyzer = get_analyzer()
    title_terms = analyzer.terms(title)
    labels = [str(v) for k in LABEL_FIELDS for v in _as_list((fields or {}).get(k))]
    extra = analyzer.terms(" 、".join([*tags, *labels])) if tags or labels else []
    return title_terms + title_terms + analyzer.terms(body) + extra


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _store(session: Session):  # type: ignore[no-untyped-def]
    return store_for(session.get_bind().dialect.name)


def upsert_documents(
    session: Session, docs: Sequence[DocumentIn], *, embedder: semantic.Embedder | None = None
) -> int:
    """Insert or replace documents (by id) and index them; returns how many were written.
    Their vectors (dense retrieval) come later from the background job ``semantic.embed_pending``;
    ``embedder`` embeds synchronously instead (benches).

    A case record (kind "case") is shown to every center, so it is stored and indexed only as its
    shareable view (knowledge.sharing): masked title and body, whitelisted labels."""
    index_docs = []
    docs = [_shareable_doc(d) if d.kind == "case" and d.source_ticket_id is None else d for d in docs]
    for d in docs:
        row = KnowledgeDocument(
            id=d.id,
            kind=d.kind,
            title=d.title,
            body=d.body,
            center_id=d.center_id,
            tags=list(d.tags),
            fields=dict(d.fields),
            source_ticket_id=d.source_ticket_id,
            updated_at=utcnow(),
        )
        session.merge(row)
        index_docs.append(
            IndexDoc(d.id, d.kind, d.center_id, document_terms(d.title, d.body, d.tags, d.fields))
        )
    session.flush()
    _store(session).upsert(session.connection(), index_docs)
    semantic.forget_embeddings(session, [d.id for d in docs])  # the background job embeds the new text
    if embedder is not None:  # synchronous embedding: benches and bulk tools only, never intake
        semantic.store_embeddings(session, embedder, [(d.id, f"{d.title}\n{d.body}") for d in docs])
    return len(index_docs)


def _shareable_doc(d: DocumentIn) -> DocumentIn:
    return replace(
        d,
        title=sharing.shareable_text(d.title),
        body=sharing.shareable_text(d.body),
        fields=sharing.shareable_labels(d.fields),
    )


def reindex_document(session: Session, doc: KnowledgeDocument) -> None:
    """Re-index one stored document after its title, body, tags or labels changed."""
    session.flush()
    semantic.forget_embeddings(session, [doc.id])
    terms = document_terms(doc.title, doc.body, doc.tags, doc.fields)
    _store(session).upsert(session.connection(), [IndexDoc(doc.id, doc.kind, doc.center_id, terms)])


def delete_document(session: Session, doc_id: str) -> None:
    """Remove a document and its index entry (NotFound if it does not exist)."""
    row = session.get(KnowledgeDocument, doc_id)
    if row is None:
        raise NotFound(f"knowledge document {doc_id!r} does not exist")
    session.delete(row)
    semantic.forget_embeddings(session, [doc_id])
    session.flush()
    _store(session).delete(session.connection(), doc_id)


def search(
    session: Session,
    *,
    query: str,
    k: int = 10,
    kinds: Sequence[str] = (),
    viewer_center_id: int | None,
    exclude_ids: Sequence[str] = (),
    embedder: semantic.Embedder | None = None,
    dense_budget_ms: float | None = DENSE_BUDGET_MS,
) -> list[SearchResult]:
    """Ranked documents for ``query``; other centers' documents come back PII-masked.

    With ``embedder``: hybrid (BM25 + dense, RRF: ``semantic.fuse``). The query is embedded on a
    thread while BM25 runs; if its vector is not ready ``dense_budget_ms`` after the start, BM25
    alone answers (None: wait for it, as the quality bench does)."""
    started = time.perf_counter()
    pending = semantic.embed_query_async(embedder, query) if embedder is not None else None  # first
    terms = get_analyzer().query_terms(query)
    flt = SearchFilters(kinds=tuple(kinds), exclude_ids=tuple(exclude_ids))
    depth = max(k, semantic.FUSION_DEPTH) if embedder is not None else k
    hits = _store(session).search(session.connection(), terms, depth, flt)
    if embedder is not None and pending is not None:
        left = (
            None
            if dense_budget_ms is None
            else max(0.0, dense_budget_ms / 1000 - (time.perf_counter() - started))
        )
        hits = _fuse(session, embedder, query, pending, left, hits, depth, flt)[:k]
    return _results(session, hits[:k], viewer_center_id)


def _fuse(
    session: Session,
    embedder: semantic.Embedder,
    query: str,
    pending: Future[Any],
    wait: float | None,
    hits: list[Hit],
    depth: int,
    flt: SearchFilters,
) -> list[Hit]:
    try:
        vector = pending.result(timeout=wait)
    except TimeoutError:  # the model is slow right now: BM25 alone, within the latency budget
        pending.cancel()
        log.debug("query embedding over %s ms budget; BM25 only", DENSE_BUDGET_MS)
        return hits
    except Exception:  # the model failing must not take search down
        log.exception("query embedding failed; answering with BM25 only")
        return hits
    try:  # kinds and exclusions are applied in the vector cache: no query per search
        dense = semantic.vector_cache.search(
            session, embedder, query, depth, vector=vector, kinds=flt.kinds, exclude_ids=flt.exclude_ids
        )
    except Exception:  # the model failing must not take search down: BM25 alone still answers
        log.exception("dense retrieval failed; answering with BM25 only")
        return hits
    by_id = {h.id: h for h in hits}
    fused = semantic.fuse([h.id for h in hits], [i for i, _ in dense], depth)
    return [Hit(i, score, by_id[i].matched if i in by_id else ()) for i, score in fused]


def _results(session: Session, hits: Sequence[Hit], viewer_center_id: int | None) -> list[SearchResult]:
    if not hits:
        return []
    rows = {
        d.id: d
        for d in session.exec(
            select(KnowledgeDocument).where(col(KnowledgeDocument.id).in_([h.id for h in hits]))
        ).all()
    }
    out = []
    for h in hits:
        doc = rows.get(h.id)
        if doc is None:  # indexed but deleted meanwhile
            continue
        foreign = doc.center_id is not None and doc.center_id != viewer_center_id
        out.append(_foreign_result(doc, h) if foreign else _own_result(doc, h))
    return out


def _own_result(doc: KnowledgeDocument, h: Hit) -> SearchResult:
    body = highlight(doc.body, h.matched)
    return SearchResult(
        doc.id, doc.kind, doc.title, body, round(h.score, 4), h.matched, doc.center_id, False, doc.fields
    )


def _foreign_result(doc: KnowledgeDocument, h: Hit) -> SearchResult:
    """Another center's document: only the whitelisted view of knowledge.sharing, never a raw field."""
    title, body = sharing.shareable_text(doc.title), sharing.shareable_text(doc.body)
    labels = sharing.shareable_labels(doc.fields)
    visible = normalize(" ".join([title, body, *[str(v) for v in labels.values()]]))
    matched = tuple(t for t in h.matched if t in visible)
    snippet = highlight(body, matched)
    return SearchResult(
        doc.id, doc.kind, title, snippet, round(h.score, 4), matched, doc.center_id, True, labels
    )


def ticket_text(session: Session, ticket: Ticket) -> str:
    """What a ticket is about: subject, summary and the consumer's messages (bounded)."""
    messages = session.exec(
        select(Message.body)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id))
    ).all()
    text = "\n".join([ticket.subject, ticket.summary, *messages])
    return text[:TICKET_TEXT_LIMIT]


def case_doc_id(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


def similar_cases(
    session: Session, ticket: Ticket, *, k: int = 10, embedder: semantic.Embedder | None = None
) -> list[SearchResult]:
    """Past cases like ``ticket``: own center's first, then other centers' (PII-masked)."""
    results = search(
        session,
        query=ticket_text(session, ticket),
        k=k * 2,
        kinds=("case",),
        viewer_center_id=ticket.center_id,
        exclude_ids=(case_doc_id(ticket.id),) if ticket.id is not None else (),
        embedder=embedder,  # type: ignore[arg-type]
    )
    own = [r for r in results if r.center_id == ticket.center_id]
    return (own + [r for r in results if r.center_id != ticket.center_id])[:k]


def index_resolved_ticket(
    session: Session, ticket_id: int, *, embedder: semantic.Embedder | None = None
) -> bool:
    """Index a resolved ticket as a past case from its PII-MASKED text and labels."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return False
    body = ticket.summary.strip() or "\n".join(
        session.exec(
            select(Message.body)
            .where(Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND)
            .order_by(col(Message.id))
        ).all()
    )
    existing = session.get(KnowledgeDocument, case_doc_id(ticket_id))
    fields = {
        k: getattr(ticket, k) for k in ("product_category", "sales_method", "content_keywords", "outcome")
    }
    if existing is not None:  # counselor corrections recorded on the document win
        fields.update({k: v for k, v in existing.fields.items() if k in LABEL_FIELDS and v})
    doc = DocumentIn(  # a case is indexed for every center: only its shareable view goes in
        id=case_doc_id(ticket_id),
        kind="case",
        title=sharing.shareable_text(ticket.subject),
        body=sharing.shareable_text(body[:TICKET_TEXT_LIMIT]),
        center_id=ticket.center_id,
        fields=sharing.shareable_labels(fields),
        source_ticket_id=ticket_id,
    )
    upsert_documents(session, [doc], embedder=embedder)
    return True


def reindex_all(session: Session, *, batch: int = 500, progress: Any = None) -> int:
    """Rebuild the search index from ``knowledge_document`` (after changing synonyms or the analyzer)."""
    store = _store(session)
    store.clear(session.connection())
    done = 0
    last = ""
    while True:
        rows = session.exec(
            select(KnowledgeDocument)
            .where(KnowledgeDocument.id > last)
            .order_by(col(KnowledgeDocument.id))
            .limit(batch)
        ).all()
        if not rows:
            return done
        store.upsert(
            session.connection(),
            [
                IndexDoc(d.id, d.kind, d.center_id, document_terms(d.title, d.body, d.tags, d.fields))
                for d in rows
            ],
        )
        done += len(rows)
        last = rows[-1].id
        if progress is not None:
            progress(len(rows))
