"""HTTP routes of the knowledge base (mounted by app.py). Thin: parse, call one service, shape."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from config.clock import today_jst
from crm import queries
from crm.audit import audit_read, write_audit
from crm.deps import CurrentUser, RuntimeDep, SessionDep, require_roles
from crm.errors import BadRequest, PayloadTooLarge
from crm.http_errors import Id
from crm.models import Role, User
from knowledge import access, categories, service
from knowledge.cooling_off import UnknownSalesType, cooling_off_deadline
from knowledge.models import DocumentKind
from knowledge.suggestions import suggest_for_ticket
from knowledge.wiring import embedder_of

router = APIRouter(prefix="/api", tags=["knowledge"])

MAX_DOCUMENTS = 500
MAX_BODY_CHARS = 50_000
MAX_REQUEST_BYTES = 5_000_000
EditorUser = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
    kind: DocumentKind
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    center_id: int | None = None
    reviewed: bool = False  # checked by a supervisor: may be sent to waiting consumers (knowledge.self_help)


class UpsertResult(BaseModel):
    upserted: int


class HitPublic(BaseModel):
    id: str
    kind: str
    title: str
    snippet: str
    score: float
    matched_terms: list[str]
    center_id: int | None
    masked: bool
    labels: dict[str, Any]


class LabelSuggestionPublic(BaseModel):
    label: str
    confidence: float
    sources: list[str]


class SuggestionsPublic(BaseModel):
    categories: dict[str, list[LabelSuggestionPublic]]
    cooling_off: dict[str, Any] | None
    serious_accident_reasons: list[str]
    possible_accident_reasons: list[str]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_category: str | None = Field(default=None, max_length=64)
    sales_method: str | None = Field(default=None, max_length=64)
    content_keywords: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=20)
    suggested: dict[str, str | None] = Field(default_factory=dict)


def _hit(r: service.SearchResult) -> HitPublic:
    labels = {k: v for k, v in r.fields.items() if k in service.LABEL_FIELDS or k == "outcome"}
    return HitPublic(
        id=r.id,
        kind=r.kind,
        title=r.title,
        snippet=r.snippet,
        score=r.score,
        matched_terms=list(r.matched_terms),
        center_id=r.center_id,
        masked=r.masked,
        labels=labels,
    )


@router.post("/knowledge/documents", response_model=UpsertResult)
async def upsert_documents(request: Request, session: SessionDep, user: EditorUser) -> UpsertResult:
    """Bulk upsert a JSON list of {id, kind, title, body, tags} (supervisors and admins)."""
    raw = await request.body()
    if len(raw) > MAX_REQUEST_BYTES:
        raise PayloadTooLarge(
            f"request body is {len(raw)} bytes; the limit is {MAX_REQUEST_BYTES} (split the upload)"
        )
    docs = _parse_documents(raw)
    # database work off the event loop: a slow upsert must not stall other requests
    return await run_in_threadpool(_write_documents, session, user, docs)


def _document_in(d: DocumentCreate) -> service.DocumentIn:
    data = d.model_dump(exclude={"reviewed"})
    return service.DocumentIn(**data, fields={"reviewed": True} if d.reviewed else {})


def _write_documents(session: Session, user: User, docs: list[DocumentCreate]) -> UpsertResult:
    existing = access.authorize_upsert(session, user, [(d.id, d.center_id) for d in docs])
    # no embedding here: the background job (knowledge.wiring.embed_pending_job) does it after commit
    n = service.upsert_documents(session, [_document_in(d) for d in docs])
    for d in docs:
        detail = {"kind": d.kind.value, "center_id": d.center_id, "created": d.id not in existing}
        write_audit(
            session, actor_id=user.id, action="knowledge.upsert", object_type="knowledge_document",
            object_id=d.id, detail=detail,
        )  # fmt: skip
    session.commit()
    return UpsertResult(upserted=n)


def _parse_documents(raw: bytes) -> list[DocumentCreate]:
    import json

    from pydantic import TypeAdapter, ValidationError

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Unprocessable(f"body is not UTF-8 JSON: {exc}") from None
    if not isinstance(data, list) or not data:
        raise _Unprocessable("body must be a non-empty JSON list of documents")
    if len(data) > MAX_DOCUMENTS:
        raise PayloadTooLarge(f"{len(data)} documents in one request; the limit is {MAX_DOCUMENTS}")
    try:
        return TypeAdapter(list[DocumentCreate]).validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:10])
        raise _Unprocessable(f"invalid documents: {problems}") from None


class _Unprocessable(BadRequest):
    status_code = 422


@router.delete("/knowledge/documents/{doc_id}", status_code=204)
def delete_document(doc_id: str, session: SessionDep, user: EditorUser) -> None:
    """Delete a document of your center (admins: any); audited."""
    row = access.authorize_delete(session, user, doc_id)
    detail = {"kind": row.kind, "center_id": row.center_id, "source_ticket_id": row.source_ticket_id}
    service.delete_document(session, doc_id)
    write_audit(
        session, actor_id=user.id, action="knowledge.delete", object_type="knowledge_document",
        object_id=doc_id, detail=detail,
    )  # fmt: skip
    session.commit()


@router.get("/knowledge/search", response_model=list[HitPublic])
def search(
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    q: str = Query(min_length=1, max_length=2000),
    k: int = Query(default=10, ge=1, le=50),
    kind: list[DocumentKind] = Query(default=[]),
) -> list[HitPublic]:
    """Ranked documents with a highlighted snippet and the terms that matched."""
    results = service.search(
        session,
        query=q,
        k=k,
        kinds=[x.value for x in kind],
        viewer_center_id=user.center_id,
        embedder=embedder_of(runtime),
    )
    audit_read(session, actor_id=user.id, action="knowledge.search", object_type="knowledge_document",
               object_id="search", detail={"document_ids": [r.id for r in results]})  # fmt: skip
    return [_hit(r) for r in results]


@router.get("/tickets/{ticket_id}/similar", response_model=list[HitPublic])
def similar(
    ticket_id: Id,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    k: int = Query(default=10, ge=1, le=50),
) -> list[HitPublic]:
    """Similar past cases for a ticket: own center first, other centers PII-masked."""
    ticket = queries.access_ticket(session, ticket_id, user)
    results = service.similar_cases(session, ticket, k=k, embedder=embedder_of(runtime))
    audit_read(session, actor_id=user.id, action="ticket.similar", object_type="ticket", object_id=ticket_id,
               detail={"document_ids": [r.id for r in results]})  # fmt: skip
    return [_hit(r) for r in results]


@router.get("/tickets/{ticket_id}/suggestions", response_model=SuggestionsPublic)
def suggestions(
    ticket_id: Id,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    document_received: date | None = None,
    goods_received: date | None = None,
) -> SuggestionsPublic:
    """Suggested categories, the cooling-off deadline for the (stored or suggested) sales method,
    and serious-accident reasons."""
    ticket = queries.access_ticket(session, ticket_id, user)
    found = suggest_for_ticket(
        session,
        ticket,
        document_received=document_received,
        goods_received=goods_received,
        embedder=embedder_of(runtime),
    )
    audit_read(
        session, actor_id=user.id, action="ticket.suggestions", object_type="ticket", object_id=ticket_id
    )
    return SuggestionsPublic(
        categories={
            f: [
                LabelSuggestionPublic(label=s.label, confidence=s.confidence, sources=list(s.sources))
                for s in v
            ]
            for f, v in found.categories.items()
        },
        cooling_off=found.cooling_off,
        serious_accident_reasons=found.serious_accident_reasons,
        possible_accident_reasons=found.possible_accident_reasons,
    )


@router.post("/tickets/{ticket_id}/suggestions/feedback", status_code=204)
def feedback(ticket_id: Id, body: FeedbackIn, session: SessionDep, user: CurrentUser) -> None:
    """The counselor's accepted or corrected labels; learned from for the next suggestions."""
    ticket = queries.access_ticket(session, ticket_id, user)
    chosen = body.model_dump(exclude={"suggested"}, exclude_none=True)
    if not chosen:
        raise _Unprocessable("give at least one of product_category, sales_method, content_keywords")
    categories.record_feedback(
        session,
        ticket_id=ticket_id,
        text=service.ticket_text(session, ticket),
        user_id=user.id,
        chosen=chosen,
        suggested=body.suggested,
    )
    write_audit(session, actor_id=user.id, action="ticket.labels_feedback", object_type="ticket",
                object_id=ticket_id, detail={"chosen": chosen})  # fmt: skip
    session.commit()


@router.get("/knowledge/cooling-off")
def cooling_off(
    _user: CurrentUser,
    sales_type: str = Query(min_length=1, max_length=64),
    document_received: date | None = None,
    goods_received: date | None = None,
) -> dict[str, Any]:
    """The cooling-off deadline for a sales type and the date the legal 書面 was received."""
    try:
        result = cooling_off_deadline(
            sales_type, document_received, goods_received=goods_received, today=today_jst()
        )
    except UnknownSalesType as exc:
        raise _Unprocessable(str(exc)) from None
    return result.__dict__
