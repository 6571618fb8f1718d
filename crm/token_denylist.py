"""Revoked access tokens (logout): a token id (``jti``) is refused until the token's own expiry.

Redis when configured (a key with a TTL), else the ``revoked_token`` table. The database check uses
the request's session, so it adds no connection (on SQLite, no second transaction).
"""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from sqlmodel import Session, col, delete

from crm.models import RevokedToken


class TokenDenylist(Protocol):
    def revoke(self, session: Session, jti: str, expires_at: float) -> None: ...
    def is_revoked(self, session: Session, jti: str) -> bool: ...


class DatabaseDenylist:
    def revoke(self, session: Session, jti: str, expires_at: float) -> None:
        """Add ``jti`` (the caller commits); tokens already past their expiry are forgotten."""
        session.exec(delete(RevokedToken).where(col(RevokedToken.expires_at) < time.time()))  # type: ignore[call-overload]
        if session.get(RevokedToken, jti) is None:
            session.add(RevokedToken(jti=jti, expires_at=expires_at))
        session.flush()

    def is_revoked(self, session: Session, jti: str) -> bool:
        return session.get(RevokedToken, jti) is not None


class RedisDenylist:
    prefix = "madoguchi:revoked:"

    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def revoke(self, session: Session, jti: str, expires_at: float) -> None:
        ttl = math.ceil(expires_at - time.time())
        if ttl > 0:
            self.redis.set(f"{self.prefix}{jti}", "1", ex=ttl)

    def is_revoked(self, session: Session, jti: str) -> bool:
        return bool(self.redis.exists(f"{self.prefix}{jti}"))


def denylist_for(redis: Any = None) -> TokenDenylist:
    """Redis when configured, else the database."""
    return RedisDenylist(redis) if redis is not None else DatabaseDenylist()
