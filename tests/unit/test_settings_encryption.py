"""MADOGUCHI_ENCRYPTION_KEYS: a comma-separated list, a fixed dev key in dev/test, a real one in prod."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from config.settings import DEV_ENCRYPTION_KEY, Settings

REAL_SECRET = "k" * 40


def test_dev_and_test_fall_back_to_the_dev_key() -> None:
    assert Settings(env="dev").encryption_keys == [DEV_ENCRYPTION_KEY]
    assert Settings(env="test").encryption_keys == [DEV_ENCRYPTION_KEY]


def test_comma_separated_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("MADOGUCHI_ENCRYPTION_KEYS", f" {new} ,{old},")
    assert Settings().encryption_keys == [new, old]


def test_prod_refuses_to_start_without_keys() -> None:
    with pytest.raises(ValidationError, match="MADOGUCHI_ENCRYPTION_KEYS is not set"):
        Settings(env="prod", secret_key=REAL_SECRET)


def test_prod_refuses_the_dev_key_even_next_to_a_real_one() -> None:
    with pytest.raises(ValidationError, match="dev-only key"):
        Settings(
            env="prod",
            secret_key=REAL_SECRET,
            encryption_keys=f"{Fernet.generate_key().decode()},{DEV_ENCRYPTION_KEY}",
        )


@pytest.mark.parametrize("bad", ["not-a-key", "c2hvcnQ=", "x" * 44])
def test_a_malformed_key_is_named(bad: str) -> None:
    with pytest.raises(ValidationError, match="MADOGUCHI_ENCRYPTION_KEYS: key #2 is not a Fernet key"):
        Settings(env="dev", encryption_keys=f"{Fernet.generate_key().decode()},{bad}")


def test_prod_with_a_real_key_starts() -> None:
    key = Fernet.generate_key().decode()
    assert Settings(env="prod", secret_key=REAL_SECRET, encryption_keys=key).encryption_keys == [key]
