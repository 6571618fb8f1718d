"""Channel-account secrets encrypted at rest with MultiFernet (key rotation: first key encrypts, any decrypts).

Keys come from ``Settings.encryption_keys`` (``MADOGUCHI_ENCRYPTION_KEYS``) and are passed in explicitly.
To rotate: put the new key first, keep the old one after it, run ``madoguchi channel reencrypt`` (or let
every update re-encrypt), then drop the old key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretsUnreadable(Exception):
    """The stored secrets cannot be decrypted with any configured key (or are not a JSON object)."""


def _multi(keys: Sequence[str]) -> MultiFernet:
    return _multi_cached(tuple(keys))


@lru_cache(maxsize=8)
def _multi_cached(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise SecretsUnreadable("no encryption key configured: set MADOGUCHI_ENCRYPTION_KEYS")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise SecretsUnreadable(f"MADOGUCHI_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from exc


def encrypt_secrets(keys: Sequence[str], secrets: Mapping[str, str]) -> str:
    """Encrypt a JSON object of secrets with the first key; returns the Fernet token as text."""
    payload = json.dumps(dict(secrets), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return _multi(keys).encrypt(payload).decode("ascii")


def decrypt_secrets(keys: Sequence[str], token: str) -> dict[str, str]:
    """Decrypt a token written by :func:`encrypt_secrets` with any of the keys."""
    try:
        payload = _multi(keys).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise SecretsUnreadable(
            "the secrets cannot be decrypted with any key in MADOGUCHI_ENCRYPTION_KEYS "
            "(was the key they were encrypted with removed?); restore that key or set the secrets again"
        ) from exc
    try:
        value = json.loads(payload)
    except ValueError as exc:
        raise SecretsUnreadable("the decrypted secrets are not JSON") from exc
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SecretsUnreadable("the decrypted secrets are not a JSON object of strings")
    return value


def rotate_token(keys: Sequence[str], token: str) -> str:
    """Re-encrypt a token under the first key (MultiFernet.rotate)."""
    try:
        return _multi(keys).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise SecretsUnreadable("the secrets cannot be decrypted with any configured key") from exc
