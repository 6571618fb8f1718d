"""Request and response shapes; tables are never returned from routes directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from crm.models import Direction, MessageStatus, Role, TicketStatus

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: Role
    center_id: int | None
    skills: list[str]
    languages: list[str]
    qualifications: list[str]
    capacity: dict[str, int]


class CenterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    prefecture: str
    level: str
    parent_code: str | None
    postal_prefixes: list[str]
    hours: dict[str, Any]
    backup_rules: dict[str, Any]


class TicketPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    center_id: int
    contact_id: int
    channel: str
    status: TicketStatus
    priority: int
    subject: str
    summary: str
    product_category: str | None
    sales_method: str | None
    content_keywords: list[str]
    contract_amount: int | None
    paid_amount: int | None
    outcome: str | None
    serious_accident: bool
    special_consideration: bool
    required_skills: list[str]
    qualification_required: bool
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    direction: Direction
    channel: str
    kind: str
    body: str
    status: MessageStatus
    error: str | None
    author_id: int | None
    sent_at: datetime | None
    created_at: datetime


class NotePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_id: int | None
    kind: str
    body: str
    created_at: datetime


class TicketDetail(TicketPublic):
    messages: list[MessagePublic]
    notes: list[NotePublic]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class TicketUpdate(Strict):
    """Fields a counselor may change. Unknown fields are refused (422)."""

    status: TicketStatus | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=20_000)
    priority: int | None = Field(default=None, ge=0, le=100)
    product_category: str | None = Field(default=None, max_length=64)
    sales_method: str | None = Field(default=None, max_length=64)
    content_keywords: list[str] | None = Field(default=None, max_length=30)
    contract_amount: int | None = Field(default=None, ge=0, le=10**12)
    paid_amount: int | None = Field(default=None, ge=0, le=10**12)
    outcome: str | None = Field(default=None, max_length=64)
    serious_accident: bool | None = None
    special_consideration: bool | None = None
    required_skills: list[str] | None = Field(default=None, max_length=20)
    qualification_required: bool | None = None


class ReplyCreate(Strict):
    body: str = Field(min_length=1, max_length=20_000)


class NoteCreate(Strict):
    body: str = Field(min_length=1, max_length=20_000)


class UserCreate(Strict):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-zA-Z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.COUNSELOR
    center_code: str | None = None
    display_name: str = ""
