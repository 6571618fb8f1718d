"""A 重大事故等 draft not notified in time escalates once: Slack, a ticket note, a flag; JST clock."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bootstrap import Runtime
from config.clock import now_utc
from crm import accidents
from crm.accident_escalation import escalate_overdue_job, escalate_undrafted, run_escalation, timing
from crm.models import AccidentReport, Note, Ticket
from tests.clock import Instant
from tests.factories import make_center, make_user, receive
from tests.fakes.slack_server import SlackRecorder

FIRE = "ストーブから火が出て母がやけどで入院しました"
HOUR = timedelta(minutes=60)


def _draft(session: Session, runtime: Runtime, minutes_ago: int, sender: str) -> AccidentReport:
    center = make_center(session, name="杉並区消費生活センター")
    user = make_user(session, center)
    result = receive(session, center, FIRE, sender=sender, at=now_utc() - timedelta(minutes=minutes_ago))
    runtime.jobs.drain()
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    return accidents.draft_report(session, ticket=ticket, author=user)


def _overdue_posts(slack: SlackRecorder) -> list[str]:
    return [
        c["body"]["text"]
        for c in slack.calls
        if c["method"] == "chat.postMessage" and "通知が未了" in c["body"]["text"]
    ]


def test_overdue_draft_escalates_once_with_slack_note_and_flag(
    jst_midnight: Instant, slack_runtime: Runtime, slack: SlackRecorder
) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        late = _draft(session, slack_runtime, 61, "U-late")
        fresh = _draft(session, slack_runtime, 30, "U-fresh")
        assert timing(late, within=HOUR).overdue and not timing(fresh, within=HOUR).overdue
        assert 61 * 60 <= timing(late, within=HOUR).elapsed_seconds < 63 * 60

        escalate_overdue_job()  # the periodic job, as the worker runs it
        slack_runtime.jobs.drain()
        escalate_overdue_job()  # the next sweep: nothing new
        slack_runtime.jobs.drain()

        posts = _overdue_posts(slack)
        assert len(posts) == 1
        assert f"#{late.ticket_id}" in posts[0] and "杉並区消費生活センター" in posts[0]
        assert "1時間1分" in posts[0] and "U-late" not in posts[0] and "母" not in posts[0]
        session.expire_all()
        assert session.get(AccidentReport, late.id).escalated_at is not None  # type: ignore[union-attr]
        assert session.get(AccidentReport, fresh.id).escalated_at is None  # type: ignore[union-attr]
        notes = session.exec(select(Note).where(Note.kind == "escalation")).all()
        assert [n.ticket_id for n in notes] == [late.ticket_id]


def test_notified_or_follow_up_reports_never_escalate(runtime: Runtime, session: Session) -> None:
    report = _draft(session, runtime, 180, "U-done")
    accidents.update_report(
        session,
        report=report,
        actor=make_user(session, None),
        changes={"occurred_at": "昨夜", "occurred_place": "自宅 居室", "product": "石油ストーブ"},
    )
    accidents.mark_notified(session, report=report, actor=make_user(session, None), method="FAX")
    ticket = session.get(Ticket, report.ticket_id)
    assert ticket is not None
    accidents.draft_report(session, ticket=ticket, author=make_user(session, None))  # 第2報, a draft
    assert run_escalation(runtime.engine, within=HOUR) == []
    late_notice = timing(report, within=HOUR)
    assert late_notice.overdue and late_notice.elapsed_seconds >= 180 * 60  # notified, but late: shown


def test_the_deadline_comes_from_settings(runtime: Runtime, session: Session) -> None:
    report = _draft(session, runtime, 20, "U-strict")
    assert run_escalation(runtime.engine, within=HOUR) == []
    assert run_escalation(runtime.engine, within=timedelta(minutes=15)) == [report.id]
    assert run_escalation(runtime.engine, within=timedelta(minutes=15)) == []  # once


def test_the_worker_runs_the_sweep_every_minute() -> None:
    from bootstrap import PERIODIC

    assert (escalate_overdue_job, 60) in PERIODIC


def test_a_flagged_ticket_nobody_drafted_escalates_once(slack_runtime: Runtime, slack: SlackRecorder) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        center = make_center(session, name="中野区消費生活センター")
        fire = receive(session, center, FIRE, sender="U-nodraft")
        receive(session, center, "定期購入の解約方法を教えてください", sender="U-plain")
        slack_runtime.jobs.drain()
        opened = session.get(Ticket, fire.ticket_id).created_at  # type: ignore[union-attr]
        assert escalate_undrafted(session, within=HOUR, now=opened + timedelta(minutes=59)) == []
        late = opened + timedelta(minutes=61)
        assert escalate_undrafted(session, within=HOUR, now=late) == [fire.ticket_id]
        assert escalate_undrafted(session, within=HOUR, now=late + HOUR) == []  # once
        slack_runtime.jobs.drain()
    [post] = _overdue_posts(slack)
    assert f"#{fire.ticket_id}" in post and "no notification draft" in post and "1時間1分" in post
