"""Handling of the other LINE events: follow, unfollow, postback, unsend, messageEdited, join/leave.

Follow creates the contact and greets; unfollow marks it unreachable (open tickets get a note);
postbacks carry consent answers and satisfaction ratings; unsend retracts a message (or remembers
the retraction when it overtook its message); edits keep the previous body in the audit log; a
group join is refused politely and the group left.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from sqlmodel import Session, col, select

from channels.line import messages as texts
from channels.line.events import Follow, Join, MessageEdited, Postback, Unfollow, Unsend
from channels.line.handler_support import (
    CHANNEL,
    Context,
    Outcome,
    adapter_of,
    auto_answer,
    best_effort,
    identity_of,
    line_message,
    maybe_fetch_profile,
    open_tickets,
    retract,
    system_note,
)
from channels.line.message_handlers import on_message
from crm.audit import write_audit
from crm.intake import ensure_identity
from crm.models import ContactPersonalData, InboundEventStatus, Ticket, utcnow


def on_edited(session: Session, ctx: Context, item: MessageEdited) -> Outcome:
    assert item.message is not None
    message = line_message(session, item.message.external_id)
    if message is None:
        return on_message(session, ctx, item.message)
    write_audit(
        session,
        actor_id=None,
        action="message.edited_by_consumer",
        object_type="message",
        object_id=message.id or 0,
        detail={"previous_body": message.body, "line_event_id": item.event_id},
    )
    message.body = item.message.text
    message.meta = {**message.meta, "edited_at": item.at.isoformat()}
    session.add(message)
    return Outcome()


def on_follow(session: Session, ctx: Context, item: Follow) -> Outcome:
    if not item.user_id:
        return Outcome(InboundEventStatus.IGNORED, "follow without a userId")
    identity = ensure_identity(session, channel=CHANNEL, external_id=item.user_id)
    identity.reachable = True
    session.add(identity)
    out = Outcome()
    greeting = texts.greeting(ctx.center.name, ctx.center.hours)
    out.after_commit.append(lambda: auto_answer(ctx, item, greeting))
    maybe_fetch_profile(session, ctx, item.user_id, out)
    return out


def on_unfollow(session: Session, item: Unfollow) -> Outcome:
    identity = identity_of(session, item.user_id)
    if identity is None:
        return Outcome(reason="unfollow from a user we never heard from")
    identity.reachable = False
    session.add(identity)
    for ticket in open_tickets(session, identity.contact_id):
        system_note(
            session,
            ticket,
            "The consumer blocked or removed the LINE account (unfollow, ブロック): replies can no longer be "
            "delivered on LINE. Contact them another way or record the case and close it.",
        )
    return Outcome()


def on_postback(session: Session, ctx: Context, item: Postback) -> Outcome:
    if not item.user_id:
        return Outcome(InboundEventStatus.IGNORED, "postback without a userId")
    data = {k: v[0] for k, v in parse_qs(item.data, keep_blank_values=True).items()}
    identity = ensure_identity(session, channel=CHANNEL, external_id=item.user_id)
    out = Outcome()
    if data.get("consent") in ("yes", "no"):
        agreed = data["consent"] == "yes"
        personal = session.get(ContactPersonalData, identity.contact_id) or ContactPersonalData(
            contact_id=identity.contact_id
        )
        personal.consent_to_share = agreed
        personal.consent_recorded_at = utcnow()
        session.add(personal)
        for ticket in open_tickets(session, identity.contact_id):
            system_note(
                session,
                ticket,
                f"The consumer answered the consent question on LINE: {'agrees' if agreed else 'does not agree'} to share (情報提供への同意: {'あり' if agreed else 'なし'}).",
            )
        out.after_commit.append(lambda: auto_answer(ctx, item, texts.CONSENT_RECORDED[agreed], push=False))
        return out
    rating = data.get("rating", "")
    if rating in ("1", "2", "3", "4", "5"):
        latest = session.exec(
            select(Ticket)
            .where(Ticket.contact_id == identity.contact_id)
            .order_by(col(Ticket.created_at).desc())
        ).first()
        if latest is None:
            return Outcome(InboundEventStatus.IGNORED, "rating from a consumer without any ticket")
        system_note(session, latest, f"Satisfaction rating from the consumer (満足度): {rating}/5")
        out.after_commit.append(lambda: auto_answer(ctx, item, texts.RATING_THANKS, push=False))
        return out
    return Outcome(InboundEventStatus.IGNORED, f"postback data not understood: {item.data[:100]!r}")


def on_unsend(session: Session, item: Unsend) -> Outcome:
    message = line_message(session, item.message_id)
    if message is None:
        # The unsend overtook its message (out of order): remember it so intake retracts on arrival.
        write_audit(
            session,
            actor_id=None,
            action="line.unsend_pending",
            object_type="line_message",
            object_id=item.message_id,
        )
        return Outcome(reason="message not received yet; it will be retracted on arrival")
    retract(session, message)
    return Outcome()


def on_join(ctx: Context, item: Join) -> Outcome:
    out = Outcome(InboundEventStatus.PROCESSED, f"added to {item.source_type}: refused and left")
    refusal = texts.group_refusal(ctx.center.name)

    def refuse_and_leave() -> None:
        if item.reply_token:
            best_effort(lambda: adapter_of(ctx).reply(item.reply_token, [refusal]), "group refusal")  # type: ignore[arg-type]
        if item.chat_id:
            best_effort(
                lambda: adapter_of(ctx).leave_chat(item.source_type, item.chat_id), "leaving the group"
            )  # type: ignore[arg-type]

    out.after_commit.append(refuse_and_leave)
    return out
