"""A counselor's note after a call is screened for 重大事故等: the ticket is flagged and supervisors alerted."""

from __future__ import annotations

from sqlmodel import Session

from bootstrap import Runtime
from crm import accidents, services
from crm.models import Ticket
from tests.factories import make_center, make_ticket, make_user
from tests.fakes.slack_server import SlackRecorder

NOTE = "ストーブから火が出て母がやけどで入院しました"


def _posts(slack: SlackRecorder) -> list[dict]:
    return [c for c in slack.calls if c["method"] == "chat.postMessage"]


def test_note_about_a_fire_flags_the_ticket_and_alerts(slack_runtime: Runtime, slack: SlackRecorder) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        center = make_center(session, name="岡山県消費生活センター")
        user = make_user(session, center)
        ticket = make_ticket(session, center, "電話で相談を受けました")  # the call itself: no accident words
        assert not ticket.serious_accident
        services.add_note(session, ticket=ticket, author_id=user.id, body=NOTE)
        slack_runtime.jobs.drain()
        stored = session.get(Ticket, ticket.id)
        assert stored is not None and stored.serious_accident  # jumps the queue (routing.policy)
        report = accidents.draft_report(session, ticket=stored, author=user)
        assert any("rule fire" in r for r in report.detection_reasons)  # the draft says why, from the note
    posts = _posts(slack)
    assert len(posts) == 1
    text = posts[0]["body"]["text"]
    assert f"#{ticket.id}" in text and "重大事故等" in text
    assert "rule fire" in text and "火が出" in text and "rule admitted" in text  # names the rule and words


def test_ordinary_note_and_second_flag_do_not_alert(slack_runtime: Runtime, slack: SlackRecorder) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        center = make_center(session)
        user = make_user(session, center)
        ticket = make_ticket(session, center, "電話で相談を受けました")
        services.add_note(
            session, ticket=ticket, author_id=user.id, body="火災保険の勧誘の電話。解約方法を案内"
        )
        slack_runtime.jobs.drain()
        assert _posts(slack) == []
        services.add_note(session, ticket=ticket, author_id=user.id, body=NOTE)
        services.add_note(
            session, ticket=ticket, author_id=user.id, body="相談者の母、ストーブ発火で火傷、入院中"
        )
        slack_runtime.jobs.drain()
    assert len(_posts(slack)) == 1  # one alert per ticket
