"""The channel adapter Protocol, next to the channel-neutral dataclasses it speaks.

The dataclasses and the error tree live in :mod:`crm.messaging` (crm applies what adapters parse,
so they belong to the lower layer) and are re-exported here. An adapter translates and nothing
else, like an httpx transport: it verifies a webhook, splits a verified body into raw events to
store, parses one stored raw event into our dataclasses (pure), and sends an
:class:`OutboundMessage`. It never touches the database and never routes. A test double ships next
to it: :class:`channels.fake.FakeAdapter`.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from crm.messaging import (
    Attachment,
    AuthFailed,
    Capabilities,
    ChannelError,
    ChannelKind,
    ChannelPermanentError,
    ChannelTemporaryError,
    ChannelTimeout,
    ConsentGiven,
    DeliveryUpdate,
    Followed,
    GroupInvitation,
    Ignored,
    InboundAction,
    InboundItem,
    InboundMessage,
    InvalidRecipient,
    InvalidSignature,
    MalformedPayload,
    MessageEdited,
    MessageRetracted,
    OptedOut,
    OutboundMessage,
    Profile,
    RateLimited,
    RatingGiven,
    RawEvent,
    SendResult,
    capabilities_of,
)

__all__ = [
    "Attachment",
    "AuthFailed",
    "Capabilities",
    "ChannelAdapter",
    "ChannelError",
    "ChannelKind",
    "ChannelPermanentError",
    "ChannelTemporaryError",
    "ChannelTimeout",
    "ConsentGiven",
    "ContentTooLarge",
    "DeliveryUpdate",
    "Followed",
    "GroupInvitation",
    "Ignored",
    "InboundAction",
    "InboundItem",
    "InboundMessage",
    "InvalidRecipient",
    "InvalidSignature",
    "MalformedPayload",
    "MessageEdited",
    "MessageRetracted",
    "OptedOut",
    "OutboundMessage",
    "Profile",
    "RateLimited",
    "RatingGiven",
    "RawEvent",
    "SendResult",
    "StoredContent",
    "capabilities_of",
]


@dataclass(frozen=True)
class StoredContent:
    """An attachment's content, stored content-addressed under the data directory."""

    sha256: str
    size: int
    storage_path: str  # relative to data_dir
    content_type: str


class ContentTooLarge(Exception):
    """The content is larger than the configured limit; nothing was kept."""

    def __init__(self, size_seen: int, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit:,} bytes (got at least {size_seen:,})")
        self.size_seen = size_seen
        self.limit = limit


@runtime_checkable
class ChannelAdapter(Protocol):
    """One adapter per channel account: one core method per direction, plus capabilities."""

    kind: ChannelKind
    account_id: int | None
    capabilities: Capabilities

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Raise InvalidSignature (not from the vendor) or MalformedPayload (signed, unreadable)."""
        ...

    def split(self, raw_body: bytes) -> list[RawEvent]:
        """The raw events of a verified body, to store once each (MalformedPayload if unreadable)."""
        ...

    def parse(self, raw: str) -> Sequence[InboundItem]:
        """Our dataclasses for one stored raw event; pure, unknown types become Ignored."""
        ...

    def send(self, msg: OutboundMessage) -> SendResult:
        """Deliver ``msg``; raise ChannelTemporaryError / ChannelPermanentError subclasses."""
        ...

    def download(self, ref: str, data_dir: Path, max_bytes: int) -> StoredContent:
        """Fetch an attachment's content into the store; ContentTooLarge over ``max_bytes``."""
        ...

    def get_profile(self, user_id: str) -> Profile | None:
        """Display name and language of a consumer, when the channel knows them."""
        ...

    def after_applied(self, item: InboundItem, *, awaiting_counselor: bool) -> None:
        """Best-effort courtesy calls once crm has applied ``item`` (typing indicator, leaving a group)."""
        ...

    def close(self) -> None: ...
