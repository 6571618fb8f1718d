"""Sandbox delivery for dev mode: a channel without credentials writes outbound messages to a file.

Only wired when ``MADOGUCHI_ENV`` is dev or test and the real channel is not configured, so the demo
can be driven end to end; production refuses to send on an unconfigured channel instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channels.base import (
    ChannelKind,
    ChannelPermanentError,
    InboundItem,
    MalformedPayload,
    OutboundMessage,
    Profile,
    RawEvent,
    SendResult,
    StoredContent,
    capabilities_of,
)


class SandboxAdapter:
    """A ChannelAdapter that accepts no webhooks and writes what it sends to a JSON-lines file."""

    max_text_length = 100_000
    reply_window: timedelta | None = None
    account_id: int | None = None

    def __init__(self, kind: ChannelKind, outbox_file: Path) -> None:
        self.kind = kind
        self.capabilities = capabilities_of(kind)
        self.outbox_file = outbox_file
        self._lock = threading.Lock()

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        raise MalformedPayload(f"the {self.kind.value} channel is in sandbox mode and accepts no webhooks")

    def split(self, raw_body: bytes) -> list[RawEvent]:
        raise MalformedPayload(f"the {self.kind.value} channel is in sandbox mode and accepts no webhooks")

    def parse(self, raw: str) -> Sequence[InboundItem]:
        return []

    def download(self, ref: str, data_dir: Path, max_bytes: int) -> StoredContent:
        raise ChannelPermanentError("the sandbox has no attachment content")

    def get_profile(self, user_id: str) -> Profile | None:
        return None

    def after_applied(self, item: InboundItem, *, awaiting_counselor: bool) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, msg: OutboundMessage) -> SendResult:
        record = {
            "at": datetime.now(UTC).isoformat(),
            "channel": msg.channel.value,
            "recipient": msg.recipient,
            "retry_key": msg.retry_key,
            "text": msg.text,
        }
        with self._lock:
            self.outbox_file.parent.mkdir(parents=True, exist_ok=True)
            with self.outbox_file.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return SendResult(external_ids=(f"sandbox-{msg.retry_key}",))

    def sent(self) -> list[dict[str, str]]:
        if not self.outbox_file.exists():
            return []
        # "\n" only: json.dumps keeps U+2028 / U+0085 unescaped, which splitlines() would cut at.
        text = self.outbox_file.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.split("\n") if line]
