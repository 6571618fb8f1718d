"""Raw mail bytes → :class:`ParsedEmail` (pure, never raises except :class:`EmailTooLarge`).

The structure comes from Python's ``email`` package (``compat32`` for raw access to header and
payload bytes); every header value, body and file name is decoded by our charset layer
(:mod:`channels.email.charset`). Anything odd becomes a warning the counselor sees, with what
could be read.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parsedate_to_datetime

from channels.email import charset, headers
from channels.email.html_text import html_to_text
from channels.email.threading import auto_reason, normalize_subject, split_quoted

JST = timezone(timedelta(hours=9))
MAX_MAIL_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 20
MAX_PARTS = 200
HASH_ID_DOMAIN = "hash.madoguchi.invalid"
_NO_BOUNDARY = "malformed mail: a multipart without a readable boundary; read as one text part"


class EmailTooLarge(Exception):
    """The mail is larger than the limit; it is refused, not parsed."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the mail is {size:,} bytes, more than the limit of {limit:,} bytes")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class EmailAttachment:
    """An attached file: a safe name, its type and the decoded bytes."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class BounceInfo:
    """A delivery failure report: which of our mails failed, and why."""

    original_message_id: str | None
    reason: str
    status: str | None = None


@dataclass(frozen=True)
class ParsedEmail:
    """One mail, decoded. ``text`` is the new text; ``quoted`` the history folded away for display."""

    message_id: str
    message_id_generated: bool
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    normalized_subject: str
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    quoted: str
    html_only: bool
    attachments: tuple[EmailAttachment, ...]
    warnings: tuple[str, ...]
    is_auto: bool
    auto_reason: str | None
    bounce: BounceInfo | None

    @property
    def full_text(self) -> str:
        """The text with its quoted history, as stored."""
        return f"{self.text}\n\n{self.quoted}".strip() if self.quoted else self.text

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """In-Reply-To first, then every References id (newest first), deduplicated."""
        ids: list[str] = []
        for i in ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references)):
            if i not in ids:
                ids.append(i)
        return tuple(ids)


def parse_email(
    raw: bytes,
    *,
    own_domains: tuple[str, ...] = (),
    max_bytes: int = MAX_MAIL_BYTES,
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
) -> ParsedEmail:
    """Parse raw mail bytes. Raises only :class:`EmailTooLarge`; everything else is a warning."""
    if len(raw) > max_bytes:
        raise EmailTooLarge(len(raw), max_bytes)
    warnings: list[str] = []
    data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if data.startswith(b"From ") and b"\n" in data:  # an mbox "From " line
        data = data.split(b"\n", 1)[1]
    try:
        msg = message_from_bytes(data, policy=compat32)
    except Exception:  # the feed parser is lenient, but never trust it blindly
        msg = Message()
        msg.set_payload(data.decode("ascii", "surrogateescape"))
        warnings.append("the mail structure could not be read; shown as plain text")
    hdr = _header_map(msg)
    if getattr(msg, "defects", None):
        for d in msg.defects[:3]:
            warnings.append(_defect_text(d))

    from_pairs = (
        headers.parse_addresses(hdr.get("from"), warnings)
        or headers.parse_addresses(hdr.get("sender"), warnings)
        or headers.parse_addresses(hdr.get("return-path"), warnings)
    )
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    if not from_address:
        warnings.append("the mail has no readable From address")
    to = tuple(a for _, a in headers.parse_addresses(hdr.get("to"), warnings))
    cc = tuple(a for _, a in headers.parse_addresses(hdr.get("cc"), warnings))
    subject = headers.decode_header(hdr.get("subject"), warnings)

    ids = headers.message_ids(hdr.get("message-id"))
    generated = not ids
    message_id = ids[0] if ids else f"{hashlib.sha256(data).hexdigest()[:40]}@{HASH_ID_DOMAIN}"
    in_reply = headers.message_ids(hdr.get("in-reply-to"))
    refs = tuple(headers.message_ids(hdr.get("references")))

    body = _Body(max_attachment_bytes)
    try:
        body.walk(msg, warnings)
    except Exception:  # a safety net: what was read so far is kept, with a warning
        warnings.append("malformed mail: part of the body could not be read")
    text = body.text(warnings)
    new_text, quoted = split_quoted(text)
    ctype = _content_type(msg)
    reason = auto_reason(hdr, from_address, subject, message_id, own_domains, ctype)
    bounce = _bounce(body, text, subject, from_address, ctype)
    if bounce is not None and reason is None:
        reason = "delivery failure report"
    return ParsedEmail(
        message_id=message_id,
        message_id_generated=generated,
        from_address=from_address,
        from_name=from_name,
        to=to,
        cc=cc,
        subject=subject,
        normalized_subject=normalize_subject(subject),
        date=_date(hdr.get("date"), warnings),
        in_reply_to=in_reply[0] if in_reply else None,
        references=refs,
        text=new_text,
        quoted=quoted,
        html_only=body.html_only,
        attachments=tuple(body.attachments),
        warnings=tuple(dict.fromkeys(warnings)),
        is_auto=reason is not None,
        auto_reason=reason,
        bounce=bounce,
    )


def _defect_text(defect: object) -> str:
    name = type(defect).__name__
    return {
        "NoBoundaryInMultipartDefect": _NO_BOUNDARY,
        "StartBoundaryNotFoundDefect": _NO_BOUNDARY,
        "CloseBoundaryNotFoundDefect": "malformed mail: the last multipart boundary is missing",
        "MissingHeaderBodySeparatorDefect": "malformed mail: a header line is broken",
        "MultipartInvariantViolationDefect": _NO_BOUNDARY,
    }.get(name, f"malformed mail: {name}")


def _header_map(msg: Message) -> dict[str, str]:
    """First value of each header, raw (unfolded later), keys lower-cased."""
    out: dict[str, str] = {}
    try:
        items = msg.raw_items()
    except Exception:
        return out
    for name, value in items:
        key = str(name).strip().lower()
        if key not in out and isinstance(value, str):
            out[key] = value
    return out


def _date(value: str | None, warnings: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(headers.unfold(value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        warnings.append("the Date header could not be read")
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=JST)
    return dt


class _Body:
    """Collects text, html and attachments from a message tree."""

    def __init__(self, max_attachment_bytes: int) -> None:
        self.max_attachment_bytes = max_attachment_bytes
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[EmailAttachment] = []
        self.reports: list[Message] = []
        self.original_headers: list[dict[str, str]] = []
        self.parts = 0
        self.html_only = False

    def text(self, warnings: list[str]) -> str:
        if self.plain:
            return "\n\n".join(t for t in self.plain if t.strip()).strip()
        if self.html:
            self.html_only = True
            return "\n\n".join(html_to_text(h) for h in self.html).strip()
        return ""

    def walk(self, part: Message, warnings: list[str], depth: int = 0) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS or depth > 20:
            if self.parts == MAX_PARTS + 1:
                warnings.append(f"more than {MAX_PARTS} parts; the rest was not read")
            return
        ctype = _content_type(part)
        payload = part.get_payload()
        if isinstance(payload, list):
            if ctype == "message/delivery-status":
                self.reports.extend(p for p in payload if isinstance(p, Message))
                return
            if ctype in ("message/rfc822", "message/global"):
                for p in payload:
                    if isinstance(p, Message):
                        self.original_headers.append(_header_map(p))
                return
            alternative = ctype == "multipart/alternative"
            subparts = [p for p in payload if isinstance(p, Message)]
            if alternative and any(_content_type(p) == "text/plain" for p in subparts):
                subparts = [p for p in subparts if _content_type(p) != "text/html"]
            for p in subparts:
                self.walk(p, warnings, depth + 1)
            return
        if ctype.startswith("multipart/"):
            warnings.append(_NO_BOUNDARY)
            ctype = "text/plain"
        data = _decode_transfer(part, warnings)
        filename = _filename(part, warnings)
        disposition = _hget(part, "content-disposition").split(";", 1)[0].strip().lower()
        if ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            text, _ = charset.decode(data, _param(part, "charset"))
            sub = message_from_bytes(text.encode("utf-8", "replace"), policy=compat32)
            self.original_headers.append(_header_map(sub))
            return
        if ctype == "message/delivery-status":  # not parsed into a list by the stdlib
            text, _ = charset.decode(data, None)
            self.reports.append(message_from_bytes(text.replace("\n\n", "\n").encode(), policy=compat32))
            return
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text, w = charset.decode(data, _param(part, "charset"))
            warnings.extend(w)
            (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        self._attach(filename, ctype, data, warnings)

    def _attach(self, filename: str | None, ctype: str, data: bytes, warnings: list[str]) -> None:
        name = safe_filename(filename or "", ctype, len(self.attachments) + 1)
        if len(self.attachments) >= MAX_ATTACHMENTS:
            warnings.append(f"more than {MAX_ATTACHMENTS} attachments; {name} was not kept")
            return
        if len(data) > self.max_attachment_bytes:
            warnings.append(
                f"the attachment {name} ({len(data):,} bytes) is larger than the limit of "
                f"{self.max_attachment_bytes:,} bytes and was not kept"
            )
            return
        self.attachments.append(EmailAttachment(filename=name, content_type=ctype, data=data))


def _hget(part: Message, name: str) -> str:
    """A header's raw value as text ('' when absent); never the stdlib's Header objects."""
    return _header_map(part).get(name.lower(), "")


def _param(part: Message, name: str) -> str | None:
    """A Content-Type parameter, or None (broken headers included)."""
    try:
        value = part.get_param(name)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:
        return "text/plain"
    return ctype if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+_-]+", ctype) else "application/octet-stream"


def _decode_transfer(part: Message, warnings: list[str]) -> bytes:
    # The raw payload: get_payload() would decode 8-bit text with the stdlib codecs. typeshed does not
    # declare the private ``Message._payload`` (always set by ``Message.__init__``), hence getattr.
    payload = getattr(part, "_payload", None)
    if isinstance(payload, str):
        raw = (
            payload.encode("ascii", "surrogateescape")
            if payload.isascii() or _surrogates(payload)
            else (payload.encode("utf-8", "surrogateescape"))
        )
    else:
        raw = payload if isinstance(payload, bytes) else b""
    cte = headers.unfold(_hget(part, "content-transfer-encoding") or "7bit").strip().lower()
    if cte == "base64":
        data, ok = headers.b64decode_lenient(raw)
        if not ok:
            warnings.append("a part has bad base64 (padding or stray characters); read what was there")
        return data
    if cte == "quoted-printable":
        try:
            return binascii.a2b_qp(raw)
        except (binascii.Error, ValueError):
            warnings.append("a part has bad quoted-printable; shown as is")
            return raw
    if cte not in ("7bit", "8bit", "binary", ""):
        if cte in ("x-uuencode", "uuencode", "x-uue"):
            try:
                decoded = part.get_payload(decode=True)
                if isinstance(decoded, bytes):
                    return decoded
            except Exception:
                pass
        warnings.append(f"unknown transfer encoding {cte[:40]!r}: shown as is")
    return raw


def _surrogates(text: str) -> bool:
    try:
        text.encode("ascii", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


def _filename(part: Message, warnings: list[str]) -> str | None:
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, header=header)
        except Exception:
            continue
        if not value:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded latin-1 text)
            label, _lang, text = value
            data = str(text).encode("latin-1", "replace")
            decoded, w = charset.decode(data, label or None)
            warnings.extend(w)
            return headers.decode_header(decoded, warnings) if "=?" in decoded else decoded
        return headers.decode_header(str(value), warnings)
    return None


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|]+')


def safe_filename(name: str, content_type: str, index: int) -> str:
    """A file name safe to store and offer for download: no path, no controls, bounded length."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if not name or set(name) <= {"_", " "}:
        ext = {
            "image/jpeg": ".jpg",
            "image/png": ".png",
            "application/pdf": ".pdf",
            "image/gif": ".gif",
            "text/plain": ".txt",
        }.get(content_type, ".bin")
        return f"attachment-{index}{ext}"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 120 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:120]
    return name


_BOUNCE_TEXT = re.compile(
    r"宛先不明|宛先が見つかりません|存在しない|配信できませんでした|送信できませんでした|届けられませんでした"
    r"|user unknown|unknown user|no such user|mailbox unavailable|does not exist|undeliverable"
    r"|delivery has failed|could not be delivered|mailbox (?:is )?full|容量オーバー|容量超過|受信拒否",
    re.IGNORECASE,
)


def _bounce(body: _Body, text: str, subject: str, sender: str, ctype: str) -> BounceInfo | None:
    original = None
    for h in body.original_headers:
        ids = headers.message_ids(h.get("message-id"))
        if ids:
            original = ids[0]
            break
    if body.reports or ctype == "multipart/report":
        status = reason = None
        for rep in body.reports:
            for name, value in _header_map(rep).items():
                v = headers.decode_header(value)
                if name == "status" and status is None:
                    status = v
                elif name == "diagnostic-code" and reason is None:
                    reason = v.split(";", 1)[-1].strip()
                elif name == "action" and v.lower() != "failed" and status is None:
                    status = v
        if original is None:
            original = _id_in_text(text)
        return BounceInfo(original, reason or _reason_line(text) or "delivery failed", status)
    local = sender.split("@", 1)[0].lower()
    from_daemon = local.startswith(("mailer-daemon", "postmaster")) and _BOUNCE_TEXT.search(text)
    if from_daemon or _BOUNCE_TEXT.search(subject):
        reason = _reason_line(text) or subject or "delivery failed"
        return BounceInfo(original or _id_in_text(text), reason)
    return None


def _id_in_text(text: str) -> str | None:
    m = re.search(r"(?im)^\s*>?\s*Message-I[Dd]\s*:\s*<([^<>\s]+)>", text)
    return m.group(1) if m else None


def _reason_line(text: str) -> str | None:
    for line in text.split("\n"):
        if _BOUNCE_TEXT.search(line):
            return line.strip()[:300]
    return None
