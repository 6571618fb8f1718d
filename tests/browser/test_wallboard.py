"""The supervisor wallboard in Chromium: 3,000 counselors, live figures, actions (issue 13, bug 3)."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session

from app import create_app
from config.runtime import get_runtime
from config.settings import Settings
from crm.models import Role, User, utcnow
from routing.models import Presence, PresenceStatus
from tests.browser.workspace_support import log_in, poll, watch_errors
from tests.conftest import _reset_database
from tests.factories import make_center, make_user, receive
from tests.live_server import serve

COUNSELORS = 3000
ROW_HEIGHT = 36  # crm/console/static/wallboard.js


def _staff(session: Session, centers: list[Any]) -> None:
    """3,000 counselors in one insert (the password hash of make_user, computed once)."""
    template = make_user(session, centers[0], "template-user")
    now = utcnow()
    users = [
        User(
            username=f"c{i:04d}",
            display_name=f"相談員{i:04d}",
            password_hash=template.password_hash,
            center_id=centers[i % 2].id,
            capacity={"line": 3},
        )  # fmt: skip
        for i in range(COUNSELORS - 1)
    ]
    session.add_all(users)
    session.flush()
    states = [PresenceStatus.AVAILABLE, PresenceStatus.BUSY, PresenceStatus.BREAK, PresenceStatus.OFFLINE]
    session.add_all(
        Presence(user_id=u.id or 0, status=states[i % 4], since=now, last_heartbeat=now)
        for i, u in enumerate(users)
    )
    session.commit()


def test_wallboard_for_3000_counselors_live_and_acting(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            tokyo, osaka = (
                make_center(session, "TKY", name="東京都消費生活総合センター"),
                make_center(session, "OSK"),
            )
            make_user(session, None, "root", role=Role.ADMIN)
            _staff(session, [tokyo, osaka])
            receive(session, tokyo, "エアコンの修理代が高い", sender="W-1")
            serious = receive(
                session, tokyo, "電気ストーブから出火して火事になりました", sender="W-2"
            ).ticket_id
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "root", "/#/wallboard")
        page.wait_for_selector("#wb-counselors .wb-row")
        assert page.locator("#wb-counselors .wb-row").count() < 80  # virtualized: only the rows in view
        height = page.evaluate("document.querySelector('#wb-counselors .spacer').style.height")
        assert height == f"{COUNSELORS * ROW_HEIGHT}px", height
        page.evaluate(
            "(() => { const b = document.querySelector('#wb-counselors'); b.scrollTop = b.scrollHeight; })()"
        )
        poll(
            page,
            "(min) => [...document.querySelectorAll('#wb-counselors .wb-row')].some((r) => parseInt(r.style.top) >= min)",
            (COUNSELORS - 20) * ROW_HEIGHT,
        )
        first_alert = page.inner_text("#wb-alerts li:first-child")
        assert "重大事故等" in first_alert and f"#{serious}" in first_alert  # serious suspicions first
        assert page.locator("#wb-chart svg rect.bar").count() == 24
        assert page.locator("#wb-queues tbody tr").count() == 1
        wait_cell = page.locator("#wb-queues tbody tr .wait").first
        before = wait_cell.inner_text()
        time.sleep(2.2)
        assert wait_cell.inner_text() != before  # the longest wait ticks

        with Session(runtime.engine, expire_on_commit=False) as session:  # bug 3: a burst of events
            for i in range(8):
                receive(session, tokyo, f"続報{i}", sender="W-1")
                receive(session, osaka, f"大阪の相談{i}", sender=f"O-{i}")
        poll(page, "() => document.querySelectorAll('#wb-queues tbody tr').length === 2")
        time.sleep(1.5)
        assert page.locator("#wb-queues table, #wb-queues tbody").count() == 1
        assert page.locator("#wb-queues tbody tr").count() == 2  # neither duplicated nor wiped
        page.screenshot(path=str(artifacts / "wallboard.png"), full_page=True)

        page.select_option("#wb-center", str(osaka.id))
        poll(
            page,
            "(h) => document.querySelector('#wb-counselors .spacer').style.height === h",
            f"{sum(i % 2 for i in range(COUNSELORS - 1)) * ROW_HEIGHT}px",  # Osaka's half of _staff
        )
        assert page.locator("#wb-queues tbody tr").count() == 1
        page.evaluate("() => { document.querySelector('#wb-counselors').scrollTop = 0; }")
        row = page.locator("#wb-counselors .wb-row.state-busy").first  # Osaka: busy or offline
        user_id = int(row.get_attribute("data-user-id") or 0)
        row.locator("select.state-change").select_option("break")
        page.wait_for_selector("#toast:not([hidden])")
        with Session(runtime.engine) as session:
            assert session.get(Presence, user_id).status == PresenceStatus.BREAK  # type: ignore[union-attr]
        assert not errors, errors


def test_supervisor_adds_a_canned_response_with_variables(migrated: Settings, browser: Any) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "boss", role=Role.SUPERVISOR)
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "boss", "/#/wallboard")
        page.wait_for_selector("#templates-admin:not([hidden]) #tpl-list li")  # the built-in ones at first
        page.fill("#tpl-form input[name=title]", "誤り")
        page.fill("#tpl-form textarea[name=body]", "{consumer_nmae}様")
        page.click("#tpl-form button[type=submit]")
        page.wait_for_selector("#error:has-text('unknown variable {consumer_nmae}')")
        page.fill("#tpl-form textarea[name=body]", "{consumer_name}様、受付番号 {ticket_id} でお調べします。")
        page.fill("#tpl-form input[name=title]", "折返し")
        page.click("#tpl-form button[type=submit]")
        page.wait_for_selector("#tpl-list li:has-text('折返し')")
        assert page.locator("#tpl-list li").count() == 1  # the center's own list replaces the built-in one
        page.click("#tpl-list li button")
        page.wait_for_function("() => !document.querySelector('#tpl-list').textContent.includes('折返し')")
        assert not errors, errors
