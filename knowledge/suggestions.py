"""Everything the console suggests for an open ticket: PIO-NET labels, cooling-off, 重大事故等."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from crm.models import Ticket
from knowledge import categories, semantic, service
from knowledge.accident import detect_serious_accident
from knowledge.categories import LabelSuggestion
from knowledge.cooling_off import UnknownSalesType, cooling_off_deadline


@dataclass(frozen=True)
class TicketSuggestions:
    categories: dict[str, list[LabelSuggestion]]
    cooling_off: dict[str, Any] | None
    serious_accident_reasons: list[str]


def suggest_for_ticket(
    session: Session,
    ticket: Ticket,
    *,
    document_received: date | None = None,
    goods_received: date | None = None,
    embedder: semantic.Embedder | None = None,
    today: date | None = None,
) -> TicketSuggestions:
    """Labels from the ticket's text and nearest past cases; the cooling-off deadline for the stored
    (else the best suggested) sales method; the reasons to suspect a serious accident."""
    text = service.ticket_text(session, ticket)
    neighbors = service.similar_cases(session, ticket, k=10, embedder=embedder)
    labels = categories.suggest_labels(session, text, neighbors)
    method = ticket.sales_method or (labels["sales_method"][0].label if labels["sales_method"] else None)
    cooling = None
    if method:
        try:
            result = cooling_off_deadline(
                method, document_received, goods_received=goods_received, today=today or date.today()
            )
            cooling = result.__dict__
        except UnknownSalesType:
            cooling = None
    return TicketSuggestions(
        categories=labels, cooling_off=cooling, serious_accident_reasons=detect_serious_accident(text)
    )
