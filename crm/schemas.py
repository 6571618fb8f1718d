"""Request and response shapes; tables are never returned from routes directly."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.models import Direction, MessageStatus, Role, TicketStatus

T = TypeVar("T")
log = logging.getLogger("madoguchi.schemas")


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
    """A ticket as shown. A bad stored value (null where a list or text belongs, from before the
    schemas refused it) is shown empty with a logged warning rather than failing the whole list."""

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
    queued_at: datetime | None = None  # waiting since (the console's ticking wait times)
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @field_validator("content_keywords", "required_skills", mode="before")
    @classmethod
    def _list_or_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        log.warning(
            "ticket has a stored %s where a list of labels belongs; shown without it", type(value).__name__
        )
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @field_validator("subject", "summary", mode="before")
    @classmethod
    def _text_or_empty(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value
        log.warning("ticket has a stored %s value where text belongs; shown as ''", type(value).__name__)
        return ""


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


def Omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out but never set to null: its column is NOT NULL.

    Annotate it without ``| None``; the default (None, never validated) only marks "not sent",
    and ``model_dump(exclude_unset=True)`` drops it.
    """
    return Field(default=None, **constraints)


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class TicketUpdate(Strict):
    """Fields a counselor may change. Unknown fields are refused (422), and so is null for a field
    whose column cannot hold it; lengths are the columns' lengths."""

    status: TicketStatus = Omittable()
    subject: str = Omittable(min_length=1, max_length=200)
    summary: str = Omittable(max_length=20_000)
    priority: int = Omittable(ge=0, le=100)
    product_category: str | None = Field(default=None, max_length=64)
    sales_method: str | None = Field(default=None, max_length=64)
    content_keywords: list[Label] = Omittable(max_length=30)
    contract_amount: int | None = Field(default=None, ge=0, le=10**12)
    paid_amount: int | None = Field(default=None, ge=0, le=10**12)
    outcome: str | None = Field(default=None, max_length=64)
    serious_accident: bool = Omittable()
    special_consideration: bool = Omittable()
    required_skills: list[Label] = Omittable(max_length=20)
    qualification_required: bool = Omittable()


class ReplyCreate(Strict):
    body: str = Field(min_length=1, max_length=20_000)


class NoteCreate(Strict):
    body: str = Field(min_length=1, max_length=20_000)


class UserCreate(Strict):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-zA-Z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.COUNSELOR
    center_code: str | None = None
    display_name: str = Field(default="", max_length=100)
