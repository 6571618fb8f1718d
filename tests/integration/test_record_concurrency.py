"""Counselors editing one record at the same moment: one record, every field kept, every change logged."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from config.runtime import Runtime
from crm.models import CaseRecord, CaseRecordChange, RecordFieldFeedback, Ticket, User
from crm.record_choices import FieldChoice, apply_choices
from crm.record_review import edit_record
from tests.factories import make_center, make_ticket, make_user

FIELDS = {
    "contract_amount": 850_000,
    "paid_amount": 100_000,
    "business_name": "株式会社ミライホーム",
    "outcome": "助言(自主交渉)",
    "sales_method": "訪問販売",
    "age_band": "70歳以上",
}


def _in_threads(runtime: Runtime, work: list) -> list[BaseException]:  # type: ignore[type-arg]
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(fn) -> None:  # type: ignore[no-untyped-def]
        try:
            with Session(runtime.engine, expire_on_commit=False) as s:
                start.wait()
                fn(s)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_simultaneous_edits_keep_every_field(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    user = make_user(session, center)
    ticket_id = make_ticket(session, center, "屋根工事の相談").id
    session.commit()  # SQLite: release the write lock before the writers start

    def edit(field: str, value: object):  # type: ignore[no-untyped-def]
        def fn(s: Session) -> None:
            edit_record(
                s, ticket=s.get(Ticket, ticket_id), actor=s.get(User, user.id), changes={field: value}
            )  # type: ignore[arg-type]

        return fn

    assert _in_threads(runtime, [edit(f, v) for f, v in FIELDS.items()]) == []
    session.expire_all()
    records = session.exec(select(CaseRecord).where(CaseRecord.ticket_id == ticket_id)).all()
    assert len(records) == 1  # created once
    assert records[0].values == FIELDS and records[0].version == len(FIELDS)  # no field lost
    changes = session.exec(select(CaseRecordChange).where(CaseRecordChange.record_id == records[0].id)).all()
    assert sorted(c.field for c in changes) == sorted(FIELDS)  # type: ignore[type-var]


def test_the_same_choice_sent_twice_at_once_is_stored_once(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    user = make_user(session, center)
    ticket_id = make_ticket(session, center, "定期購入の相談").id
    session.commit()
    choice = FieldChoice("sales_method", "accept", suggested="通信販売", confidence=0.7)

    def send(s: Session) -> None:
        apply_choices(s, ticket=s.get(Ticket, ticket_id), actor=s.get(User, user.id), choices=[choice])  # type: ignore[arg-type]

    assert _in_threads(runtime, [send, send, send]) == []
    session.expire_all()
    rows = session.exec(select(RecordFieldFeedback).where(RecordFieldFeedback.ticket_id == ticket_id)).all()
    assert len(rows) == 1
