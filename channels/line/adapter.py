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
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
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
    ChannelKind,
    ChannelPermanentError,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    SendResult,
)
from channels.line.errors import translate_api_error, translate_network_error
from channels.line.events import LineItem, parse_event
from channels.line.splitting import MAX_OBJECTS_PER_REQUEST, MAX_TEXT_UNITS, batches, split_text
from config.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
SIGNATURE_HEADER = "x-line-signature"
REQUEST_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str | None
    language: str | None


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
    """ChannelAdapter for one LINE official account (one channel secret + access token)."""

    kind = ChannelKind.LINE
    max_text_length = MAX_TEXT_UNITS
    reply_window: timedelta | None = timedelta(minutes=1)  # reply tokens; counselors use push

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._parser = WebhookParser(settings.line_channel_secret)
        self._secret = settings.line_channel_secret.encode("utf-8")
        self._api_client = ApiClient(self._configuration(settings.line_api_base_url))
        self._blob_client = ApiClient(self._configuration(settings.line_blob_base_url))
        self.api = MessagingApi(self._api_client)

    def _configuration(self, host: str) -> Configuration:
        config = Configuration(host=host.rstrip("/"), access_token=self.settings.line_channel_access_token)
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

    def parse(self, raw_body: bytes) -> Sequence[LineItem]:
        """Our dataclasses for every event of a (verified) webhook body; unknown types → Ignored."""
        return [parse_event(e) for e in load_events(raw_body)]

    # -- outbound ------------------------------------------------------------------------------

    def send(self, msg: OutboundMessage) -> SendResult:
        """Push ``msg`` (split to LINE's limits); each request carries its own stable retry key.

        A 409 from LINE means this retry key was already accepted: that part counts as delivered.
        """
        parts = split_text(msg.text) or [msg.text]
        if msg.reply_token and len(parts) <= MAX_OBJECTS_PER_REQUEST:
            try:
                return self.reply(msg.reply_token, [msg.text])
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

    def get_profile(self, user_id: str) -> Profile:
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


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                return val
    return value
