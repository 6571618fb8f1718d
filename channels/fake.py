"""A test double for any channel (like httpx's MockTransport): an in-memory ChannelAdapter.

``FakeAdapter`` verifies with an HMAC of its own secret (header ``X-Fake-Signature``), splits a
JSON body ``{"events": [{"id", "sender", "text", "at_ms"}]}``, parses each into an
:class:`InboundMessage` (``"type": "follow"`` → :class:`Followed`), and records what it sends in
``sent``. ``fail_with`` makes the next sends raise a given ChannelError.

    fake = FakeAdapter(ChannelKind.EMAIL)
    runtime.adapters.install("email", fake)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from channels.base import (
    ChannelError,
    ChannelKind,
    ChannelPermanentError,
    Followed,
    Ignored,
    InboundItem,
    InboundMessage,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    Profile,
    RawEvent,
    SendResult,
    StoredContent,
    capabilities_of,
)

SIGNATURE_HEADER = "x-fake-signature"


class FakeAdapter:
    """An in-memory adapter: what it was asked to send is in ``sent``; nothing leaves the process."""

    def __init__(
        self,
        kind: ChannelKind = ChannelKind.WEB,
        *,
        secret: str = "fake-secret",
        account_id: int | None = None,
    ) -> None:
        self.kind = kind
        self.account_id = account_id
        self.capabilities = capabilities_of(kind)
        self.max_text_length = self.capabilities.max_text_length
        self.reply_window = self.capabilities.reply_window
        self.secret = secret.encode()
        self.sent: list[OutboundMessage] = []
        self.applied: list[tuple[InboundItem, bool]] = []
        self.profiles: dict[str, Profile] = {}
        self._failures: list[ChannelError] = []

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def fail_with(self, *errors: ChannelError) -> None:
        """The next sends raise these, in order."""
        self._failures.extend(errors)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        if not given or not hmac.compare_digest(given, self.sign(raw_body)):
            raise InvalidSignature(f"{SIGNATURE_HEADER} does not match the body")

    def split(self, raw_body: bytes) -> list[RawEvent]:
        try:
            events = json.loads(raw_body)["events"]
            return [
                RawEvent(str(e["id"]), str(e.get("sender", "")), int(e.get("at_ms", 0)), json.dumps(e))
                for e in events
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedPayload(f"not a fake-channel body: {exc}") from exc

    def parse(self, raw: str) -> Sequence[InboundItem]:
        event = json.loads(raw)
        at = datetime.fromtimestamp(int(event.get("at_ms", 0)) / 1000, UTC)
        sender = str(event.get("sender", ""))
        if event.get("type") == "follow":
            return [Followed(self.kind, sender, at, str(event["id"]))]
        if "text" not in event:
            return [Ignored(self.kind, sender, at, str(event["id"]), reason="no text")]
        return [InboundMessage(self.kind, str(event["id"]), sender, str(event["text"]), at)]

    def send(self, msg: OutboundMessage) -> SendResult:
        if self._failures:
            raise self._failures.pop(0)
        self.sent.append(msg)
        return SendResult(external_ids=(f"fake-{len(self.sent)}",))

    def download(self, ref: str, data_dir: Path, max_bytes: int) -> StoredContent:
        raise ChannelPermanentError("the fake channel keeps no attachment content")

    def get_profile(self, user_id: str) -> Profile | None:
        return self.profiles.get(user_id)

    def after_applied(self, item: InboundItem, *, awaiting_counselor: bool) -> None:
        self.applied.append((item, awaiting_counselor))

    def close(self) -> None:
        return None
