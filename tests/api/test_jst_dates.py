"""Guard: every date the API shows or filters by is the JST day, at every hour and in either process TZ.

Between 00:00 and 09:00 JST the UTC date is the day before; a code path that takes the UTC date (or
the server's ``date.today()`` under ``TZ=UTC``) fails here at the ``00:30`` and ``08:59`` instants.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from config.runtime import Runtime
from crm.models import Role, Ticket
from tests.api.conftest import login
from tests.clock import Instant
from tests.factories import make_center, make_user, receive
from tests.record_support import mark_approved


def _export(client: TestClient, headers: dict[str, str], day: str) -> list[dict[str, str]]:
    res = client.get(f"/api/exports/cases.csv?date_from={day}&date_to={day}", headers=headers)
    assert res.status_code == 200, res.text
    return list(csv.DictReader(io.StringIO(res.text.lstrip("\ufeff"))))


def test_export_and_cooling_off_use_the_jst_day(
    jst_clock: Instant, client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    center = make_center(db, "TKY")
    make_user(db, center, "boss", role=Role.SUPERVISOR)
    make_user(db, center, "sato")
    got = receive(db, center, "訪問販売で浄水器を契約した。今日書面をもらった。", sender="U1")
    ticket = db.get(Ticket, got.ticket_id)
    assert ticket is not None
    ticket.sales_method = "訪問販売"
    db.add(ticket)
    db.commit()
    mark_approved(db, got.ticket_id)  # exports count approved records only
    today, yesterday = jst_clock.day.isoformat(), (jst_clock.day - timedelta(days=1)).isoformat()

    boss = login(client, "boss")
    rows = _export(client, boss, today)
    assert [(r["受付番号"], r["受付日"]) for r in rows] == [(str(got.ticket_id), today)]
    assert _export(client, boss, yesterday) == []

    sato = login(client, "sato")
    res = client.get(
        "/api/knowledge/cooling-off",
        params={"sales_type": "訪問販売", "document_received": today},
        headers=sato,
    )
    assert res.status_code == 200, res.text
    assert res.json()["days_left"] == 7  # received today (JST) = day 1 of 8
    assert res.json()["last_day"] == (jst_clock.day + timedelta(days=7)).isoformat()
    res = client.get(
        f"/api/tickets/{got.ticket_id}/suggestions", params={"document_received": today}, headers=sato
    )
    assert res.status_code == 200, res.text
    assert res.json()["cooling_off"]["days_left"] == 7
