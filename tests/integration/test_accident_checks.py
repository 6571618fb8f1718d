"""A possible 重大事故等 (要確認) nobody judges in time escalates once: Slack, a ticket note, the wallboard."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bootstrap import Runtime
from config.clock import now_utc
from crm import accident_checks
from crm.models import AccidentCheck, Note, Role, Ticket, TicketStatus
from routing.wallboard import wallboard
from tests.factories import make_center, make_user, receive
from tests.fakes.slack_server import SlackRecorder

SMOKE = "充電器から煙が出て、火が出そうになった"
WITHIN = timedelta(minutes=30)


def test_a_check_nobody_judges_goes_to_supervisors_once(slack_runtime: Runtime, slack: SlackRecorder) -> None:
    with Session(slack_runtime.engine, expire_on_commit=False) as session:
        center = make_center(session, name="杉並区消費生活センター")
        supervisor = make_user(session, center, role=Role.SUPERVISOR)
        old = receive(session, center, SMOKE, sender="U-old")
        new = receive(session, center, SMOKE, sender="U-new")
        ended = receive(session, center, SMOKE, sender="U-ended")
        checks = {
            r.ticket_id: session.exec(
                select(AccidentCheck).where(AccidentCheck.ticket_id == r.ticket_id)
            ).one()
            for r in (old, new, ended)
        }
        for tid in (old.ticket_id, ended.ticket_id):
            checks[tid].created_at = now_utc() - timedelta(minutes=45)
        ticket = session.get(Ticket, ended.ticket_id)
        assert ticket is not None
        ticket.status = TicketStatus.CLOSED  # closed by a path outside the counselor's console
        session.commit()
        old_check = checks[old.ticket_id].id

        board = wallboard(session, user=supervisor, settings=slack_runtime.settings)
        kinds = {a["ticket_id"]: a["kind"] for a in board["alerts"]}
        assert kinds == {old.ticket_id: "accident_check", new.ticket_id: "accident_check"}
        session.rollback()  # end the read: the sweep writes from its own session

        escalated = accident_checks.run_check_escalation(slack_runtime.engine, within=WITHIN)
        slack_runtime.jobs.drain()
        assert escalated == [old_check]  # not the fresh one, not the closed ticket's
        assert accident_checks.run_check_escalation(slack_runtime.engine, within=WITHIN) == []
        slack_runtime.jobs.drain()
        posts = [c["body"]["text"] for c in slack.calls if "要確認が未判断" in c["body"].get("text", "")]
        assert len(posts) == 1 and f"#{old.ticket_id}" in posts[0] and "杉並区消費生活センター" in posts[0]
        assert "U-old" not in posts[0] and "充電器" not in posts[0]  # no personal data, no message text
        notes = session.exec(select(Note).where(Note.ticket_id == old.ticket_id, Note.kind == "system")).all()
        assert any("未判断" in n.body for n in notes)
