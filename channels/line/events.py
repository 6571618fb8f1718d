"""LINE webhook events as our own frozen dataclasses (pure translation, no I/O).

``parse_event`` turns one event dict of a webhook body into LINE's own items, and :func:`normalize`
turns those into the channel-neutral items crm applies (``Follow`` → ``Followed``, a consent
postback → ``ConsentGiven``, ``Unsend`` → ``MessageRetracted``, ...). ``parse_event`` gives:

* :class:`channels.base.InboundMessage` for ``message`` events (text, image, video, audio, file,
  location, sticker); media carry an :class:`~channels.base.Attachment` whose ``external_ref`` is the
  LINE message id to download from the blob API;
* one of the small dataclasses below for everything else. Every subclass of :class:`LineEvent` carries
  the envelope: ``event_id`` (webhookEventId), ``at``, ``user_id``, the chat it came from and the
  reply token.

=================  ===========================================================
``Follow``         friend added or unblocked: create the contact, greet
``Unfollow``       blocked: the contact is unreachable
``Postback``       a button answer; ``data`` is the raw postback string
``Unsend``         the consumer took back message ``message_id``
``MessageEdited``  the consumer edited a message; ``message`` is the new version
``Join``/``Leave`` our account was added to / removed from a group or room
``Ignored``        a type we deliberately do not handle (or cannot read), with the reason
=================  ===========================================================
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import parse_qs

from linebot.v3.webhooks import (
    AudioMessageContent,
    Event,
    FileMessageContent,
    FollowEvent,
    GroupSource,
    ImageMessageContent,
    JoinEvent,
    LeaveEvent,
    LocationMessageContent,
    MessageEditedEvent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    UnsendEvent,
    UserSource,
    VideoMessageContent,
)

from channels.base import (
    Attachment,
    ChannelKind,
    ConsentGiven,
    Followed,
    GroupInvitation,
    InboundItem,
    InboundMessage,
    MessageRetracted,
    OptedOut,
    RatingGiven,
)
from channels.base import Ignored as NothingToDo
from channels.base import MessageEdited as Edited

log = logging.getLogger(__name__)


class _ActionEnvelope(TypedDict):
    """The :class:`channels.base.InboundAction` fields :func:`normalize` copies from a LINE event."""

    channel: ChannelKind
    sender: str | None
    at: datetime
    event_id: str


@dataclass(frozen=True)
class LineEvent:
    """Envelope shared by our non-message LINE events."""

    event_id: str
    at: datetime
    user_id: str | None
    source_type: str  # user | group | room | unknown
    chat_id: str | None  # groupId / roomId for group chats, else None
    reply_token: str | None
    redelivery: bool


@dataclass(frozen=True)
class Follow(LineEvent):
    unblocked: bool = False


@dataclass(frozen=True)
class Unfollow(LineEvent):
    pass


@dataclass(frozen=True)
class Postback(LineEvent):
    data: str = ""
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Unsend(LineEvent):
    message_id: str = ""


@dataclass(frozen=True)
class MessageEdited(LineEvent):
    message: InboundMessage | None = None


@dataclass(frozen=True)
class Join(LineEvent):
    pass


@dataclass(frozen=True)
class Leave(LineEvent):
    pass


@dataclass(frozen=True)
class Ignored(LineEvent):
    event_type: str = "unknown"
    reason: str = ""


LineItem = InboundMessage | LineEvent


def sender_of(event: dict[str, Any]) -> str:
    """Who an event belongs to, for per-sender ordering: the userId, else the group or room id."""
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    for key in ("userId", "groupId", "roomId"):
        value = source.get(key) if isinstance(source, dict) else None
        if isinstance(value, str) and value:
            return value[:255]
    return "unknown"


def parse_event(raw: dict[str, Any]) -> LineItem:
    """Translate one webhook event dict; anything unreadable becomes :class:`Ignored`, never an error."""
    try:
        event = Event.from_dict(raw)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # pydantic.v1 errors are ValueErrors
        event_type = str(raw.get("type", "unknown"))[:40] if isinstance(raw, dict) else "unknown"
        reason = "unknown event type" if "discriminator" in str(exc) else f"unreadable event: {exc}"[:300]
        return Ignored(**_envelope_from_dict(raw), event_type=event_type, reason=reason)
    env = _envelope(event)
    if isinstance(event, MessageEvent):
        return message_from(event.message, raw.get("message", {}), env)
    if isinstance(event, MessageEditedEvent):
        return MessageEdited(**env, message=message_from(event.message, raw.get("message", {}), env))
    if isinstance(event, FollowEvent):
        return Follow(**env, unblocked=bool(event.follow.is_unblocked))
    if isinstance(event, UnfollowEvent):
        return Unfollow(**env)
    if isinstance(event, PostbackEvent):
        params = tuple(sorted((str(k), str(v)) for k, v in (event.postback.params or {}).items()))
        return Postback(**env, data=event.postback.data, params=params)
    if isinstance(event, UnsendEvent):
        return Unsend(**env, message_id=event.unsend.message_id)
    if isinstance(event, JoinEvent):
        return Join(**env)
    if isinstance(event, LeaveEvent):
        return Leave(**env)
    return Ignored(**env, event_type=event.type, reason="event type not used by a consultation desk")


def _envelope(event: Event) -> dict[str, Any]:
    source = event.source
    user_id = getattr(source, "user_id", None)
    chat_id = None
    source_type = "unknown"
    if isinstance(source, UserSource):
        source_type = "user"
    elif isinstance(source, GroupSource):
        source_type, chat_id = "group", source.group_id
    elif isinstance(source, RoomSource):
        source_type, chat_id = "room", source.room_id
    return {
        "event_id": event.webhook_event_id,
        "at": _event_time(event.timestamp),
        "user_id": user_id,
        "source_type": source_type,
        "chat_id": chat_id,
        "reply_token": getattr(event, "reply_token", None),
        "redelivery": bool(event.delivery_context.is_redelivery),
    }


def _event_time(ts: Any) -> datetime:
    """LINE's millisecond timestamp; now when it is missing or outside what a datetime can hold."""
    if isinstance(ts, int) and not isinstance(ts, bool):
        try:
            return datetime.fromtimestamp(ts / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return datetime.now(UTC)


def _envelope_from_dict(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    ts = raw.get("timestamp")
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    context = raw.get("deliveryContext") if isinstance(raw.get("deliveryContext"), dict) else {}
    return {
        "event_id": str(raw.get("webhookEventId", "")),
        "at": _event_time(ts),
        "user_id": source.get("userId") if isinstance(source.get("userId"), str) else None,
        "source_type": str(source.get("type", "unknown")),
        "chat_id": source.get("groupId") or source.get("roomId"),
        "reply_token": raw.get("replyToken") if isinstance(raw.get("replyToken"), str) else None,
        "redelivery": bool(context.get("isRedelivery", False)),
    }


def message_from(content: Any, raw_message: dict[str, Any], env: dict[str, Any]) -> InboundMessage:
    """An :class:`InboundMessage` for one LINE message content object."""
    meta: dict[str, Any] = {
        "line_event_id": env["event_id"],
        "source_type": env["source_type"],
        "redelivery": env["redelivery"],
    }
    if env["chat_id"]:
        meta["chat_id"] = env["chat_id"]
    for key in ("quoteToken", "quotedMessageId", "markAsReadToken"):
        if isinstance(raw_message.get(key), str):
            meta[key] = raw_message[key]
    text, kind, attachments = _describe(content, raw_message, meta)
    return InboundMessage(
        channel=ChannelKind.LINE,
        external_id=content.id,
        sender=env["user_id"] or env["chat_id"] or "unknown",
        text=text,
        at=env["at"],
        attachments=attachments,
        kind=kind,
        one_to_one=env["source_type"] == "user",
        metadata=meta,
    )


def _describe(
    content: Any, raw_message: dict[str, Any], meta: dict[str, Any]
) -> tuple[str, str, tuple[Attachment, ...]]:
    if isinstance(content, TextMessageContent):
        if raw_message.get("emojis"):
            meta["emojis"] = raw_message["emojis"]
        if raw_message.get("mention"):
            meta["mention"] = raw_message["mention"]
        return content.text, "text", ()
    if isinstance(content, ImageMessageContent | VideoMessageContent | AudioMessageContent):
        kind = content.type
        label = {"image": "画像 image", "video": "動画 video", "audio": "音声 audio"}[kind]
        provider = content.content_provider
        if provider.type == "external":
            meta["external_url"] = provider.original_content_url
            return f"[{label}: hosted outside LINE at {provider.original_content_url}]", kind, ()
        ext = {"image": "jpg", "video": "mp4", "audio": "m4a"}[kind]
        duration = getattr(content, "duration", None)
        if duration:
            meta["duration_ms"] = duration
        att = Attachment(
            filename=f"line-{kind}-{content.id}.{ext}", content_type=_MIME[ext], external_ref=content.id
        )
        return f"[{label}]", kind, (att,)
    if isinstance(content, FileMessageContent):
        name = safe_filename(content.file_name, fallback=f"line-file-{content.id}")
        meta["declared_size"] = content.file_size
        att = Attachment(
            filename=name,
            content_type="application/octet-stream",
            size=content.file_size,
            external_ref=content.id,
        )
        return f"[ファイル file: {name} ({content.file_size:,} bytes)]", "file", (att,)
    if isinstance(content, LocationMessageContent):
        meta["latitude"], meta["longitude"] = content.latitude, content.longitude
        where = " ".join(p for p in (content.title, content.address) if p)
        return (
            f"[位置情報 location: {where} ({content.latitude}, {content.longitude})]".replace(":  (", ": ("),
            "location",
            (),
        )
    if isinstance(content, StickerMessageContent):
        meta["sticker"] = {"packageId": content.package_id, "stickerId": content.sticker_id}
        words = ", ".join(content.keywords or [])
        extra = f" “{content.text}”" if content.text else ""
        return f"[スタンプ sticker{': ' + words if words else ''}]{extra}", "sticker", ()
    kind = str(getattr(content, "type", "unknown"))
    return f"[unsupported LINE message type: {kind}]", "unknown", ()


_MIME = {"jpg": "image/jpeg", "mp4": "video/mp4", "m4a": "audio/x-m4a"}
_FORBIDDEN = set('/\\:*?"<>|')


def safe_filename(name: str | None, *, fallback: str, max_length: int = 150) -> str:
    """A file name safe to store and show: NFKC, no paths, no control characters, bounded length."""
    text = unicodedata.normalize("NFKC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = (
        "".join("_" if ch in _FORBIDDEN else ch for ch in text if unicodedata.category(ch)[0] != "C")
        .strip()
        .lstrip(".")
    )
    if not cleaned:
        return fallback
    if len(cleaned) > max_length:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext[:16] if dot and len(ext) <= 16 else ""
        cleaned = (stem if ext else cleaned)[: max_length - len(ext) - 1] + ("." + ext if ext else "")
    return cleaned


def normalize(item: LineItem) -> InboundItem:
    """The channel-neutral item for one parsed LINE event (what crm applies)."""
    if isinstance(item, InboundMessage):
        return item
    line, user = ChannelKind.LINE, item.user_id
    env: _ActionEnvelope = {"channel": line, "sender": user, "at": item.at, "event_id": item.event_id}
    if isinstance(item, MessageEdited):
        return Edited(**env, message=item.message)
    if isinstance(item, Follow):
        return Followed(**env, unblocked=item.unblocked)
    if isinstance(item, Unfollow):
        return OptedOut(**env)
    if isinstance(item, Postback):
        return _postback(item, env)
    if isinstance(item, Unsend):
        return MessageRetracted(**env, external_id=item.message_id)
    if isinstance(item, Join):
        return GroupInvitation(**env, chat_id=item.chat_id or "", chat_type=item.source_type)
    if isinstance(item, Leave):
        return NothingToDo(**env, reason=f"removed from {item.source_type} {item.chat_id}")
    if isinstance(item, Ignored):
        return NothingToDo(**env, reason=f"{item.event_type}: {item.reason}")
    return NothingToDo(**env, reason=f"unhandled LINE item {type(item).__name__}")


def _postback(item: Postback, env: _ActionEnvelope) -> InboundItem:
    """Consent answers (``consent=yes|no``) and satisfaction ratings (``rating=1..5``)."""
    if not item.user_id:
        return NothingToDo(**env, reason="postback without a userId")
    data = {k: v[0] for k, v in parse_qs(item.data, keep_blank_values=True).items()}
    if data.get("consent") in ("yes", "no"):
        return ConsentGiven(**env, agreed=data["consent"] == "yes")
    if data.get("rating", "") in ("1", "2", "3", "4", "5"):
        return RatingGiven(**env, rating=int(data["rating"]))
    return NothingToDo(**env, reason=f"postback data not understood: {item.data[:100]!r}")
