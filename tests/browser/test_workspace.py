"""The counselor workspace in Chromium: issue 13's bugs 2, 4 and 6, XSS from every channel, and
accessibility basics. Each test fails on the console before the fix it names."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlmodel import Session, select

from app import create_app
from channels.base import ChannelKind
from config.runtime import get_runtime
from config.settings import Settings
from crm.models import Attachment, AuditLog, Contact, Message, Note, Role, Ticket
from routing.models import Presence, PresenceStatus
from tests.browser.workspace_support import log_in, settle, watch_errors
from tests.conftest import _reset_database, wait_for
from tests.factories import make_center, make_user, receive
from tests.live_server import serve


def _presence(runtime: Any, user_id: int) -> PresenceStatus | None:
    with Session(runtime.engine) as session:
        row = session.get(Presence, user_id)
        return row.status if row else None


def test_presence_shows_what_the_server_has_after_login_and_reload(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    """Bug 2: the dropdown said 受付可 while the server had the counselor offline."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            sato_id = make_user(session, make_center(session, "TKY"), "sato").id
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato")
        assert page.input_value("#presence") == "offline"
        # The softphone is part of the console; without Twilio settings it says so instead of failing.
        page.wait_for_selector("#softphone[data-state='not_configured']")
        page.select_option("#presence", "break")
        assert wait_for(lambda: _presence(runtime, sato_id) == PresenceStatus.BREAK)
        page.reload()
        page.wait_for_selector("#me:not([hidden])")
        page.wait_for_function("document.querySelector('#presence').value === 'break'")
        page.screenshot(path=str(artifacts / "presence.png"))
        assert not errors, errors


def test_deep_link_live_timeline_reload_and_back_button(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    """Bug 4: an open ticket shows a new consumer message without reload; views have URLs."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato")
            first = receive(session, center, "エステの契約を解約したい", sender="U-live").ticket_id
            receive(session, center, "通販の返品について", sender="U-other")
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato", f"/#/tickets/{first}")  # a deep link survives the login form
        page.wait_for_selector("#timeline li:has-text('エステの契約')")
        assert page.is_visible("#view-ticket")
        with Session(runtime.engine, expire_on_commit=False) as session:
            again = receive(session, center, "書面は11月20日に受け取りました", sender="U-live").ticket_id
        assert again == first
        page.wait_for_selector("#timeline li:has-text('11月20日に受け取りました')", timeout=15_000)
        page.reload()
        page.wait_for_selector(f"#ticket-title:has-text('#{first}')")
        assert page.locator("#timeline li.inbound").count() == 2
        page.goto(url + "/#/tickets?scope=all&sort=oldest")
        page.wait_for_selector("#ticket-table tbody tr")
        assert page.locator("#ticket-table tbody tr").first.get_attribute("data-ticket-id") == str(first)
        page.locator("#ticket-table tbody tr").nth(1).click()
        page.wait_for_selector("#view-ticket:not([hidden])")
        page.go_back()
        page.wait_for_selector("#view-tickets:not([hidden])")
        assert page.input_value("#list-filters select[name=sort]") == "oldest"
        page.screenshot(path=str(artifacts / "list.png"), full_page=True)
        assert not errors, errors


def test_japanese_labels_offer_countdown_and_friendly_errors(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    """Bug 6: labels stayed English in 日本語 mode, "note note", raw validation text, bare offers."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            sato_id = make_user(session, center, "sato", display_name="佐藤").id
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato")
        page.click("#lang")
        page.select_option("#presence", "available")
        assert wait_for(lambda: _presence(runtime, sato_id) == PresenceStatus.AVAILABLE)
        settle(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            ticket_id = receive(
                session, center, "点検商法で屋根工事を契約させられた", sender="U-offer"
            ).ticket_id
        settle(runtime)
        offer = page.wait_for_selector("#offer-list li", timeout=20_000)
        text = offer.inner_text()
        assert "点検商法" in text and "理由" in text, text  # subject and reason
        first = page.inner_text("#offer-list .countdown")
        assert re.fullmatch(r"\d+:\d\d", first), first
        time.sleep(1.6)
        assert page.inner_text("#offer-list .countdown") != first  # it counts down
        page.wait_for_selector(f"#ticket-table tbody tr[data-ticket-id='{ticket_id}']")
        row = page.inner_text(f"#ticket-table tbody tr[data-ticket-id='{ticket_id}']")
        assert "割当て提案中" in row and "offered" not in row, row
        page.screenshot(path=str(artifacts / "offer-ja.png"), full_page=True)
        page.click("#offer-list button.accept")
        page.wait_for_selector(f"#ticket-title:has-text('#{ticket_id}')")
        assert "対応中" in page.inner_text("#ticket-title")
        page.click("#reply-form button[type=submit]")  # empty
        page.wait_for_selector("#error:has-text('返信が空です')")
        page.fill("#reply-form textarea", "屋根の写真はありますか")
        page.click("#add-note")
        note = page.wait_for_selector("#timeline li.note")
        meta = note.query_selector(".meta").inner_text()  # type: ignore[union-attr]
        assert "内部メモ" in meta and "note" not in meta, meta
        assert page.inner_text("#reply-form button[type=submit]") == "返信を送信"
        assert page.inner_text("#whoami") == "佐藤 (相談員)"
        page.screenshot(path=str(artifacts / "ticket-ja.png"), full_page=True)
        with Session(runtime.engine) as session:
            assert (
                session.exec(select(Note).where(Note.ticket_id == ticket_id)).one().body
                == "屋根の写真はありますか"
            )
        assert not errors, errors


def test_admin_pages_through_every_ticket(migrated: Settings, browser: Any) -> None:
    """Bug 6: an admin saw 100 of 240 tickets and no way to the rest."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            a, b = make_center(session, "TKY"), make_center(session, "OSK")
            make_user(session, None, "root", role=Role.ADMIN)
            for i in range(61):
                receive(session, a if i % 2 else b, f"相談その{i}", sender=f"U-page-{i}")
        page = browser.new_page()
        log_in(page, url, "root", "/#/tickets?scope=all")
        page.wait_for_selector("#page-info:has-text('of 61')")
        assert page.locator("#ticket-table tbody tr").count() == 50
        assert page.inner_text("#page-info") == "1–50 of 61"
        page.click("#page-next")
        page.wait_for_selector("#page-info:has-text('51–61 of 61')")
        assert page.locator("#ticket-table tbody tr").count() == 11
        assert page.is_disabled("#page-next")
        page.go_back()
        page.wait_for_selector("#page-info:has-text('1–50 of 61')")


XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_markup_from_every_channel_is_shown_as_text(migrated: Settings, browser: Any, artifacts: Any) -> None:
    senders = {
        ChannelKind.LINE: "U-xss",
        ChannelKind.EMAIL: "xss@example.jp",
        ChannelKind.VOICE: "+81312345678",
    }
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "boss", role=Role.SUPERVISOR)
            ids = [
                receive(session, center, f"{channel.value}: {XSS}", sender=sender, channel=channel).ticket_id
                for channel, sender in senders.items()
            ]
            message = session.exec(select(Message).where(Message.ticket_id == ids[0])).first()
            session.add(Attachment(message_id=message.id, filename=f"{XSS}.html", content_type="text/html",  # type: ignore[union-attr]
                                   status="stored", storage_path="nowhere.html"))  # fmt: skip
            session.commit()
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "boss", "/#/tickets?scope=all")
        page.wait_for_selector("#ticket-table tbody tr")
        for ticket_id in ids:
            page.goto(f"{url}/#/tickets/{ticket_id}")
            page.wait_for_selector(f"#ticket-title:has-text('#{ticket_id}')")
            page.wait_for_selector("#timeline li.inbound")
            assert "<img src=x" in page.inner_text("#timeline li.inbound .body")
            page.wait_for_selector("#contact li")
            if ticket_id == ids[0]:
                link = page.wait_for_selector("#attachments a")
                assert "<img src=x" in link.inner_text() and link.get_attribute("download")  # type: ignore[union-attr]
        assert page.evaluate("window.__xss") is None
        assert page.locator("main img, main script").count() == 0
        page.screenshot(path=str(artifacts / "xss.png"), full_page=True)
        assert not errors, errors


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((n) => n.offsetParent !== null && n.type !== 'hidden')
  .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !(n.textContent || '').trim())
  .map((n) => n.outerHTML.slice(0, 80))"""

LOW_CONTRAST = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = (n) => { for (; n; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor); if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = [];
  for (const n of document.querySelectorAll('body *')) {
    if (n.offsetParent === null || n.closest('svg')) continue;
    if (![...n.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim())) continue;
    const a = lum(rgb(getComputedStyle(n).color)), b = lum(bg(n));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) out.push(`${n.tagName}.${n.className}: ${ratio.toFixed(2)} ${n.textContent.trim().slice(0, 30)}`);
  }
  return out;
}"""


def test_accessibility_basics(migrated: Settings, browser: Any) -> None:
    """Every control has a name, the login form is reachable in order by keyboard, text has contrast."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato")
            ticket_id = receive(session, center, "訪問販売で布団を買わされた", sender="U-a11y").ticket_id
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_selector("#view-login:not([hidden])")
        assert page.evaluate(UNLABELLED) == []
        order = []
        for _ in range(4):
            page.keyboard.press("Tab")
            order.append(page.evaluate("document.activeElement.name || document.activeElement.className"))
        assert order[1:4] == ["username", "password", ""] or order[:3] == ["username", "password", ""], order
        page.fill("input[name=username]", "sato")
        page.fill("input[name=password]", "correct-horse-battery")
        page.keyboard.press("Enter")
        page.wait_for_selector("#ticket-table tbody tr")
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(LOW_CONTRAST) == []
        page.goto(f"{url}/#/tickets/{ticket_id}")
        page.wait_for_selector("#timeline li")
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(LOW_CONTRAST) == []
        assert page.evaluate("document.activeElement.id") == "ticket-title"  # focus moves to the new view
        with Session(runtime.engine) as session:
            assert session.get(Ticket, ticket_id) is not None


def test_counselor_day_flow_canned_reply_cooling_off_escalation_and_shortcuts(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    """Canned response with variables, Ctrl+Enter sends and takes the ticket, the 書面 date gives the
    cooling-off deadline, escalation goes to the supervisor with its reason, g l returns to the list."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY", name="新宿区消費生活センター")
            sato_id = make_user(session, center, "sato", display_name="佐藤").id
            make_user(session, center, "boss", role=Role.SUPERVISOR, display_name="鈴木")
            ticket_id = receive(
                session, center, "訪問販売で布団を契約しました。やめたいです", sender="U-day"
            ).ticket_id
            ticket = session.get(Ticket, ticket_id)
            ticket.sales_method = "訪問販売"  # type: ignore[union-attr]
            session.commit()
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato", f"/#/tickets/{ticket_id}")
        page.wait_for_selector("#cooling-off:has-text('訪問販売')")
        received = page.evaluate(
            "() => { const d = new Date(Date.now() - 3 * 864e5);"
            " return d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' }); }"
        )
        page.fill("#cooling-form input[name=document_received]", received)
        page.click("#cooling-form button[type=submit]")
        page.wait_for_selector("#cooling-off:has-text('days left')")
        assert "has not been received" not in page.inner_text("#cooling-off")
        page.click("#suggestions button.apply:has-text('寝具類')")  # one click applies and teaches
        page.wait_for_selector("#toast:has-text('寝具類')")
        assert page.input_value("#fields-form input[name=product_category]") == "寝具類"
        with Session(runtime.engine) as session:
            assert session.get(Ticket, ticket_id).product_category == "寝具類"  # type: ignore[union-attr]
            feedback = session.exec(select(AuditLog).where(AuditLog.action == "ticket.labels_feedback")).all()
            assert len(feedback) == 1 and feedback[0].detail["chosen"] == {"product_category": "寝具類"}
        page.select_option("#canned", "0")
        page.click("#canned-insert")
        body = page.input_value("#reply-form textarea")
        assert "新宿区消費生活センターの佐藤です" in body and "{" not in body, body
        page.focus("#reply-form textarea")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector("#timeline li.outbound:has-text('新宿区消費生活センターの佐藤です')")
        page.wait_for_selector("#ticket-title:has-text('Waiting on consumer')")
        with Session(runtime.engine) as session:
            assert session.get(Ticket, ticket_id).assignee_id == sato_id  # type: ignore[union-attr]
        page.click("#escalate")
        page.fill("#transfer-form input[name=reason]", "高額のため SV 判断")
        page.click("#transfer-form button[type=submit]")
        page.wait_for_selector("#timeline li.kind-escalation:has-text('高額のため SV 判断')")
        assert "鈴木" in page.inner_text("#ticket-title")
        page.screenshot(path=str(artifacts / "day-flow.png"), full_page=True)
        page.keyboard.press("Escape")
        page.wait_for_selector("#view-tickets:not([hidden])")
        page.goto(f"{url}/#/tickets/{ticket_id}")
        page.wait_for_selector("#view-ticket:not([hidden])")
        page.keyboard.press("g")
        page.keyboard.press("l")
        page.wait_for_selector(f"#ticket-table tbody tr[data-ticket-id='{ticket_id}']")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#ticket-title:has-text('#{ticket_id}')")
        assert not errors, errors


def test_a_resync_event_refetches_what_the_console_shows(migrated: Settings, browser: Any) -> None:
    """The live contract: on `resync` (a gap the server cannot replay) the console reloads from the API."""
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato")
            receive(session, center, "最初の相談", sender="U-r1")
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato", "/#/tickets?scope=all")
        page.wait_for_selector("#live-state:has-text('live')")
        assert page.locator("#ticket-table tbody tr").count() == 1
        with Session(runtime.engine, expire_on_commit=False) as session:  # written without any event
            contact = Contact()
            session.add(contact)
            session.flush()
            session.add(
                Ticket(
                    center_id=center.id, contact_id=contact.id, channel="email", subject="イベントなしの相談"
                )
            )  # type: ignore[arg-type]
            session.commit()
        time.sleep(1.5)
        assert page.locator("#ticket-table tbody tr").count() == 1  # nothing told the console yet
        runtime.live.publish({"event": "resync", "reason": "test: replay buffer lost"})
        page.wait_for_selector("#ticket-table tbody tr:has-text('イベントなしの相談')", timeout=10_000)
        assert not errors, errors
