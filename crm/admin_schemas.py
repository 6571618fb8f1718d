"""Request and response shapes of the administration API (channels, centers, users).

Bodies refuse unknown fields (422 naming them); values are checked by the services, whose messages
name the field. Responses never carry a secret: a channel says ``has_secrets`` and which names are set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm.channel_accounts import INBOUND_TOKEN_HASH, ChannelAccountInfo, webhook_path
from crm.channel_validation import rules_for
from crm.schemas import UserPublic


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelCreate(Strict):
    kind: str = Field(description="line | email | voice")
    center_id: int | None = Field(
        default=None, description="None only for a voice number serving every center"
    )
    name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(
        default=None, description="LINE Channel ID (optional) / email address / E.164 phone number"
    )
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="write-only; never returned")


class ChannelUpdate(Strict):
    name: str | None = Field(default=None, max_length=200)
    address: str | None = None
    center_id: int | None = None
    settings: dict[str, Any] | None = Field(default=None, description="merged; a null value removes a key")
    secrets: dict[str, str] | None = Field(default=None, description="merged; write-only")
    enabled: bool | None = None


class ChannelPublic(BaseModel):
    id: int
    public_id: str
    center_id: int | None
    center_code: str | None
    kind: str
    name: str
    address: str
    settings: dict[str, Any]
    enabled: bool
    has_secrets: bool
    secrets_set: list[str]
    broken_reason: str | None
    webhook_path: str | None = None
    inbound_path: str | None = None
    url: str = Field(description="the full URL to give the vendor (public_base_url + path)")

    @classmethod
    def from_info(cls, info: ChannelAccountInfo, base_url: str) -> ChannelPublic:
        path = webhook_path(info)
        paths = {rules_for(info.kind).path_name: path}
        return cls(
            id=info.id,
            public_id=info.public_id,
            center_id=info.center_id,
            center_code=info.center_code,
            kind=info.kind,
            name=info.name,
            address=info.address,
            settings={k: v for k, v in info.settings.items() if k != INBOUND_TOKEN_HASH},
            enabled=info.enabled,
            has_secrets=info.has_secrets,
            secrets_set=sorted(info.secrets),
            broken_reason=info.broken_reason,
            url=base_url.rstrip("/") + path,
            **paths,
        )


class ChannelCreated(ChannelPublic):
    inbound_token: str | None = Field(default=None, description="shown this once (email, voice)")


class InboundToken(BaseModel):
    inbound_token: str


class CenterAdminPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    prefecture: str
    level: str
    parent_code: str | None
    postal_prefixes: list[str]
    municipalities: list[str]
    hours: dict[str, Any]
    closed_dates: list[str]
    backup_rules: dict[str, Any]
    timezone: str


class CenterUpdate(Strict):
    name: str | None = None
    prefecture: str | None = None
    level: str | None = None
    parent_code: str | None = None
    postal_prefixes: list[str] | None = None
    municipalities: list[str] | None = Field(default=None, max_length=500, description="市区町村 served")
    hours: dict[str, Any] | None = None
    closed_dates: list[str] | None = None
    backup_rules: dict[str, Any] | None = None
    timezone: str | None = None


class CenterCreate(CenterUpdate):
    code: str
    name: str  # type: ignore[assignment]
    prefecture: str  # type: ignore[assignment]


class UserAdminPublic(UserPublic):
    """What an admin sees of a user: the public fields plus whether the account is active."""

    is_active: bool
    created_at: datetime


class UserUpdate(Strict):
    display_name: str | None = None
    role: str | None = None
    center_id: int | None = None
    skills: list[str] | None = None
    languages: list[str] | None = None
    qualifications: list[str] | None = None
    capacity: dict[str, int] | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, description="write-only")


class UserCreate(UserUpdate):
    username: str
    password: str  # type: ignore[assignment]
