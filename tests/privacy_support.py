"""Test helpers for the data lifecycle: a consumer with planted identifying data, and a whole-database dump."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from crm.models import (
    AccidentReport,
    Attachment,
    Center,
    Contact,
    ContactIdentity,
    ContactPersonalData,
    InboundEvent,
    InboundEventStatus,
    Message,
    Note,
    OutboxItem,
    Ticket,
    TicketStatus,
)
from tests.factories import make_ticket

NAME = "山田 太郎"
PHONE = "090-1234-5678"
EMAIL = "taro.yamada@example.com"
ADDRESS = "東京都新宿区西新宿二丁目8番1号 メゾン新宿305号室"
LINE_USER = "U4af4980629a1b2c3d4e5f60718293a4b"
# Strings that must not appear anywhere in the database once the consumer's data is purged.
PLANTED = ("山田", "太郎", "1234-5678", "12345678", "taro.yamada", LINE_USER, "西新宿", "メゾン新宿")
TEXT = (
    f"山田太郎です。電話は{PHONE}、メールは{EMAIL}です。住所は{ADDRESS}。"
    "訪問販売で買った浄水器（398,000円）を解約したいのですが業者が応じません。"
)


@dataclass(frozen=True)
class Planted:
    contact_id: int
    ticket_id: int
    message_id: int
    attachment_path: Path


def plant_consumer(
    session: Session,
    center: Center,
    data_dir: Path,
    *,
    closed_at: datetime | None,
    sender: str = LINE_USER,
    attachment_name: str = "yamada-contract.jpg",
    content: bytes = b"\xff\xd8 scanned contract of Yamada Taro",
) -> Planted:
    """A LINE consultation full of identifying data: personal data, note, attachment, raw event,
    outbox row, accident-report draft; closed at ``closed_at`` (None: left open)."""
    ticket = make_ticket(session, center, TEXT, sender=sender)
    message = session.exec(select(Message).where(Message.ticket_id == ticket.id)).one()
    identity = session.exec(select(ContactIdentity).where(ContactIdentity.external_id == sender)).one()
    identity.display_name = "たろう Yamada"
    event_id = f"01HEVENT{ticket.id:06d}"
    message.meta = {**message.meta, "line_event_id": event_id, "reply_token": "rt-123", "latitude": 35.69}
    session.add_all([identity, message])
    session.add(
        InboundEvent(
            channel="line",
            provider_event_id=event_id,
            sender=sender,
            raw=json.dumps({"source": {"userId": sender}, "message": {"text": TEXT}}, ensure_ascii=False),
            status=InboundEventStatus.PROCESSED,
        )
    )
    contact = session.get(Contact, ticket.contact_id)
    assert contact is not None
    contact.age_band, contact.gender, contact.region = "70歳以上", "男性", "東京都新宿区"
    session.add(contact)
    session.merge(
        ContactPersonalData(
            contact_id=ticket.contact_id,
            full_name=NAME,
            phone=PHONE,
            email=EMAIL,
            postal_code="160-0023",
            address=ADDRESS,
        )
    )
    relative = f"attachments/ab/{ticket.id:04d}{'0' * 60}"
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    session.add(
        Attachment(
            message_id=message.id,  # type: ignore[arg-type]
            filename=attachment_name,
            content_type="image/jpeg",
            size=len(content),
            sha256="ab" + "0" * 62,
            storage_path=relative,
            external_ref="line-content-1",
        )
    )
    session.add(Note(ticket_id=ticket.id, body=f"{NAME}様に折り返し。携帯 {PHONE}"))  # type: ignore[arg-type]
    reply = Message(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        direction="outbound",
        channel="line",
        body="山田様、ご相談ありがとうございます。",
        status="sent",
    )
    session.add(reply)
    session.flush()
    session.add(
        OutboxItem(message_id=reply.id, channel="line", recipient=sender, retry_key="k" + str(reply.id))
    )  # type: ignore[arg-type]
    session.add(
        AccidentReport(
            ticket_id=ticket.id,  # type: ignore[arg-type]
            occurred_place=ADDRESS,
            circumstances=TEXT,
            status="notified",
        )
    )
    ticket.product_category, ticket.sales_method = "浄水器", "訪問販売"
    ticket.contract_amount, ticket.paid_amount = 398_000, 100_000
    ticket.summary = f"{NAME}（{PHONE}）から浄水器の訪問販売の解約相談。"
    if closed_at is not None:
        ticket.status, ticket.closed_at, ticket.resolved_at = TicketStatus.CLOSED, closed_at, closed_at
    session.add(ticket)
    session.commit()
    from knowledge.service import index_resolved_ticket

    index_resolved_ticket(session, ticket.id or 0)  # the past-case record (knowledge base)
    session.commit()
    return Planted(ticket.contact_id, ticket.id or 0, message.id or 0, path)


def database_dump(engine: Engine) -> str:
    """The whole database as text: ``pg_dump`` on PostgreSQL, ``iterdump`` on SQLite."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        out = subprocess.run(
            ["pg_dump", "--data-only", conninfo], capture_output=True, text=True, check=True
        ).stdout
        # \restrict / \unrestrict carry a random key per dump (pg_dump security fix): not data
        return "\n".join(
            line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
        )
    engine.dispose()  # let the dump see every committed page
    conn = sqlite3.connect(str(url.database))
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def leaked(dump: str) -> list[str]:
    """The planted identifying strings still present in ``dump``."""
    return [s for s in PLANTED if s in dump or json.dumps(s)[1:-1] in dump]  # JSON columns escape


def ticket_row(session: Session, ticket_id: int) -> Ticket:
    session.expire_all()
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket
