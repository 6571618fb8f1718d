"""HTTP security headers and the per-request context, as one pure-ASGI middleware.

Every response gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer`` and, unless the route set its own policy (the console does),
``Content-Security-Policy: frame-ancestors 'none'``. API responses (``/api/*``) carry personal data and
are never cached (``Cache-Control: no-store``). HSTS is sent when the request came over TLS: the
ASGI scheme is https, or a proxy in ``MADOGUCHI_TRUSTED_PROXIES`` says ``X-Forwarded-Proto: https``.

The middleware also sets :data:`crm.audit.request_context` (client IP, user agent, request id) so that
audit rows record where a read or change came from, and echoes the request id as ``X-Request-ID``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm.audit import RequestInfo, request_context

HSTS = "max-age=31536000; includeSubDomains"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def client_ip(scope: Scope, trusted_proxies: Iterable[str]) -> str | None:
    """The client's address: the peer, or behind trusted proxies the last untrusted X-Forwarded-For hop."""
    peer = (scope.get("client") or (None, None))[0]
    trusted = set(trusted_proxies)
    if peer is None or peer not in trusted:
        return peer
    hops = [h.strip() for h in _headers(scope).get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer


def is_https(scope: Scope, trusted_proxies: Iterable[str]) -> bool:
    """Whether the client reached us over TLS (directly, or through a trusted proxy that says so)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    peer = (scope.get("client") or (None, None))[0]
    if peer is None or peer not in set(trusted_proxies):
        return False
    proto = _headers(scope).get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https"


class SecurityHeadersMiddleware:
    """Adds the security headers above and sets the audit request context (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        info = RequestInfo(
            ip=client_ip(scope, self.trusted_proxies),
            user_agent=headers.get("user-agent", "")[:300] or None,
            request_id=request_id,
        )
        extra = security_headers(
            api=scope.get("path", "").startswith("/api/"), https=is_https(scope, self.trusted_proxies)
        )
        extra["x-request-id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _merge(message.get("headers", []), extra)}
            await send(message)

        token = request_context.set(info)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_context.reset(token)


def _merge(headers: list[tuple[bytes, bytes]], extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Add ``extra`` where the route did not set the header; ``no-store`` always wins on the API."""
    forced = extra.get("cache-control") == "no-store"
    kept = [(k, v) for k, v in headers if not (forced and k.lower() == b"cache-control")]
    present = {k.decode("latin-1").lower() for k, _ in kept}
    return kept + [(k.encode(), v.encode()) for k, v in extra.items() if k not in present]


def security_headers(*, api: bool, https: bool) -> dict[str, str]:
    """The headers every response carries (HSTS only over HTTPS; no-store on API responses)."""
    out: Mapping[str, str] = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "content-security-policy": "frame-ancestors 'none'",
    }
    result = dict(out)
    if api:
        result["cache-control"] = "no-store"
        result["pragma"] = "no-cache"
    if https:
        result["strict-transport-security"] = HSTS
    return result
