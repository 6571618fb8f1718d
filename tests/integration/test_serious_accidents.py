"""A suspected 重大事故等 is flagged at intake, alerts supervisors on Slack, and its notification is tracked."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from bootstrap import Runtime
from crm import accidents
from crm.errors import BadRequest, Conflict
from crm.models import AccidentReportStatus, Ticket
from tests.factories import make_center, make_user, receive
from tests.fakes.slack_server import SlackRecorder

FIRE = "昨日の夜、充電中のモバイルバッテリーが発火して火災になり、父が火傷で入院しました。"


def test_fire_report_flags_ticket_and_alerts_supervisors(
    slack_runtime: Runtime, slack: SlackRecorder
) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        center = make_center(session, name="世田谷区消費生活センター")
        result = receive(session, center, FIRE, sender="U-fire")
        slack_runtime.jobs.drain()
        ticket = session.get(Ticket, result.ticket_id)
        assert ticket is not None and ticket.serious_accident
    posts = [c for c in slack.calls if c["method"] == "chat.postMessage"]
    assert len(posts) == 1
    assert posts[0]["body"]["channel"] == "C0SUPERVISORS"
    assert posts[0]["auth"] == "Bearer xoxb-test-token"
    text = posts[0]["body"]["text"]
    assert f"#{result.ticket_id}" in text and "世田谷区消費生活センター" in text and "重大事故等" in text
    assert "U-fire" not in text  # no consumer identifier leaves the center


def test_ordinary_consultation_sends_no_alert(slack_runtime: Runtime, slack: SlackRecorder) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        receive(session, make_center(session), "定期購入の解約方法を教えてください")
        slack_runtime.jobs.drain()
    assert slack.calls == []


def test_notification_needs_every_statutory_item_and_records_the_delay(
    runtime: Runtime, session: Session
) -> None:
    center = make_center(session)
    user = make_user(session, center)
    result = receive(session, center, FIRE)
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    report = accidents.draft_report(session, ticket=ticket, author=user)
    assert report.report_no == 1 and report.learned_method == "LINE相談"
    assert report.detection_reasons and FIRE in report.circumstances
    with pytest.raises(BadRequest, match="発生日時.*発生場所"):
        accidents.mark_notified(session, report=report, actor=user, method="FAX")
    accidents.update_report(
        session,
        report=report,
        actor=user,
        changes={
            "occurred_at": "2026-11-21 22時頃",
            "occurred_place": "東京都世田谷区 住宅 居室",
            "product": "モバイルバッテリー（型番不明）",
            "damage": "火傷 入院",
        },
    )
    done = accidents.mark_notified(session, report=report, actor=user, method="FAX")
    assert done.status == AccidentReportStatus.NOTIFIED
    delay = accidents.delay_seconds(done)
    assert delay is not None and 0 <= delay < 600
    with pytest.raises(Conflict):
        accidents.mark_notified(session, report=done, actor=user, method="FAX")
    follow_up = accidents.draft_report(session, ticket=ticket, author=user)
    assert follow_up.report_no == 2
