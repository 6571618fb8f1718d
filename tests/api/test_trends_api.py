"""Trends over HTTP: counts of approved records only, a planted spike found, digests, anonymized exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from config.clock import JST
from config.runtime import Runtime
from crm.models import (
    CaseRecord,
    Center,
    Contact,
    ContactPersonalData,
    RecordStatus,
    Role,
    Ticket,
    TicketStatus,
)
from tests.api.conftest import login
from tests.factories import make_center, make_user

SPIKE_WEEK = date(2026, 9, 21)  # a Monday
NAME, PHONE, EMAIL, ADDRESS = "山田花子", "090-1234-5678", "hanako@example.jp", "世田谷区太子堂4丁目1番1号"
PERIOD = {"date_from": "2026-09-21", "date_to": "2026-09-27"}


def _case(
    db: Session, center: Center, day: date, *, status: RecordStatus = RecordStatus.APPROVED, **fields: Any
) -> Ticket:
    """A closed consultation received at noon JST on ``day``, with its record at ``status``."""
    at = datetime.combine(day, time(12), tzinfo=JST)
    contact = Contact(
        age_band=fields.pop("age_band", "70歳以上"), gender="女性", occupation="無職", region=ADDRESS
    )
    db.add(contact)
    db.flush()
    db.add(
        ContactPersonalData(contact_id=contact.id, full_name=NAME, phone=PHONE, email=EMAIL, address=ADDRESS)
    )  # type: ignore[arg-type]
    ticket = Ticket(
        center_id=center.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        channel=fields.pop("channel", "voice"),
        status=TicketStatus.CLOSED,
        subject=fields.pop("subject", "定期購入の解約"),
        summary=fields.pop("summary", f"{NAME}さん（{PHONE}）から。お試しのはずが定期購入だった。"),
        product_category=fields.pop("product_category", "健康食品"),
        sales_method=fields.pop("sales_method", "通信販売"),
        content_keywords=fields.pop("content_keywords", ["定期購入"]),
        contract_amount=fields.pop("contract_amount", 19_800),
        created_at=at,
        updated_at=at,
        **fields,
    )
    db.add(ticket)
    db.flush()
    db.add(CaseRecord(ticket_id=ticket.id, center_id=center.id, status=status, approved_at=at))  # type: ignore[arg-type]
    db.commit()
    return ticket


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    """Center A: 健康食品 about once a week for 10 weeks, then a wave of 9 in SPIKE_WEEK; 化粧品 steady.
    Also a draft record and center B's records, which supervisor A must not count."""
    a, b = make_center(db, "TKY", name="東京都消費生活総合センター"), make_center(db, "OSK")
    make_user(db, a, "sv-a", role=Role.SUPERVISOR)
    make_user(db, a, "counselor-a")
    for week in range(1, 11):
        monday = SPIKE_WEEK - timedelta(weeks=week)
        if week % 3:
            _case(db, a, monday + timedelta(days=1))
        _case(db, a, monday + timedelta(days=2), product_category="化粧品", content_keywords=["契約・解約"])
    for n in range(9):
        _case(db, a, SPIKE_WEEK + timedelta(days=n % 7))
    _case(db, a, SPIKE_WEEK, product_category="化粧品", content_keywords=["契約・解約"])
    _case(db, a, SPIKE_WEEK, status=RecordStatus.SUBMITTED, product_category="電気")  # not approved yet
    for _ in range(5):
        _case(db, b, SPIKE_WEEK, product_category="電気")
    return {"a": a, "b": b}


def test_counts_are_of_approved_records_of_my_center_with_small_cells_hidden(
    client: TestClient, world: dict[str, Any]
) -> None:
    h = login(client, "sv-a")
    res = client.get("/api/stats/counts", params={**PERIOD, "dimension": "category"}, headers=h)
    assert res.status_code == 200
    body = res.json()
    by_value = {s["value"]: s["counts"] for s in body["series"]}
    assert by_value == {"健康食品": [9], "化粧品": [None]}  # 1 化粧品: suppressed, not 0; no 電気 (draft, B)
    assert body["periods"] == ["2026-09-21"] and body["totals"] == [None]  # 10 - 9 would give the 1 back
    everything = client.get(
        "/api/stats/counts", params={"date_from": "2026-09-14", "date_to": "2026-09-27"}, headers=h
    ).json()
    assert everything["totals"] == [None, None]  # the week before: 1 健康食品 + 1 化粧品, both hidden
    month = client.get(
        "/api/stats/counts",
        params={
            "date_from": "2026-07-01",
            "date_to": "2026-09-30",
            "period": "month",
            "dimension": "keyword",
        },
        headers=h,
    ).json()
    assert month["periods"] == ["2026-07-01", "2026-08-01", "2026-09-01"]
    assert {s["value"] for s in month["series"]} == {"定期購入", "契約・解約"}
    filtered = client.get("/api/stats/counts", params={**PERIOD, "category": "化粧品"}, headers=h).json()
    assert filtered["totals"] == [None]


def test_the_planted_wave_is_a_spike_with_masked_examples(client: TestClient, world: dict[str, Any]) -> None:
    h = login(client, "sv-a")
    res = client.get(
        "/api/stats/spikes", params={"date_from": "2026-08-01", "date_to": "2026-09-27"}, headers=h
    )
    assert res.status_code == 200
    [spike] = res.json()
    assert (spike["value"], spike["week"], spike["count"]) == ("健康食品", "2026-09-21", 9)
    assert spike["expected"] < 1.5 and spike["p_value"] < 0.001 and spike["examples"]
    shown = str(spike["examples"])
    assert "定期購入" in shown and NAME not in shown and PHONE not in shown
    keywords = client.get("/api/stats/spikes", params={**PERIOD, "dimension": "keyword"}, headers=h).json()
    assert [s["value"] for s in keywords] == ["定期購入"]


def test_weekly_digest_as_html_and_csv(client: TestClient, world: dict[str, Any]) -> None:
    h = login(client, "sv-a")
    page = client.get("/api/stats/digest.html", params={"week": "2026-09-23"}, headers=h)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "2026-09-21〜2026-09-27" in html and "健康食品" in html and "急増" in html
    assert NAME not in html and PHONE not in html and "<script" not in html and "http" not in html
    table = client.get("/api/stats/digest.csv", params={"week": "2026-09-21"}, headers=h)
    assert table.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert [
        "週",
        "2026-09-21〜2026-09-27",
        "秘匿",
        "承認済み相談 (approved)",
    ] in rows  # 10 − 9 = the one 化粧品
    assert ["前4週平均", "", "1.8", ""] in rows  # 3 健康食品 + 4 化粧品 in the 4 weeks before
    assert any(r[0].startswith("急増") and r[1] == "健康食品" and r[2] == "9" for r in rows)
    assert ["商品・役務 上位", "健康食品", "9", ""] in rows and [
        "商品・役務 上位",
        "化粧品",
        "秘匿",
        "",
    ] in rows


def test_anonymized_exports_carry_no_identifier_and_are_k_anonymous(
    client: TestClient, world: dict[str, Any], db: Session
) -> None:
    h = login(client, "sv-a")
    period = {"date_from": "2026-07-01", "date_to": "2026-09-30"}
    res = client.get("/api/exports/anonymized.csv", params=period, headers=h)
    assert res.status_code == 200 and res.content.startswith("\ufeff".encode())
    text = res.content.decode("utf-8-sig")
    for secret in (NAME, PHONE, EMAIL, ADDRESS, "世田谷区", "太子堂", "お試しのはず"):
        assert secret not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "受付番号" not in rows[0] and "相談概要" not in rows[0]
    left_out = int(res.headers["X-Rows-Left-Out"])
    assert len(rows) + left_out == 27  # center A's approved records in the period: 7 + 10 + 10
    groups: dict[tuple[str, ...], int] = {}
    for row in rows:
        key = (row["受付週"], row["都道府県"], row["年代"], row["性別"], row["職業"])
        groups[key] = groups.get(key, 0) + 1
    assert min(groups.values()) >= 3
    parquet = client.get("/api/exports/anonymized.parquet", params=period, headers=h)
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == len(rows) and table.column_names[:3] == ["受付週", "受付方法", "都道府県"]
    assert b"description" in table.schema.field("年代").metadata
    columns = client.get("/api/exports/anonymized-columns.csv", headers=h).content.decode("utf-8-sig")
    assert all(name in columns for name in table.column_names)


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"date_from": "2026-09-27", "date_to": "2026-09-21"}, 400, "before date_from"),
        ({"date_from": "2020-01-01", "date_to": "2026-09-21"}, 400, "shorter"),
        ({**PERIOD, "dimension": "full_name"}, 422, "dimension"),
        ({**PERIOD, "period": "hour"}, 422, "period"),
        ({"date_from": "2025-01-01", "date_to": "2026-09-21", "period": "day"}, 400, "by week or month"),
        ({**PERIOD, "category": "健" * 65}, 422, "category"),
        ({"date_from": "2026-13-01", "date_to": "2026-09-21"}, 422, "date_from"),
        ({**PERIOD, "center_id": "2"}, 403, "your own center"),
    ],
)
def test_bad_requests_say_what_to_fix(
    client: TestClient, world: dict[str, Any], params: dict[str, str], status: int, says: str
) -> None:
    res = client.get("/api/stats/counts", params=params, headers=login(client, "sv-a"))
    assert res.status_code == status
    assert says in str(res.json())


def test_mis_encoded_query_is_refused(client: TestClient, world: dict[str, Any]) -> None:
    h = login(client, "sv-a")
    res = client.get("/api/stats/counts?date_from=%FF%FE&date_to=2026-09-21", headers=h)
    assert res.status_code in (400, 422) and "date_from" in str(res.json())
    res = client.get("/api/stats/counts?date_from=2026-09-21&date_to=2026-09-27&category=%E5%81", headers=h)
    # an undecodable label becomes U+FFFD, which matches no record: nothing is counted under it
    assert res.status_code == 200 and res.json()["totals"] == [0] and res.json()["series"] == []


def test_counselors_cannot_export_trends(
    client: TestClient, app_runtime: Runtime, world: dict[str, Any]
) -> None:
    h = login(client, "counselor-a")
    assert client.get("/api/exports/anonymized.csv", params=PERIOD, headers=h).status_code == 403
    assert client.get("/api/stats/counts", params=PERIOD, headers=h).status_code == 403
