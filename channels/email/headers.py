"""Header decoding through our charset layer: RFC 2047 encoded words, raw 8-bit/JIS headers.

Adjacent encoded words of one charset are joined as bytes before decoding, so a character split
between two words (or an ISO-2022-JP escape state carried over) reads right; folded lines are
unfolded first. A word that cannot be decoded is still decoded best-effort: a raw ``=?…?=`` never
reaches the output.
"""

from __future__ import annotations

import binascii
import re
from email.utils import getaddresses

from channels.email import charset

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?]*?)\?=")
_FOLD = re.compile(r"\r\n|\r|\n")


def raw_bytes(value: str) -> bytes:
    """The bytes of a header value parsed by ``BytesParser`` (ascii + surrogateescape)."""
    if not value:
        return b""
    try:
        return value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:  # already text (e.g. a decoded RFC 2231 value)
        return value.encode("utf-8", "surrogateescape")


def unfold(value: str) -> str:
    """Join folded lines (RFC 5322 2.2.3)."""
    return _FOLD.sub("", value)


def b64decode_lenient(data: bytes) -> tuple[bytes, bool]:
    """Base64 that tolerates bad padding and stray characters; (bytes, was it clean)."""
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    clean = cleaned == data.rstrip(b"=\r\n \t").replace(b"\n", b"").replace(b"\r", b"")
    extra = len(cleaned) % 4
    if extra == 1:
        cleaned = cleaned[:-1]
        clean = False
    elif extra:
        cleaned += b"=" * (4 - extra)
    try:
        return binascii.a2b_base64(cleaned), clean
    except binascii.Error:
        return b"", False


def _qdecode(text: str) -> bytes:
    data = raw_bytes(text).replace(b"_", b" ")
    return binascii.a2b_qp(data)


def decode_header(value: str | None, warnings: list[str] | None = None) -> str:
    """A header value as text: encoded words decoded, raw bytes decoded, controls dropped."""
    if not value:
        return ""
    warn = warnings if warnings is not None else []
    value = unfold(value)
    parts: list[tuple[str | None, bytes]] = []  # (charset label or None for raw text, bytes)
    pos = 0
    for m in _ENCODED_WORD.finditer(value):
        between = value[pos : m.start()]
        if between and not (between.isspace() and parts and parts[-1][0] is not None):
            parts.append((None, raw_bytes(between)))
        label, enc, payload = m.group(1), m.group(2).upper(), m.group(3)
        if enc == "B":
            data, ok = b64decode_lenient(raw_bytes(payload))
            if not ok:
                warn.append("a header's encoded word has bad base64; read what was there")
        else:
            data = _qdecode(payload)
        label = label.split("*", 1)[0]
        if parts and parts[-1][0] is not None and parts[-1][0].lower() == label.lower():
            parts[-1] = (parts[-1][0], parts[-1][1] + data)
        else:
            parts.append((label, data))
        pos = m.end()
    if pos < len(value):
        parts.append((None, raw_bytes(value[pos:])))
    out = []
    for label, data in parts:
        text, w = charset.decode(data, label)
        warn.extend(w)
        out.append(text)
    text = "".join(out).replace("\n", " ").replace("\t", " ")
    return re.sub(r" {2,}", " ", text).strip()


def parse_addresses(value: str | None, warnings: list[str] | None = None) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from an address header; garbage is skipped."""
    if not value:
        return []
    value = unfold(value)
    out: list[tuple[str, str]] = []
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib address parser has raised on odd input before
        pairs = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>")
        if "@" not in addr or any(c.isspace() for c in addr):
            continue
        out.append((decode_header(name, warnings), addr.lower()))
    if not out:
        for addr in re.findall(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]+", value):
            out.append(("", addr.lower()))
    return out


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in a Message-ID / In-Reply-To / References header, in order, deduplicated."""
    if not value:
        return []
    ids = re.findall(r"<([^<>\s]+)>", unfold(value))
    if not ids:  # some mailers forget the angle brackets
        ids = [t for t in unfold(value).split() if "@" in t]
    seen: list[str] = []
    for i in ids:
        if i not in seen and len(i) <= 998:
            seen.append(i)
    return seen
