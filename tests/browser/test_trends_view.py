"""The supervisor's Trends / 傾向 view in Chromium (issue 15), and the 重大事故等 panel's deadline.

Approved records are planted directly: a weekly 化粧品 series with one week of a single case (hidden,
「秘匿」) and a wave of 健康食品 in SPIKE_WEEK that the detector flags."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlmodel import Session

from app import create_app
from config.clock import JST
from config.runtime import get_runtime
from config.settings import Settings
from crm import accidents
from crm.models import (
    CaseRecord,
    Center,
    Contact,
    ContactPersonalData,
    RecordStatus,
    Role,
    Ticket,
    TicketStatus,
    utcnow,
)
from tests.browser.workspace_support import log_in, watch_errors
from tests.conftest import _reset_database
from tests.factories import make_center, make_user, receive
from tests.live_server import serve

SPIKE_WEEK = date(2026, 9, 21)  # a Monday
LONE_WEEK = SPIKE_WEEK - timedelta(weeks=5)  # 化粧品 has a single case here: 「秘匿」
NAME, PHONE = "山田花子", "090-1234-5678"
TRENDS = "/#/trends?dimension=category&date_from=2026-07-13&date_to=2026-09-27"


def _case(session: Session, center: Center, day: date, category: str, **fields: Any) -> None:
    """A closed consultation received at noon JST on ``day`` with an approved record."""
    at = datetime.combine(day, clock_time(12), tzinfo=JST)
    contact = Contact(age_band="70歳以上", gender="女性", occupation="無職")
    session.add(contact)
    session.flush()
    session.add(ContactPersonalData(contact_id=contact.id, full_name=NAME, phone=PHONE))  # type: ignore[arg-type]
    ticket = Ticket(
        center_id=center.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        channel=fields.pop("channel", "voice"),
        status=TicketStatus.CLOSED,
        subject=fields.pop("subject", "定期購入の解約"),
        summary=f"{NAME}さん（{PHONE}）から。お試しのはずが定期購入だった。",
        product_category=category,
        sales_method=fields.pop("sales_method", "通信販売"),
        content_keywords=["定期購入"],
        created_at=at,
        updated_at=at,
    )
    session.add(ticket)
    session.flush()
    session.add(
        CaseRecord(ticket_id=ticket.id, center_id=center.id, status=RecordStatus.APPROVED, approved_at=at)  # type: ignore[arg-type]
    )


def _plant(session: Session, center: Center) -> None:
    for week in range(1, 11):
        monday = SPIKE_WEEK - timedelta(weeks=week)
        if week % 3:
            _case(session, center, monday + timedelta(days=1), "健康食品")
        for n in range(1 if monday == LONE_WEEK else 3):
            _case(
                session,
                center,
                monday + timedelta(days=2 + n),
                "化粧品",
                sales_method="店舗購入",
                channel="line",
            )
    for n in range(9):
        _case(session, center, SPIKE_WEEK + timedelta(days=n % 7), "健康食品", subject="サプリの定期購入")
    for n in range(3):
        _case(
            session, center, SPIKE_WEEK + timedelta(days=n), "化粧品", sales_method="店舗購入", channel="line"
        )
    session.commit()


def test_supervisor_sees_weekly_trends_with_the_spike_and_hidden_cells(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY", name="東京都消費生活総合センター")
            make_user(session, center, "sv", role=Role.SUPERVISOR)
            _plant(session, center)
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sv", TRENDS)
        assert page.is_visible("#nav-trends")
        spike = page.wait_for_selector(
            "#trends-chart svg .spike[data-value='健康食品'][data-week='2026-09-21']"
        )
        assert "spike" in (spike.text_content() or "")
        # The lone 化粧品 week is a hatched 「秘匿」 mark and a break in the line, not a point at 0.
        cosmetics = "#trends-chart g.series[data-value='化粧品']"
        gap = page.locator(f"{cosmetics} .suppressed[data-period='{LONE_WEEK}']")
        assert gap.count() == 1
        assert "秘匿" in gap.locator("title").text_content()
        assert page.locator(f"{cosmetics} polyline").count() == 2  # the line is cut in two at the gap
        points = page.locator(f"{cosmetics} circle.point title").all_text_contents()
        assert not any(str(LONE_WEEK) in p for p in points), points
        assert any(p.endswith(": 3") for p in points), points
        assert "秘匿" in page.inner_text("#trends-legend")
        row = page.locator("#trends-table tbody tr", has_text="化粧品").inner_text()
        assert "秘匿" in row and "\t0\t" not in row, row
        # The spike is listed with masked examples: the subject, never the consumer's name or phone.
        item = page.locator("#trends-spikes li.spike-item[data-value='健康食品']")
        text = item.inner_text()
        assert "2026-09-21" in text and "9" in text and "サプリの定期購入" in text, text
        assert NAME not in text and PHONE not in text, text
        # Downloads carry the chosen range; the digest is of the week holding the To date.
        assert page.get_attribute("#dl-digest-html", "href") == "/api/stats/digest.html?week=2026-09-21"
        anon = page.get_attribute("#dl-anon-csv", "href")
        assert anon == "/api/exports/anonymized.csv?date_from=2026-07-13&date_to=2026-09-27", anon
        res = page.request.get(url + anon)
        assert res.status == 200 and res.body().startswith(b"\xef\xbb\xbf"), res.status  # BOM for Excel
        assert NAME.encode() not in res.body()
        page.screenshot(path=str(artifacts / "trends-category.png"), full_page=True)

        # Switch the dimension from the keyboard: the URL, the chart and the table follow.
        page.focus("#trends-form select[name=dimension]")
        page.keyboard.press("ArrowDown")  # category → sales_method
        page.wait_for_function("location.hash.includes('dimension=sales_method')")
        page.wait_for_selector("#trends-chart g.series[data-value='店舗購入']")
        assert page.locator("#trends-chart g.series[data-value='通信販売']").count() == 1
        assert "販売購入形態" in page.inner_text("#trends-table caption")
        page.select_option("#trends-form select[name=dimension]", "channel")
        page.wait_for_selector("#trends-chart g.series[data-value='LINE']")
        assert "Phone (電話)" in page.inner_text("#trends-legend")  # channel names in the reader's language

        # 日本語 and back: every label of the view changes.
        page.click("#lang")
        page.wait_for_selector("#trends-title:has-text('相談の傾向')")
        assert page.inner_text("#nav-trends") == "傾向"
        assert "集計の軸" in page.inner_text("#trends-form")
        # The chart is redrawn after its data is refetched: wait for it rather than read it at once.
        page.wait_for_function(
            "(() => { const t = document.querySelector('#trends-legend').innerText;"
            " return t.includes('電話') && !t.includes('Phone'); })()"
        )
        assert "1～2件のため非表示" in page.inner_text("#trends-legend")
        assert page.inner_text("#dl-anon-parquet") == "匿名化データ (Parquet)"
        page.wait_for_selector("#trends-status:has-text('決裁済みの相談記録のみ')")
        page.screenshot(path=str(artifacts / "trends-ja.png"), full_page=True)
        page.click("#lang")
        page.wait_for_selector("#trends-title:has-text('Consultation trends')")
        assert "Count by" in page.inner_text("#trends-form")
        assert not errors, errors


def test_counselor_has_no_trends_link_and_is_told_why(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            make_user(session, center, "sato")
            _plant(session, center)
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato", TRENDS)
        page.wait_for_selector("#trends-denied:not([hidden])")
        assert not page.is_visible("#nav-trends")
        assert "supervisors and administrators" in page.inner_text("#trends-denied")
        assert not page.is_visible("#trends-body")
        assert page.locator("#trends-chart svg").count() == 0
        assert not page.is_visible("#error")  # no raw 403 from the API: the view did not ask
        page.screenshot(path=str(artifacts / "trends-counselor.png"))
        assert not errors, errors


def test_accident_panel_ticks_turns_red_at_the_deadline_and_links_the_exports(
    migrated: Settings, browser: Any, artifacts: Any
) -> None:
    with serve(create_app(migrated)) as url:
        runtime = get_runtime()
        _reset_database(runtime)
        with Session(runtime.engine, expire_on_commit=False) as session:
            center = make_center(session, "TKY")
            sato = make_user(session, center, "sato")
            ticket_id = receive(
                session, center, "ストーブから火が出て母がやけどで入院しました", sender="U-fire"
            ).ticket_id
            ticket = session.get(Ticket, ticket_id)
            report = accidents.draft_report(session, ticket=ticket, author=sato)  # type: ignore[arg-type]
            # 30 s before the 60-minute deadline: the page must turn red by itself, without a reload.
            report.learned_at = utcnow() - timedelta(minutes=60) + timedelta(seconds=30)
            session.add(report)
            session.commit()
            report_id = report.id
        page = browser.new_page()
        errors = watch_errors(page)
        log_in(page, url, "sato", f"/#/tickets/{ticket_id}")
        timing = page.wait_for_selector("#accident-timing .wait")
        first = timing.inner_text()
        assert re.fullmatch(r"59:\d\d", first), first
        assert "overdue" not in (page.get_attribute("#accident-timing", "class") or "")
        assert "within the deadline" in page.inner_text("#accident-timing")
        time.sleep(1.5)
        assert page.inner_text("#accident-timing .wait") != first  # it ticks
        page.wait_for_selector("#accident-timing.overdue", timeout=50_000)
        assert "Overdue: notify now" in page.inner_text("#accident-timing")
        color = page.eval_on_selector("#accident-timing", "n => getComputedStyle(n).color")
        assert color == "rgb(179, 38, 30)", color  # --warn
        pdf = page.get_attribute("#accident-links a:nth-child(1)", "href")
        csv_link = page.get_attribute("#accident-links a:nth-child(2)", "href")
        assert pdf == f"/api/accident-reports/{report_id}/notification.pdf"
        assert csv_link == f"/api/accident-reports/{report_id}/notification.csv"
        res = page.request.get(url + csv_link)
        assert res.status == 200 and res.body().startswith(b"\xef\xbb\xbf")
        assert "ストーブ" in res.body().decode("utf-8-sig")
        page.screenshot(path=str(artifacts / "accident-overdue.png"), full_page=True)
        assert not errors, errors
