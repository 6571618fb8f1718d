"""Handling of LINE ``message`` events: record the consultation message, then the follow-ups.

A new message goes through :func:`crm.intake.record_inbound` (idempotent on the LINE message id);
after the commit: attachment downloads, the profile fetch (once) and the loading animation while
the consumer waits for a counselor.
"""

from __future__ import annotations

from sqlmodel import Session, select

from channels.base import InboundMessage
from channels.line.handler_support import (
    LOADING_MAX_AGE,
    WAITING_FOR_COUNSELOR,
    Context,
    Outcome,
    adapter_of,
    age_of,
    best_effort,
    enqueue_download,
    maybe_fetch_profile,
    retract,
    unsent_before,
)
from crm.intake import record_inbound
from crm.models import Attachment, InboundEventStatus, Message, Ticket


def on_message(session: Session, ctx: Context, msg: InboundMessage) -> Outcome:
    """Record a consumer's message (1:1 chats only; group chats are refused)."""
    if msg.metadata.get("source_type") != "user":
        return Outcome(InboundEventStatus.IGNORED, "message in a group chat: group consultations are refused")
    result = record_inbound(session, msg, center_id=ctx.center.id)  # type: ignore[arg-type]
    if result.duplicate:
        return Outcome(reason="message already recorded")
    out = Outcome()
    message = session.get(Message, result.message_id)
    assert message is not None
    if unsent_before(session, msg.external_id):
        retract(session, message)
    pending = session.exec(
        select(Attachment.id).where(Attachment.message_id == message.id, Attachment.status == "pending")
    ).all()
    for att_id in pending:
        out.after_commit.append(enqueue_download(ctx, att_id))  # type: ignore[arg-type]
    maybe_fetch_profile(session, ctx, msg.sender, out)
    ticket = session.get(Ticket, result.ticket_id)
    if ticket is not None and ticket.status in WAITING_FOR_COUNSELOR and age_of(msg.at) < LOADING_MAX_AGE:
        out.after_commit.append(
            lambda: best_effort(lambda: adapter_of(ctx).show_loading(msg.sender, 60), "loading animation")
        )
    return out
