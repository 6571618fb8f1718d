"""Everything the console suggests for an open ticket: PIO-NET labels, cooling-off, 重大事故等."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from config.clock import jst_date, today_jst
from crm.accidents import notes_text
from crm.models import Direction, Message, Ticket
from knowledge import categories, semantic, service
from knowledge.accident import detect_possible_accident, detect_serious_accident
from knowledge.categories import LabelSuggestion
from knowledge.cooling_off import UnknownSalesType, cooling_off_deadline, document_received_from_text


@dataclass(frozen=True)
class TicketSuggestions:
    categories: dict[str, list[LabelSuggestion]]
    cooling_off: dict[str, Any] | None
    serious_accident_reasons: list[str]
    possible_accident_reasons: list[str]  # 要確認: a counselor confirms (empty when flagged serious)


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
    (else the best suggested) sales method; the reasons to suspect a serious accident, or to have a
    counselor confirm one (要確認)."""
    text = service.ticket_text(session, ticket)
    neighbors = service.similar_cases(session, ticket, k=10, embedder=embedder)
    labels = categories.suggest_labels(session, text, neighbors)
    method = ticket.sales_method or (labels["sales_method"][0].label if labels["sales_method"] else None)
    cooling = None
    if method:
        stated = None if document_received is not None else _stated_document_day(session, ticket)
        try:
            result = cooling_off_deadline(
                method, document_received or stated, goods_received=goods_received, today=today or today_jst()
            )
            cooling = result.__dict__
            if stated is not None:
                note = (
                    f"書面 received on {stated.isoformat()} as stated in the consumer's message: confirm it."
                )
                cooling["notes"] = (note, *cooling["notes"])
        except UnknownSalesType:
            cooling = None
    # a call's 重大事故等 is often only in the note typed after it: the notes are screened on their own,
    # as the notification draft (crm/accidents.py) and the note hook do
    notes = notes_text(session, ticket)
    serious = detect_serious_accident(text) or detect_serious_accident(notes)
    return TicketSuggestions(
        categories=labels,
        cooling_off=cooling,
        serious_accident_reasons=serious,
        possible_accident_reasons=[]
        if serious
        else detect_possible_accident(text) or detect_possible_accident(notes),
    )


def _stated_document_day(session: Session, ticket: Ticket) -> date | None:
    """The 書面's receipt day stated in the consumer's latest message that states one (relative
    dates such as 先週の月曜 resolved against that message's JST date)."""
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id).desc())
    ).all()
    for m in messages:
        found = document_received_from_text(m.body, jst_date(m.sent_at or m.created_at))
        if found is not None:
            return found
    return None
