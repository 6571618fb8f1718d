"""What every channel adapter speaks, whatever the vendor.

An adapter translates and nothing else (like an httpx transport): it verifies a webhook, parses the
raw body into our dataclasses, and sends an :class:`OutboundMessage`. It never touches the database
and never routes.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class ChannelKind(StrEnum):
    LINE = "line"
    EMAIL = "email"
    VOICE = "voice"
    WEB = "web"


@dataclass(frozen=True)
class Attachment:
    """A file that came with (or goes with) a message. ``content`` is loaded lazily by jobs."""

    filename: str
    content_type: str
    size: int = 0
    external_ref: str | None = None  # e.g. a LINE message id to download from the blob API
    content: bytes | None = None


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
    reply_token: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryUpdate:
    """A vendor's word on an outbound message we sent earlier (delivered, failed, read)."""

    channel: ChannelKind
    external_id: str
    status: str  # sent | delivered | failed | read
    at: datetime
    error: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send. ``retry_key`` makes a retried send idempotent at the vendor when supported."""

    channel: ChannelKind
    recipient: str
    text: str
    retry_key: str
    reply_token: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    external_ids: tuple[str, ...] = ()
    parts: int = 1


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


@runtime_checkable
class ChannelAdapter(Protocol):
    """One core method per direction, plus capabilities instead of ``if kind == ...``."""

    kind: ChannelKind
    max_text_length: int
    reply_window: timedelta | None

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None: ...

    def parse(self, raw_body: bytes) -> Sequence[object]: ...

    def send(self, msg: OutboundMessage) -> SendResult: ...
