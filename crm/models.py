"""SQLModel tables of the consultation record (相談) and its surroundings.

Identifying data about a consumer (name, phone, address) lives only in :class:`ContactPersonalData`
and :class:`ContactIdentity`; :class:`Contact` holds the non-identifying attributes that statistics
and cross-center sharing may use (年代, 性別, 職業, 地域).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (SQLModel's UTCDateTime columns refuse naive datetimes)."""
    return datetime.now(UTC)


def json_column() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def json_dict_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Role(StrEnum):
    COUNSELOR = "counselor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class TicketStatus(StrEnum):
    NEW = "new"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WAITING_ON_CONSUMER = "waiting_on_consumer"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.QUEUED,
    TicketStatus.OFFERED,
    TicketStatus.ASSIGNED,
    TicketStatus.WAITING_ON_CONSUMER,
)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETRACTED = "retracted"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class InboundEventStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class Center(SQLModel, table=True):
    """A 消費生活センター / 相談窓口. ``hours`` maps weekday (mon..sun) to [["09:00","17:00"], ...]."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=32)
    name: str = Field(max_length=200)
    prefecture: str = Field(max_length=16)
    level: str = Field(default="municipal", max_length=16)  # municipal | prefectural | national
    parent_code: str | None = Field(default=None, max_length=32)
    postal_prefixes: list[str] = json_column()
    municipalities: list[str] = json_column()  # 市区町村 it serves, as Japan Post spells them ("世田谷区")
    hours: dict[str, Any] = json_dict_column()
    closed_dates: list[str] = json_column()  # ISO dates the center is closed beyond public holidays
    backup_rules: dict[str, Any] = (
        json_dict_column()
    )  # {"sat": "CODE", "sun": "CODE", "holiday": ..., "busy": ...}
    timezone: str = Field(default="Asia/Tokyo", max_length=64)


class ChannelAccount(SQLModel, table=True):
    """One LINE official account, email address or phone number a center receives consultations on.

    ``public_id`` is opaque and goes in webhook URLs; secrets live only in ``secrets_encrypted`` (a
    MultiFernet token, see crm.crypto). ``center_id`` None: a 188-style entry number serving every center.
    """

    __table_args__ = (UniqueConstraint("kind", "address", name="uq_channel_account_kind_address"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(index=True, unique=True, max_length=32)
    center_id: int | None = Field(default=None, foreign_key="center.id", index=True)
    kind: str = Field(max_length=16)  # channels.base.ChannelKind: line | email | voice
    name: str = Field(max_length=200)
    address: str = Field(max_length=255)  # LINE channel id / email address / E.164 number
    settings: dict[str, Any] = json_dict_column()
    secrets_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    enabled: bool = True
    broken_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EmailPollState(SQLModel, table=True):
    """Where the IMAP poller of an email account stopped: nothing is fetched twice (crm/email_poll.py)."""

    channel_account_id: int = Field(foreign_key="channelaccount.id", primary_key=True)
    folder: str = Field(default="INBOX", primary_key=True, max_length=200)
    uidvalidity: int = Field(default=0, sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """A counselor (消費生活相談員), supervisor or admin."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    display_name: str = Field(default="", max_length=100)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.COUNSELOR, max_length=16)
    center_id: int | None = Field(default=None, foreign_key="center.id", index=True)
    skills: list[str] = json_column()
    languages: list[str] = json_column()
    qualifications: list[str] = json_column()
    capacity: dict[str, int] = json_dict_column()  # per channel: {"voice": 1, "line": 3, "email": 5}
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Contact(SQLModel, table=True):
    """The consumer (契約当事者 or 相談者), with non-identifying attributes only."""

    id: int | None = Field(default=None, primary_key=True)
    age_band: str | None = Field(default=None, max_length=16)  # 20歳未満, 20歳代, ..., 70歳以上, 不明
    gender: str | None = Field(default=None, max_length=16)
    occupation: str | None = Field(default=None, max_length=32)
    region: str | None = Field(default=None, max_length=64)  # 都道府県・市町村
    special_consideration: bool = False  # 高齢者・障害者等 (施行規則 第五条)
    created_at: datetime = Field(default_factory=utcnow)


class ContactPersonalData(SQLModel, table=True):
    """Identifying data, kept apart from the case record; never shown outside the handling center."""

    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    full_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    postal_code: str | None = Field(default=None, max_length=8)
    address: str | None = Field(default=None, max_length=300)
    consent_to_share: bool = False
    consent_recorded_at: datetime | None = None


class ContactIdentity(SQLModel, table=True):
    """How a consumer appears on one channel (LINE userId, email address, phone number)."""

    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identity_channel_external"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=255)
    display_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16)
    reachable: bool = True
    profile_fetched_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    """A consultation record (相談) with PIO-NET-style fields."""

    __table_args__ = (Index("ix_ticket_center_status", "center_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    center_id: int = Field(foreign_key="center.id")
    contact_id: int = Field(foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    channel_account_id: int | None = Field(
        default=None, foreign_key="channelaccount.id"
    )  # replies leave here
    status: TicketStatus = Field(default=TicketStatus.NEW, max_length=32)
    priority: int = 0  # higher first; see routing.policy for how it is used
    subject: str = Field(default="", max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    product_category: str | None = Field(default=None, max_length=64)  # 商品・役務
    sales_method: str | None = Field(default=None, max_length=64)  # 販売購入形態
    content_keywords: list[str] = json_column()  # 内容キーワード
    contract_amount: int | None = Field(default=None, sa_column=Column(BigInteger))  # 契約購入金額 (円)
    paid_amount: int | None = Field(default=None, sa_column=Column(BigInteger))  # 既支払額 (円)
    outcome: str | None = Field(default=None, max_length=64)  # 処理結果
    serious_accident: bool = False  # 重大事故等 suspected or confirmed
    special_consideration: bool = False
    language: str = Field(default="ja", max_length=16)
    required_skills: list[str] = json_column()
    qualification_required: bool = False
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    queued_at: datetime | None = None
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 0  # bumped on every change; compare-and-set for concurrent writers


class Message(SQLModel, table=True):
    """One message on a ticket's timeline; ``body`` is the original text as received or written."""

    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_message_channel_external"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    direction: Direction = Field(max_length=16)
    channel: str = Field(max_length=16)
    channel_account_id: int | None = Field(default=None, foreign_key="channelaccount.id")
    external_id: str | None = Field(default=None, max_length=255)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    kind: str = Field(default="text", max_length=16)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: MessageStatus = Field(default=MessageStatus.RECEIVED, max_length=16)
    error: str | None = Field(default=None, max_length=500)
    meta: dict[str, Any] = json_dict_column()
    sent_at: datetime | None = None  # when the consumer sent it (inbound) or we sent it (outbound)
    created_at: datetime = Field(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=127)
    size: int = 0
    sha256: str | None = Field(default=None, max_length=64)
    storage_path: str | None = Field(default=None, max_length=500)
    external_ref: str | None = Field(default=None, max_length=255)
    status: str = Field(default="stored", max_length=16)  # pending | stored | too_large | failed
    created_at: datetime = Field(default_factory=utcnow)


class Note(SQLModel, table=True):
    """An internal note on a ticket; never sent to the consumer. ``author_id`` None = system note."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    kind: str = Field(default="note", max_length=16)  # note | system | transfer | escalation
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Who read or changed what, and when (remote counselors: every ticket read is logged)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    object_id: str = Field(max_length=64)
    detail: dict[str, Any] = json_dict_column()
    ip: str | None = Field(
        default=None, max_length=64
    )  # client address (behind a trusted proxy: X-Forwarded-For)
    user_agent: str | None = Field(default=None, max_length=300)
    request_id: str | None = Field(default=None, max_length=64, index=True)


class LoginThrottle(SQLModel, table=True):
    """Failed-login counter and lock of one key (``pair:<user>|<ip>``, ``user:<user>``, ``ip:<ip>``);
    times are Unix seconds. Used when Redis is not configured (crm/login_throttle.py)."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=400)
    failures: int = 0
    expires_at: float = Field(default=0.0, index=True)  # the counter is forgotten after this
    locked_until: float = 0.0


class RevokedToken(SQLModel, table=True):
    """An access token logged out before it expired (``jti``); kept until its own expiry."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: float = Field(index=True)  # Unix seconds


class OutboxItem(SQLModel, table=True):
    """A send we owe the consumer, written in the same transaction as the outbound message."""

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # None: an automatic answer outside any ticket (the greeting of a new friend, a group refusal)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True, unique=True)
    channel: str = Field(max_length=16)
    channel_account_id: int | None = Field(default=None, foreign_key="channelaccount.id")
    recipient: str = Field(max_length=255)
    retry_key: str = Field(max_length=64)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # text when no message
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class InboundEvent(SQLModel, table=True):
    """A verified webhook event stored raw before processing; unique per account + vendor event id."""

    __table_args__ = (
        UniqueConstraint("channel_account_id", "provider_event_id", name="uq_inbound_account_event"),
        Index("ix_inbound_sender_status", "channel_account_id", "sender", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    channel_account_id: int | None = Field(default=None, foreign_key="channelaccount.id")
    provider_event_id: str = Field(max_length=128)  # whole, or "sha256:<hex>" of a longer id
    sender: str | None = Field(default=None, max_length=255)
    occurred_at_ms: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: InboundEventStatus = Field(default=InboundEventStatus.PENDING, max_length=16)
    error: str | None = Field(default=None, max_length=500)
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None


class AccidentReportStatus(StrEnum):
    DRAFT = "draft"
    NOTIFIED = "notified"


class AccidentReport(SQLModel, table=True):
    """A notification to the Consumer Affairs Agency under 消費者安全法 第12条 (施行規則 第九条).

    ``learned_at`` is 情報を得た日時; ``notified_at`` the 通知日時: the gap is what "直ちに" is audited on.
    Follow-up reports (第N報) are further rows with the next ``report_no``.
    """

    __table_args__ = (UniqueConstraint("ticket_id", "report_no", name="uq_accident_ticket_report_no"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    report_no: int = 1  # 第N報
    serious: bool = True  # 重大事故等 (第12条1項, 直ちに) or other 消費者事故等 (2項, 速やかに)
    occurred_at: str = Field(default="", max_length=100)  # 発生日時 (as known: may be approximate)
    occurred_place: str = Field(default="", max_length=300)  # 発生場所
    learned_at: datetime = Field(default_factory=utcnow)  # 情報を得た日時
    learned_method: str = Field(default="", max_length=100)  # 情報を得た方法
    circumstances: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # 態様
    product: str = Field(default="", max_length=500)  # 商品等又は役務を特定するために必要な事項
    damage: str = Field(default="", max_length=1000)  # 被害の状況
    detection_reasons: list[str] = json_column()
    confidential: bool = False  # 不開示情報を含む
    whistleblowing: bool = False  # 公益通報
    status: AccidentReportStatus = Field(default=AccidentReportStatus.DRAFT, max_length=16)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    notified_by: int | None = Field(default=None, foreign_key="user.id")
    notified_at: datetime | None = None
    notification_method: str | None = Field(default=None, max_length=50)  # 電話, FAX, 事故情報データバンク...
    escalated_at: datetime | None = None  # when the overdue draft was escalated (crm.accident_escalation)
    created_at: datetime = Field(default_factory=utcnow)


class AccidentCheckStatus(StrEnum):
    PENDING = "pending"  # the screener's 要確認: a counselor has not judged it yet
    SERIOUS = "serious"  # judged a 重大事故等: the ticket is flagged
    NOT_SERIOUS = "not_serious"  # judged not serious, with the counselor's reason


class AccidentCheck(SQLModel, table=True):
    """A possible 重大事故等 (the screener's 要確認 tier) that a counselor must confirm or rule out.

    The flag tier misses a few serious cases on new text; the review tier has held every one on every
    blind set, so each review item is a check a person closes (crm.accident_checks). One open check per
    ticket: later 要確認 messages add their reasons to it.
    """

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    center_id: int = Field(foreign_key="center.id", index=True)
    status: AccidentCheckStatus = Field(default=AccidentCheckStatus.PENDING, max_length=16)
    reasons: list[str] = json_column()
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None
    decision_note: str = Field(default="", max_length=2000)
    escalated_at: datetime | None = None  # a pending check past its deadline went to supervisors once
    created_at: datetime = Field(default_factory=utcnow)


class RetentionPolicy(SQLModel, table=True):
    """How long a center keeps identifying data after a consultation ends (crm.retention).

    A center without a row uses the national default (crm.retention.DEFAULT_RETENTION_YEARS).
    """

    center_id: int = Field(foreign_key="center.id", primary_key=True)
    years: int = Field(ge=1, le=100)
    updated_at: datetime = Field(default_factory=utcnow)


class DataPurge(SQLModel, table=True):
    """Marks a ticket or contact whose identifying data was purged (retention) or erased (請求)."""

    __table_args__ = (UniqueConstraint("object_type", "object_id", name="uq_data_purge_object"),)

    id: int | None = Field(default=None, primary_key=True)
    object_type: str = Field(max_length=16)  # ticket | contact
    object_id: int = Field(index=True)
    cause: str = Field(max_length=16)  # retention | erasure
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow)


class RecordStatus(StrEnum):
    """Lifecycle of a consultation record (決裁): draft → submitted → approved | returned → submitted."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


class CaseRecord(SQLModel, table=True):
    """The PIO-NET-style consultation record of a ticket, as the counselor accepted it (crm/record_review.py).

    ``values`` holds only what a counselor accepted or typed (prefills are suggestions until accepted);
    on approval they are written to the ticket's PIO-NET columns. Exports and statistics count a
    ticket only when its record's ``status`` is ``approved``.
    """

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True, index=True)
    center_id: int = Field(foreign_key="center.id", index=True)
    status: RecordStatus = Field(default=RecordStatus.DRAFT, max_length=16, index=True)
    values: dict[str, Any] = json_dict_column()
    reviewed_values: dict[str, Any] = json_dict_column()  # snapshot at the last review (for the diff)
    comments: dict[str, Any] = json_dict_column()  # field -> the supervisor's comment when returned
    rules_version: str = Field(default="", max_length=32)
    version: int = 0  # bumped on every change
    serious: bool = False  # a serious-accident case: first in the approval queue
    author_id: int | None = Field(default=None, foreign_key="user.id")
    reviewer_id: int | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime | None = None
    reviewed_at: datetime | None = None
    approved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseRecordChange(SQLModel, table=True):
    """One versioned change of a record: who, when, which field, old → new (append-only)."""

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="caserecord.id", index=True)
    version: int
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=32)  # edit | submit | return | approve | resubmit
    field: str | None = Field(default=None, max_length=64)
    old: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: datetime = Field(default_factory=utcnow, index=True)


class RecordFieldFeedback(SQLModel, table=True):
    """A counselor's accept / edit / reject of one prefilled field (what the suggesters learn from)."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    field: str = Field(max_length=64)
    choice: str = Field(max_length=8)  # accept | edit | reject
    suggested: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    chosen: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    confidence: float | None = None
    source: str = Field(default="", max_length=300)  # the words the suggestion came from
    user_id: int | None = Field(default=None, foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow)


class CannedResponse(SQLModel, table=True):
    """A counselor's canned response (定型文) of a center, with {variables} filled per ticket (crm/templates.py)."""

    __table_args__ = (UniqueConstraint("center_id", "title", name="uq_cannedresponse_center_title"),)
    id: int | None = Field(default=None, primary_key=True)
    center_id: int = Field(foreign_key="center.id", index=True)
    title: str = Field(max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
