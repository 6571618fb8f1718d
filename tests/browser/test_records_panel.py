"""The record panel (crm/console/static/records.js): the counselor sees the prefilled 契約購入金額 with the
words it came from, accepts it, sees a wrong 既支払額 flagged as they type, and the supervisor approves."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlmodel import Session, select

from app import create_app
from config.runtime import get_runtime
from config.settings import Settings
from crm.models import CaseRecord, RecordStatus, Role
from tests.conftest import _reset_database, wait_for
from tests.factories import PASSWORD, make_center, make_user, receive
from tests.live_server import serve


def _login(page: Any, url: str, username: str) -> None:
    page.goto(url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#ticket-table tbody tr")


def test_counselor_accepts_a_prefilled_amount_and_sees_a_wrong_one_flagged(
    migrated: Settings, browser: Any
) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato", display_name="佐藤")
            make_user(session, center, "boss", role=Role.SUPERVISOR)
            r = receive(
                session,
                center,
                "屋根工事の契約をしました。金額は85万円で、手付金10万円はもう払ってます",
                sender="U-rec",
            )
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(page, url, "sato")
        page.locator("#ticket-table tbody tr").first.click()
        row = page.locator(".records-table tr[data-field=contract_amount]")
        row.locator(".records-prefill:has-text('850,000')").wait_for()
        assert "85万円" in row.inner_text()  # the words the value came from
        row.locator("button.records-accept").click()
        expect(page.locator("[name=record_contract_amount]")).to_have_value("850000")  # no eval: CSP
        page.fill("[name=record_paid_amount]", "9000000")  # a wrong amount, typed
        page.locator(
            ".records-table tr[data-field=paid_amount] .records-error:has-text('既支払額')"
        ).wait_for()
        assert not errors, errors
        with Session(runtime.engine) as session:

            def stored() -> CaseRecord | None:
                session.rollback()  # a fresh read each poll
                return session.exec(select(CaseRecord).where(CaseRecord.ticket_id == r.ticket_id)).first()

            assert wait_for(
                lambda: (rec := stored()) is not None and rec.values.get("contract_amount") == 850_000
            )
            rec = stored()
            assert rec is not None and rec.status == RecordStatus.DRAFT
            assert "paid_amount" not in rec.values  # typed but not saved: nothing is stored unasked
            session.rollback()


def test_supervisor_approves_a_submitted_record_in_one_click(migrated: Settings, browser: Any) -> None:
    from crm import record_review
    from crm.models import Ticket, User

    values = {
        "summary": "訪問販売で屋根工事を契約。クーリング・オフを助言。",
        "product_category": "屋根工事",
        "sales_method": "訪問販売",
        "content_keywords": ["点検商法"],
        "contract_date": "2026-10-15",
        "contract_amount": 850_000,
        "outcome": "助言(自主交渉)",
    }
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            sato = make_user(session, center, "sato")
            make_user(session, center, "boss", role=Role.SUPERVISOR)
            r = receive(session, center, "屋根の点検商法", sender="U-boss")
            ticket = session.get(Ticket, r.ticket_id)
            assert ticket is not None and isinstance(sato, User)
            record_review.edit_record(session, ticket=ticket, actor=sato, changes=values)
            record_review.submit_record(session, ticket=ticket, actor=sato)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _login(page, url, "boss")
        page.locator("#ticket-table tbody tr").first.click()
        page.locator(".records-status:has-text('submitted')").wait_for()
        page.click("button.records-approve")
        page.locator(".records-status:has-text('approved')").wait_for()
        assert not errors, errors
        with Session(runtime.engine) as session:
            rec = session.exec(select(CaseRecord).where(CaseRecord.ticket_id == r.ticket_id)).one()
            assert rec.status == RecordStatus.APPROVED and rec.reviewer_id is not None
