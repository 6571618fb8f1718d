"""Password hashing (Argon2 via pwdlib) and signed access tokens (JWT, HS256)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # malformed hash in the database: treat as a failed login, not a 500
        return False


def create_access_token(*, user_id: int, secret_key: str, minutes: int) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    return jwt.encode({"sub": str(user_id), "exp": expires}, secret_key, algorithm=ALGORITHM)


def read_access_token(token: str, secret_key: str) -> int | None:
    """The user id in a valid, unexpired token; None for anything else."""
    try:
        payload = jwt.decode(token, secret_key, algorithms=[ALGORITHM])
        return int(payload["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        return None
