"""The rows trend statistics are made of: PII-free fields of approved consultation records.

A ticket counts once its consultation record (crm.models.CaseRecord) is ``approved`` (決裁済み), so a
draft is never a statistic and a record is counted once however often it is edited. Dimension values
are kept only when they are in the controlled vocabulary (knowledge/data/*.json); anything else is
``その他`` (never free text). The day is the JST 受付日.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from config.clock import jst_date, jst_day_bounds
from crm.errors import BadRequest
from crm.models import CaseRecord, Center, Contact, RecordStatus, Ticket
from knowledge.sharing import shareable_open_label, vocab_value

OTHER = "その他"
UNKNOWN = "不明"
MAX_DAYS = 3 * 366
HISTORY_DAYS = 8 * 7  # spike detection reads 8 weeks before the period asked for
MAX_RECORDS = 200_000
CHANNEL_LABELS = {"voice": "電話", "line": "LINE", "email": "電子メール", "web": "ウェブ"}


@dataclass(frozen=True)
class TrendRecord:
    """One approved consultation, reduced to the fields statistics may use."""

    ticket_id: int
    day: date
    center: str
    prefecture: str
    channel: str
    category: str  # 商品・役務
    sales_method: str  # 販売購入形態
    age_band: str
    keywords: tuple[str, ...]  # 内容キーワード (vocabulary only)
    serious_accident: bool
    gender: str = UNKNOWN
    occupation: str = UNKNOWN
    contract_amount: int | None = None
    paid_amount: int | None = None
    business: str = UNKNOWN  # 事業者名 as the counselor accepted it on the record, normalized


DIMENSIONS = (
    "category",
    "channel",
    "sales_method",
    "age_band",
    "keyword",
    "center",
    "prefecture",
    "business",
)
# Legal-form words dropped so that 「株式会社ミライホーム」「(株)ミライホーム」「ミライホーム」 count as one business.
_LEGAL_FORMS = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|\(株\)|\(有\)|\(同\)|㈱|㈲"
)


def values_of(record: TrendRecord, dimension: str) -> tuple[str, ...]:
    """The value(s) of ``dimension`` for a record (a record has several 内容キーワード)."""
    if dimension == "keyword":
        return record.keywords
    if dimension not in DIMENSIONS:
        raise BadRequest(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    return (getattr(record, dimension),)


def check_range(date_from: date, date_to: date, max_days: int = MAX_DAYS) -> None:
    """Refuse an inverted or over-long period with a message naming the limit."""
    if date_to < date_from:
        raise BadRequest(f"date_to {date_to} is before date_from {date_from}")
    if (date_to - date_from).days > max_days:
        raise BadRequest(f"the period is longer than {MAX_DAYS} days: ask for a shorter one")


def load_records(
    session: Session, *, date_from: date, date_to: date, center_ids: set[int] | None
) -> list[TrendRecord]:
    """Approved records received in [date_from, date_to] (JST) at ``center_ids`` (None: every center)."""
    check_range(date_from, date_to, MAX_DAYS + HISTORY_DAYS)
    start, end = jst_day_bounds(date_from)[0], jst_day_bounds(date_to)[1]
    query = (
        # Columns, not ORM objects: a year of records loads in a fraction of the time. sqlmodel's select()
        # stubs have overloads for at most 4 columns (the runtime takes any number), hence the ignore.
        select(  # type: ignore[call-overload, misc]
            col(Ticket.id).label("ticket_id"),
            Ticket.created_at,
            Ticket.channel,
            Ticket.product_category,
            Ticket.sales_method,
            Ticket.content_keywords,
            Ticket.serious_accident,
            Ticket.contract_amount,
            Ticket.paid_amount,
            col(CaseRecord.values).label("record_values"),
            Contact.age_band,
            Contact.gender,
            Contact.occupation,
            col(Center.code).label("center"),
            Center.prefecture,
        )
        .join(CaseRecord, col(CaseRecord.ticket_id) == Ticket.id)
        .join(Contact, col(Contact.id) == Ticket.contact_id)
        .join(Center, col(Center.id) == Ticket.center_id)
        .where(CaseRecord.status == RecordStatus.APPROVED)
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
        .order_by(col(Ticket.created_at), col(Ticket.id))
        .limit(MAX_RECORDS + 1)
    )
    if center_ids is not None:
        query = query.where(col(Ticket.center_id).in_(center_ids))
    rows = session.exec(query).all()
    if len(rows) > MAX_RECORDS:
        raise BadRequest(f"more than {MAX_RECORDS} records in that period: ask for a shorter one")
    return [_to_record(row) for row in rows]


@lru_cache(maxsize=4096)
def _vocab(field: str, value: str | None) -> str | None:
    return vocab_value(field, value)


def _label(field: str, value: str | None) -> str:
    """A vocabulary value; その他 for anything else, 不明 when empty."""
    return _vocab(field, value) or (OTHER if value else UNKNOWN)


def _to_record(row: Any) -> TrendRecord:
    """A selected row as a trend record: vocabulary values only."""
    keywords: list[str] = []
    for kw in row.content_keywords or []:
        kept = _vocab("content_keywords", kw) if isinstance(kw, str) else None
        if kept is not None and kept not in keywords:
            keywords.append(kept)
    return TrendRecord(
        ticket_id=row.ticket_id,
        day=jst_date(row.created_at),
        center=row.center,
        prefecture=row.prefecture,
        channel=CHANNEL_LABELS.get(row.channel, OTHER),
        category=_label("product_category", row.product_category),
        sales_method=_label("sales_method", row.sales_method),
        age_band=_vocab("age_band", row.age_band) or UNKNOWN,
        keywords=tuple(keywords),
        serious_accident=bool(row.serious_accident),
        gender=_vocab("gender", row.gender) or UNKNOWN,
        occupation=_vocab("occupation", row.occupation) or UNKNOWN,
        contract_amount=row.contract_amount,
        paid_amount=row.paid_amount,
        business=business_label((row.record_values or {}).get("business_name")),
    )


def business_label(value: Any) -> str:
    """事業者名 for counting: NFKC, spaces and legal-form words removed; 不明 when absent, その他 when
    the name holds anything the PII masker would hide (a consumer's name typed into the field)."""
    if not isinstance(value, str) or not value.strip():
        return UNKNOWN
    name = _LEGAL_FORMS.sub("", unicodedata.normalize("NFKC", value)).replace(" ", "").strip("・")
    if not name:
        return UNKNOWN
    shown = shareable_open_label("business_name", name)
    return name[:64] if shown == name[:64] else OTHER
