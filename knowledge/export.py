"""PIO-NET-style case export: attributes and case fields only, free text PII-masked.

Each row is built from ``knowledge.sharing.shareable_case`` (vocabulary-checked labels and attributes,
coarsened 地域, masked free text), never from a raw field.

Identifying data (ContactPersonalData, channel identities) is never exported; the consumer appears
only through 年代・性別・職業・地域. Every export is written to the audit log.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlmodel import Session, col, select

from config.clock import jst_date, jst_day_bounds
from crm.audit import write_audit
from crm.errors import BadRequest
from crm.models import Center, Contact, Ticket, User
from crm.queries import visible_center_ids
from crm.record_review import approved_ticket_ids
from knowledge.sharing import shareable_case  # the one whitelisted cross-center view of a case

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
    """CSV text (UTF-8 with BOM, for Excel) of the cases received in [date_from, date_to] that ``user`` may see,
    whose consultation record is approved (crm/record_review.py)."""
    if date_to < date_from:
        raise BadRequest("date_to is before date_from")
    start, end = jst_day_bounds(date_from)[0], jst_day_bounds(date_to)[1]
    query = (
        select(Ticket, Contact, Center)
        .join(Contact, col(Contact.id) == Ticket.contact_id)
        .join(Center, col(Center.id) == Ticket.center_id)
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
        .where(col(Ticket.id).in_(approved_ticket_ids()))  # only records approved (決裁) count
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
        case = shareable_case(ticket, contact)
        writer.writerow(
            (
                ticket.id,
                jst_date(ticket.created_at).isoformat(),
                CHANNEL_LABELS.get(case.channel, ""),
                center.code,
                case.age_band or "不明",
                case.gender or "不明",
                case.occupation or "不明",
                case.region,
                case.labels.get("product_category", ""),
                case.labels.get("sales_method", ""),
                "、".join(case.labels.get("content_keywords", [])),
                "" if case.contract_amount is None else case.contract_amount,
                "" if case.paid_amount is None else case.paid_amount,
                case.labels.get("outcome", ""),
                "1" if case.serious_accident else "0",
                case.subject,
                case.summary,
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
