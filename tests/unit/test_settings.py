"""Settings refuse placeholder secrets outside dev, and the CLI says so clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from config.settings import DEV_SECRET_KEY, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_dev_mode_accepts_the_placeholder_secret() -> None:
    assert Settings(env="dev").secret_key == DEV_SECRET_KEY


@pytest.mark.parametrize("secret", ["changethis", "", "short-but-not-placeholder", DEV_SECRET_KEY])
def test_prod_refuses_placeholder_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="MADOGUCHI_SECRET_KEY"):
        Settings(env="prod", secret_key=secret)


def test_prod_refuses_placeholder_channel_secret() -> None:
    with pytest.raises(ValidationError, match="MADOGUCHI_LINE_CHANNEL_SECRET"):
        Settings(env="prod", secret_key="k" * 40, line_channel_secret="changethis")


def test_prod_with_real_secret_starts() -> None:
    key = Fernet.generate_key().decode()
    assert Settings(env="prod", secret_key="k" * 40, encryption_keys=key).line_enabled is False


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_REDIS_URL", "redis://example:6379/0")
    monkeypatch.setenv("MADOGUCHI_LINE_CHANNEL_SECRET", "abc")
    monkeypatch.setenv("MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN", "tok")
    s = Settings()
    assert s.redis_url == "redis://example:6379/0" and s.line_enabled


def test_serve_in_prod_with_placeholder_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update(
        MADOGUCHI_ENV="prod",
        MADOGUCHI_SECRET_KEY="changethis",
        MADOGUCHI_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import madoguchi_cli; madoguchi_cli.main()", "serve", "--port", "18999"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "MADOGUCHI_SECRET_KEY is a placeholder" in proc.stderr
    assert "refusing to start with MADOGUCHI_ENV=prod" in proc.stderr
