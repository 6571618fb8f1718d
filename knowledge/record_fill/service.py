"""Prefill for a stored ticket: its conversation (messages and the counselor's notes) read in order,
the pure extractor run over it, and the label suggesters (kNN + learned corrections) filling
商品・役務 / 販売購入形態 / 内容キーワード when the words alone found nothing."""

from __future__ import annotations

from sqlmodel import Session, col, select

from crm.models import Direction, Message, MessageStatus, Note, Ticket
from knowledge import categories, service
from knowledge.record_fill.extract import ConversationMessage, FieldSuggestion, prefill_record

MAX_MESSAGES = 500
MAX_CHARS = 20_000  # per message: a pasted novel is not a consultation
LABEL_FIELDS = ("product_category", "sales_method", "content_keywords")
MIN_LABEL_CONFIDENCE = 0.3


def conversation_of(session: Session, ticket: Ticket) -> list[ConversationMessage]:
    """The ticket's messages (consumer / counselor) and notes (phone memos), oldest first."""
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.status != MessageStatus.RETRACTED)
        .order_by(col(Message.id))
        .limit(MAX_MESSAGES)
    ).all()
    notes = session.exec(
        select(Note)
        .where(Note.ticket_id == ticket.id, Note.kind == "note")
        .order_by(col(Note.id))
        .limit(MAX_MESSAGES)
    ).all()
    out = [
        ConversationMessage(
            "consumer" if m.direction == Direction.INBOUND else "counselor",
            (m.body or "")[:MAX_CHARS],
            m.sent_at or m.created_at,
            f"message:{m.id}",
        )
        for m in messages
        if m.kind == "text"
    ]
    out += [ConversationMessage("note", n.body[:MAX_CHARS], n.created_at, f"note:{n.id}") for n in notes]
    return sorted(out, key=lambda m: m.at)


def prefill_for_ticket(session: Session, ticket: Ticket) -> dict[str, FieldSuggestion]:
    """Suggestions for every field the conversation says something about."""
    found = prefill_record(conversation_of(session, ticket))
    missing = [f for f in LABEL_FIELDS if f not in found]
    if missing:
        text = service.ticket_text(session, ticket)
        labels = categories.suggest_labels(session, text, service.similar_cases(session, ticket, k=10))
        for f in missing:
            best = labels.get(f) or []
            if best and best[0].confidence >= MIN_LABEL_CONFIDENCE:
                value = [s.label for s in best[:2]] if f == "content_keywords" else best[0].label
                found[f] = FieldSuggestion(f, value, best[0].confidence, "similar cases / corrections")
    return found
