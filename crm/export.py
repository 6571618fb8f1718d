"""PIO-NET-style case export: attributes and case fields only, free text PII-masked.

Identifying data (ContactPersonalData, channel identities) is never exported; the consumer appears
only through 年代・性別・職業・地域. Every export is written to the audit log.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import Session, col, select

from crm.audit import write_audit
from crm.errors import BadRequest
from crm.models import Center, Contact, Ticket, User
from crm.queries import visible_center_ids

JST = timezone(timedelta(hours=9))
MAX_ROWS = 100_000
CHANNEL_LABELS = {"voice": "電話", "line": "LINE", "email": "電子メール", "web": "ウェブ"}
COLUMNS = (
    "受付番号",
    "受付日",
    "受付方法",
    "センター",
    "契約当事者年代",
    "性別",
    "職業",
    "地域",
    "商品・役務",
    "販売購入形態",
    "内容キーワード",
    "契約購入金額",
    "既支払額",
    "処理結果",
    "重大事故等",
    "件名",
    "相談概要",
)


def export_cases_csv(session: Session, *, user: User, date_from: date, date_to: date) -> tuple[str, int]:
    """CSV text (UTF-8 with BOM, for Excel) of the cases received in [date_from, date_to] that ``user`` may see."""
    from knowledge.pii import mask

    if date_to < date_from:
        raise BadRequest("date_to is before date_from")
    start = datetime.combine(date_from, time.min, tzinfo=JST)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=JST)
    query = (
        select(Ticket, Contact, Center)
        .join(Contact, col(Contact.id) == Ticket.contact_id)
        .join(Center, col(Center.id) == Ticket.center_id)
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
        .order_by(col(Ticket.created_at), col(Ticket.id))
        .limit(MAX_ROWS + 1)
    )
    allowed = visible_center_ids(user)
    if allowed is not None:
        query = query.where(col(Ticket.center_id).in_(allowed))
    rows = session.exec(query).all()
    if len(rows) > MAX_ROWS:
        raise BadRequest(f"more than {MAX_ROWS} cases in that period: export a shorter date range")
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for ticket, contact, center in rows:
        writer.writerow(
            (
                ticket.id,
                ticket.created_at.astimezone(JST).date().isoformat(),
                CHANNEL_LABELS.get(ticket.channel, ticket.channel),
                center.code,
                contact.age_band or "不明",
                contact.gender or "不明",
                contact.occupation or "不明",
                contact.region or "",
                ticket.product_category or "",
                ticket.sales_method or "",
                "、".join(ticket.content_keywords),
                "" if ticket.contract_amount is None else ticket.contract_amount,
                "" if ticket.paid_amount is None else ticket.paid_amount,
                ticket.outcome or "",
                "1" if ticket.serious_accident else "0",
                mask(ticket.subject),
                mask(ticket.summary),
            )
        )
    write_audit(
        session,
        actor_id=user.id,
        action="cases.export",
        object_type="export",
        object_id="cases.csv",
        detail={"from": date_from.isoformat(), "to": date_to.isoformat(), "rows": len(rows)},
    )
    session.commit()
    return out.getvalue(), len(rows)
