"""A counselor logs in to the console, opens a consultation, replies and records the case."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app import create_app
from config.runtime import get_runtime
from config.settings import Settings
from crm.models import Message, MessageStatus, Role, Ticket
from tests.conftest import _reset_database, wait_for
from tests.factories import PASSWORD, make_center, make_user, receive
from tests.live_server import serve


def test_counselor_answers_a_consultation_from_the_console(
    migrated: Settings, browser: Any, tmp_path: Any
) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato", display_name="佐藤")
            r = receive(session, center, "母がサプリの定期購入をやめられません😢", sender="U-console")
            receive(session, make_center(session, "OSK"), "大阪の相談", sender="U-other")
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/")
        page.fill("input[name=username]", "sato")
        page.fill("input[name=password]", "wrong-password")
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#error:has-text('wrong username or password')")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#ticket-table tbody tr")
        rows = page.locator("#ticket-table tbody tr")
        assert rows.count() == 1  # the other center's consultation is not listed
        assert "定期購入" in rows.first.inner_text()
        rows.first.click()
        page.wait_for_selector("#timeline li:has-text('やめられません😢')")
        page.fill("#reply-form textarea", "ご相談ありがとうございます。契約書面はお手元にありますか。")
        assert "/ 5000" in page.inner_text("#reply-count")
        page.click("#reply-form button[type=submit]")
        page.wait_for_selector("#timeline li.outbound:has-text('契約書面')")
        page.fill("input[name=product_category]", "健康食品")
        page.fill("input[name=contract_amount]", "12,800")
        page.click("#fields-form button[type=submit]")
        page.wait_for_selector("#ticket-title")
        page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
        page.click("#lang")
        assert page.inner_text("#reply-form button[type=submit]") == "返信を送信"
        assert not errors, errors
        with Session(runtime.engine) as session:
            assert wait_for(
                lambda: (
                    session.exec(select(Message).where(Message.direction == "outbound")).first() is not None
                )
            )
            session.rollback()
            ticket = session.get(Ticket, r.ticket_id)
            assert (
                ticket is not None
                and ticket.product_category == "健康食品"
                and ticket.contract_amount == 12800
            )
            session.rollback()
            runtime.jobs.drain()  # with Redis, delivery is an RQ job: run it as `madoguchi worker` would
            assert wait_for(lambda: _outbound_status(session) == MessageStatus.SENT)


def _outbound_status(session: Session) -> MessageStatus | None:
    session.rollback()
    msg = session.exec(select(Message).where(Message.direction == "outbound")).first()
    return msg.status if msg else None


def test_console_pages_carry_a_content_security_policy(migrated: Settings) -> None:
    import httpx

    with serve(create_app(migrated)) as url:
        res = httpx.get(url + "/")
        assert res.status_code == 200 and "script-src 'self'" in res.headers["content-security-policy"]
        assert httpx.get(url + "/console/main.js").headers["content-type"].startswith("text/javascript")
        assert httpx.get(url + "/console/../app.py").status_code == 404


def test_supervisor_prepares_a_serious_accident_notification(migrated: Settings, browser: Any) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "boss", role=Role.SUPERVISOR)
            receive(session, center, "電気ストーブから出火して火災になりました。", sender="U-fire")
        page = browser.new_page()
        page.goto(url + "/")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#ticket-table tbody tr.serious")
        page.click("#ticket-table tbody tr.serious")
        page.wait_for_selector("#accident-banner:visible")
        page.click("#accident-open")
        page.wait_for_selector("#accident-form:visible")
        page.click("#accident-form button[type=submit]")
        page.wait_for_selector("#error:has-text('発生日時')")  # refused until every item is filled
        page.fill("#accident-form input[name=occurred_at]", "11月21日 夜")
        page.fill("#accident-form input[name=occurred_place]", "住宅 居室")
        page.fill("#accident-form input[name=product]", "電気ストーブ")
        page.click("#accident-form button[type=submit]")
        page.wait_for_selector("#accident-status:has-text('notified')")


def test_a_possible_accident_shows_as_youkakunin_and_the_draft_flags_the_ticket(
    migrated: Settings, browser: Any
) -> None:
    """要確認: no banner, no queue jump; the reasons are shown and preparing the draft confirms it."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "boss", role=Role.SUPERVISOR)
            t = receive(
                session,
                center,
                "ドライヤーから煙が出て焦げ臭かった。もう少しで火事になるところでした",
                sender="U-smoke",
            )
        page = browser.new_page()
        page.goto(url + "/")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#ticket-table tbody tr")
        assert page.locator("#ticket-table tbody tr.serious").count() == 0
        page.click("#ticket-table tbody tr")
        page.wait_for_selector(".alert.review:has-text('要確認')")
        assert "火事" in page.inner_text(".alert.review")
        assert page.locator("#accident-banner").is_hidden()
        page.click("#accident-open")
        page.wait_for_selector("#accident-form:visible")
        page.wait_for_selector("#accident-banner:visible")
        with Session(runtime.engine) as s:
            ticket = s.get(Ticket, t.ticket_id)
            assert ticket is not None and ticket.serious_accident


def test_a_counselor_must_judge_a_possible_accident_before_resolving(
    migrated: Settings, browser: Any
) -> None:
    """要確認 opens a check: the ticket cannot be resolved until a counselor rules it out with a reason."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato")
            t = receive(session, center, "充電器から煙が出て、火が出そうになった", sender="U-check")
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/")
        page.fill("input[name=username]", "sato")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#ticket-table tbody tr")
        page.click("#ticket-table tbody tr")
        page.wait_for_selector("#accident-check:visible")
        assert "smoke_scorch" in page.inner_text("#accident-check-reasons")
        page.click("#resolve")
        page.wait_for_selector("#error:has-text('要確認')")  # refused while the check is pending
        page.click("#check-not-serious")
        page.wait_for_selector("#error:has-text('why')")  # a ruling-out needs its reason
        page.fill("#accident-check-form input[name=note]", "煙のみ、火は出ていない、けがなし")
        page.click("#check-not-serious")
        page.wait_for_selector("#accident-check", state="hidden")
        page.click("#resolve")
        assert not errors, errors
        with Session(runtime.engine) as s:

            def resolved() -> bool:
                s.rollback()
                ticket = s.get(Ticket, t.ticket_id)
                return ticket is not None and ticket.status == "resolved" and not ticket.serious_accident

            assert wait_for(resolved)
