"""What each LINE event does to the consultation record (called by the per-sender job).

:func:`handle` dispatches one parsed event to its handler: message events in
:mod:`channels.line.message_handlers`, follow/unfollow/postback/unsend/edited/join/leave in
:mod:`channels.line.lifecycle_handlers`. Each returns an :class:`Outcome` (status, reason, vendor
calls to make after the commit; see :mod:`channels.line.handler_support`).
"""

from __future__ import annotations

from sqlmodel import Session

from channels.base import InboundMessage
from channels.line.events import (
    Follow,
    Ignored,
    Join,
    Leave,
    LineItem,
    MessageEdited,
    Postback,
    Unfollow,
    Unsend,
)
from channels.line.handler_support import RETRACTED_BODY, Context, Outcome
from channels.line.lifecycle_handlers import (
    on_edited,
    on_follow,
    on_join,
    on_postback,
    on_unfollow,
    on_unsend,
)
from channels.line.message_handlers import on_message
from crm.models import InboundEventStatus

__all__ = ["RETRACTED_BODY", "Context", "Outcome", "handle"]


def handle(session: Session, ctx: Context, item: LineItem) -> Outcome:
    """Apply one parsed event; unknown or unwanted events come back IGNORED with a reason."""
    if isinstance(item, InboundMessage):
        return on_message(session, ctx, item)
    if isinstance(item, MessageEdited):
        return on_edited(session, ctx, item)
    if isinstance(item, Follow):
        return on_follow(session, ctx, item)
    if isinstance(item, Unfollow):
        return on_unfollow(session, item)
    if isinstance(item, Postback):
        return on_postback(session, ctx, item)
    if isinstance(item, Unsend):
        return on_unsend(session, item)
    if isinstance(item, Join):
        return on_join(ctx, item)
    if isinstance(item, Leave):
        return Outcome(InboundEventStatus.IGNORED, f"removed from {item.source_type} {item.chat_id}")
    if isinstance(item, Ignored):
        return Outcome(InboundEventStatus.IGNORED, f"{item.event_type}: {item.reason}")
    return Outcome(InboundEventStatus.IGNORED, f"unhandled item {type(item).__name__}")
