"""CSRF protection for cookie sessions (the console). Bearer-token requests are exempt.

An unsafe request (POST, PUT, PATCH, DELETE) authenticated by the session cookie must

1. come from this server's own origin: ``Origin`` (or, without it, ``Referer``) is the origin the
   request was addressed to, or that of ``MADOGUCHI_PUBLIC_BASE_URL``; and
2. carry ``X-CSRF-Token`` equal to the ``madoguchi_csrf`` cookie set at login, which is an HMAC of the
   session token's id (double-submit, bound to the session: a token of another session never matches).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from config.settings import Settings
from crm.errors import Forbidden
from crm.http_security import is_https
from crm.security import csrf_token_matches

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_COOKIE = "madoguchi_csrf"
CSRF_HEADER = "X-CSRF-Token"


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def own_origins(request: Request, settings: Settings) -> set[str]:
    """The origins this server answers as: the one the request was sent to, and the public URL's."""
    host = request.headers.get("host", "").lower()
    schemes = {request.url.scheme}
    if is_https(request.scope, settings.trusted_proxies):
        schemes.add("https")
    origins = {f"{scheme}://{host}" for scheme in schemes if host}
    public = _origin_of(settings.public_base_url)
    if public:
        origins.add(public)
    return origins


def check_origin(request: Request, settings: Settings) -> None:
    """Raise Forbidden if a browser says the request comes from another site (no header: not a browser's
    cross-site request, let it through). Login uses it too, so no site can log a visitor in."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is not None:
        origin = _origin_of(claimed)
        if origin is None or origin not in own_origins(request, settings):
            raise Forbidden(
                f"cross-site request refused: it comes from {claimed[:100]!r}, not from this server. "
                "The console works only from its own address; API clients send 'Authorization: Bearer'"
            )


def check_csrf(request: Request, settings: Settings, jti: str) -> None:
    """Raise Forbidden unless the cookie-authenticated unsafe request passes both checks above."""
    check_origin(request, settings)
    if not csrf_token_matches(request.headers.get(CSRF_HEADER), jti, settings.secret_key):
        raise Forbidden(
            f"missing or wrong {CSRF_HEADER} header: with the session cookie, send the value of the "
            f"{CSRF_COOKIE} cookie in it (the console does), or use 'Authorization: Bearer <token>'"
        )
