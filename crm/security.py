"""Password hashing (Argon2 via pwdlib), signed access tokens (JWT, HS256) and their CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
ALGORITHM = "HS256"
# Argon2 is CPU- and memory-bound: at most half the cores hash at once, so a burst of logins leaves
# the other cores to webhooks and the console (extra logins wait their turn, holding no lock).
HASH_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


@dataclass(frozen=True)
class TokenClaims:
    """What a valid access token says: whose it is, its id (for logout) and when it expires."""

    user_id: int
    jti: str
    expires_at: float  # Unix seconds


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Argon2 check (tens of milliseconds of CPU): never call it inside a write transaction."""
    try:
        with HASH_SLOTS:
            return _hasher.verify(password, password_hash)
    except Exception:  # malformed hash in the database: treat as a failed login, not a 500
        return False


def create_access_token(*, user_id: int, secret_key: str, minutes: int) -> str:
    """A token with an expiry and a unique id (``jti``), so logging out can revoke it."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def read_access_token(token: str, secret_key: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token; None for anything else, including tokens without
    ``exp`` or ``jti`` (those could never expire or be revoked)."""
    try:
        payload = jwt.decode(
            token, secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]}
        )
        jti = payload["jti"]
        if not isinstance(jti, str) or not 8 <= len(jti) <= 64:
            return None
        return TokenClaims(user_id=int(payload["sub"]), jti=jti, expires_at=float(payload["exp"]))
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


def csrf_token_for(jti: str, secret_key: str) -> str:
    """The CSRF token of a cookie session: bound to the session's token id, so it cannot be forged
    without the secret nor reused for another session."""
    return hmac.new(secret_key.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def csrf_token_matches(given: str | None, jti: str, secret_key: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), csrf_token_for(jti, secret_key))
