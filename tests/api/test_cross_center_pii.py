"""No planted personal data crosses a center boundary: /similar, /api/knowledge/search, the CSV export.

The variants are the ones a probe saw leak (issue 10, finding 1): dots and kanji digits in phones,
addresses without 市区町村, 丁目/の forms and rooms, era birth dates, obfuscated mail addresses, romaji
names, and PII typed into label fields (内容キーワード, 処理結果, 商品・役務).
"""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlmodel import Session

from config.clock import jst_date
from config.runtime import Runtime
from crm.models import Contact, Role, Ticket
from tests.api.conftest import login
from tests.factories import make_center, make_user, receive
from tests.record_support import mark_approved

SUMMARY = (
    "相談者はTaro Satoさん（昭和25年3月4日に生まれた）。電話は090.1234.5678、母のメモでは〇九〇・一二三四・五六七八。"
    "住所は梅田一丁目2番3号 グランメゾン305号室、実家は北区梅田2の3の4。"
    "メールは taro.sato (at) example.com と hanako.sato@gmail。"
    "お試しのサプリが定期購入になっていて解約できない。株式会社ミライ健康の酵素サプリ、9,800円。"
)
KEYWORDS = ["定期購入", "解約", "佐藤花子さん 080-2222-3333"]
OUTCOME = "佐藤様へ 〇八〇ー二二二二ー三三三三 で連絡済み"
# Substrings that identify the consumer; none may appear in anything another center receives.
SECRETS = (
    "Taro", "Sato", "sato", "taro", "佐藤", "花子",
    "1234", "5678", "一二三四", "五六七八", "2222", "3333", "二二二二",
    "梅田一丁目", "2番3号", "305号室", "2の3の4", "昭和25年3月4日", "example.com", "gmail",
)  # fmt: skip


def _plant(client: TestClient, db: Session, app_runtime: Runtime) -> dict:
    tokyo, osaka = make_center(db, "TKY"), make_center(db, "OSK", prefecture="大阪府")
    make_user(db, tokyo, "sato")
    make_user(db, osaka, "kimura")
    make_user(db, tokyo, "boss", role=Role.SUPERVISOR)
    make_user(db, osaka, "oboss", role=Role.SUPERVISOR)
    make_user(db, None, "root", role=Role.ADMIN)
    old = receive(db, tokyo, "お試しのサプリが定期購入になっていて解約できない。" + SUMMARY, sender="U1")
    ticket = db.get(Ticket, old.ticket_id)
    assert ticket is not None
    contact = db.get(Contact, ticket.contact_id)
    assert contact is not None
    contact.region, contact.age_band, contact.gender = "大阪府大阪市北区梅田1-2-3", "70歳以上", "佐藤花子"
    db.add(contact)
    db.commit()
    res = client.patch(
        f"/api/tickets/{old.ticket_id}",
        json={
            "status": "resolved",
            "subject": "定期購入 Taro Sato 090.1234.5678",
            "summary": SUMMARY,
            "sales_method": "通信販売",
            "product_category": "健康食品",
            "content_keywords": KEYWORDS,
            "outcome": OUTCOME,
        },
        headers=login(client, "sato"),
    )
    assert res.status_code == 200, res.text
    app_runtime.jobs.drain()
    mark_approved(db, old.ticket_id)  # exports count approved records only
    upload = [
        {
            "id": "tky-case-1",
            "kind": "case",
            "center_id": tokyo.id,
            "title": "定期購入の件 Taro Sato",
            "body": SUMMARY,
        }
    ]
    res = client.post("/api/knowledge/documents", json=upload, headers=login(client, "boss"))
    assert res.status_code == 200, res.text
    new = receive(db, osaka, "サプリのお試しを頼んだら定期購入で、解約したい", sender="U2")
    db.commit()
    return {"old": old.ticket_id, "new": new.ticket_id, "created": ticket.created_at}


def _assert_no_secret(payload: str) -> None:
    decoded = json.dumps(json.loads(payload), ensure_ascii=False) if payload[:1] in "[{" else payload
    leaked = [s for s in SECRETS if s in decoded]
    assert not leaked, f"{leaked} visible to another center in {decoded[:600]}"


def test_similar_cases_of_another_center_show_no_planted_pii(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    ids = _plant(client, db, app_runtime)
    res = client.get(f"/api/tickets/{ids['new']}/similar", headers=login(client, "kimura"))
    assert res.status_code == 200, res.text
    hits = res.json()
    assert {h["id"] for h in hits} >= {f"ticket-{ids['old']}", "tky-case-1"}
    assert all(h["masked"] for h in hits)
    _assert_no_secret(res.text)
    case = next(h for h in hits if h["id"] == f"ticket-{ids['old']}")
    assert case["labels"]["product_category"] == "健康食品"  # vocabulary labels still cross
    assert "定期購入" in case["labels"]["content_keywords"]


def test_knowledge_search_of_another_center_shows_no_planted_pii(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    _plant(client, db, app_runtime)
    kimura = login(client, "kimura")
    for q in (
        "定期購入 解約 サプリ",
        "Taro Sato",
        "090.1234.5678",
        "梅田 305号室",
        "佐藤花子",
        "example.com",
    ):
        res = client.get("/api/knowledge/search", params={"q": q, "k": 50}, headers=kimura)
        assert res.status_code == 200, res.text
        _assert_no_secret(res.text)
    res = client.get("/api/knowledge/search", params={"q": "定期購入 解約"}, headers=kimura)
    assert any(h["masked"] for h in res.json())


def test_export_shows_no_planted_pii_in_any_column(
    client: TestClient, app_runtime: Runtime, db: Session
) -> None:
    ids = _plant(client, db, app_runtime)
    today = jst_date(ids["created"]).isoformat()
    url = f"/api/exports/cases.csv?date_from=2020-01-01&date_to={today}"
    for who in ("root", "boss"):
        res = client.get(url, headers=login(client, who))
        assert res.status_code == 200, res.text
        _assert_no_secret(res.text)
        rows = {r["受付番号"]: r for r in csv.DictReader(io.StringIO(res.text.lstrip("\ufeff")))}
        row = rows[str(ids["old"])]
        assert row["地域"] == "大阪府大阪市北区" and row["契約当事者年代"] == "70歳以上"
        assert row["性別"] == "不明"  # a value outside the vocabulary is dropped, not copied
        assert row["商品・役務"] == "健康食品" and "定期購入" in row["内容キーワード"]
        assert "株式会社ミライ健康" in row["相談概要"] and "9,800円" in row["相談概要"]
    res = client.get(url, headers=login(client, "oboss"))
    assert str(ids["old"]) not in {
        r["受付番号"] for r in csv.DictReader(io.StringIO(res.text.lstrip("\ufeff")))
    }
