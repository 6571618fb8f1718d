"""Self-help while waiting: a consumer waiting on a text channel after hours or far back in the queue
gets the two or three most relevant REVIEWED FAQ / reference entries, marked as general information.

Precedence (one guard per line; the first that fails sends nothing):

1. the center opted in (``knowledge_self_help_setting.enabled``);
2. the ticket is still queued (its place is never touched: this only adds a message);
3. the channel carries text (``capabilities_of(channel).max_text_length > 0``: never on a call);
4. the trigger is the after-hours notice, or the consumer's place in the queue is at least the
   center's ``min_queue_position``;
5. the ticket has not had one yet (``knowledge_self_help_sent``, one row per ticket);
6. at least one reviewed entry (``fields.reviewed`` true, the center's own or shared) matches a word of
   what the consumer wrote.

The answer goes through the outbox as an automatic answer, so it shows on the ticket's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from crm.messaging import capabilities_of
from crm.models import Center, Ticket, TicketStatus, utcnow
from crm.services import post_automatic_reply
from knowledge import semantic
from knowledge.models import SelfHelpSent, SelfHelpSetting
from knowledge.service import SearchResult, search, ticket_text

MAX_ENTRIES = 3
EXCERPT_CHARS = 300
KINDS = ("faq", "reference")

HEADER = {
    "ja": "【一般的な情報です】相談員からの回答ではありません。順番はそのままですので、このままお待ちください。"
    "お待ちの間、よくあるご質問から参考になりそうなものをお送りします。",
    "en": "[General information] This is not an answer from a counselor. Your place in the queue is kept; "
    "while you wait, here are frequently asked questions that may help.",
}


def set_self_help(session: Session, *, center_id: int, enabled: bool, min_queue_position: int = 3) -> None:
    """Turn self-help on or off for a center (ValueError naming the field on a bad value)."""
    if session.get(Center, center_id) is None:
        raise ValueError(f"center {center_id} does not exist")
    if not 1 <= min_queue_position <= 1000:
        raise ValueError(f"min_queue_position must be between 1 and 1000, not {min_queue_position}")
    row = session.get(SelfHelpSetting, center_id) or SelfHelpSetting(center_id=center_id)
    row.enabled, row.min_queue_position, row.updated_at = enabled, min_queue_position, utcnow()
    session.add(row)


def queue_position(session: Session, ticket: Ticket) -> int:
    """1 for the first queued ticket of the center, 2 for the next..."""
    if ticket.queued_at is None:
        return 0
    ahead = session.exec(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.center_id == ticket.center_id,
            Ticket.status == TicketStatus.QUEUED,
            (col(Ticket.queued_at) < ticket.queued_at)
            | ((col(Ticket.queued_at) == ticket.queued_at) & (col(Ticket.id) < ticket.id)),
        )
    ).one()
    return int(ahead) + 1


def trigger_of(session: Session, ticket: Ticket, kind: str, setting: SelfHelpSetting) -> str | None:
    """``after_hours`` / ``long_queue`` when this routing event should offer self-help, else None."""
    if kind == "after_hours":
        return "after_hours"
    if kind == "queued" and queue_position(session, ticket) >= setting.min_queue_position:
        return "long_queue"
    return None


def reviewed_entries(
    session: Session, ticket: Ticket, embedder: semantic.Embedder | None
) -> list[SearchResult]:
    """The most relevant reviewed FAQ / reference entries for what the consumer wrote (at most 3)."""
    results = search(
        session,
        query=ticket_text(session, ticket),
        k=MAX_ENTRIES * 4,
        kinds=KINDS,
        viewer_center_id=ticket.center_id,
        embedder=embedder,
    )
    usable = [
        r
        for r in results
        if r.matched_terms and r.fields.get("reviewed") is True and r.center_id in (None, ticket.center_id)
    ]
    return usable[:MAX_ENTRIES]


def compose(entries: Sequence[SearchResult], bodies: dict[str, str], language: str, limit: int) -> str:
    """The message: the general-information header, then each entry's title and an excerpt, kept
    within ``limit`` UTF-16 code units (LINE counts text that way); entries that do not fit are left out."""
    text = HEADER.get(language, HEADER["en"])
    for n, e in enumerate(entries, start=1):
        body = " ".join(bodies.get(e.id, "").split())
        excerpt = body if len(body) <= EXCERPT_CHARS else body[: EXCERPT_CHARS - 1] + "…"
        block = f"\n\n{n}. {e.title}\n{excerpt}".rstrip()
        if utf16_len(text + block) > limit:
            break
        text += block
    return text[:limit] if utf16_len(text) > limit else text


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def offer_self_help(
    session: Session, *, ticket_id: int, event_kind: str, embedder: semantic.Embedder | None = None
) -> int | None:
    """Send self-help to a waiting consumer if every guard above holds; the message id, else None.

    The caller commits (the message, its outbox row and the once-per-ticket row go together)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    setting = session.get(SelfHelpSetting, ticket.center_id)
    limit = capabilities_of(ticket.channel).max_text_length
    if setting is None or not setting.enabled or ticket.status != TicketStatus.QUEUED or limit <= 0:
        return None
    reason = trigger_of(session, ticket, event_kind, setting)
    if reason is None or session.get(SelfHelpSent, ticket_id) is not None:
        return None
    entries = reviewed_entries(session, ticket, embedder)
    if not entries:
        return None
    return _send(session, ticket, reason, entries, limit)


def _send(
    session: Session, ticket: Ticket, reason: str, entries: list[SearchResult], limit: int
) -> int | None:
    from knowledge.models import KnowledgeDocument

    docs = {e.id: session.get(KnowledgeDocument, e.id) for e in entries}
    bodies = {doc_id: doc.body if doc is not None else "" for doc_id, doc in docs.items()}
    text = compose(entries, bodies, ticket.language or "ja", limit)
    try:
        with session.begin_nested():  # a concurrent job got there first: the primary key says so
            sent = SelfHelpSent(ticket_id=ticket.id, reason=reason, doc_ids=[e.id for e in entries])  # type: ignore[arg-type]
            session.add(sent)
            session.flush()
    except IntegrityError:
        return None
    message = post_automatic_reply(session, ticket=ticket, body=text, commit=False)
    if message is None:  # the consumer cannot be reached (blocked the account): nothing was sent
        session.delete(sent)
        return None
    sent.message_id = message.id
    session.add(sent)
    return message.id


def self_help_job(event: dict[str, Any]) -> None:
    """RoutingEvent handler: after-hours or queued tickets may get self-help (bootstrap wires it)."""
    kind, ticket_id = event.get("kind"), event.get("ticket_id")
    if kind not in ("after_hours", "queued") or ticket_id is None:
        return
    from config.runtime import get_runtime
    from crm.db import session_scope
    from knowledge.wiring import embedder_of

    runtime = get_runtime()
    with session_scope(runtime.engine) as session:
        offer_self_help(
            session, ticket_id=int(ticket_id), event_kind=str(kind), embedder=embedder_of(runtime)
        )
