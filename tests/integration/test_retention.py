"""Retention (個人情報の保存期間): identifying data is purged N years after a consultation ends, in JST,
and nothing identifying survives anywhere in the database; anonymized statistics stay."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from config.runtime import Runtime
from crm import retention
from crm.models import (
    Attachment,
    Contact,
    ContactIdentity,
    ContactPersonalData,
    DataPurge,
    InboundEvent,
    Message,
    Note,
    TicketStatus,
)
from tests.factories import make_center
from tests.privacy_support import (
    EMAIL,
    NAME,
    PHONE,
    database_dump,
    leaked,
    plant_consumer,
    ticket_row,
)

# 2020-03-31 15:30 UTC is 2020-04-01 00:30 in JST: the consultation ended on 1 April (JST).
ENDED = datetime(2020, 3, 31, 15, 30, tzinfo=UTC)


def _run(runtime: Runtime, today: date, **kw: object) -> retention.RetentionReport:
    return retention.run_retention(runtime.engine, runtime.settings.data_dir, today=today, **kw)  # type: ignore[arg-type]


def test_purge_leaves_nothing_identifying_and_keeps_statistics(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    planted = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)
    assert leaked(database_dump(runtime.engine)), "the planted data should be in the database before"

    report = _run(runtime, date(2025, 4, 1))

    assert [t.ticket_id for t in report.tickets] == [planted.ticket_id]
    assert report.contacts == [planted.contact_id]
    assert leaked(database_dump(runtime.engine)) == []
    assert not planted.attachment_path.exists(), "the attachment file must be deleted from disk"
    session.expire_all()
    ticket = ticket_row(session, planted.ticket_id)
    assert (ticket.product_category, ticket.sales_method) == ("浄水器", "訪問販売")
    assert (ticket.contract_amount, ticket.paid_amount, ticket.status) == (
        398_000,
        100_000,
        TicketStatus.CLOSED,
    )
    assert "浄水器" in ticket.summary and "[氏名]" in ticket.summary and "[電話番号]" in ticket.summary
    contact = session.get(Contact, planted.contact_id)
    assert contact is not None
    assert (contact.age_band, contact.gender, contact.region) == ("70歳以上", "男性", "東京都")
    message = session.get(Message, planted.message_id)
    assert message is not None
    assert "訪問販売で買った浄水器" in message.body, "the narrative stays, masked"
    assert "reply_token" not in message.meta and "latitude" not in message.meta
    assert session.get(ContactPersonalData, planted.contact_id) is None
    assert session.exec(select(ContactIdentity)).all() == []
    attachment = session.exec(select(Attachment)).one()
    assert (attachment.status, attachment.storage_path, attachment.filename) == (
        "purged",
        None,
        "attachment.jpg",
    )


def test_due_on_the_jst_anniversary_not_the_utc_one(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    planted = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)

    # In UTC the ticket closed on 31 March 2020; in JST on 1 April: not due on 31 March 2025.
    assert _run(runtime, date(2025, 3, 31)).tickets == []
    assert session.get(ContactPersonalData, planted.contact_id) is not None
    session.commit()  # SQLite: a reading transaction holds the write lock
    assert [t.due_on for t in _run(runtime, date(2025, 4, 1)).tickets] == [date(2025, 4, 1)]


def test_each_center_keeps_its_own_period(runtime: Runtime, session: Session) -> None:
    five, ten = make_center(session), make_center(session)
    retention.set_retention_years(session, center_code=ten.code, years=10, actor_id=None)
    a = plant_consumer(session, five, runtime.settings.data_dir, closed_at=ENDED)
    b = plant_consumer(session, ten, runtime.settings.data_dir, closed_at=ENDED, sender="U-other-consumer")

    assert [t.ticket_id for t in _run(runtime, date(2026, 1, 1)).tickets] == [a.ticket_id]
    assert [t.ticket_id for t in _run(runtime, date(2030, 4, 1)).tickets] == [b.ticket_id]


def test_retention_years_are_bounded(session: Session) -> None:
    center = make_center(session)
    from crm.errors import BadRequest

    for years in (0, -1, 101):
        with pytest.raises(BadRequest, match="1 to 100 years"):
            retention.set_retention_years(session, center_code=center.code, years=years, actor_id=None)
    assert retention.retention_years(session, center.id or 0) == retention.DEFAULT_RETENTION_YEARS


def test_dry_run_changes_nothing_and_a_second_run_purges_nothing(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    planted = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)
    before = database_dump(runtime.engine)

    dry = _run(runtime, date(2025, 4, 1), dry_run=True)

    assert [t.ticket_id for t in dry.tickets] == [planted.ticket_id] and dry.contacts == [planted.contact_id]
    assert database_dump(runtime.engine) == before
    assert planted.attachment_path.exists()
    _run(runtime, date(2025, 4, 1))
    again = _run(runtime, date(2026, 4, 1))
    assert (again.tickets, again.contacts) == ([], [])
    assert len(session.exec(select(DataPurge)).all()) == 2


def test_an_open_ticket_keeps_the_identities_but_the_old_ticket_is_masked(
    runtime: Runtime, session: Session
) -> None:
    center = make_center(session)
    old = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)
    from tests.factories import make_ticket
    from tests.privacy_support import LINE_USER

    recent = make_ticket(session, center, "また相談です", sender=LINE_USER)
    session.commit()
    assert recent.contact_id == old.contact_id and recent.status not in retention.ENDED_STATUSES

    report = _run(runtime, date(2025, 4, 1))

    assert [t.ticket_id for t in report.tickets] == [old.ticket_id] and report.contacts == []
    session.expire_all()
    assert session.get(ContactPersonalData, old.contact_id) is not None
    assert session.exec(select(ContactIdentity)).one().external_id == LINE_USER
    assert NAME.replace(" ", "") not in (session.get(Message, old.message_id) or Message()).body
    notes = session.exec(select(Note).where(Note.ticket_id == old.ticket_id)).all()
    assert notes and all(PHONE not in n.body for n in notes)


def test_a_file_shared_with_a_live_attachment_stays(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    old = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)
    live = plant_consumer(session, center, runtime.settings.data_dir, closed_at=None, sender="U-someone-else")
    shared = session.exec(select(Attachment).where(Attachment.message_id == live.message_id)).one()
    shared.storage_path = str(old.attachment_path.relative_to(runtime.settings.data_dir))
    session.add(shared)
    session.commit()

    _run(runtime, date(2025, 4, 1))

    assert old.attachment_path.exists(), "content-addressed file still used by a live attachment"


def test_raw_webhook_bodies_of_the_consumer_are_purged(runtime: Runtime, session: Session) -> None:
    center = make_center(session)
    plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)

    _run(runtime, date(2025, 4, 1))

    event = session.exec(select(InboundEvent)).one()
    assert (event.raw, event.sender) == (retention.PURGED_RAW, None)


def test_the_purge_runs_as_a_periodic_job(runtime: Runtime) -> None:
    assert retention.retention_job in [p.func for p in runtime.periodic]


def test_cli_dry_run_prints_what_would_be_purged(
    runtime: Runtime, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import madoguchi_cli

    center = make_center(session)
    planted = plant_consumer(session, center, runtime.settings.data_dir, closed_at=ENDED)
    monkeypatch.setattr(madoguchi_cli, "_settings", lambda: runtime.settings)
    madoguchi_cli._mount_subcommands()

    result = CliRunner().invoke(madoguchi_cli.cli, ["retention", "run", "--dry-run", "--today", "2025-04-01"])

    assert result.exit_code == 0, result.output
    assert f'"ticket_id": {planted.ticket_id}' in result.stdout and '"dry_run": true' in result.stdout
    assert session.get(ContactPersonalData, planted.contact_id) is not None
    bad = CliRunner().invoke(madoguchi_cli.cli, ["retention", "run", "--today", "1 April"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_scrubber_catches_the_known_values_in_any_spacing() -> None:
    scrub = retention.Scrubber([("name", NAME), ("phone", PHONE), ("email", EMAIL)])
    text = "山田　太郎さん、０９０ １２３４ ５６７８ / TARO.YAMADA@EXAMPLE.COM / 09012345678 / 〇九〇・一二三四・五六七八"
    out = scrub(text)
    for kept in ("山田", "1234", "１２３４", "一二三四", "YAMADA"):
        assert kept not in out, (kept, out)


def test_prefecture_of() -> None:
    assert retention.prefecture_of("東京都新宿区") == "東京都"
    assert retention.prefecture_of("神奈川県横浜市") == "神奈川県"
    assert retention.prefecture_of("大阪府大阪市北区") == "大阪府"
    assert retention.prefecture_of("北海道札幌市") == "北海道"
    assert retention.prefecture_of("新宿区") is None
    assert retention.prefecture_of(None) is None


def test_add_years_handles_29_february() -> None:
    assert retention.add_years(date(2024, 2, 29), 5) == date(2029, 3, 1)
    assert retention.add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_a_contact_without_any_ticket_is_purged_after_the_default_period(
    runtime: Runtime, session: Session
) -> None:
    old = Contact(created_at=datetime(2019, 1, 10, tzinfo=UTC))
    recent = Contact(created_at=datetime(2024, 6, 1, tzinfo=UTC))
    session.add_all([old, recent])
    session.flush()
    session.add(ContactIdentity(contact_id=old.id or 0, channel="line", external_id="U-followed-only"))
    session.add(ContactIdentity(contact_id=recent.id or 0, channel="line", external_id="U-recent"))
    session.commit()

    report = _run(runtime, date(2025, 4, 1))

    assert report.contacts == [old.id]
    assert [i.external_id for i in session.exec(select(ContactIdentity)).all()] == ["U-recent"]
