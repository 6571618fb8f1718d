"""Pure checks for channel-account fields; each failure is an :class:`Unprocessable` naming the field.

What each kind accepts is data (``ACCOUNT_KINDS``): the address format, the settings keys and their
types, the secret keys (and which are required), and whether the account gets an inbound token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crm.errors import Unprocessable
from crm.messaging import ChannelKind

MAX_SECRET_CHARS = 2000
MAX_SETTING_CHARS = 500
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
LINE_CHANNEL_ID = re.compile(r"^[0-9]{6,20}$")
LINE_CENTER_ADDRESS = re.compile(r"^center:[A-Za-z0-9_-]{1,32}$")
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SETTING_CHARS:
        raise Unprocessable(f"{field}: must be a non-empty string of at most {MAX_SETTING_CHARS} characters")
    return value.strip()


def _url(field: str, value: Any) -> str:
    text = _text(field, value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https", "smtp", "smtps") or not parts.hostname:
        raise Unprocessable(f"{field}: {text!r} is not an http(s):// or smtp(s):// URL with a host")
    return text


def _host(field: str, value: Any) -> str:
    text = _text(field, value)
    if not HOSTNAME.match(text):
        raise Unprocessable(f"{field}: {text!r} is not a host name")
    return text


def _port(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise Unprocessable(f"{field}: must be a port number between 1 and 65535")
    return value


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Unprocessable(f"{field}: must be true or false")
    return value


Check = Callable[[str, Any], Any]


@dataclass(frozen=True)
class KindRules:
    """What one kind of account accepts."""

    address_label: str
    settings: Mapping[str, Check]
    secrets: tuple[str, ...]
    required_secrets: tuple[str, ...] = ()
    center_required: bool = True
    has_inbound_token: bool = False
    path_template: str = ""
    path_name: str = "inbound_path"


ACCOUNT_KINDS: dict[str, KindRules] = {
    ChannelKind.LINE.value: KindRules(
        address_label="LINE Channel ID (digits)",
        settings={"api_base_url": _url, "blob_base_url": _url},
        secrets=("channel_secret", "access_token"),
        required_secrets=("channel_secret", "access_token"),
        path_template="/channels/line/{public_id}/webhook",
        path_name="webhook_path",
    ),
    ChannelKind.EMAIL.value: KindRules(
        address_label="email address",
        settings={
            "imap_host": _host,
            "imap_port": _port,
            "imap_user": _text,
            "imap_folder": _text,
            "imap_ssl": _flag,
            "imap_processed_folder": _text,  # set: processed mail is moved there (else flagged \\Seen)
            "smtp_url": _url,
            "smtp_user": _text,
            "from_name": _text,
        },
        secrets=("imap_password", "smtp_password"),
        has_inbound_token=True,
        path_template="/channels/email/{public_id}/inbound",
    ),
    ChannelKind.VOICE.value: KindRules(
        address_label="phone number in E.164 (+81312345678)",
        settings={"api_base_url": _url, "account_sid": _text, "language": _text, "default_center": _text},
        secrets=("auth_token",),
        center_required=False,
        has_inbound_token=True,
        path_template="/channels/twilio/{public_id}/voice",
    ),
}


def rules_for(kind: str) -> KindRules:
    """The rules of a kind, or 422 naming ``kind``."""
    rules = ACCOUNT_KINDS.get(kind)
    if rules is None:
        raise Unprocessable(f"kind: {kind!r} is not one of {', '.join(ACCOUNT_KINDS)}")
    return rules


def normalize_address(kind: str, address: Any) -> str:
    """The canonical address for ``kind`` (email lower-cased domain), or 422 naming ``address``."""
    rules = rules_for(kind)
    if not isinstance(address, str) or not address.strip():
        raise Unprocessable(f"address: a {rules.address_label} is required")
    text = address.strip()
    if kind == ChannelKind.LINE.value:
        if not (LINE_CHANNEL_ID.match(text) or LINE_CENTER_ADDRESS.match(text)):
            raise Unprocessable(f"address: {text!r} is not a {rules.address_label}")
        return text
    if kind == ChannelKind.EMAIL.value:
        if not EMAIL.match(text):
            raise Unprocessable(f"address: {text!r} is not an email address (like soudan@center.example.jp)")
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"
    if not E164.match(text):
        raise Unprocessable(
            f"address: {text!r} is not a phone number in E.164: '+', the country code, then 8-15 digits "
            "in all, no spaces or hyphens (e.g. +81312345678)"
        )
    return text


def clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise Unprocessable("name: must be a non-empty string of at most 200 characters")
    return name.strip()


def clean_settings(kind: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validated settings; ``settings.<key>`` is named in the error for unknown keys or bad values."""
    rules = rules_for(kind)
    cleaned: dict[str, Any] = {}
    for key, value in settings.items():
        check = rules.settings.get(key)
        if check is None:
            known = ", ".join(rules.settings) or "none"
            raise Unprocessable(f"settings.{key}: unknown setting for a {kind} account (known: {known})")
        cleaned[key] = check(f"settings.{key}", value)
    return cleaned


def clean_secrets(kind: str, secrets: Mapping[str, Any]) -> dict[str, str]:
    """Validated secrets (not their presence: see :func:`require_secrets`)."""
    rules = rules_for(kind)
    cleaned: dict[str, str] = {}
    for key, value in secrets.items():
        if key not in rules.secrets:
            known = ", ".join(rules.secrets) or "none"
            raise Unprocessable(f"secrets.{key}: unknown secret for a {kind} account (known: {known})")
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SECRET_CHARS:
            raise Unprocessable(
                f"secrets.{key}: must be a non-empty string of at most {MAX_SECRET_CHARS} chars"
            )
        if value != value.strip():
            raise Unprocessable(f"secrets.{key}: starts or ends with whitespace (a copy-paste error?)")
        cleaned[key] = value
    return cleaned


def require_secrets(kind: str, secrets: Mapping[str, str]) -> None:
    missing = [k for k in rules_for(kind).required_secrets if not secrets.get(k)]
    if missing:
        raise Unprocessable(f"secrets.{missing[0]}: required for a {kind} account")
