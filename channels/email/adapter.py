"""The email channel adapter: raw mail ↔ our dataclasses, answers out through an SMTP relay.

``split`` turns one raw mail into one :class:`RawEvent` (the raw bytes, base64 in JSON, keyed by
Message-ID or a content hash); ``parse`` (pure) makes an :class:`InboundMessage` for a consumer's
mail, a ``DeliveryUpdate`` (failed) for a bounce of one of our answers, and ``Ignored`` for other
automatic mail (auto-replies, lists, bounces of unknown mail) so no loop can start.
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
import uuid
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from channels.base import (
    AuthFailed,
    Capabilities,
    ChannelKind,
    ChannelPermanentError,
    ChannelTemporaryError,
    ChannelTimeout,
    DeliveryUpdate,
    Ignored,
    InboundItem,
    InboundMessage,
    InvalidRecipient,
    MalformedPayload,
    OutboundMessage,
    Profile,
    RawEvent,
    SendResult,
    StoredContent,
)
from channels.email.parse import JST, EmailTooLarge, ParsedEmail, parse_email
from crm.messaging import Attachment, capabilities_of

SMTP_TIMEOUT = 30.0


def own_domain(address: str) -> str:
    """The domain part of an account address (our Message-IDs use it)."""
    return address.rsplit("@", 1)[-1].lower() if "@" in address else "madoguchi.invalid"


def to_raw_event(raw: bytes, parsed: ParsedEmail) -> RawEvent:
    """The stored form of one mail (base64 bytes in JSON, so nothing is lost to a text column)."""
    at = parsed.date or None
    ms = int(at.timestamp() * 1000) if at else 0
    body = json.dumps({"eml_b64": base64.b64encode(raw).decode("ascii")})
    return RawEvent(
        event_id=parsed.message_id, sender=parsed.from_address or "unknown", occurred_at_ms=ms, raw=body
    )


def raw_of(stored: str) -> bytes:
    """The mail bytes of a stored raw event (MalformedPayload when it is not ours)."""
    try:
        return base64.b64decode(json.loads(stored)["eml_b64"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedPayload(f"not a stored email event: {exc}") from exc


class EmailAdapter:
    """One email channel account: its address, own domain and SMTP relay."""

    kind = ChannelKind.EMAIL

    def __init__(
        self,
        *,
        address: str,
        account_id: int | None = None,
        relay_url: str = "",
        smtp_user: str = "",
        smtp_password: str = "",
        from_name: str = "",
        max_bytes: int = 25 * 1024 * 1024,
        max_attachment_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.address = address
        self.account_id = account_id
        self.relay_url = relay_url
        self.smtp_user = smtp_user
        self.smtp_password = smtp_password
        self.from_name = from_name
        self.max_bytes = max_bytes
        self.max_attachment_bytes = max_attachment_bytes
        self.own_domains = (own_domain(address),)
        self.capabilities: Capabilities = capabilities_of(ChannelKind.EMAIL)

    @classmethod
    def for_account(cls, info: Any, settings: Any) -> EmailAdapter:
        """The adapter of a ``ChannelAccountInfo`` (settings override the MADOGUCHI_SMTP_* defaults)."""
        s: Mapping[str, Any] = info.settings
        return cls(
            address=info.address,
            account_id=info.id,
            relay_url=str(s.get("smtp_url") or getattr(settings, "smtp_relay_url", "")),
            smtp_user=str(s.get("smtp_user") or ""),
            smtp_password=str(info.secrets.get("smtp_password", "")),
            from_name=str(s.get("from_name") or ""),
            max_bytes=int(getattr(settings, "email_max_bytes", 25 * 1024 * 1024)),
        )

    # inbound -------------------------------------------------------------------------------
    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Email is authenticated by the transport (SMTP recipient, IMAP login, Bearer token)."""
        if len(raw_body) > self.max_bytes:
            raise MalformedPayload(f"the mail is larger than {self.max_bytes:,} bytes")

    def split(self, raw_body: bytes) -> list[RawEvent]:
        """One raw event per mail, keyed by Message-ID (a content hash when it has none)."""
        try:
            parsed = parse_email(raw_body, own_domains=self.own_domains, max_bytes=self.max_bytes)
        except EmailTooLarge as exc:
            raise MalformedPayload(str(exc)) from exc
        return [to_raw_event(raw_body, parsed)]

    def parse(self, raw: str) -> Sequence[InboundItem]:
        """The consumer message, bounce (DeliveryUpdate) or Ignored for one stored mail."""
        data = raw_of(raw)
        try:
            p = parse_email(
                data,
                own_domains=self.own_domains,
                max_bytes=self.max_bytes,
                max_attachment_bytes=self.max_attachment_bytes,
            )
        except EmailTooLarge as exc:
            return [Ignored(channel=ChannelKind.EMAIL, sender=None, at=_now(), event_id="", reason=str(exc))]
        at = p.date or _now()
        if (
            p.bounce is not None
            and p.bounce.original_message_id
            and own_domain(p.bounce.original_message_id) in self.own_domains
        ):
            return [
                DeliveryUpdate(
                    channel=ChannelKind.EMAIL,
                    external_id=p.bounce.original_message_id,
                    status="failed",
                    at=at,
                    error=p.bounce.reason[:500],
                )
            ]
        if p.is_auto:
            return [
                Ignored(
                    channel=ChannelKind.EMAIL,
                    sender=p.from_address or None,
                    at=at,
                    event_id=p.message_id,
                    reason=f"automatic mail ({p.auto_reason}): no ticket, no answer",
                )
            ]
        if not p.from_address:
            return [
                Ignored(
                    channel=ChannelKind.EMAIL,
                    sender=None,
                    at=at,
                    event_id=p.message_id,
                    reason="a mail without a From address: nobody to answer",
                )
            ]
        text = p.text or p.subject or "(empty mail)"
        if p.subject and p.subject not in text:
            text = f"件名: {p.subject}\n\n{text}"
        return [
            InboundMessage(
                channel=ChannelKind.EMAIL,
                external_id=p.message_id,
                sender=p.from_address,
                text=text,
                at=at,
                sender_display_name=p.from_name or None,
                language="ja",
                kind="text" if not p.attachments or p.text else "file",
                attachments=tuple(
                    Attachment(filename=a.filename, content_type=a.content_type, size=a.size, content=a.data)
                    for a in p.attachments
                ),
                metadata={
                    "subject": p.subject,
                    "normalized_subject": p.normalized_subject,
                    "in_reply_to": p.in_reply_to,
                    "references": list(p.references),
                    "thread_ids": list(p.thread_ids),
                    "quoted": p.quoted,
                    "warnings": list(p.warnings),
                    "to": list(p.to),
                },
            )
        ]

    # outbound ------------------------------------------------------------------------------
    def build_message(self, msg: OutboundMessage) -> EmailMessage:
        """The MIME answer: From the account, Re: subject, In-Reply-To/References, a new Message-ID."""
        meta = msg.metadata
        subject = str(meta.get("subject") or "")
        if subject and not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        em = EmailMessage()
        em["From"] = formataddr((self.from_name, self.address)) if self.from_name else self.address
        em["To"] = msg.recipient
        em["Subject"] = subject or "Re: ご相談の件"
        em["Date"] = format_datetime(_now())
        key = uuid.uuid5(uuid.NAMESPACE_URL, msg.retry_key).hex if msg.retry_key else uuid.uuid4().hex
        em["Message-ID"] = f"<{key}@{self.own_domains[0]}>"
        parent = meta.get("in_reply_to")
        refs = [r for r in (meta.get("references") or []) if isinstance(r, str)]
        if parent:
            em["In-Reply-To"] = f"<{parent}>"
            if parent not in refs:
                refs.append(str(parent))
        if refs:
            em["References"] = " ".join(f"<{r}>" for r in refs[-20:])
        if msg.automatic:
            em["Auto-Submitted"] = "auto-replied"
        em.set_content(msg.text, charset="utf-8")
        return em

    def send(self, msg: OutboundMessage) -> SendResult:
        """Send through the relay; 4xx and network errors are temporary, 5xx permanent."""
        if not self.relay_url:
            raise ChannelPermanentError(
                "no SMTP relay: set MADOGUCHI_SMTP_RELAY_URL or the account's smtp_url"
            )
        em = self.build_message(msg)
        message_id = str(em["Message-ID"]).strip("<>")
        url = urlsplit(self.relay_url)
        user = self.smtp_user or unquote(url.username or "")
        password = self.smtp_password or unquote(url.password or "")
        try:
            cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
            with cls(
                url.hostname or "127.0.0.1",
                url.port or (465 if url.scheme == "smtps" else 587),
                timeout=SMTP_TIMEOUT,
            ) as smtp:
                smtp.ehlo()
                if url.scheme != "smtps" and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if user:
                    smtp.login(user, password)
                smtp.send_message(em, from_addr=self.address, to_addrs=[msg.recipient])
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(
                f"the SMTP relay refused our login: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b""))
            err = f"the relay refused {msg.recipient}: {code} {_text(text)}"
            raise (ChannelTemporaryError(err) if 400 <= code < 500 else InvalidRecipient(err)) from exc
        except smtplib.SMTPResponseException as exc:
            err = f"the SMTP relay answered {exc.smtp_code} {_text(exc.smtp_error)}"
            raise (
                ChannelTemporaryError(err) if 400 <= exc.smtp_code < 500 else ChannelPermanentError(err)
            ) from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError, OSError) as exc:
            raise ChannelTimeout(
                f"the SMTP relay {url.hostname}:{url.port} cannot be reached: {exc}"
            ) from exc
        return SendResult(external_ids=(message_id,))

    def download(self, ref: str, data_dir: Path, max_bytes: int) -> StoredContent:
        """Email attachments come inside the mail; there is nothing to download."""
        raise ChannelPermanentError("email attachments are stored from the mail itself")

    def get_profile(self, user_id: str) -> Profile | None:
        return None

    def after_applied(self, item: InboundItem, *, awaiting_counselor: bool) -> None:
        return None

    def close(self) -> None:
        return None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _now():
    from datetime import datetime

    return datetime.now(JST)
