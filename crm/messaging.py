"""What every channel speaks with crm, whatever the vendor: one ``ChannelKind`` list, the normalized
inbound items an adapter's ``parse()`` returns, the outbound message, and the channel error tree.

This module imports nothing from the project, so crm, channels and routing can all depend on it
(``channels.base`` re-exports it next to the adapter Protocol).

Inbound items (what crm applies, see :mod:`crm.inbound`)::

    InboundMessage      a consumer's message (text, media, location, ...)
    MessageEdited       the consumer edited message ``external_id``; ``message`` is the new version
    MessageRetracted    the consumer took message ``external_id`` back (送信取消)
    Followed            the consumer added (or unblocked) the account: greet them
    OptedOut            the consumer blocked / unsubscribed: they can no longer be reached
    ConsentGiven        the consumer answered the consent question (``agreed``)
    RatingGiven         a satisfaction rating (1-5)
    CallUpdate          a phone call's progress (status callback, abandon, callback request)
    GroupInvitation     the account was added to a group chat: refuse and leave
    DeliveryUpdate      the vendor's word on a message we sent
    Ignored             nothing to do, with the reason

Exception tree (vendor SDK errors are translated with ``raise ... from exc``)::

    ChannelError
    ├── InvalidSignature            the request is not from the vendor (HTTP 401, nothing stored)
    ├── MalformedPayload            signed but unreadable (HTTP 400)
    ├── ChannelTemporaryError       worth retrying with backoff
    │   ├── RateLimited             vendor said 429
    │   └── ChannelTimeout          network timeout / 5xx
    └── ChannelPermanentError       retrying will not help; shown to the counselor
        ├── InvalidRecipient        blocked, unfollowed, unknown user
        └── AuthFailed              our credentials are wrong
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    """The one list of channels (accounts, identities, tickets, capacities use these values)."""

    LINE = "line"
    EMAIL = "email"
    VOICE = "voice"
    WEB = "web"


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do; read these instead of ``if channel == "voice"``.

    ``realtime``: the consumer is waiting on the line (short offer timeout); ``exclusive``: handling
    one blocks every other conversation of the counselor (a call); ``reply_window``: how long a free
    answer to the consumer's last message stays possible (None: no such notion).
    """

    max_text_length: int = 100_000
    reply_window: timedelta | None = None
    realtime: bool = False
    exclusive: bool = False


DEFAULT_CAPABILITIES: Mapping[str, Capabilities] = {
    ChannelKind.LINE: Capabilities(max_text_length=5_000, reply_window=timedelta(minutes=1)),
    ChannelKind.EMAIL: Capabilities(),
    ChannelKind.VOICE: Capabilities(max_text_length=0, realtime=True, exclusive=True),
    ChannelKind.WEB: Capabilities(),
}


def capabilities_of(channel: str) -> Capabilities:
    """The capabilities of a channel kind (unknown kinds: a plain asynchronous text channel)."""
    return DEFAULT_CAPABILITIES.get(channel, Capabilities())


@dataclass(frozen=True)
class RawEvent:
    """One verified vendor event, as stored before any processing.

    ``event_id`` is the vendor's id (stored whole, or as a hash of the whole id when longer than
    128 characters: never cut); ``sender`` orders processing (one consumer's events oldest first by
    ``occurred_at_ms``); ``raw`` is JSON text.
    """

    event_id: str
    sender: str
    occurred_at_ms: int
    raw: str


@dataclass(frozen=True)
class Attachment:
    """A file that came with (or goes with) a message. ``content`` is loaded lazily by jobs."""

    filename: str
    content_type: str
    size: int = 0
    external_ref: str | None = None  # e.g. a LINE message id to download from the blob API
    content: bytes | None = None  # the bytes, when the message carried them (mail)
    sha256: str | None = None  # set with storage_path once a channel job has stored the content
    storage_path: str | None = None  # relative to the data directory


@dataclass(frozen=True)
class InboundMessage:
    """One consumer message, normalized. ``text`` keeps the original; search normalizes it later."""

    channel: ChannelKind
    external_id: str  # unique per channel: LINE message id, email Message-ID, call SID
    sender: str  # the consumer's id on that channel: LINE userId, email address, phone number
    text: str
    at: datetime
    center_code: str | None = None  # when the channel already knows the center (188 postal routing)
    attachments: tuple[Attachment, ...] = ()
    sender_display_name: str | None = None
    language: str | None = None
    kind: str = "text"  # text | image | video | audio | file | location | sticker | call
    one_to_one: bool = True  # False: a group chat (consultations are 1:1 only)
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundAction:
    """Envelope of the non-message items: who, when, and the vendor's event id."""

    channel: ChannelKind
    sender: str | None
    at: datetime
    event_id: str = ""


@dataclass(frozen=True)
class MessageEdited(InboundAction):
    message: InboundMessage | None = None


@dataclass(frozen=True)
class MessageRetracted(InboundAction):
    external_id: str = ""


@dataclass(frozen=True)
class Followed(InboundAction):
    unblocked: bool = False


@dataclass(frozen=True)
class OptedOut(InboundAction):
    pass


@dataclass(frozen=True)
class ConsentGiven(InboundAction):
    agreed: bool = False


@dataclass(frozen=True)
class RatingGiven(InboundAction):
    rating: int = 0


@dataclass(frozen=True)
class GroupInvitation(InboundAction):
    chat_id: str = ""
    chat_type: str = "group"


@dataclass(frozen=True)
class Ignored(InboundAction):
    reason: str = ""


@dataclass(frozen=True)
class CallUpdate(InboundAction):
    """A phone call's progress (status callback, queue exit, callback request) for its ticket's timeline.

    ``status``: ringing | answered | completed | busy | no-answer | failed | canceled | abandoned |
    callback | connected; durations in seconds when the vendor gave them.
    """

    call_id: str = ""
    status: str = ""
    duration_seconds: int | None = None
    queue_seconds: int | None = None
    note: str = ""


@dataclass(frozen=True)
class DeliveryUpdate:
    """A vendor's word on an outbound message we sent earlier (delivered, failed, read)."""

    channel: ChannelKind
    external_id: str
    status: str  # sent | delivered | failed | read
    at: datetime
    error: str | None = None


InboundItem = InboundMessage | InboundAction | DeliveryUpdate


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send. ``retry_key`` makes a retried send idempotent at the vendor when supported.

    ``automatic``: an answer the system sends by itself (greeting, consent receipt, after-hours);
    ``attempt``: 1 for the first try (an adapter may use a one-shot free reply only then).
    """

    channel: ChannelKind
    recipient: str
    text: str
    retry_key: str
    automatic: bool = False
    attempt: int = 1
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    external_ids: tuple[str, ...] = ()
    parts: int = 1


@dataclass(frozen=True)
class Profile:
    """What a channel tells about a consumer (kept on the identity, never on the case record)."""

    user_id: str
    display_name: str | None
    language: str | None


class ChannelError(Exception):
    """Base of every channel failure."""


class InvalidSignature(ChannelError):
    pass


class MalformedPayload(ChannelError):
    pass


class ChannelTemporaryError(ChannelError):
    pass


class RateLimited(ChannelTemporaryError):
    pass


class ChannelTimeout(ChannelTemporaryError):
    pass


class ChannelPermanentError(ChannelError):
    pass


class InvalidRecipient(ChannelPermanentError):
    pass


class AuthFailed(ChannelPermanentError):
    pass


def strip_nul(text: str) -> str:
    """Text without NUL characters (PostgreSQL text cannot hold U+0000; we store U+FFFD instead)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
