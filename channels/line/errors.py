"""Translate line-bot-sdk exceptions into our channel error tree (see channels.base).

=============================  ==========================================
LINE answer                    our exception
=============================  ==========================================
429                            RateLimited (retried with backoff)
5xx, network error, timeout    ChannelTimeout (retried with backoff)
401                            AuthFailed (our access token is wrong)
400 / 403 / 404                InvalidRecipient (blocked, unknown user, expired reply token)
other 4xx                      ChannelPermanentError
=============================  ==========================================
"""

from __future__ import annotations

import json
from typing import Any

from channels.base import (
    AuthFailed,
    ChannelError,
    ChannelPermanentError,
    ChannelTimeout,
    InvalidRecipient,
    RateLimited,
)


def line_reason(exc: Any) -> str:
    """LINE's own explanation from an ApiException body ("message" and "details"), if any."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if not body:
        return str(getattr(exc, "reason", "") or "")
    try:
        data = json.loads(body)
    except ValueError:
        return str(body)[:200]
    if not isinstance(data, dict):
        return str(body)[:200]
    reason = str(data.get("message", ""))
    details = data.get("details") or []
    if isinstance(details, list):
        extra = "; ".join(
            f"{d.get('property', '')}: {d.get('message', '')}".strip(": ")
            for d in details
            if isinstance(d, dict)
        )
        if extra:
            reason = f"{reason} ({extra})"
    return reason


def translate_api_error(exc: Any, action: str) -> ChannelError:
    """The ChannelError for an SDK ApiException raised while doing ``action`` ("push", "reply", ...)."""
    status = int(getattr(exc, "status", 0) or 0)
    reason = line_reason(exc)
    text = f"LINE {action} failed ({status or 'no response'}): {reason}".strip().rstrip(":")
    if status == 429:
        return RateLimited(f"LINE rate limit or monthly quota reached on {action}: {reason}")
    if status == 0 or status >= 500:
        return ChannelTimeout(text)
    if status == 401:
        return AuthFailed(
            f"LINE refused our channel access token (401) on {action}: check MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN"
        )
    if status in (400, 403, 404):
        return InvalidRecipient(
            f"LINE refused the {action} ({status}): {reason or 'the user may have blocked the account'}"
        )
    return ChannelPermanentError(text)


def translate_network_error(exc: BaseException, action: str) -> ChannelTimeout:
    """Connection refused, reset or timed out: worth retrying later."""
    return ChannelTimeout(f"LINE {action} failed: could not reach LINE ({type(exc).__name__}: {exc})"[:480])
