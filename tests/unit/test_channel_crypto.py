"""Channel secrets at rest: MultiFernet encryption, key rotation, and clear failures."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from crm.crypto import SecretsUnreadable, decrypt_secrets, encrypt_secrets, rotate_token

SECRETS = {"channel_secret": "0123456789abcdef0123456789abcdef", "access_token": "tok/with+chars="}


def test_round_trip_and_token_hides_the_values() -> None:
    key = Fernet.generate_key().decode()
    token = encrypt_secrets([key], SECRETS)
    assert SECRETS["channel_secret"] not in token and "access_token" not in token
    assert decrypt_secrets([key], token) == SECRETS


def test_rotation_new_key_first_still_decrypts_old_tokens() -> None:
    key1, key2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old = encrypt_secrets([key1], SECRETS)
    assert decrypt_secrets([key2, key1], old) == SECRETS
    new = encrypt_secrets([key2, key1], SECRETS)
    assert decrypt_secrets([key2], new) == SECRETS  # the first key encrypts
    with pytest.raises(SecretsUnreadable):
        decrypt_secrets([key1], new)
    assert decrypt_secrets([key2], rotate_token([key2, key1], old)) == SECRETS


def test_missing_key_is_a_clear_error() -> None:
    token = encrypt_secrets([Fernet.generate_key().decode()], SECRETS)
    with pytest.raises(SecretsUnreadable, match="MADOGUCHI_ENCRYPTION_KEYS"):
        decrypt_secrets([Fernet.generate_key().decode()], token)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "gAAAAA" + "x" * 80, "日本語"])
def test_garbage_tokens_are_unreadable_not_crashes(garbage: str) -> None:
    with pytest.raises(SecretsUnreadable):
        decrypt_secrets([Fernet.generate_key().decode()], garbage)


def test_no_keys_or_bad_key_named() -> None:
    with pytest.raises(SecretsUnreadable, match="no encryption key"):
        encrypt_secrets([], SECRETS)
    with pytest.raises(SecretsUnreadable, match="invalid Fernet key"):
        encrypt_secrets(["short"], SECRETS)


def test_non_object_payload_refused() -> None:
    key = Fernet.generate_key().decode()
    token = Fernet(key.encode()).encrypt(b"[1, 2]").decode()
    with pytest.raises(SecretsUnreadable, match="JSON object"):
        decrypt_secrets([key], token)
