"""Retention and erasure reach the consultation record: personal data a counselor typed into a draft
(and the change log's old → new, and the prefill feedback) is masked with the ticket's text."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from config.runtime import Runtime
from crm import retention
from crm.models import CaseRecord, CaseRecordChange, Ticket
from crm.record_choices import FieldChoice, apply_choices
from crm.record_review import edit_record
from tests.factories import make_center, make_user
from tests.privacy_support import NAME, PHONE, database_dump, leaked, plant_consumer

ENDED = datetime(2020, 3, 31, 15, 30, tzinfo=UTC)


def test_a_purged_ticket_leaves_no_personal_data_in_its_record(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    sato = make_user(session, center, "rec-sato")
    planted = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)
    ticket = session.get(Ticket, planted.ticket_id)
    assert ticket is not None
    edit_record(session, ticket=ticket, actor=sato, changes={"summary": f"{NAME}さん({PHONE})が浄水器を契約"})
    edit_record(
        session,
        ticket=ticket,
        actor=sato,
        changes={"summary": "浄水器を訪問販売で契約", "contract_amount": 398_000},
    )
    choice = FieldChoice(
        "business_name", "edit", suggested=NAME, value="株式会社アクア", source=f"{NAME}です"
    )
    apply_choices(session, ticket=ticket, actor=sato, choices=[choice])
    assert NAME in database_dump(runtime.engine)  # planted in the record's history before the purge

    retention.run_retention(runtime.engine, runtime.settings.data_dir, today=date(2025, 4, 1))

    assert leaked(database_dump(runtime.engine)) == []
    session.expire_all()
    record = session.exec(select(CaseRecord).where(CaseRecord.ticket_id == planted.ticket_id)).one()
    assert record.values["contract_amount"] == 398_000 and record.values["business_name"] == "株式会社アクア"
    first = session.exec(select(CaseRecordChange).where(CaseRecordChange.field == "summary")).first()
    assert first is not None and "浄水器を契約" in first.new  # the narrative stays, masked
