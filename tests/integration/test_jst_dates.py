"""Guard: the LINE after-hours answer and the demo data name JST days, at every hour and in either TZ."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta

from sqlmodel import Session, select

from config.clock import now_utc
from config.runtime import Runtime
from crm.demo import load_demo, open_case_ids, read_demo_file
from crm.models import Role, Ticket, TicketStatus
from knowledge.demo import index_demo_knowledge
from knowledge.export import export_cases_csv
from routing.calendar import YEAR_END_CLOSURE
from tests.clock import Instant
from tests.factories import make_center, make_user, receive

WEEK = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
_senders = itertools.count(1)


def test_line_after_hours_answer_names_the_next_jst_opening(
    jst_clock: Instant, runtime: Runtime, session: Session
) -> None:
    center = make_center(
        session, "weekdays", name="平日センター", hours=WEEK, closed_dates=list(YEAR_END_CLOSURE)
    )
    sender = f"Uclock{next(_senders)}"  # the sandbox adapter's outbox outlives the test
    receive(session, center, "解約したいです", sender=sender)
    runtime.jobs.drain()
    sent = [s for s in runtime.adapters["line"].sent() if s["recipient"] == sender]
    if jst_clock.next_opening is None:  # open now: a counselor answers, not the machine
        assert sent == []
    else:
        assert len(sent) == 1, sent
        assert f"次の受付開始は{jst_clock.next_opening}です" in sent[0]["text"], sent[0]["text"]


def test_demo_cases_are_received_on_their_jst_day(jst_midnight: Instant, runtime: Runtime) -> None:
    load_demo(runtime.settings, index_knowledge=index_demo_knowledge)
    rows = read_demo_file("cases.jsonl")
    with Session(runtime.engine) as session:
        admin = make_user(session, None, "clock-admin", role=Role.ADMIN)
        text, _n = export_cases_csv(
            session, user=admin, date_from=date(2000, 1, 1), date_to=date(2099, 12, 31)
        )
        opened = session.exec(select(Ticket).where(Ticket.status != TicketStatus.CLOSED)).all()
    exported = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(exported) == len(rows) - len(open_case_ids(rows))  # open cases are not approved yet
    received_on = sorted(r["received_on"] for r in rows if r["id"] not in open_case_ids(rows))
    closed_days = sorted(r["受付日"] for r in exported if int(r["受付番号"]) not in {t.id for t in opened})
    assert closed_days == received_on  # noon JST on the case's day, whatever the server's TZ
    # The open consultations arrive "just now" (5 minutes apart), counted back from the instant.
    window = timedelta(minutes=5 * len(opened) + 5)
    assert opened and all(timedelta(0) < now_utc() - t.created_at < window for t in opened)
