"""The LINE Messaging API adapter (line-bot-sdk v3): verify, parse, send; plus the few extra calls
a consultation desk needs (reply-token auto answers, loading animation, profile, leaving groups).

It translates and nothing else: no database, no routing. SDK errors become ChannelError subclasses
(table in :mod:`channels.line.errors`). ``MADOGUCHI_LINE_API_BASE_URL`` / ``..._BLOB_BASE_URL`` point
the SDK at another host (tests run a local fake LINE server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from linebot.v3 import WebhookParser
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from channels.base import (
    Capabilities,
    ChannelError,
    ChannelKind,
    ChannelPermanentError,
    GroupInvitation,
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
from channels.line.errors import translate_api_error, translate_network_error
from channels.line.events import normalize, parse_event, sender_of
from channels.line.reply_tokens import TOKEN_SECONDS, MemoryReplyTokens, ReplyTokens
from channels.line.splitting import MAX_OBJECTS_PER_REQUEST, MAX_TEXT_UNITS, batches, split_text
from config.settings import Settings
from crm.channel_accounts import ChannelAccountInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
SIGNATURE_HEADER = "x-line-signature"
REQUEST_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds


def derived_retry_key(retry_key: str, index: int) -> str:
    """The retry key of request ``index`` of one outbound message (request 0 keeps the original).

    LINE wants a UUID; derived keys are UUIDv5 of the original, so every retry of the same
    outbox item sends exactly the same keys.
    """
    if index == 0:
        return retry_key
    try:
        namespace = uuid.UUID(retry_key)
    except ValueError:
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"madoguchi:{retry_key}")
    return str(uuid.uuid5(namespace, f"part-{index}"))


class LineAdapter:
    """ChannelAdapter for one LINE official account (its channel secret, access token, SDK clients)."""

    kind = ChannelKind.LINE
    capabilities: Capabilities = capabilities_of(ChannelKind.LINE)
    max_text_length = MAX_TEXT_UNITS
    reply_window: timedelta | None = timedelta(minutes=1)  # reply tokens: automatic answers only

    def __init__(
        self,
        *,
        channel_secret: str,
        access_token: str,
        api_base_url: str = "https://api.line.me",
        blob_base_url: str = "https://api-data.line.me",
        account_id: int | None = None,
        reply_tokens: ReplyTokens | None = None,
        loading_seconds: int = 60,
    ) -> None:
        self.account_id = account_id
        self.reply_tokens = reply_tokens or MemoryReplyTokens()
        self.loading_seconds = loading_seconds
        self._access_token = access_token
        self._parser = WebhookParser(channel_secret)
        self._secret = channel_secret.encode("utf-8")
        self._api_client = ApiClient(self._configuration(api_base_url))
        self._blob_client = ApiClient(self._configuration(blob_base_url))
        self.api = MessagingApi(self._api_client)

    @classmethod
    def for_account(
        cls, info: ChannelAccountInfo, settings: Settings, *, reply_tokens: ReplyTokens | None = None
    ) -> LineAdapter:
        """The adapter of one LINE channel account (secrets decrypted by crm.channel_accounts)."""
        return cls(
            channel_secret=info.secrets.get("channel_secret", ""),
            access_token=info.secrets.get("access_token", ""),
            api_base_url=str(info.settings.get("api_base_url") or settings.line_api_base_url),
            blob_base_url=str(info.settings.get("blob_base_url") or settings.line_blob_base_url),
            account_id=info.id,
            reply_tokens=reply_tokens,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **extra: Any) -> LineAdapter:
        """An adapter for the ``MADOGUCHI_LINE_*`` settings (tools and tests)."""
        return cls(
            channel_secret=settings.line_channel_secret,
            access_token=settings.line_channel_access_token,
            api_base_url=settings.line_api_base_url,
            blob_base_url=settings.line_blob_base_url,
            **extra,
        )

    def _configuration(self, host: str) -> Configuration:
        config = Configuration(host=host.rstrip("/"), access_token=self._access_token)
        # No silent urllib3 retries of POSTs: our outbox job owns retries (with the same retry key).
        config.retries = urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0)
        return config

    @property
    def blob_client(self) -> ApiClient:
        return self._blob_client

    # -- inbound -------------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Check ``X-Line-Signature`` over the raw body (constant time); raise InvalidSignature."""
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise InvalidSignature("missing X-Line-Signature header")
        try:
            body = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            # The SDK validator only takes text; check the bytes ourselves, then refuse as unreadable.
            expected = base64.b64encode(hmac.new(self._secret, raw_body, hashlib.sha256).digest())
            if hmac.compare_digest(signature.encode("utf-8", "replace"), expected):
                raise MalformedPayload("the webhook body is not valid UTF-8") from None
            raise InvalidSignature("X-Line-Signature does not match the body") from None
        if not self._parser.signature_validator.validate(body, signature):
            raise InvalidSignature("X-Line-Signature does not match the body")

    def split(self, raw_body: bytes) -> list[RawEvent]:
        """One raw event per item of ``events`` (by webhookEventId), to store before processing."""
        return [
            RawEvent(
                event_id=event_id_of(e),
                sender=sender_of(e),
                occurred_at_ms=_timestamp(e),
                raw=json.dumps(e, ensure_ascii=False, separators=(",", ":")),
            )
            for e in load_events(raw_body)
        ]

    def parse(self, raw: str) -> Sequence[InboundItem]:
        """The channel-neutral item of one stored event; remembers its reply token (automatic answers)."""
        try:
            event = json.loads(raw)
        except ValueError as exc:
            raise MalformedPayload(f"stored LINE event is not JSON: {exc}") from exc
        item = parse_event(event if isinstance(event, dict) else {})
        token = event.get("replyToken") if isinstance(event, dict) else None
        chat = sender_of(event) if isinstance(event, dict) else ""
        if isinstance(token, str) and token and chat:
            age = time.time() - _timestamp(event) / 1000
            self.reply_tokens.remember(self.account_id, chat, token, TOKEN_SECONDS - age)
        return [normalize(item)]

    def after_applied(self, item: InboundItem, *, awaiting_counselor: bool) -> None:
        """Loading animation while the consumer waits; leave a group we refused (best effort)."""
        try:
            if isinstance(item, InboundMessage) and awaiting_counselor and item.one_to_one:
                self.show_loading(item.sender, self.loading_seconds)
            elif isinstance(item, GroupInvitation) and item.chat_id:
                self.leave_chat(item.chat_type, item.chat_id)
        except ChannelError as exc:
            log.info("LINE courtesy call after %s failed: %s", type(item).__name__, exc)

    # -- outbound ------------------------------------------------------------------------------

    def send(self, msg: OutboundMessage) -> SendResult:
        """Push ``msg`` (split to LINE's limits); each request carries its own stable retry key.

        An automatic answer's first attempt uses the chat's fresh reply token (free), falling back
        to push. A 409 from LINE means this retry key was already accepted: that part counts as sent.
        """
        parts = split_text(msg.text) or [msg.text]
        token = (
            self.reply_tokens.take(self.account_id, msg.recipient)
            if msg.automatic and msg.attempt <= 1
            else None
        )
        if token and len(parts) <= MAX_OBJECTS_PER_REQUEST:
            try:
                return self.reply(token, [msg.text])
            except ChannelPermanentError:
                log.info("reply token refused (expired or used); pushing instead")
        external_ids: list[str] = []
        for index, batch in enumerate(batches(parts)):
            request = PushMessageRequest(to=msg.recipient, messages=[TextMessage(text=p) for p in batch])
            key = derived_retry_key(msg.retry_key, index)
            try:
                response = self._call(
                    "push",
                    lambda r=request, k=key: self.api.push_message(  # type: ignore[misc]
                        r, x_line_retry_key=k, _request_timeout=REQUEST_TIMEOUT
                    ),
                )
            except _AlreadyAccepted:
                continue
            external_ids.extend(m.id for m in (response.sent_messages or []))
        return SendResult(external_ids=tuple(external_ids), parts=len(parts))

    def download(self, ref: str, data_dir: Path, max_bytes: int) -> StoredContent:
        """Stream a message's content (image, video, audio, file) into the attachment store."""
        from channels.line.media import download_content

        return download_content(self, ref, data_dir, max_bytes)

    def reply(self, reply_token: str, texts: Sequence[str]) -> SendResult:
        """Answer right away with a reply token (automatic answers only; valid about one minute)."""
        parts = [p for t in texts for p in (split_text(t) or [])][:5]
        request = ReplyMessageRequest(reply_token=reply_token, messages=[TextMessage(text=p) for p in parts])
        response = self._call(
            "reply", lambda: self.api.reply_message(request, _request_timeout=REQUEST_TIMEOUT)
        )
        return SendResult(external_ids=tuple(m.id for m in (response.sent_messages or [])), parts=len(parts))

    def show_loading(self, user_id: str, seconds: int = 60) -> None:
        """Show the typing/loading animation in a 1:1 chat (5–60 s, a multiple of 5)."""
        seconds = max(5, min(60, seconds - seconds % 5))
        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        self._call(
            "loading animation",
            lambda: self.api.show_loading_animation(request, _request_timeout=REQUEST_TIMEOUT),
        )

    def get_profile(self, user_id: str) -> Profile | None:
        """Display name and language of a user who is a friend of the account."""
        res = self._call("profile", lambda: self.api.get_profile(user_id, _request_timeout=REQUEST_TIMEOUT))
        return Profile(user_id=res.user_id, display_name=res.display_name, language=res.language)

    def leave_chat(self, source_type: str, chat_id: str) -> None:
        """Leave a group or multi-person chat (we do not take group consultations)."""
        if source_type == "group":
            self._call("leave group", lambda: self.api.leave_group(chat_id, _request_timeout=REQUEST_TIMEOUT))
        elif source_type == "room":
            self._call("leave room", lambda: self.api.leave_room(chat_id, _request_timeout=REQUEST_TIMEOUT))

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ApiException as exc:
            if exc.status == 409 and action == "push":
                raise _AlreadyAccepted from exc
            raise translate_api_error(exc, action) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise translate_network_error(exc, action) from exc

    def close(self) -> None:
        self._api_client.close()
        self._blob_client.close()


class _AlreadyAccepted(Exception):
    """LINE answered 409: a request with this retry key was accepted before."""


def load_events(raw_body: bytes) -> list[dict[str, Any]]:
    """The ``events`` array of a webhook body; MalformedPayload when it is not LINE's JSON shape."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"the webhook body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise MalformedPayload('the webhook body must be a JSON object with an "events" array')
    events = data["events"]
    if not all(isinstance(e, dict) for e in events):
        raise MalformedPayload('every item of "events" must be a JSON object')
    return events


def event_id_of(event: dict[str, Any]) -> str:
    """``webhookEventId`` (whole: the store hashes ids too long to keep); for an event without
    one, a stable hash of its content (still idempotent)."""
    value = event.get("webhookEventId")
    if isinstance(value, str) and value:
        return value
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _timestamp(event: dict[str, Any]) -> int:
    ts = event.get("timestamp")
    return ts if isinstance(ts, int) and not isinstance(ts, bool) and 0 <= ts < 2**62 else 0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                return val
    return value
