"""The voice adapter: Twilio's signature check, the raw events a call leaves, and their parse (pure).

A call is not one webhook but a conversation of them (IVR steps, queue, status callbacks); the
webhook (channels.voice.webhook) decides which steps are worth a raw event and builds it with
:func:`call_event`. Raw events are JSON ``{"type": ..., "params": {Twilio's form fields}, ...}``:

=============  ===================================================  ==========================
type           when                                                 parses to
=============  ===================================================  ==========================
``call``       the caller is queued at a center (or leaves a        InboundMessage kind=call
               voicemail without being queued)
``voicemail``  a ``<Record>`` finished (recording URL)              InboundMessage kind=voicemail
``update``     status callback, abandon, callback request           CallUpdate
=============  ===================================================  ==========================

Errors: SDK-free here (the REST side is channels.voice.rest). A wrong or missing signature raises
:class:`InvalidSignature` (the webhook answers 403 and stores nothing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator, get_signature_algorithm

from channels.base import (
    Capabilities,
    ChannelKind,
    ChannelPermanentError,
    Ignored,
    InboundItem,
    InboundMessage,
    InvalidRecipient,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    Profile,
    RawEvent,
    SendResult,
    StoredContent,
    capabilities_of,
)
from crm.messaging import CallUpdate

PUBLIC_URL_HEADER = "x-madoguchi-public-url"  # set by the webhook: the URL Twilio signed
# What Twilio sends as From for a withheld number (番号非通知) — "anonymous" and its placeholders.
WITHHELD = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "unknown",
        "blocked",
        "unavailable",
        "+266696687",
        "+86282452253",
        "+7378742833",
        "+2562533",
        "+8656696",
    }
)


def is_withheld(number: str | None) -> bool:
    """True for a withheld or unknown caller id (no call back possible)."""
    text = (number or "").strip().lower()
    return text in WITHHELD or not (text.startswith("+") and text[1:].isdigit())


def caller_identity(params: Mapping[str, str]) -> str:
    """The contact identity of a call: the caller's number, or ``withheld:<CallSid>`` (one contact per call)."""
    number = params.get("From", "")
    return f"withheld:{params.get('CallSid', '')}" if is_withheld(number) else number


def call_event(
    kind: str, params: Mapping[str, str], *, at: datetime, event_id: str, **extra: Any
) -> RawEvent:
    """The raw event the webhook stores for one call step (``extra``: center code, postal code, ...)."""
    body = {"type": kind, "params": dict(params), "at": at.astimezone(UTC).isoformat(), **extra}
    return RawEvent(
        event_id=event_id,
        sender=caller_identity(params),
        occurred_at_ms=int(at.timestamp() * 1000),
        raw=json.dumps(body, ensure_ascii=False, sort_keys=True),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class VoiceAdapter:
    """One phone number (channel account). ``auth_token`` signs Twilio's webhooks."""

    kind = ChannelKind.VOICE

    def __init__(self, *, auth_token: str, account_id: int | None = None) -> None:
        self.account_id = account_id
        self.capabilities: Capabilities = capabilities_of(ChannelKind.VOICE)
        self._validator = RequestValidator(auth_token) if auth_token else None

    def verify_form(
        self, url: str, form: Mapping[str, str], signature: str | None, settings_header: str = ""
    ) -> None:
        """Raise InvalidSignature unless ``signature`` is Twilio's for ``url`` + ``form``."""
        if self._validator is None:
            raise InvalidSignature("no Twilio auth token is configured for this number")
        if not signature:
            raise InvalidSignature("the X-Twilio-Signature header is missing")
        if not self._validator.validate(url, dict(form), signature, get_signature_algorithm(settings_header)):
            raise InvalidSignature(
                "X-Twilio-Signature does not match (wrong auth token, a changed parameter, or a URL other than "
                "MADOGUCHI_PUBLIC_BASE_URL + path)"
            )

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Protocol form of :meth:`verify_form`: the URL comes in ``x-madoguchi-public-url``."""
        from urllib.parse import parse_qsl

        try:
            form = dict(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError as exc:
            raise MalformedPayload("the body is not UTF-8 form data") from exc
        lowered = {k.lower(): v for k, v in headers.items()}
        self.verify_form(
            lowered.get(PUBLIC_URL_HEADER, ""),
            form,
            lowered.get("x-twilio-signature"),
            lowered.get("x-twilio-webhooks-signature-settings", ""),
        )

    def split(self, raw_body: bytes) -> list[RawEvent]:
        """A status callback body as one raw event (id: CallSid + CallStatus)."""
        from urllib.parse import parse_qsl

        form = dict(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
        if not sid or not status:
            raise MalformedPayload("a Twilio status callback needs CallSid and CallStatus")
        return [
            call_event("update", form, at=datetime.now(UTC), event_id=f"{sid}:status:{status}", status=status)
        ]

    def parse(self, raw: str) -> Sequence[InboundItem]:
        """Our dataclasses for one stored call step (pure)."""
        try:
            body = json.loads(raw)
            kind, params = body["type"], body["params"]
            at = datetime.fromisoformat(body["at"])
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedPayload(f"not a stored voice event: {exc}") from exc
        sid = str(params.get("CallSid", ""))
        sender = caller_identity(params)
        number = "" if is_withheld(params.get("From")) else str(params.get("From", ""))
        if kind in ("call", "voicemail"):
            return [self._message(kind, body, params, sid, sender, number, at)]
        if kind == "update":
            return [
                CallUpdate(
                    channel=ChannelKind.VOICE,
                    sender=sender,
                    at=at,
                    event_id=f"{sid}:{body.get('status', '')}",
                    call_id=str(body.get("call_id") or sid),
                    status=str(body.get("status") or params.get("CallStatus", "")),
                    duration_seconds=_int(params.get("CallDuration")),
                    queue_seconds=_int(body.get("queue_seconds", params.get("QueueTime"))),
                    note=str(body.get("note", ""))[:300],
                )
            ]
        return [Ignored(channel=ChannelKind.VOICE, sender=sender, at=at, reason=f"voice event type {kind!r}")]

    def _message(
        self,
        kind: str,
        body: Mapping[str, Any],
        params: Mapping[str, Any],
        sid: str,
        sender: str,
        number: str,
        at: datetime,
    ) -> InboundMessage:
        center = body.get("center_code")
        caller = number or "番号非通知 (withheld number)"
        if kind == "call":
            text = f"着信 (incoming call) from {caller}"
            route = body.get("route")
            if route:
                text += f" — {route}"
            external_id, msg_kind = sid, "call"
        else:
            seconds = _int(params.get("RecordingDuration"))
            text = f"留守番電話 (voicemail) from {caller}, {seconds if seconds is not None else '?'} s"
            external_id, msg_kind = f"{sid}:voicemail", "voicemail"
        meta = {
            "call_sid": sid,
            "caller": number,
            "withheld": not number,
            "postal_code": body.get("postal_code"),
            "route": body.get("route"),
        }
        if kind == "voicemail":
            meta["recording_url"] = str(params.get("RecordingUrl", ""))[:500]
            meta["recording_seconds"] = _int(params.get("RecordingDuration"))
            meta["transcription"] = None  # pluggable: an STT job may fill it; the ticket works without
        return InboundMessage(
            channel=ChannelKind.VOICE,
            external_id=external_id,
            sender=sender,
            text=text,
            at=at,
            center_code=str(center) if center else None,
            sender_display_name=None if number else "番号非通知",
            language="ja",
            kind=msg_kind,
            metadata={k: v for k, v in meta.items() if v is not None},
        )

    def send(self, msg: OutboundMessage) -> SendResult:
        raise InvalidRecipient(
            "a phone call cannot receive a text answer: call the consumer back from the softphone instead"
        )

    def download(self, ref: str, data_dir: Path, max_bytes: int) -> StoredContent:
        raise ChannelPermanentError("voicemail recordings stay at Twilio; the ticket keeps their URL")

    def get_profile(self, user_id: str) -> Profile | None:
        return None

    def after_applied(self, item: InboundItem, *, awaiting_counselor: bool) -> None:
        return None

    def close(self) -> None:
        return None
